// ---------------------------------------------------------------------------
// lower.hpp: from the checked AST to the IR.
//
// Lowering reads the annotations sema left in the AST (types, resolved
// callees, member indices, live statement counts) and copies every name it
// keeps into the IR arena, so the AST's heap can be destroyed as soon as it
// returns. Dead statements (after a function's first return) are dropped.
// ---------------------------------------------------------------------------
#ifndef SPACESC_LOWER_HPP
#define SPACESC_LOWER_HPP

#include <spacesc/ast.hpp>
#include <spacesc/ir.hpp>

namespace spacesc {

/// Lowers `module`, which passed check_module(), into `ctx`. Throws only
/// what allocation throws.
ir::Module lower_module(const ModuleDecl& module, ir::IrContext& ctx);

}  // namespace spacesc

#endif  // SPACESC_LOWER_HPP
