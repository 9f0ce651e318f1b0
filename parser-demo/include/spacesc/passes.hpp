// ---------------------------------------------------------------------------
// passes.hpp: the IR pipeline between lowering and the interpreter.
//
// Only functions main reaches are optimised, in definition order, so a
// callee is finished before its callers. For each function: inlining of
// calls (which is how a
// generic function gets specialised to each call site's shapes), then one
// forward sweep of shape inference and folding (transpose(transpose(x)),
// reshapes, constant folding, struct member forwarding), then dead code
// elimination. Functions main no longer reaches are dropped. No pass moves
// or removes a print, or an operation that may fail at run time, so the
// output and the first evaluation error stay those of docs/toy-language.md
// §5.
// ---------------------------------------------------------------------------
#ifndef SPACESC_PASSES_HPP
#define SPACESC_PASSES_HPP

#include <spacesc/ir.hpp>

#include <cstddef>

namespace spacesc {

/// Limits that keep compile time and IR size bounded on any input.
struct PassOptions {
  /// Only callees of at most this many instructions are inlined.
  std::size_t inline_callee_limit = 1024;
  /// A call is inlined while the caller stays within this many instructions.
  std::size_t inline_budget = std::size_t{1} << 16;
  /// Instructions all inlining together may add: a chain of functions that
  /// each call the previous one would otherwise grow quadratically.
  std::size_t inline_growth = std::size_t{1} << 20;
  /// Constant folding makes tensors of at most this many elements.
  std::size_t fold_limit = std::size_t{1} << 16;
};

/// What the passes did, for --stats.
struct PassStats {
  std::size_t inlined = 0;  ///< call sites inlined
  std::size_t folded = 0;   ///< instructions replaced by a simpler value or a constant
  std::size_t removed = 0;  ///< instructions removed as dead
};

/// Runs the pipeline on `module`. Throws only what allocation throws.
void run_passes(ir::Module& module, ir::IrContext& ctx, const PassOptions& options = {},
                PassStats* stats = nullptr);

}  // namespace spacesc

#endif  // SPACESC_PASSES_HPP
