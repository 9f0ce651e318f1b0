// ---------------------------------------------------------------------------
// sema.hpp: the static rules of docs/toy-language.md §4.
//
// Sema runs after a clean parse and before lowering. It resolves names in
// their three name spaces (structs, functions, variables), checks arity and
// kinds, and records what it finds in the AST: expression types, resolved
// callees, member indices, parameter and member types, each function's
// return kind and live statement count. Errors are reported in the order of
// docs/toy-language.md §7.3; an expression with an error gets ValueKind::Error, which
// silences the errors that would only repeat it.
// ---------------------------------------------------------------------------
#ifndef SPACESC_SEMA_HPP
#define SPACESC_SEMA_HPP

#include <spacesc/ast_context.hpp>
#include <spacesc/diag.hpp>

namespace spacesc {

/// Checks `module`; returns true when it has no static error. Arrays sema
/// records (parameter and member types) are made in `ctx`. Throws only
/// what allocation throws.
bool check_module(ModuleDecl& module, AstContext& ctx, DiagEngine& diags);

}  // namespace spacesc

#endif  // SPACESC_SEMA_HPP
