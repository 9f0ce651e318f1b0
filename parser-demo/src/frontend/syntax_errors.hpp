// ---------------------------------------------------------------------------
// syntax_errors.hpp: the messages of syntax errors, and the error strategy
// that reports them.
//
// The messages name tokens the way docs/toy-language.md §7.4 says
// (`identifier 'x'`, `';'`, `end of file`) and the rule being parsed (`in a
// shape`). ANTLR's DefaultErrorStrategy repairs single tokens and
// resynchronises inside generated code, which would report errors the
// input does not have; ErrorStrategy reports the first error of an item
// and abandons the item, and the unit parser resynchronises at statement
// granularity (unit_parser.cpp).
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_SYNTAX_ERRORS_HPP
#define SPACESC_FRONTEND_SYNTAX_ERRORS_HPP

#include "parse_state.hpp"

#include <spacesc/source.hpp>

#include <antlr4-runtime.h>

#include <exception>
#include <string>

namespace spacesc::frontend {

/// Describes a token for a message: `';'`, `identifier 'x'`, `end of file`.
std::string describe(const SourceFile& file, const antlr4::Token* t);

/// Reports the first syntax error of an item to the unit's DiagEngine and
/// abandons the item (SyntaxAbandon): no single-token repair, no
/// resynchronisation inside generated code.
class ErrorStrategy final : public antlr4::ANTLRErrorStrategy {
 public:
  explicit ErrorStrategy(ParseState& state) : state_(state) {}

  void reset(antlr4::Parser*) override {}
  antlr4::Token* recoverInline(antlr4::Parser* parser) override;
  void recover(antlr4::Parser*, std::exception_ptr) override;
  void sync(antlr4::Parser*) override {}
  bool inErrorRecoveryMode(antlr4::Parser*) override { return false; }
  void reportMatch(antlr4::Parser*) override {}
  void reportError(antlr4::Parser* parser, const antlr4::RecognitionException& e) override;

 private:
  ParseState& state_;
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_SYNTAX_ERRORS_HPP
