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
  simulator_ = new UnitLexerSimulator(this, getATN(), generated->_decisionToDFA, generated->getSharedContextCache());
  _interpreter = simulator_;
  delete generated;
}

// Runtime 4.9's Lexer::nextToken: match rules until one makes a token (a
// skipped rule, whitespace or a comment, starts over), or EOF.
std::unique_ptr<antlr4::Token> UnitToyLexer::nextToken() {
  const ssize_t marker = _input->mark();
  struct Release {
    antlr4::CharStream* input;
    ssize_t marker;
    ~Release() { input->release(marker); }
  } release{_input, marker};
  for (;;) {
    if (hitEOF) {
      emitEOF();
      return std::move(token);
    }
    token.reset();
    channel = antlr4::Token::DEFAULT_CHANNEL;
    tokenStartCharIndex = _input->index();
    tokenStartCharPositionInLine = simulator_->getCharPositionInLine();
    tokenStartLine = simulator_->getLine();
    _text.clear();
    do {
      type = antlr4::Token::INVALID_TYPE;
      std::size_t matched = 0;
      try {
        matched = simulator_->match(_input, mode);
      } catch (antlr4::LexerNoViableAltException& e) {
        notifyListeners(e);
        recover(e);
        matched = SKIP;
      }
      if (_input->LA(1) == antlr4::Token::EOF) hitEOF = true;
      if (type == antlr4::Token::INVALID_TYPE) type = matched;
    } while (type == MORE);
    if (type == SKIP) continue;
    if (token == nullptr) emit();
    return std::move(token);
  }
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
