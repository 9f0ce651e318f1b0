// ---------------------------------------------------------------------------
// unit_stats.hpp: what --stats reports about one unit, and its text.
//
// driver.cpp fills a UnitStats as the unit's stages run and, with --stats,
// appends its text to the unit's error stream. The text is for people and
// the benchmark script (bench/spacesc/run_bench.py parses it): one line per
// stage reached, one per heap, then times and the process's peak RSS.
// ---------------------------------------------------------------------------
#ifndef SPACESC_UNIT_STATS_HPP
#define SPACESC_UNIT_STATS_HPP

#include <spacesc/ast_builder.hpp>
#include <spacesc/driver.hpp>
#include <spacesc/interp.hpp>
#include <spacesc/passes.hpp>

#include <spaces/spaces.hpp>

#include <cstddef>
#include <string>

namespace spacesc {

/// Everything --stats reports about one unit.
struct UnitStats {
  std::size_t input_bytes = 0;
  ParseStats parse;
  std::size_t ast_nodes = 0, ast_bytes = 0, ast_allocations = 0;
  spaces::Stats ast_heap{};
  std::size_t ir_insts = 0;
  spaces::Stats ir_heap{};
  PassStats passes;
  RunStats run;
  spaces::Stats unit_heap{};
  double t_read = 0, t_parse = 0, t_sema = 0, t_lower = 0, t_passes = 0, t_run = 0;
  double t_teardown_ast = 0, t_teardown_ir = 0;
};

/// Appends the --stats text of the unit at `path`, which got as far as
/// `reached`, to `s`.
void append_stats(std::string& s, const std::string& path, const Options& o, const UnitStats& u, Emit reached);

}  // namespace spacesc

#endif  // SPACESC_UNIT_STATS_HPP
