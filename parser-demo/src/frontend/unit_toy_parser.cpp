// ---------------------------------------------------------------------------
// unit_toy_parser.cpp: the unit's simulator, and Parser::consume with
// UnitTerminalNode as the node.
// ---------------------------------------------------------------------------
#include "unit_toy_parser.hpp"

#include "unit_rule_context.hpp"

namespace spacesc::frontend {

UnitToyParser::UnitToyParser(antlr4::TokenStream* input, LiteralSink& literals)
    : ToyParser(input), literals_(literals), dfa_(getATN()) {
  share_follow_sets(getATN());
  delete _interpreter;  // ToyParser's, on the shared DFAs
  _interpreter = new antlr4::atn::ParserATNSimulator(this, getATN(), dfa_.decisions, dfa_.contexts);
}

UnitToyParser::~UnitToyParser() {
  delete _interpreter;  // before dfa_ goes; ~ToyParser deletes nothing then
  _interpreter = nullptr;
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
