// ---------------------------------------------------------------------------
// unit_toy_parser.hpp: the generated parser, with its terminal nodes placed
// like its rule contexts.
//
// The generated parser makes rule contexts through UnitRuleContext's
// operator new (unit_rule_context.hpp), but terminal nodes come from the
// non-virtual Parser::createTerminalNode. Parser::consume is virtual, so
// UnitToyParser overrides it with runtime 4.9's code, changing only the
// node's class to UnitTerminalNode.
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_UNIT_TOY_PARSER_HPP
#define SPACESC_FRONTEND_UNIT_TOY_PARSER_HPP

#include "ToyParser.h"

#include <antlr4-runtime.h>

namespace spacesc::frontend {

/// ToyParser whose consume() makes UnitTerminalNodes. (ErrorStrategy
/// never enters recovery mode, so no error nodes are made.)
class UnitToyParser final : public toy::ToyParser {
 public:
  using toy::ToyParser::ToyParser;

  antlr4::Token* consume() override;
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_UNIT_TOY_PARSER_HPP
