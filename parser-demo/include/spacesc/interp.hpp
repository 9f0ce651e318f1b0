// ---------------------------------------------------------------------------
// interp.hpp: running a unit's IR (docs/toy-language.md §5).
//
// The interpreter runs `main` with an explicit stack of frames (no C++
// recursion, however deep the calls go). Values are reference-counted
// tensors and structs in a general heap under the unit's heap, released at
// their last use, so --mem-cap bounds the run too. The first evaluation
// error stops the run.
// ---------------------------------------------------------------------------
#ifndef SPACESC_INTERP_HPP
#define SPACESC_INTERP_HPP

#include <spacesc/diag.hpp>
#include <spacesc/ir.hpp>

#include <spaces/spaces.hpp>

#include <cstddef>
#include <string>

namespace spacesc {

/// What a run did, for --stats.
struct RunStats {
  std::size_t instructions = 0;  ///< instructions executed
  std::size_t calls = 0;         ///< calls made
  spaces::Stats heap{};          ///< the value heap, at the end of the run
};

/// Runs `module.main`, appending what it prints to `out`. Returns false
/// after reporting an evaluation error to `diags` (then `out` holds a
/// partial output the caller must drop). Throws spaces::cap_exceeded or
/// std::bad_alloc when memory runs out.
bool run_module(const ir::Module& module, const spaces::Heap* parent, DiagEngine& diags, std::string& out,
                RunStats* stats = nullptr);

}  // namespace spacesc

#endif  // SPACESC_INTERP_HPP
