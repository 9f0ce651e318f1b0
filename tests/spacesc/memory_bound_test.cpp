// ---------------------------------------------------------------------------
// memory_bound_test.cpp: `--mem-cap` bounds everything a unit costs the
// process (docs/spacesc.md, "Memory"). The spacesc binary runs with the
// malloc replacement linked in, so each unit's thread allocates from the
// unit's capped heap: ANTLR's internals and the output count too. Each test
// runs the binary as a child and reads its peak RSS from wait4.
//
// Built only where spacesc links the replacement (not in sanitizer builds).
// ---------------------------------------------------------------------------
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

namespace spacesc {
namespace {

constexpr std::size_t MiB = std::size_t{1} << 20;

/// What a child spacesc wrote, how it ended and its peak RSS.
struct Measured {
  std::string out, err;
  int status = -1;
  std::size_t peak_rss = 0;
};

/// Runs the spacesc binary with `args` in the current directory; stdout and
/// stderr go to files read back afterwards.
Measured run_measured(const std::vector<std::string>& args) {
  std::vector<char*> argv{const_cast<char*>(SPACESC_BINARY)};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open("bound.out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open("bound.err", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    execv(SPACESC_BINARY, argv.data());
    _exit(127);
  }
  Measured m;
  int wstatus = 0;
  rusage ru{};
  if (pid < 0 || wait4(pid, &wstatus, 0, &ru) != pid) return m;
  m.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  m.peak_rss = static_cast<std::size_t>(ru.ru_maxrss) * 1024;
  m.out = test::read_file("bound.out");
  m.err = test::read_file("bound.err");
  return m;
}

/// Writes `source` to `name` in a fresh directory and runs spacesc on it
/// alone, under `--mem-cap=CAP`.
Measured run_alone(const std::string& name, const std::string& source, const std::string& cap) {
  test::ScratchDir dir;
  dir.write(name, source);
  return run_measured({"--mem-cap=" + cap, name});
}

/// `def main() { var a = [0, 1, ..., 9, 0, ...]; print(a); }`: one statement
/// of `n` numbers (n = 1,000,000 is a 3 MB file).
std::string literal_program(int n) {
  std::string s = "def main() {\n  var a = [0";
  for (int i = 1; i < n; ++i) s += ", " + std::to_string(i % 10);
  return s + "];\n  print(a);\n}\n";
}

/// `var a = 0 + 1 + ... ;` of `terms` terms (the digits again).
std::string sum_program(int terms) {
  std::string s = "def main() {\n  var a = 0";
  for (int i = 1; i < terms; ++i) s += " + " + std::to_string(i % 10);
  return s + ";\n  print(a);\n}\n";
}

/// A 1000x1000 tensor printed `times` times: 9 MB of output each.
std::string big_output_program(int times) {
  std::string s = "def main() {\n  var z<1000, 1000> = 1;\n";
  for (int i = 0; i < times; ++i) s += "  print(z);\n";
  return s + "}\n";
}

/// One expression nested `depth` parentheses deep (the limit is 10,000).
std::string deep_program(int depth) {
  return "def main() {\n  var a = " + std::string(static_cast<std::size_t>(depth), '(') + "7" +
         std::string(static_cast<std::size_t>(depth), ')') + ";\n  print(a);\n}\n";
}

/// The cap message of docs/spacesc.md for `name`, as a regex.
std::string cap_message(const std::string& name, const std::string& cap, const std::string& phase) {
  return std::regex_replace(name, std::regex("\\."), "\\.") + ": error: memory cap of " + cap + " exceeded while " +
         phase + " \\(footprint [0-9]+, [0-9]+ more refused for a request of [0-9]+\\)\n";
}

class MemoryBoundTest : public testing::TestWithParam<unsigned> {};

// Units that each try to take far more than the cap (30 x 9 MB of output,
// a 1,000,000-number literal, a 200,000-term sum), between units that fit
// (the nesting limit's deep stack, a small program): the big ones stop with
// status 3 while the others print, and the process's peak RSS stays within
// jobs x (cap + 24 MiB) + 24 MiB. Before the output and ANTLR's memory
// counted, the output unit alone reached 300 MiB under a 64 MiB cap.
TEST_P(MemoryBoundTest, PeakRssStaysWithinJobsTimesCapPlusConstant) {
  const unsigned jobs = GetParam();
  test::ScratchDir dir;
  dir.write("out.toy", big_output_program(30));
  dir.write("lit.toy", literal_program(1000000));
  dir.write("deep.toy", deep_program(9999));
  dir.write("sum.toy", sum_program(200000));
  dir.write("small.toy", "def main() {\n  print([1, 2]);\n}\n");
  const Measured m = run_measured({"-j", std::to_string(jobs), "--mem-cap=64M", "out.toy", "lit.toy", "deep.toy",
                                   "sum.toy", "small.toy", "out.toy"});
  EXPECT_EQ(m.status, 3);
  EXPECT_EQ(m.out, "7.000000 1.000000 2.000000 ");
  const std::string expected = cap_message("out.toy", "64 MiB", "running") +
                               cap_message("lit.toy", "64 MiB", "parsing") +
                               cap_message("sum.toy", "64 MiB", "parsing") + cap_message("out.toy", "64 MiB", "running");
  EXPECT_TRUE(std::regex_match(m.err, std::regex(expected))) << m.err;
  const std::size_t bound = jobs * (64 * MiB + 24 * MiB) + 24 * MiB;
  EXPECT_LE(m.peak_rss, bound) << "peak RSS " << m.peak_rss / MiB << " MiB with -j " << jobs;
}

INSTANTIATE_TEST_SUITE_P(Jobs, MemoryBoundTest, testing::Values(1u, 2u));

// One statement of 1,000,000 numbers compiles and runs under 256 MiB (it
// needed 447 MB of the unit's heaps while ANTLR's objects and 112-byte
// tokens stayed alive for the whole statement).
TEST(HugeStatementTest, MillionNumberLiteralRunsUnder256M) {
  const Measured m = run_alone("lit.toy", literal_program(1000000), "256M");
  EXPECT_EQ(m.status, 0) << m.err;
  EXPECT_EQ(m.err, "");
  std::string expected;
  for (int i = 0; i < 1000000; ++i) expected += std::to_string(i % 10) + ".000000 ";
  EXPECT_EQ(m.out.size(), 9000000u);
  EXPECT_TRUE(m.out == expected);  // not EXPECT_EQ: a 9 MB diff helps nobody
}

// A 200,000-term sum compiles and runs under 256 MiB.
TEST(HugeStatementTest, TwoHundredThousandTermSumRunsUnder256M) {
  const Measured m = run_alone("sum.toy", sum_program(200000), "256M");
  EXPECT_EQ(m.status, 0) << m.err;
  EXPECT_EQ(m.out, "900000.000000 ");
}

// Output counts against the cap: a unit whose output does not fit stops
// with status 3 and prints nothing (never part of its output).
TEST(HugeStatementTest, OutputBeyondTheCapFailsTheUnit) {
  const Measured m = run_alone("out.toy", big_output_program(30), "16M");
  EXPECT_EQ(m.status, 3);
  EXPECT_EQ(m.out, "");
  EXPECT_TRUE(std::regex_match(m.err, std::regex(cap_message("out.toy", "16 MiB", "running")))) << m.err;
}

}  // namespace
}  // namespace spacesc
