// ---------------------------------------------------------------------------
// cli_test.cpp: the spacesc binary's command line and exit statuses.
//
// Usage errors exit 2 with a message naming the problem; units print in
// command-line order whatever -j says; one failing unit does not stop the
// others. Each test runs the real binary in a scratch directory.
// ---------------------------------------------------------------------------
#include "test_util.hpp"

#include <gtest/gtest.h>

namespace spacesc {
namespace {

using test::run_binary;

class CliTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_.write("one.toy", "def main() {\n  print(1);\n}\n");
    dir_.write("two.toy", "def main() {\n  print([[2, 2]]);\n}\n");
    dir_.write("bad.toy", "def main() {\n  print(x);\n}\n");
  }
  test::ScratchDir dir_;
};

// An option spacesc does not know is a usage error.
TEST_F(CliTest, UnknownOptionExitsTwo) {
  const test::RunOutput r = run_binary("--frobnicate one.toy");
  EXPECT_EQ(r.status, ExitStatus::Usage);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--frobnicate"), std::string::npos) << r.err;
}

// A missing file is named, and nothing runs.
TEST_F(CliTest, MissingFileExitsTwoAndNamesIt) {
  const test::RunOutput r = run_binary("one.toy nope.toy");
  EXPECT_EQ(r.status, ExitStatus::Usage);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "spacesc: error: cannot open 'nope.toy': No such file or directory\n");
}

// A directory is not a source file.
TEST_F(CliTest, DirectoryExitsTwo) {
  const test::RunOutput r = run_binary(".");
  EXPECT_EQ(r.status, ExitStatus::Usage);
  EXPECT_EQ(r.err, "spacesc: error: cannot read '.': it is a directory\n");
}

// Without any file there is nothing to do.
TEST_F(CliTest, NoFileExitsTwo) {
  const test::RunOutput r = run_binary("");
  EXPECT_EQ(r.status, ExitStatus::Usage);
  EXPECT_NE(r.err.find("FILE is required"), std::string::npos) << r.err;
}

// Values outside the choices are usage errors.
TEST_F(CliTest, BadValuesExitTwo) {
  EXPECT_EQ(run_binary("--emit=tokens one.toy").status, ExitStatus::Usage);
  EXPECT_EQ(run_binary("--alloc=malloc one.toy").status, ExitStatus::Usage);
  EXPECT_EQ(run_binary("--mem-cap=lots one.toy").status, ExitStatus::Usage);
  EXPECT_EQ(run_binary("-j 0 one.toy").status, ExitStatus::Usage);
}

// --version and --help succeed.
TEST_F(CliTest, VersionAndHelpExitZero) {
  const test::RunOutput v = run_binary("--version");
  EXPECT_EQ(v.status, ExitStatus::Ok);
  EXPECT_EQ(v.out.rfind("spacesc ", 0), 0u) << v.out;
  const test::RunOutput h = run_binary("--help");
  EXPECT_EQ(h.status, ExitStatus::Ok);
  EXPECT_NE(h.out.find("--mem-cap"), std::string::npos);
}

// Outputs appear in command-line order, with one or two jobs.
TEST_F(CliTest, UnitsPrintInCommandLineOrder) {
  for (const char* jobs : {"-j 1", "-j 2"}) {
    const test::RunOutput r = run_binary(std::string(jobs) + " two.toy one.toy two.toy");
    EXPECT_EQ(r.status, ExitStatus::Ok);
    EXPECT_EQ(r.out, "2.000000 2.000000 \n1.000000 2.000000 2.000000 \n");
  }
}

// A unit with an error prints nothing, the others print, and the status is 1.
TEST_F(CliTest, FailingUnitDoesNotStopOthers) {
  const test::RunOutput r = run_binary("one.toy bad.toy one.toy");
  EXPECT_EQ(r.status, ExitStatus::Errors);
  EXPECT_EQ(r.out, "1.000000 1.000000 ");
  EXPECT_EQ(r.err, "bad.toy:2:9: error: unknown variable 'x'\n  print(x);\n        ^\n");
}

// A suffixed cap parses, and --stats reports per unit on stderr only.
TEST_F(CliTest, MemCapSuffixAndStats) {
  const test::RunOutput r = run_binary("--mem-cap=256M --stats one.toy");
  EXPECT_EQ(r.status, ExitStatus::Ok);
  EXPECT_EQ(r.out, "1.000000 ");
  EXPECT_EQ(r.err.rfind("spacesc: stats for one.toy\n", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("teardown (ms)"), std::string::npos);
  EXPECT_NE(r.err.find("peak RSS"), std::string::npos);
}

// --emit=ast needs only a valid syntax: static errors are not checked.
TEST_F(CliTest, EmitAstSkipsStaticRules) {
  const test::RunOutput r = run_binary("--emit=ast bad.toy");
  EXPECT_EQ(r.status, ExitStatus::Ok);
  EXPECT_EQ(r.out,
            "  Module:\n    Function \n      Proto 'main' @bad.toy:1:1\n      Params: []\n      Block {\n"
            "        Print [ @bad.toy:2:3\n          var: x @bad.toy:2:9\n        ]\n      } // Block\n");
}

}  // namespace
}  // namespace spacesc
