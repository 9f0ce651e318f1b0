// ---------------------------------------------------------------------------
// unit_toy_lexer.cpp: Lexer::emit and emitEOF with UnitTokens.
// ---------------------------------------------------------------------------
#include "unit_toy_lexer.hpp"

namespace spacesc::frontend {

UnitToyLexer::UnitToyLexer(antlr4::CharStream* input, UnitTokenFactory& factory)
    : ToyLexer(input), factory_(factory), dfa_(getATN()) {
  delete _interpreter;  // ToyLexer's, on the shared DFAs
  _interpreter = new antlr4::atn::LexerATNSimulator(this, getATN(), dfa_.decisions, dfa_.contexts);
}

UnitToyLexer::~UnitToyLexer() {
  delete _interpreter;  // before dfa_ goes; ~ToyLexer deletes nothing then
  _interpreter = nullptr;
}

// Runtime 4.9's emit(), with the token made by factory_ (type, start and
// stop of the match, where it started).
antlr4::Token* UnitToyLexer::emit() {
  Lexer::emit(factory_.make(type, tokenStartCharIndex, getCharIndex() - 1, tokenStartLine,
                            tokenStartCharPositionInLine));
  return token.get();
}

antlr4::Token* UnitToyLexer::emitEOF() {
  Lexer::emit(make_eof());
  return token.get();
}

std::unique_ptr<antlr4::Token> UnitToyLexer::make_eof() {
  const std::size_t at = getCharIndex();
  return factory_.make(antlr4::Token::EOF, at, at - 1, getLine(), getCharPositionInLine());
}

}  // namespace spacesc::frontend
