// ---------------------------------------------------------------------------
// cap_test.cpp: --mem-cap stops a unit that needs more, and only that unit.
//
// The big unit is generated: enough declarations that its AST, tokens and
// IR cannot fit in 1 MiB. Its neighbours are small programs that must run
// as if alone, before and after it, with -j 1 and -j 2. The huge unit is one
// statement whose parse alone (ANTLR's contexts) needs more than the cap.
// ---------------------------------------------------------------------------
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace spacesc {
namespace {

/// A valid program of about `statements` lines that keeps every value alive.
std::string big_program(int statements) {
  std::string s = "def main() {\n  var v0 = [1, 2, 3, 4];\n";
  for (int i = 1; i < statements; ++i)
    s += "  var v" + std::to_string(i) + " = v" + std::to_string(i - 1) + " + [1, 2, 3, 4];\n";
  s += "  print(v" + std::to_string(statements - 1) + ");\n}\n";
  return s;
}

/// Compiles small.toy, `name` (`source`, over `cap_mib` MiB) and after.toy
/// with `jobs` threads: the middle unit must stop while parsing with the cap
/// message and exit status 3, its neighbours must print as if alone.
void expect_middle_unit_over_cap(const std::string& name, const std::string& source, std::size_t cap_mib,
                                 unsigned jobs) {
  test::ScratchDir dir;
  dir.write("small.toy", "def main() {\n  print([1, 2]);\n}\n");
  dir.write(name, source);
  dir.write("after.toy", "def main() {\n  print(3);\n}\n");
  Options o;
  o.mem_cap = cap_mib << 20;
  o.jobs = jobs;
  const test::RunOutput r = test::run_all({"small.toy", name, "after.toy"}, o);
  EXPECT_EQ(r.status, ExitStatus::CapExceeded);
  EXPECT_EQ(r.out, "1.000000 2.000000 3.000000 ");
  const std::string message = std::regex_replace(name, std::regex("\\."), "\\.") + ": error: memory cap of " +
                              std::to_string(cap_mib) +
                              " MiB exceeded while parsing \\(footprint [0-9]+, 65536 more refused for a request of [0-9]+\\)\n";
  EXPECT_TRUE(std::regex_match(r.err, std::regex(message))) << r.err;
}

class CapTest : public testing::TestWithParam<unsigned> {};

// The unit over the cap exits 3 with the cap message; its neighbours still print.
TEST_P(CapTest, UnitOverCapFailsWhileNeighboursRun) {
  expect_middle_unit_over_cap("big.toy", big_program(3000), 1, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Jobs, CapTest, testing::Values(1u, 2u));

/// One statement, `var a = (1) + (1) + ... ;`, of `terms` terms: about 60
/// bytes of source and 14 ANTLR objects (10 rule contexts, 4 terminal
/// nodes; over 1 KiB) per term, all alive until the statement ends.
std::string huge_statement(int terms) {
  std::string s = "def main() {\n  var a = (1)";
  for (int i = 1; i < terms; ++i) s += " + (1)";
  s += ";\n  print(a);\n}\n";
  return s;
}

class ParseCapTest : public testing::TestWithParam<unsigned> {};

// ANTLR's rule contexts and terminal nodes live in the unit's heap
// (--alloc=arena), so a statement whose parse alone needs more than the cap
// stops the unit while parsing. 10,000 terms need about 10 MiB of contexts
// (16 MiB in all while parsing); without the contexts the unit peaks at
// about 5 MiB, under the 8 MiB cap.
TEST_P(ParseCapTest, HugeStatementOverCapFailsWhileParsing) {
  expect_middle_unit_over_cap("huge.toy", huge_statement(10000), 8, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Jobs, ParseCapTest, testing::Values(1u, 2u));

// The same statement compiles and runs under a cap that holds its parse.
TEST(CapLimitTest, HugeStatementUnderCapRuns) {
  Options o;
  o.mem_cap = std::size_t{64} << 20;
  const UnitResult r = test::compile(huge_statement(10000), o);
  EXPECT_EQ(r.status, ExitStatus::Ok) << r.err;
  EXPECT_EQ(r.out, "10000.000000 ");
}

// The same program fits when the cap is large enough, and prints the same result.
TEST(CapLimitTest, ProgramUnderCapRuns) {
  Options o;
  o.mem_cap = std::size_t{256} << 20;
  const UnitResult r = test::compile(big_program(2000), o);
  EXPECT_EQ(r.status, ExitStatus::Ok);
  EXPECT_EQ(r.out, "2000.000000 4000.000000 6000.000000 8000.000000 ");
}

// A run that needs more than the cap (a huge broadcast) stops while running.
TEST(CapLimitTest, RunOverCapNamesRunningPhase) {
  Options o;
  o.mem_cap = std::size_t{4} << 20;
  const UnitResult r = test::compile("def main() {\n  var z<1000, 1000> = 0;\n  print(z);\n}\n", o);
  EXPECT_EQ(r.status, ExitStatus::CapExceeded);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.err.find("t.toy: error: memory cap of 4 MiB exceeded while running (footprint ") == 0) << r.err;
}

/// The numbers of the `  heap NAME ...` line of a --stats text: allocations,
/// live bytes, live blocks, footprint, peak, slabs; empty if absent.
std::vector<std::size_t> heap_line(const std::string& stats, const std::string& name) {
  const std::regex line("  heap " + name +
                        " +([0-9]+) allocations; live ([0-9]+) bytes in ([0-9]+) blocks; footprint ([0-9]+), "
                        "peak ([0-9]+), slabs ([0-9]+)\n");
  std::smatch m;
  if (!std::regex_search(stats, m, line)) return {};
  std::vector<std::size_t> v;
  for (std::size_t i = 1; i < m.size(); ++i) v.push_back(std::stoul(m[i].str()));
  return v;
}

// --stats is reported for a unit that stopped at its cap, after the cap
// message: the unit heap's peak is where the cap stopped it.
TEST(CapLimitTest, StatsAreReportedForAUnitOverTheCap) {
  Options o;
  o.mem_cap = std::size_t{1} << 20;
  o.stats = true;
  const UnitResult r = test::compile(big_program(3000), o);
  EXPECT_EQ(r.status, ExitStatus::CapExceeded);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.err, m,
      std::regex("^t\\.toy: error: memory cap of 1 MiB exceeded while parsing \\(footprint ([0-9]+), 65536 more "
                 "refused for a request of [0-9]+\\)\nspacesc: stats for t\\.toy\n")))
      << r.err;
  const std::size_t footprint = std::stoul(m[1].str());
  const std::vector<std::size_t> unit = heap_line(r.err, "unit");
  ASSERT_EQ(unit.size(), 6u) << r.err;
  EXPECT_GE(unit[4], footprint);  // the peak: at least where it was refused...
  EXPECT_LE(unit[4], o.mem_cap);  // ...and never past the cap
  EXPECT_GT(footprint + 65536, o.mem_cap);
}

// A unit with errors reports its heaps as they were when it stopped (the
// unit heap's numbers were those of no heap at all: zeros).
TEST(CapLimitTest, StatsOfAUnitWithErrorsAreItsOwn) {
  Options o;
  o.stats = true;
  const UnitResult r = test::compile("def main() {\n  print(x);\n}\n", o);
  EXPECT_EQ(r.status, ExitStatus::Errors);
  EXPECT_EQ(test::first_line(r.err), "t.toy:2:9: error: unknown variable 'x'");
  EXPECT_NE(r.err.find("\nspacesc: stats for t.toy\n"), std::string::npos) << r.err;
  const std::vector<std::size_t> unit = heap_line(r.err, "unit");
  ASSERT_EQ(unit.size(), 6u) << r.err;
  EXPECT_GE(unit[4], std::size_t{64} << 10);  // the source and the AST took slabs
  EXPECT_GE(unit[4], unit[3]);
}

// format_size picks the largest unit that divides the cap.
TEST(CapLimitTest, SizesAreNamedInBinaryUnits) {
  EXPECT_EQ(format_size(std::size_t{256} << 20), "256 MiB");
  EXPECT_EQ(format_size(std::size_t{2} << 30), "2 GiB");
  EXPECT_EQ(format_size(1536), "1536 bytes");
  EXPECT_EQ(format_size(4096), "4 KiB");
}

}  // namespace
}  // namespace spacesc
