// ---------------------------------------------------------------------------
// default_antlr.cpp: the baseline of the spacesc benchmark: parsing a Toy
// file "the default way" (ANTLRInputStream, CommonTokenStream, the full
// parse tree of `module`), as ANTLR's examples and most projects do.
//
// Prints one line: `parse_ms=... tokens=... peak_rss_kb=...`. It builds no
// AST, so its peak is ANTLR's own memory; spacesc's --stats peak includes
// its AST and IR on top of what its parser keeps.
// ---------------------------------------------------------------------------
#include "ToyLexer.h"
#include "ToyParser.h"

#include <antlr4-runtime.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: toy_antlr_default FILE\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const auto t0 = std::chrono::steady_clock::now();
  antlr4::ANTLRInputStream input(text.str());
  spacesc::toy::ToyLexer lexer(&input);
  antlr4::CommonTokenStream tokens(&lexer);
  spacesc::toy::ToyParser parser(&tokens);
  parser.module();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf("parse_ms=%.1f tokens=%zu errors=%zu peak_rss_kb=%ld\n", ms, tokens.size(),
              parser.getNumberOfSyntaxErrors(), u.ru_maxrss);
  return 0;
}
