// ---------------------------------------------------------------------------
// golden_test.cpp: every cases/<name>.<mode>.expected file is one test.
//
// The program is cases/<name>.toy, or parser-demo/examples/<name>.toy for
// the bundled examples; it is compiled from its own directory so that
// locations read `<name>.toy:LINE:COL`. Modes: out (run: stdout, status 0),
// ast and ir (--emit), err (run: stderr, nothing on stdout, status 1). The
// expected files were worked out by hand from the language definition,
// docs/toy-language.md.
// ---------------------------------------------------------------------------
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace spacesc {
namespace {

namespace fs = std::filesystem;

struct GoldenCase {
  std::string name;  // program name without .toy
  std::string mode;  // out, ast, ir or err
};

std::vector<GoldenCase> find_cases() {
  std::vector<GoldenCase> cases;
  for (const auto& entry : fs::directory_iterator(SPACESC_CASES_DIR)) {
    const std::string file = entry.path().filename().string();
    const std::string suffix = ".expected";
    if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string stem = file.substr(0, file.size() - suffix.size());  // name.mode
    const auto dot = stem.rfind('.');
    cases.push_back(GoldenCase{stem.substr(0, dot), stem.substr(dot + 1)});
  }
  std::sort(cases.begin(), cases.end(),
            [](const GoldenCase& a, const GoldenCase& b) { return a.name + a.mode < b.name + b.mode; });
  return cases;
}

std::string test_name(const testing::TestParamInfo<GoldenCase>& info) {
  std::string s;
  bool upper = true;
  for (char c : info.param.name + "_" + info.param.mode) {
    if (c == '_') {
      upper = true;
      continue;
    }
    s += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return s;
}

class GoldenTest : public testing::TestWithParam<GoldenCase> {};

// A bundled example or test case prints, dumps or reports exactly its expected file.
TEST_P(GoldenTest, MatchesExpectedFile) {
  const GoldenCase& c = GetParam();
  const std::string expected = test::read_file(std::string(SPACESC_CASES_DIR) + "/" + c.name + "." + c.mode + ".expected");
  fs::path dir = SPACESC_CASES_DIR;
  if (!fs::exists(dir / (c.name + ".toy"))) dir = SPACESC_EXAMPLES_DIR;
  ASSERT_TRUE(fs::exists(dir / (c.name + ".toy"))) << c.name;
  const fs::path previous = fs::current_path();
  fs::current_path(dir);
  Options options;
  options.emit = c.mode == "ast" ? Emit::Ast : c.mode == "ir" ? Emit::Ir : Emit::Run;
  const UnitResult r = run_unit(c.name + ".toy", options);
  fs::current_path(previous);
  if (c.mode == "err") {
    EXPECT_EQ(r.err, expected);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.status, ExitStatus::Errors);
  } else {
    EXPECT_EQ(r.out, expected);
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.status, ExitStatus::Ok);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, testing::ValuesIn(find_cases()), test_name);

// Both allocation modes produce the same bytes for every bundled example.
TEST(GoldenAllocTest, NewModeMatchesArenaModeOnEveryExample) {
  const fs::path previous = fs::current_path();
  fs::current_path(SPACESC_EXAMPLES_DIR);
  for (const auto& entry : fs::directory_iterator(".")) {
    if (entry.path().extension() != ".toy") continue;
    const std::string file = entry.path().filename().string();
    for (Emit emit : {Emit::Ast, Emit::Ir, Emit::Run}) {
      Options arena, plain;
      arena.emit = plain.emit = emit;
      plain.alloc = AllocMode::New;
      const UnitResult a = run_unit(file, arena);
      const UnitResult b = run_unit(file, plain);
      EXPECT_EQ(a.out, b.out) << file;
      EXPECT_EQ(a.status, b.status) << file;
    }
  }
  fs::current_path(previous);
}

}  // namespace
}  // namespace spacesc
