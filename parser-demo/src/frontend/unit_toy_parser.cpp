// ---------------------------------------------------------------------------
// unit_toy_parser.cpp: the parser's simulator, and Parser::consume with
// UnitTerminalNode as the node.
// ---------------------------------------------------------------------------
#include "unit_toy_parser.hpp"

#include "unit_rule_context.hpp"

namespace spacesc::frontend {

UnitToyParser::UnitToyParser(antlr4::TokenStream* input, LiteralSink& literals)
    : ToyParser(input), literals_(literals) {
  share_follow_sets(getATN());
  // ToyParser's simulator, replaced by one on the same shared DFAs (which
  // ~ToyParser deletes).
  auto* generated = getInterpreter<antlr4::atn::ParserATNSimulator>();
  _interpreter =
      new UnitParserSimulator(this, getATN(), generated->decisionToDFA, generated->getSharedContextCache());
  delete generated;
}

antlr4::Token* UnitToyParser::consume() {
  antlr4::Token* o = getCurrentToken();
  if (o->getType() != antlr4::Token::EOF) getInputStream()->consume();
  if (_ctx->getRuleIndex() == RuleTensorLit) {
    if (o->getType() == NUMBER) literals_.literal_number(o);
    return o;
  }
  if (_buildParseTrees || !_parseListeners.empty()) {
    if (_errHandler->inErrorRecoveryMode(this)) {
      antlr4::tree::ErrorNode* node = createErrorNode(o);
      _ctx->addChild(node);
      for (antlr4::tree::ParseTreeListener* listener : _parseListeners) listener->visitErrorNode(node);
    } else {
      antlr4::tree::TerminalNode* node = _ctx->addChild(_tracker.createInstance<UnitTerminalNode>(o));
      for (antlr4::tree::ParseTreeListener* listener : _parseListeners) listener->visitTerminal(node);
    }
  }
  return o;
}

}  // namespace spacesc::frontend
