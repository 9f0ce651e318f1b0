// ---------------------------------------------------------------------------
// robustness_test.cpp: inputs of any content get a diagnostic or a result.
//
// Binary garbage and invalid UTF-8, nesting at and past the limit, very
// long operator chains, and dumps that would be too large. Units run
// through run_units(), on the big-stack threads the tool uses.
// ---------------------------------------------------------------------------
#include "test_util.hpp"

#include <spacesc/ast_builder.hpp>

#include <gtest/gtest.h>

#include <random>

namespace spacesc {
namespace {

test::RunOutput run_source(const std::string& source, const Options& options = {}) {
  test::ScratchDir dir;
  dir.write("t.toy", source);
  return test::run_all({"t.toy"}, options);
}

// Under ThreadSanitizer each nesting test takes about 40 s and 20 GB of
// resident memory (measured; 0.1 s and 25 MB in the release build), enough
// for the OOM killer when tests run in parallel. They check recursion depth,
// not threads, and run in the other builds.
#if defined(__SANITIZE_THREAD__)  // g++
#define SPACESC_UNDER_TSAN 1
#elif defined(__has_feature)  // clang
#if __has_feature(thread_sanitizer)
#define SPACESC_UNDER_TSAN 1
#endif
#endif
#ifdef SPACESC_UNDER_TSAN
#define SPACESC_SKIP_DEEP_NESTING() GTEST_SKIP() << "deep recursion under ThreadSanitizer needs about 20 GB"
#else
#define SPACESC_SKIP_DEEP_NESTING() static_cast<void>(0)
#endif

std::string nested_parens(std::uint32_t depth) {
  return "def main() {\n  print(" + std::string(depth, '(') + "1" + std::string(depth, ')') + ");\n}\n";
}

// Random bytes (fixed seed) give diagnostics, capped at the error limit.
TEST(RobustnessTest, BinaryGarbageStopsAtErrorLimit) {
  std::mt19937 rng(42);
  std::string bytes(1 << 20, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  const test::RunOutput r = run_source(bytes);
  EXPECT_EQ(r.status, ExitStatus::Errors);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("t.toy: note: too many errors; stopped\n"), std::string::npos);
}

// Invalid UTF-8 in a comment is fine; outside one it is an error at the byte.
TEST(RobustnessTest, InvalidUtf8OnlyMattersOutsideComments) {
  EXPECT_EQ(run_source("# \xff\xfe\x80\ndef main() { print(1); }\n").out, "1.000000 ");
  EXPECT_EQ(test::first_line(run_source("def main() { print(1); }\n\x80").err), "t.toy:2:1: error: unexpected byte 0x80");
}

// Nesting exactly at the limit still compiles and runs.
TEST(RobustnessTest, NestingAtLimitRuns) {
  SPACESC_SKIP_DEEP_NESTING();
  // The body brace and print( are two of the levels.
  const test::RunOutput r = run_source(nested_parens(kMaxNesting - 2));
  EXPECT_EQ(r.status, ExitStatus::Ok);
  EXPECT_EQ(r.out, "1.000000 ");
}

// One bracket past the limit is a diagnostic at that bracket.
TEST(RobustnessTest, NestingPastLimitIsADiagnostic) {
  SPACESC_SKIP_DEEP_NESTING();
  const test::RunOutput r = run_source(nested_parens(kMaxNesting));
  EXPECT_EQ(r.status, ExitStatus::Errors);
  EXPECT_EQ(test::first_line(r.err), "t.toy:2:" + std::to_string(8 + kMaxNesting - 1) +
                                         ": error: brackets nested deeper than 10000 levels; the parser stops here");
}

// Left-deep chains are walked without recursion in every phase.
TEST(RobustnessTest, LongOperatorChainRuns) {
  std::string sum = "1";
  for (int i = 1; i < 200000; ++i) sum += i % 2 == 0 ? " + 1" : " - 1";
  const test::RunOutput r = run_source("def main() {\n  print(" + sum + ");\n}\n");
  EXPECT_EQ(r.status, ExitStatus::Ok);
  EXPECT_EQ(r.out, "0.000000 ");
}

// A dump whose indentation would explode is refused with a message.
TEST(RobustnessTest, QuadraticAstDumpIsRefused) {
  std::string sum = "1";
  for (int i = 1; i < 100000; ++i) sum += " + 1";
  Options o;
  o.emit = Emit::Ast;
  const test::RunOutput r = run_source("def main() {\n  print(" + sum + ");\n}\n", o);
  EXPECT_EQ(r.status, ExitStatus::Errors);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "t.toy: error: the AST dump would exceed 1 GiB (two spaces of indentation per level of a tree this deep)\n");
}

// Folding + - * and transpose, like reshape, makes constants of at most
// 65,536 elements: each fold makes a new constant that lives as long as
// the IR. Above the limit the operations stay for the run.
TEST(RobustnessTest, FoldingStopsAtTheElementLimit) {
  const auto program = [](std::size_t n) {
    std::string ones = "1";
    for (std::size_t i = 1; i < n; ++i) ones += ", 1";
    return "def main() {\n  var a = [[" + ones + "]];\n  print(transpose(a) + transpose(a));\n}\n";
  };
  const auto constant = [](std::size_t n, const char* value) {
    std::string s = std::string("[") + value;
    for (std::size_t i = 1; i < n; ++i) s += std::string(", ") + value;
    return s + "]";
  };
  Options ir;
  ir.emit = Emit::Ir;
  EXPECT_EQ(run_source(program(65536), ir).out,
            "func @main() {\n  %0 = const " + constant(65536, "2") + " : <65536, 1>\n  print %0\n  return\n}\n");
  EXPECT_EQ(run_source(program(65537), ir).out,
            "func @main() {\n  %0 = const " + constant(65537, "1") +
                " : <1, 65537>\n  %1 = transpose %0 : <65537, 1>\n  %2 = transpose %0 : <65537, 1>\n"
                "  %3 = add %1, %2 : <65537, 1> @3:22\n  print %3\n  return\n}\n");
}

// Deep calls and deep struct nesting run on the interpreter's explicit stack.
TEST(RobustnessTest, ManyChainedFunctionsRun) {
  std::string s = "def f0(x) { return x + 1; }\n";
  for (int i = 1; i < 3000; ++i)
    s += "def f" + std::to_string(i) + "(x) { return f" + std::to_string(i - 1) + "(x) + 1; }\n";
  s += "def main() { print(f2999(0)); }\n";
  const test::RunOutput r = run_source(s);
  EXPECT_EQ(r.status, ExitStatus::Ok);
  EXPECT_EQ(r.out, "3000.000000 ");
}

}  // namespace
}  // namespace spacesc
