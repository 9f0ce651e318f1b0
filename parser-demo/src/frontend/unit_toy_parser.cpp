// ---------------------------------------------------------------------------
// unit_toy_parser.cpp: Parser::consume with UnitTerminalNode as the node.
// ---------------------------------------------------------------------------
#include "unit_toy_parser.hpp"

#include "unit_rule_context.hpp"

namespace spacesc::frontend {

antlr4::Token* UnitToyParser::consume() {
  antlr4::Token* o = getCurrentToken();
  if (o->getType() != antlr4::Token::EOF) getInputStream()->consume();
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
