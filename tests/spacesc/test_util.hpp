// ---------------------------------------------------------------------------
// test_util.hpp: helpers shared by the spacesc tests.
//
// Units are compiled from files in a scratch directory, named as the test
// says, and run from inside it so that diagnostics read `name.toy:L:C`.
// ---------------------------------------------------------------------------
#ifndef SPACESC_TEST_UTIL_HPP
#define SPACESC_TEST_UTIL_HPP

#include <spacesc/driver.hpp>

#include <string>
#include <vector>

namespace spacesc::test {

/// A fresh directory the process works in for the scope's lifetime.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  /// Writes `text` to `name` in the directory.
  void write(const std::string& name, const std::string& text) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string previous_;
};

/// Compiles `source` as a file called `name` with `options`, on this thread.
UnitResult compile(const std::string& source, const Options& options = {}, const std::string& name = "t.toy");

/// The first line of `text` (without its newline).
std::string first_line(const std::string& text);

/// Reads a whole file; empty if it does not exist.
std::string read_file(const std::string& path);

/// What a run of several units wrote, and its status.
struct RunOutput {
  std::string out, err;
  ExitStatus status;
};

/// Runs run_units() on `files` (already written to the current directory).
RunOutput run_all(const std::vector<std::string>& files, const Options& options = {});

/// Runs the spacesc binary with `args` (shell words) in the current
/// directory. With `timeout_s`, a run still going after that many seconds
/// is killed and gets status 124 (timeout(1)): for runs that could hang.
RunOutput run_binary(const std::string& args, unsigned timeout_s = 0);

}  // namespace spacesc::test

#endif  // SPACESC_TEST_UTIL_HPP
