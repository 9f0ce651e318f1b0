// ---------------------------------------------------------------------------
// unit_stats.cpp: the text of --stats, one function per group of lines.
// ---------------------------------------------------------------------------
#include "unit_stats.hpp"

#include <sys/resource.h>

#include <cstdio>

namespace spacesc {
namespace {

/// Peak resident set size of the process, in bytes.
std::size_t peak_rss() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::size_t>(u.ru_maxrss) * 1024;
}

void append_heap(std::string& s, const char* name, const spaces::Stats& h) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "  heap %-8s %zu allocations; live %zu bytes in %zu blocks; footprint %zu, peak %zu, slabs %zu\n", name,
                h.alloc_count, h.live_bytes, h.live_blocks, h.footprint, h.peak_footprint, h.slabs);
  s += buf;
}

// The input, the parser's tokens, and its contexts' heap (arena mode).
void append_input(std::string& s, const UnitStats& u) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "  input         %zu bytes, %zu tokens, %zu items; at most %zu tokens alive, %zu token bytes held\n",
                u.input_bytes, u.parse.tokens, u.parse.items, u.parse.max_item_tokens, u.parse.token_bytes_peak);
  s += buf;
  if (u.parse.tree_heap) append_heap(s, "contexts", u.parse.tree_stats);
}

void append_ast(std::string& s, const Options& o, const UnitStats& u) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "  ast           %zu nodes, %zu bytes requested, %zu allocations (--alloc=%s)\n",
                u.ast_nodes, u.ast_bytes, u.ast_allocations, o.alloc == AllocMode::Arena ? "arena" : "new");
  s += buf;
  if (o.alloc == AllocMode::Arena) append_heap(s, "ast", u.ast_heap);
}

void append_ir(std::string& s, const UnitStats& u) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "  ir            %zu instructions made; %zu calls inlined, %zu folded, %zu removed\n",
                u.ir_insts, u.passes.inlined, u.passes.folded, u.passes.removed);
  s += buf;
  append_heap(s, "ir", u.ir_heap);
}

void append_run(std::string& s, const UnitStats& u) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "  run           %zu instructions executed, %zu calls\n", u.run.instructions,
                u.run.calls);
  s += buf;
  append_heap(s, "values", u.run.heap);
}

void append_times(std::string& s, const UnitStats& u) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "  time (ms)     read %.3f, parse %.3f, sema %.3f, lower %.3f, passes %.3f, run %.3f\n"
                "  teardown (ms) ast %.4f, ir %.4f\n",
                u.t_read, u.t_parse, u.t_sema, u.t_lower, u.t_passes, u.t_run, u.t_teardown_ast, u.t_teardown_ir);
  s += buf;
}

void append_rss(std::string& s, const UnitStats& u) {
  char buf[512];
  const double rss_mib = static_cast<double>(peak_rss()) / (1024.0 * 1024.0);
  const double input_mb = static_cast<double>(u.input_bytes) / 1e6;
  // Per MB of input only means something once the input outweighs the
  // process's fixed few MiB.
  if (input_mb >= 1.0)
    std::snprintf(buf, sizeof buf, "  peak RSS      %.1f MiB (process), %.1f MiB per MB of input\n", rss_mib,
                  rss_mib / input_mb);
  else
    std::snprintf(buf, sizeof buf, "  peak RSS      %.1f MiB (process; per MB of input from 1 MB of input)\n", rss_mib);
  s += buf;
}

}  // namespace

void append_stats(std::string& s, const std::string& path, const Options& o, const UnitStats& u, Emit reached) {
  s += "spacesc: stats for " + path + "\n";
  append_input(s, u);
  append_ast(s, o, u);
  if (reached >= Emit::Ir) append_ir(s, u);
  if (reached >= Emit::Run) append_run(s, u);
  append_heap(s, "unit", u.unit_heap);
  append_times(s, u);
  append_rss(s, u);
}

}  // namespace spacesc
