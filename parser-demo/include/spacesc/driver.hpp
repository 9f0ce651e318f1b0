// ---------------------------------------------------------------------------
// driver.hpp: one translation unit from bytes to output, and many of them.
//
// run_unit() owns a unit's memory: a capped heap (--mem-cap) with child
// heaps for the source bytes, the tokens, the AST, the IR and the values of
// the run. The AST heap is destroyed right after lowering, the others when
// the unit ends. The unit's thread routes its allocations into the unit's
// heap for the unit's whole life (spaces::ScopedHeap): with the malloc
// replacement in the process (spacesc links it), ANTLR's and the standard
// library's allocations, the diagnostics and the output count against the
// cap too. A unit never writes to the process streams: its output and
// diagnostics are buffered in its heap and handed to a UnitSink before the
// heap goes, so that a unit with an error prints nothing
// (docs/toy-language.md §7.2) and parallel units (-j) still print in
// command-line order.
// ---------------------------------------------------------------------------
#ifndef SPACESC_DRIVER_HPP
#define SPACESC_DRIVER_HPP

#include <spacesc/ast_context.hpp>

#include <spaces/spaces.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

namespace spacesc {

/// What to produce, ordered by pipeline depth: `emit >= Emit::Ir` means
/// "at least as far as the IR".
enum class Emit : std::uint8_t { Ast, Ir, Run };

/// Process exit statuses; a run's status is the highest of its units'.
enum class ExitStatus : int {
  Ok = 0,         ///< every unit compiled and ran
  Errors = 1,     ///< a unit had a lexical, syntax, static or evaluation error
  Usage = 2,      ///< bad command line, missing or unreadable file
  CapExceeded = 3 ///< a unit needed more memory than --mem-cap (or the OS) gave
};

/// The command line, parsed (tools/spacesc.cpp).
struct Options {
  Emit emit = Emit::Run;
  std::size_t mem_cap = spaces::kUncapped;
  AllocMode alloc = AllocMode::Arena;
  unsigned jobs = 1;
  bool stats = false;
};

/// What one unit produced.
struct UnitResult {
  std::string out;  ///< for standard output: prints or a dump; empty after any error
  std::string err;  ///< for standard error: diagnostics, then --stats
  ExitStatus status = ExitStatus::Ok;
};

/// Receives what one unit produced, while the unit's memory is still alive
/// (the views point into it); the calling thread is routed back to the heap
/// it was on before the unit started, so what deliver() allocates is not
/// the unit's.
class UnitSink {
 public:
  /// `out` is for standard output (empty after any error); `err` holds the
  /// diagnostics, `stats` the --stats text (empty without --stats).
  virtual void deliver(std::string_view out, std::string_view err, std::string_view stats, ExitStatus status) = 0;

 protected:
  ~UnitSink() = default;
};

/// Compiles (and with Emit::Run runs) the file at `path`, then calls
/// `sink.deliver` once. Never throws, unless deliver() does.
void run_unit(const std::string& path, const Options& options, UnitSink& sink);

/// run_unit into a UnitResult (err is the diagnostics, then --stats), in the
/// caller's heap.
UnitResult run_unit(const std::string& path, const Options& options);

/// Checks that every path names something readable other than a
/// directory; otherwise appends a message naming the first bad one to
/// `err` and returns false. Regular files are opened; a FIFO or a device
/// (`<(gen)`, /dev/stdin, /dev/null) is only checked for permission, so
/// that its unit still reads all of it.
bool check_inputs(std::span<const std::string> paths, std::string& err);

/// Runs every unit, `options.jobs` at a time, each on its own thread with
/// its own heaps, and writes their results to `out` and `err` in the order
/// of `paths`. Returns the exit status of the whole run.
ExitStatus run_units(std::span<const std::string> paths, const Options& options, std::FILE* out, std::FILE* err);

/// Formats a byte count for messages: "256 MiB", "1 GiB", "1000 bytes",
/// "1 byte".
std::string format_size(std::size_t bytes);

}  // namespace spacesc

#endif  // SPACESC_DRIVER_HPP
