// ---------------------------------------------------------------------------
// parse_state.hpp: what the pieces of one parse share.
//
// The token window, the error strategy, the builder and the unit parser all
// report to one DiagEngine and build into one AstContext, and they must
// agree on when a parse is being abandoned: listener callbacks run inside
// ANTLR's scope guards while an exception unwinds, and must then do nothing.
// ParseState carries that flag, and the two exceptions that abandon parts of
// a parse are declared here.
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_PARSE_STATE_HPP
#define SPACESC_FRONTEND_PARSE_STATE_HPP

#include <spacesc/ast_context.hpp>
#include <spacesc/diag.hpp>
#include <spacesc/source.hpp>

#include <exception>

namespace spacesc::frontend {

/// Thrown to leave an item after its first syntax error was reported
/// (syntax_errors.cpp:ErrorStrategy::recover); unit_parser.cpp catches it.
struct SyntaxAbandon {};

/// Thrown when the nesting limit stops the unit (token_window.cpp).
struct NestingAbandon {};

/// What the pieces of one parse share. Owner thread only.
struct ParseState {
  const SourceFile& file;
  DiagEngine& diags;
  AstContext& ctx;
  /// Set before any exception leaves generated code: listener callbacks
  /// that run while the stack unwinds must then do nothing.
  bool unwinding = false;
  /// A memory failure met where throwing is not allowed (listener exits
  /// run inside ANTLR's scope guards); rethrown at the next safe point.
  std::exception_ptr pending;
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_PARSE_STATE_HPP
