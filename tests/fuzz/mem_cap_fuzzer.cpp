// ---------------------------------------------------------------------------
// mem_cap_fuzzer.cpp: libFuzzer target for spacesc's --mem-cap value, parsed
// by parser-demo/tools/mem_cap_option.hpp through CLI11 as spacesc declares
// it, without the rest of spacesc (no ANTLR).
//
// The input is the text after "--mem-cap=". The result (a cap, or a usage
// error) must be the one of the size grammar spaces_option_set_str
// documents (digits, then K/M/G/T, optionally "i", optionally "B", any
// case, powers of 1024; beyond SIZE_MAX is invalid), with zero refused (a
// cap of 0 bytes would fail every unit). Any difference aborts, and so does
// any exception other than CLI::ParseError. (Until spacesc parsed the value
// itself, CLI11's AsSizeValue took signs, radix prefixes, blanks, P and E
// units and saturated overflow; the corpus keeps an example of each.)
// ---------------------------------------------------------------------------
#include "mem_cap_option.hpp"

#include <CLI/CLI.hpp>

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

/// The documented size grammar, from 1 byte up to SIZE_MAX.
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
  if (scale == 0 || v == 0 || v > UINT64_MAX / scale) return {false, 0};
  return {true, v * scale};
}

/// Parses --mem-cap=text as spacesc does; true with the cap, or false.
bool spacesc_mem_cap(const std::string& text, std::size_t* cap) {
  CLI::App app{"spacesc", "spacesc"};
  std::vector<std::string> files;
  std::size_t mem_cap = SIZE_MAX;
  app.add_option("FILE", files, "Toy source files")->required();
  spacesc::add_mem_cap_option(app, mem_cap);
  std::vector<std::string> args = {"unit.toy", "--mem-cap=" + text};  // CLI::App::parse takes them reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError&) {
    return false;
  }
  *cap = mem_cap;
  return true;
}

std::string outcome(bool ok, std::uint64_t v) { return ok ? std::to_string(v) : std::string("usage error"); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256) return 0;
  std::string text;
  for (std::size_t i = 0; i < size; ++i)
    if (data[i] != 0) text += static_cast<char>(data[i]);  // argv strings hold no NUL
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
  std::fprintf(stderr, "mem_cap_fuzzer: --mem-cap=%s: spacesc gives %s, the documented grammar %s\n",
               show(text).c_str(), outcome(ok, cap).c_str(), outcome(want.ok, want.value).c_str());
  std::abort();
}
