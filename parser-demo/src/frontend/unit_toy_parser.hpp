// ---------------------------------------------------------------------------
// unit_toy_parser.hpp: the generated parser, with its terminal nodes placed
// like its rule contexts, growing the shared DFAs on the default heap.
//
// The generated parser makes rule contexts through UnitRuleContext's
// operator new (unit_rule_context.hpp), but terminal nodes come from the
// non-virtual Parser::createTerminalNode. Parser::consume is virtual, so
// UnitToyParser overrides it with runtime 4.9's code, changing the node's
// class to UnitTerminalNode and making none for the tokens of a tensor
// literal, whose numbers go straight to a LiteralSink. Its simulator grows
// the shared DFAs on the default heap (shared_prediction.hpp).
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_UNIT_TOY_PARSER_HPP
#define SPACESC_FRONTEND_UNIT_TOY_PARSER_HPP

#include "shared_prediction.hpp"

#include "ToyParser.h"

#include <antlr4-runtime.h>

namespace spacesc::frontend {

/// Takes the numbers of tensor literals: the tokens consumed directly in a
/// tensorLit get no terminal node (Toy.g4), so they are handed over as
/// they are consumed.
class LiteralSink {
 public:
  virtual void literal_number(const antlr4::Token* number) = 0;

 protected:
  ~LiteralSink() = default;
};

/// ToyParser whose consume() makes UnitTerminalNodes, except in a tensorLit,
/// where it makes none and gives the numbers to the LiteralSink. (ErrorStrategy
/// never enters recovery mode, so no error nodes are made.)
class UnitToyParser final : public toy::ToyParser {
 public:
  UnitToyParser(antlr4::TokenStream* input, LiteralSink& literals);

  antlr4::Token* consume() override;

 private:
  LiteralSink& literals_;
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_UNIT_TOY_PARSER_HPP
