// ---------------------------------------------------------------------------
// unit_toy_lexer.cpp: Lexer::emit and emitEOF with UnitTokens.
// ---------------------------------------------------------------------------
#include "unit_toy_lexer.hpp"

namespace spacesc::frontend {

// ToyLexer's simulator, replaced by one on the same shared DFAs (which
// ~ToyLexer deletes).
UnitToyLexer::UnitToyLexer(antlr4::CharStream* input, UnitTokenFactory& factory)
    : ToyLexer(input), factory_(factory) {
  auto* generated = getInterpreter<antlr4::atn::LexerATNSimulator>();
  _interpreter =
      new UnitLexerSimulator(this, getATN(), generated->_decisionToDFA, generated->getSharedContextCache());
  delete generated;
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
