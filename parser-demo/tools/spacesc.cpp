// ---------------------------------------------------------------------------
// spacesc.cpp: the command line. CLI11 flags -> spacesc::Options -> driver.
//
// Usage errors (unknown option, bad value, no file, a missing or
// unreadable file) exit with status 2 before any unit runs; see
// driver.hpp:ExitStatus for the others.
// ---------------------------------------------------------------------------
#include <spacesc/driver.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{
      "spacesc compiles and runs Toy programs (the language of the MLIR tutorial).\n"
      "Each FILE is its own translation unit with its own heaps, capped by --mem-cap.",
      "spacesc"};
  app.get_formatter()->column_width(28);

  std::vector<std::string> files;
  spacesc::Options options;
  app.add_option("FILE", files, "Toy source files; each is compiled and run on its own")->required();

  std::string emit = "run";
  app.add_option("--emit", emit, "What to print: run (run main, the default), ast (the AST dump), ir (the optimised IR)")
      ->check(CLI::IsMember({"run", "ast", "ir"}))
      ->option_text("run|ast|ir");

  app.add_option("--mem-cap", options.mem_cap,
                 "Cap on each unit's memory: bytes, or with a K/M/G suffix (256M); default: no cap")
      ->transform(CLI::AsSizeValue(false))
      ->option_text("SIZE");

  std::string alloc = "arena";
  app.add_option("--alloc", alloc,
                 "Where the AST and tokens live: arena (region heaps, the default) or new (operator new per node)")
      ->check(CLI::IsMember({"arena", "new"}))
      ->option_text("arena|new");

  app.add_option("-j,--jobs", options.jobs, "Compile up to N units in parallel (output stays in order)")
      ->check(CLI::Range(1u, 1024u))
      ->option_text("N");
  app.add_flag("--stats", options.stats,
               "Print per-unit statistics on stderr: AST nodes, heap bytes, footprint, peak, slabs, phase times, "
               "teardown, peak RSS");
  app.set_version_flag("--version", std::string("spacesc ") + SPACESC_VERSION);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(spacesc::ExitStatus::Usage);
  }

  options.emit = emit == "ast" ? spacesc::Emit::Ast : emit == "ir" ? spacesc::Emit::Ir : spacesc::Emit::Run;
  options.alloc = alloc == "new" ? spacesc::AllocMode::New : spacesc::AllocMode::Arena;

  std::string err;
  if (!spacesc::check_inputs(files, err)) {
    std::fputs(err.c_str(), stderr);
    return static_cast<int>(spacesc::ExitStatus::Usage);
  }
  return static_cast<int>(spacesc::run_units(files, options, stdout, stderr));
}
