// ---------------------------------------------------------------------------
// cli_test.cpp: the spacesc binary's command line and exit statuses.
//
// Usage errors exit 2 with a message naming the problem; units print in
// command-line order whatever -j says; one failing unit does not stop the
// others. Each test runs the real binary in a scratch directory.
// ---------------------------------------------------------------------------
#include "test_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <thread>

namespace spacesc {
namespace {

using test::run_binary;

/// Writes `text` to the FIFO `path` once a reader has it open, and closes
/// it; false if no reader came within `timeout`. It polls instead of
/// blocking in open(), so that a run that never reads cannot hang the test.
bool feed_fifo(const std::string& path, const std::string& text, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int fd = -1;
  while ((fd = open(path.c_str(), O_WRONLY | O_NONBLOCK)) < 0) {
    if (errno != ENXIO || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

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

// A named FIFO is read once, by its unit (`mkfifo f; gen > f & spacesc f`).
// Checking the inputs does not open it: that would take the writer's bytes
// and close them away, and the unit would then wait forever for a writer
// that is gone.
TEST_F(CliTest, NamedFifoIsReadOnce) {
  ASSERT_EQ(mkfifo("fifo.toy", 0600), 0);
  bool fed = false;
  std::thread writer([&] { fed = feed_fifo("fifo.toy", "def main() {\n  print(7);\n}\n", std::chrono::seconds(20)); });
  const test::RunOutput r = run_binary("fifo.toy", 20);
  writer.join();
  EXPECT_TRUE(fed);
  EXPECT_EQ(r.status, ExitStatus::Ok);
  EXPECT_EQ(r.out, "7.000000 ");
  EXPECT_EQ(r.err, "");
}

// A pipe the shell opened (`spacesc <(gen)`, a /dev/fd path) is read even
// when its writer is already gone.
TEST_F(CliTest, OpenPipeIsRead) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);  // no O_CLOEXEC: the binary inherits the read end
  const std::string text = "def main() {\n  print(8);\n}\n";
  ASSERT_EQ(write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fds[1]);
  const std::string path = "/dev/fd/" + std::to_string(fds[0]);
  const test::RunOutput r = run_binary(path, 20);
  close(fds[0]);
  EXPECT_EQ(r.status, ExitStatus::Ok);
  EXPECT_EQ(r.out, "8.000000 ");
  EXPECT_EQ(r.err, "");
}

// A character device is read like a file: /dev/null is an empty unit.
TEST_F(CliTest, DevNullIsAnEmptyUnit) {
  const test::RunOutput r = run_binary("/dev/null", 20);
  EXPECT_EQ(r.status, ExitStatus::Errors);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "/dev/null:1:1: error: the program has no 'main' function\n\n^\n");
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

// A cap that is negative, too large for 64 bits or zero is a usage error
// naming the option and the value; so is a file taken as the value when
// `--mem-cap FILE` lacks its `=`. Nothing runs.
TEST_F(CliTest, BadMemCapIsAUsageErrorNamingTheValue) {
  const std::string prefix = "spacesc: error: --mem-cap: ";
  const std::string not_a_size = " is not a size (bytes, or a number with K, M, G or T: 256M)\n";
  const std::string help = "Run with --help for more information.\n";
  const std::pair<const char*, std::string> cases[] = {
      {"--mem-cap=-5 one.toy", "'-5'" + not_a_size},
      {"--mem-cap=-1 one.toy", "'-1'" + not_a_size},
      {"--mem-cap=0x10 one.toy", "'0x10'" + not_a_size},
      {"--mem-cap=18446744073709551616 one.toy",
       "'18446744073709551616' is too large (at most 18446744073709551615 bytes)\n"},
      {"--mem-cap=17179869184G one.toy", "'17179869184G' is too large (at most 18446744073709551615 bytes)\n"},
      {"--mem-cap=0 one.toy", "a cap must be at least 1 byte, not '0'\n"},
      {"--mem-cap=0K one.toy", "a cap must be at least 1 byte, not '0K'\n"},
      {"--mem-cap one.toy", "'one.toy'" + not_a_size},
      {"--mem-cap one.toy two.toy", "'one.toy'" + not_a_size},
  };
  for (const auto& [args, message] : cases) {
    const test::RunOutput r = run_binary(args);
    EXPECT_EQ(r.status, ExitStatus::Usage) << args;
    EXPECT_EQ(r.out, "") << args;
    EXPECT_EQ(r.err, prefix + message + help) << args;
  }
}

// A size is bytes or a number with K, M, G or T (powers of 1024), an
// optional `i` and `B`, in any case.
TEST_F(CliTest, MemCapSpellings) {
  for (const char* cap : {"1073741824", "1G", "1g", "1GiB", "1gb", "1024M", "1048576k", "1T"}) {
    const test::RunOutput r = run_binary(std::string("--mem-cap=") + cap + " one.toy");
    EXPECT_EQ(r.status, ExitStatus::Ok) << cap;
    EXPECT_EQ(r.out, "1.000000 ") << cap;
    EXPECT_EQ(r.err, "") << cap;
  }
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
