// ---------------------------------------------------------------------------
// unit_toy_lexer.hpp: the generated lexer, making UnitTokens and growing
// the shared DFAs on the default heap.
//
// Lexer::emit and emitEOF are virtual: UnitToyLexer makes its tokens with a
// UnitTokenFactory (40-byte UnitTokens, no text copied) instead of ANTLR's
// CommonTokenFactory. Its simulator grows the shared DFAs on the default
// heap (shared_prediction.hpp). The runtime reaches its simulator through
// getInterpreter<LexerATNSimulator>(), a dynamic_cast, three times per
// token; past a subclass each costs about 200 instructions (16% of the
// front end's), so nextToken, getLine and getCharPositionInLine are the
// runtime's, reading the simulator through a pointer kept at construction.
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_UNIT_TOY_LEXER_HPP
#define SPACESC_FRONTEND_UNIT_TOY_LEXER_HPP

#include "shared_prediction.hpp"
#include "unit_token.hpp"

#include "ToyLexer.h"

#include <antlr4-runtime.h>

#include <memory>

namespace spacesc::frontend {

/// ToyLexer whose tokens are UnitTokens from `factory`. Owner thread only.
class UnitToyLexer final : public toy::ToyLexer {
 public:
  UnitToyLexer(antlr4::CharStream* input, UnitTokenFactory& factory);

  std::unique_ptr<antlr4::Token> nextToken() override;
  antlr4::Token* emit() override;
  antlr4::Token* emitEOF() override;
  std::size_t getLine() const override { return simulator_->getLine(); }
  std::size_t getCharPositionInLine() override { return simulator_->getCharPositionInLine(); }
  /// An EOF token where the lexer stands, without reading on (TokenWindow
  /// ends the unit's tokens there once the error limit is reached).
  std::unique_ptr<antlr4::Token> make_eof();

 private:
  UnitTokenFactory& factory_;
  UnitLexerSimulator* simulator_;  // _interpreter, typed
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_UNIT_TOY_LEXER_HPP
