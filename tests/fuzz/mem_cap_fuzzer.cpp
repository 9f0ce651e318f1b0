// ---------------------------------------------------------------------------
// mem_cap_fuzzer.cpp: libFuzzer target for spacesc's --mem-cap value, parsed
// as parser-demo/tools/spacesc.cpp configures CLI11 (a std::size_t option
// with CLI::AsSizeValue(false)), without the rest of spacesc (no ANTLR).
//
// The input is the text after "--mem-cap=". The result (a cap, or a usage
// error) is compared with the size grammar spaces_option_set_str documents
// (digits, then K/M/G/T, optionally "i", optionally "B", any case, powers of
// 1024; beyond SIZE_MAX is invalid). CLI11 2.1 differs from that grammar in
// known ways (it reads the number with strtoull base 0): each difference is
// put in a named class, the first example of each is printed, and a count
// of all is printed at exit. A difference no class explains, or any
// exception other than CLI::ParseError, aborts. With
// SPACES_FUZZ_MEM_CAP_STRICT=1 in the environment every difference aborts
// (for when spacesc validates the value itself).
// ---------------------------------------------------------------------------
#include <CLI/CLI.hpp>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_text.hpp"

namespace {

using spaces_fuzz::show;

struct Reference {
  bool ok;
  std::uint64_t value;
};

/// The documented size grammar, up to SIZE_MAX.
Reference reference(const std::string& s) {
  std::size_t i = 0;
  std::uint64_t v = 0;
  bool overflow = false;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    const unsigned d = static_cast<unsigned>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) overflow = true;
    else v = v * 10 + d;
  }
  if (i == 0 || overflow) return {false, 0};
  std::string unit;
  for (std::size_t k = i; k < s.size(); ++k)
    unit += static_cast<char>(s[k] >= 'A' && s[k] <= 'Z' ? s[k] - 'A' + 'a' : s[k]);
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  const char* const kPrefixes = "kmgt";
  for (int p = 0; p < 4; ++p) {
    const std::string c(1, kPrefixes[p]);
    if (unit == c || unit == c + "b" || unit == c + "i" || unit == c + "ib") scale = std::uint64_t{1} << (10 * (p + 1));
  }
  if (scale == 0 || v > UINT64_MAX / scale) return {false, 0};
  return {true, v * scale};
}

/// Parses --mem-cap=text as spacesc does; true with the cap, or false.
bool spacesc_mem_cap(const std::string& text, std::size_t* cap) {
  CLI::App app{"spacesc", "spacesc"};
  std::vector<std::string> files;
  std::size_t mem_cap = SIZE_MAX;
  app.add_option("FILE", files, "Toy source files")->required();
  app.add_option("--mem-cap", mem_cap, "Cap on each unit's memory")
      ->transform(CLI::AsSizeValue(false))
      ->option_text("SIZE");
  std::vector<std::string> args = {"unit.toy", "--mem-cap=" + text};  // CLI::App::parse takes them reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError&) {
    return false;
  }
  *cap = mem_cap;
  return true;
}

// ---- Known differences -------------------------------------------------------

enum Diff : unsigned {
  kSign = 1,        // "+5", "-1": strtoull takes a sign; "-1" wraps to 2^64 - 1
  kRadix = 2,       // "0x10" is 16, "010" is 8, "08" is refused
  kSpace = 4,       // blanks before, after or inside the text are trimmed or skipped
  kSaturate = 8,    // a number beyond 2^64 - 1 becomes 2^64 - 1 (strtoull's ERANGE is not checked)
  kBigUnits = 16,   // P and E units (PiB, EiB) are accepted
  kUnitOnly = 32,   // a unit alone ("k", "MiB") means one of it
  kDiffCount = 6,
};

const char* const kDiffNames[kDiffCount] = {"sign", "radix", "blank", "saturation", "P/E units", "unit alone"};

/// The features of `text` that explain a CLI11 result other than the reference's.
unsigned features(const std::string& text) {
  unsigned f = 0;
  std::size_t i = 0;
  for (char c : text)
    if (std::isspace(static_cast<unsigned char>(c)) != 0) f |= kSpace;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) ++i;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    f |= kSign;
    ++i;
  }
  const std::size_t n = text.size();
  const std::size_t begin = i;
  if (i + 1 < n && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
    f |= kRadix;
    for (i += 2; i < n && std::isxdigit(static_cast<unsigned char>(text[i])) != 0;) ++i;
  } else {
    while (i < n && std::isdigit(static_cast<unsigned char>(text[i])) != 0) ++i;
  }
  const std::string number = text.substr(begin, i - begin);
  if (number.size() >= 2 && number[0] == '0') f |= kRadix;
  if (number.size() >= 20) f |= kSaturate;
  std::string unit;
  for (std::size_t k = i; k < text.size(); ++k)
    if (std::isalpha(static_cast<unsigned char>(text[k])) != 0)
      unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[k])));
  if (!unit.empty() && (unit[0] == 'p' || unit[0] == 'e')) f |= kBigUnits;
  if (number.empty() && !unit.empty()) f |= kUnitOnly;
  return f;
}

unsigned long g_counts[kDiffCount];
unsigned long g_runs;

void report() {
  std::fprintf(stderr, "mem_cap_fuzzer: %lu inputs; CLI11 differed from the documented grammar in:", g_runs);
  for (unsigned i = 0; i < kDiffCount; ++i) std::fprintf(stderr, " %s %lu;", kDiffNames[i], g_counts[i]);
  std::fputc('\n', stderr);
}

std::string outcome(bool ok, std::uint64_t v) { return ok ? std::to_string(v) : std::string("usage error"); }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit(report);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256) return 0;
  std::string text;
  for (std::size_t i = 0; i < size; ++i)
    if (data[i] != 0) text += static_cast<char>(data[i]);  // argv strings hold no NUL
  ++g_runs;
  const Reference want = reference(text);
  std::size_t cap = 0;
  bool ok = false;
  try {
    ok = spacesc_mem_cap(text, &cap);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mem_cap_fuzzer: --mem-cap=%s threw %s (not a CLI::ParseError)\n", show(text).c_str(),
                 e.what());
    std::abort();
  }
  if (ok == want.ok && (!ok || cap == want.value)) return 0;
  const unsigned f = features(text);
  const std::string what = "--mem-cap=" + show(text) + ": spacesc gives " + outcome(ok, cap) +
                           ", the documented grammar " + outcome(want.ok, want.value);
  const char* strict = std::getenv("SPACES_FUZZ_MEM_CAP_STRICT");
  if (f == 0 || (strict != nullptr && std::string(strict) == "1")) {
    std::fprintf(stderr, "mem_cap_fuzzer: unexplained difference: %s\n", what.c_str());
    std::abort();
  }
  for (unsigned i = 0; i < kDiffCount; ++i) {
    if ((f & (1u << i)) == 0) continue;
    if (g_counts[i]++ == 0) std::fprintf(stderr, "mem_cap_fuzzer: known difference (%s): %s\n", kDiffNames[i], what.c_str());
  }
  return 0;
}
