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
  /// A memory failure met where throwing is not allowed (listener exits
  /// run inside ANTLR's scope guards); rethrown at the next safe point.
  std::exception_ptr pending;
  /// std::uncaught_exceptions() when the parse began (not 0 if it runs in
  /// a destructor during unwinding).
  int exceptions_at_start = std::uncaught_exceptions();

  /// Whether an exception is unwinding the parse. Listener callbacks run in
  /// ANTLR's scope guards on the way out too, and must then do nothing. The
  /// exception may be a syntax error's SyntaxAbandon, the nesting limit's,
  /// or any allocation failing at the cap: the unit's thread is routed into
  /// its heap, so every malloc of the runtime can throw.
  bool unwinding() const noexcept { return std::uncaught_exceptions() > exceptions_at_start; }
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_PARSE_STATE_HPP
