// ---------------------------------------------------------------------------
// test_util.cpp: scratch directories, files, and running units or the tool.
// ---------------------------------------------------------------------------
#include "test_util.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace spacesc::test {

ScratchDir::ScratchDir() {
  char tmpl[] = "/tmp/spacesc-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
  previous_ = std::filesystem::current_path().string();
  std::filesystem::current_path(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::current_path(previous_, ec);
  std::filesystem::remove_all(path_, ec);
}

void ScratchDir::write(const std::string& name, const std::string& text) const {
  std::ofstream f(path_ + "/" + name, std::ios::binary);
  f << text;
}

UnitResult compile(const std::string& source, const Options& options, const std::string& name) {
  ScratchDir dir;
  dir.write(name, source);
  return run_unit(name, options);
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace {
std::string slurp(std::FILE* f) {
  std::string s;
  std::rewind(f);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  std::fclose(f);
  return s;
}
}  // namespace

RunOutput run_all(const std::vector<std::string>& files, const Options& options) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  const ExitStatus status = run_units(files, options, out, err);
  RunOutput r;
  r.out = slurp(out);
  r.err = slurp(err);
  r.status = status;
  return r;
}

RunOutput run_binary(const std::string& args, unsigned timeout_s) {
  const std::string limit = timeout_s != 0 ? "timeout " + std::to_string(timeout_s) + " " : "";
  const std::string command = limit + SPACESC_BINARY + " " + args + " >spacesc.out 2>spacesc.err";
  const int raw = std::system(command.c_str());
  RunOutput r;
  r.out = read_file("spacesc.out");
  r.err = read_file("spacesc.err");
  std::remove("spacesc.out");
  std::remove("spacesc.err");
  r.status = static_cast<ExitStatus>(WIFEXITED(raw) ? WEXITSTATUS(raw) : 128);
  return r;
}

}  // namespace spacesc::test
