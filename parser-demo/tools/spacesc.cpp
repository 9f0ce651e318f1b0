// ---------------------------------------------------------------------------
// spacesc.cpp: the command line. CLI11 flags -> spacesc::Options -> driver.
//
// Usage errors (unknown option, bad value, no file, a missing or
// unreadable file) exit with status 2 before any unit runs; see
// driver.hpp:ExitStatus for the others.
// ---------------------------------------------------------------------------
#include "mem_cap_option.hpp"

#include <spacesc/driver.hpp>

#include <spaces/spaces.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

/// What the flags set, before --emit and --alloc become enum values.
struct CommandLine {
  std::vector<std::string> files;
  spacesc::Options options;
  std::string emit = "run";
  std::string alloc = "arena";
};

/// Declares spacesc's arguments and flags, in --help order, bound to `cl`.
void add_flags(CLI::App& app, CommandLine& cl) {
  app.add_option("FILE", cl.files, "Toy source files; each is compiled and run on its own")->required();
  app.add_option("--emit", cl.emit,
                 "What to print: run (run main, the default), ast (the AST dump), ir (the optimised IR)")
      ->check(CLI::IsMember({"run", "ast", "ir"}))
      ->option_text("run|ast|ir");
  spacesc::add_mem_cap_option(app, cl.options.mem_cap);
  app.add_option("--alloc", cl.alloc,
                 "Where the AST and tokens live: arena (region heaps, the default) or new (operator new per node)")
      ->check(CLI::IsMember({"arena", "new"}))
      ->option_text("arena|new");
  app.add_option("-j,--jobs", cl.options.jobs, "Compile up to N units in parallel (output stays in order)")
      ->check(CLI::Range(1u, 1024u))
      ->option_text("N");
  app.add_flag("--stats", cl.options.stats,
               "Print per-unit statistics on stderr: AST nodes, heap bytes, footprint, peak, slabs, phase times, "
               "teardown, peak RSS");
  app.set_version_flag("--version", std::string("spacesc ") + SPACESC_VERSION);
}

/// The free slabs kept warm for the next unit: 16 MiB, unless
/// SPACES_SLAB_CACHE says otherwise. Freed memory beyond it goes back to the
/// OS, which makes the bound of docs/spacesc.md (peak RSS within
/// jobs x (cap + 24 MiB) + 24 MiB) hold however the units' sizes differ;
/// 16 MiB keeps the warm reuse small units gain from (0 costs them 20%).
void keep_little_warm() {
  if (std::getenv("SPACES_SLAB_CACHE") == nullptr) spaces_option_set(SPACES_OPTION_SLAB_CACHE, std::size_t{16} << 20);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "spacesc compiles and runs Toy programs (the language of the MLIR tutorial).\n"
      "Each FILE is its own translation unit with its own heaps, capped by --mem-cap.",
      "spacesc"};
  app.get_formatter()->column_width(28);
  // CLI11's messages in the form of spacesc's other usage errors.
  app.failure_message(
      [](const CLI::App* a, const CLI::Error& e) { return "spacesc: error: " + CLI::FailureMessage::simple(a, e); });
  CommandLine cl;
  add_flags(app, cl);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(spacesc::ExitStatus::Usage);
  }

  spacesc::Options& options = cl.options;
  options.emit = cl.emit == "ast" ? spacesc::Emit::Ast : cl.emit == "ir" ? spacesc::Emit::Ir : spacesc::Emit::Run;
  options.alloc = cl.alloc == "new" ? spacesc::AllocMode::New : spacesc::AllocMode::Arena;

  keep_little_warm();
  std::string err;
  if (!spacesc::check_inputs(cl.files, err)) {
    std::fputs(err.c_str(), stderr);
    return static_cast<int>(spacesc::ExitStatus::Usage);
  }
  return static_cast<int>(spacesc::run_units(cl.files, options, stdout, stderr));
}
