// ---------------------------------------------------------------------------
// option_parser_fuzzer.cpp: libFuzzer target for the process options as text
// (spaces_option_set_str) and as numbers (spaces_option_set).
//
// The input is a name and a value (a known name with its letters' case
// flipped, or fuzzed bytes), then a number for spaces_option_set. Each call
// must return SPACES_OK, SPACES_E_INVALID or SPACES_E_RANGE as a reference
// parser written here from docs/tuning.md says, and spaces_option_get must
// then read the value the text means (or the old value after a refusal).
// The reference is independent of libspaces/src/options.cpp: its own table
// and grammar (sizes: digits, then K, M, G or T, powers of 1024, optionally
// followed by "i", then optionally "B", any case; a value that overflows a
// long long is invalid; keywords for booleans and decommit).
// ---------------------------------------------------------------------------
#include <spaces/spaces.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz_text.hpp"

namespace {

using spaces_fuzz::show;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "option_parser_fuzzer: %s\n", what.c_str());
  std::abort();
}

// ---- The reference (docs/tuning.md) ---------------------------------------------

enum class Kind { Bytes, Millis, Count, Bool, Decommit };

struct Row {
  const char* name;
  Kind kind;
  long long min;
  long long max;
};

constexpr long long kK = 1024, kM = kK * kK, kG = kM * kK, kT = kG * kK;

// Indexed by spaces_option_t, as spaces.h numbers them.
constexpr Row kRows[SPACES_OPTION_COUNT] = {
    {"slab_cache", Kind::Bytes, 0, 1024 * kT},
    {"decommit", Kind::Decommit, 0, 3},
    {"decommit_delay", Kind::Millis, 0, 1000000000LL},
    {"reserve_size", Kind::Bytes, 64 * kK, kT},
    {"huge_threshold", Kind::Bytes, 64 * kK, 1024 * kT},
    {"huge_pages", Kind::Bool, 0, 1},
    {"junk", Kind::Bool, 0, 1},
    {"stats_at_exit", Kind::Bool, 0, 1},
    {"default_cap", Kind::Bytes, 0, 1024 * kT},
    {"verbose", Kind::Bool, 0, 1},
    {"leak_report", Kind::Bool, 0, 1},
    {"leak_blocks", Kind::Count, 0, 64},
};

std::string lower(const std::string& s) {
  std::string r = s;
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

struct Parsed {
  bool ok;
  long long value;
};

/// Decimal digits only; false if empty or beyond LLONG_MAX.
Parsed parse_decimal(const std::string& s) {
  if (s.empty()) return {false, 0};
  unsigned long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return {false, 0};
    const unsigned d = static_cast<unsigned>(c - '0');
    if (v > (9223372036854775807ULL - d) / 10) return {false, 0};
    v = v * 10 + d;
  }
  return {true, static_cast<long long>(v)};
}

Parsed parse_bytes(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  const Parsed number = parse_decimal(s.substr(0, i));
  if (i == 0) return {false, 0};
  const std::string unit = lower(s.substr(i));
  long long scale = 0;
  for (const auto& [suffix, factor] : {std::pair<const char*, long long>{"", 1}, {"b", 1}, {"k", kK}, {"kb", kK},
                                       {"ki", kK}, {"kib", kK}, {"m", kM}, {"mb", kM}, {"mi", kM}, {"mib", kM},
                                       {"g", kG}, {"gb", kG}, {"gi", kG}, {"gib", kG}, {"t", kT}, {"tb", kT},
                                       {"ti", kT}, {"tib", kT}})
    if (unit == suffix) scale = factor;
  if (scale == 0 || !number.ok) return {false, 0};
  if (number.value > 9223372036854775807LL / scale) return {false, 0};
  return {true, number.value * scale};
}

Parsed parse_value(const Row& row, const std::string& text) {
  const std::string l = lower(text);
  switch (row.kind) {
    case Kind::Bytes:
      return parse_bytes(text);
    case Kind::Millis:
    case Kind::Count:
      return parse_decimal(text);
    case Kind::Bool:
      if (l == "true" || l == "yes" || l == "on") return {true, 1};
      if (l == "false" || l == "no" || l == "off") return {true, 0};
      return parse_decimal(text);
    case Kind::Decommit: {
      static const char* const kWords[] = {"keep", "free", "dontneed", "unmap"};
      for (int i = 0; i < 4; ++i)
        if (l == kWords[i]) return {true, i};
      return parse_decimal(text);
    }
  }
  return {false, 0};
}

/// What spaces_option_set_str(name, text) must return, and the value.
spaces_status_t reference(const std::string& name, const std::string& text, int* index, long long* value) {
  *index = -1;
  for (int i = 0; i < SPACES_OPTION_COUNT; ++i)
    if (lower(name) == kRows[i].name && name.size() == std::strlen(kRows[i].name)) *index = i;
  if (*index < 0) return SPACES_E_INVALID;
  const Row& row = kRows[*index];
  const Parsed p = parse_value(row, text);
  if (!p.ok) return SPACES_E_INVALID;
  *value = p.value;
  return p.value < row.min || p.value > row.max ? SPACES_E_RANGE : SPACES_OK;
}

// ---- The target -----------------------------------------------------------------

long long get(int i) {
  long long v = -1;
  if (spaces_option_get(static_cast<spaces_option_t>(i), &v) != SPACES_OK) fail("option_get refused a known option");
  return v;
}

long long g_defaults[SPACES_OPTION_COUNT];

void check_set_str(const std::string& name, const std::string& text) {
  long long before[SPACES_OPTION_COUNT];
  for (int i = 0; i < SPACES_OPTION_COUNT; ++i) before[i] = get(i);
  int index = -1;
  long long value = 0;
  const spaces_status_t want = reference(name, text, &index, &value);
  const spaces_status_t got = spaces_option_set_str(name.c_str(), text.c_str());
  if (got != want)
    fail("option_set_str(" + show(name) + ", " + show(text) + ") returned " + std::to_string(got) + " (" +
         spaces_status_str(got) + "), the reference says " + std::to_string(want) + " (" + spaces_status_str(want) +
         ")" + (want == SPACES_OK ? " with value " + std::to_string(value) : ""));
  for (int i = 0; i < SPACES_OPTION_COUNT; ++i) {
    const long long expect = i == index && want == SPACES_OK ? value : before[i];
    if (get(i) != expect)
      fail("after option_set_str(" + show(name) + ", " + show(text) + ") = " + std::to_string(got) + ", option " +
           kRows[i].name + " reads " + std::to_string(get(i)) + ", expected " + std::to_string(expect));
  }
}

void check_set_number(std::uint32_t raw_index, long long value) {
  long long before[SPACES_OPTION_COUNT];
  for (int i = 0; i < SPACES_OPTION_COUNT; ++i) before[i] = get(i);
  const auto o = static_cast<spaces_option_t>(raw_index);
  const bool known = raw_index < SPACES_OPTION_COUNT;
  const spaces_status_t want = !known ? SPACES_E_INVALID
                               : value < kRows[raw_index].min || value > kRows[raw_index].max ? SPACES_E_RANGE
                                                                                              : SPACES_OK;
  const spaces_status_t got = spaces_option_set(o, value);
  if (got != want)
    fail("option_set(" + std::to_string(raw_index) + ", " + std::to_string(value) + ") returned " +
         std::to_string(got) + ", expected " + std::to_string(want));
  long long out = 0;
  if ((spaces_option_get(o, &out) == SPACES_OK) != known) fail("option_get of option " + std::to_string(raw_index));
  if ((spaces_option_name(o) != nullptr) != known) fail("option_name of option " + std::to_string(raw_index));
  for (int i = 0; i < SPACES_OPTION_COUNT; ++i) {
    const long long expect = static_cast<std::uint32_t>(i) == raw_index && want == SPACES_OK ? value : before[i];
    if (get(i) != expect) fail("after option_set(" + std::to_string(raw_index) + ", " + std::to_string(value) + ")");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (int i = 0; i < SPACES_OPTION_COUNT; ++i) {
    g_defaults[i] = get(i);
    if (std::strcmp(spaces_option_name(static_cast<spaces_option_t>(i)), kRows[i].name) != 0)
      fail(std::string("option ") + std::to_string(i) + " is named " +
           spaces_option_name(static_cast<spaces_option_t>(i)) + ", tuning.md says " + kRows[i].name);
  }
  if (spaces_option_set_str(nullptr, "1") != SPACES_E_INVALID || spaces_option_set_str("junk", nullptr) != SPACES_E_INVALID)
    fail("option_set_str accepted NULL");
  return 0;
}

// Input: [mode] then either [option] [case bits] value..., or name '\n'
// value...; a value ends at the input's end or a '\n', then 12 bytes for
// spaces_option_set (4: option number modulo 16, 8: value).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t pos = 1;
  std::string name;
  if ((data[0] & 3) != 0 && size >= 3) {
    // A known name, its letters' case flipped by the bits of data[2].
    name = kRows[data[1] % SPACES_OPTION_COUNT].name;
    for (std::size_t i = 0; i < name.size(); ++i)
      if ((data[2] >> (i % 8) & 1) != 0 && name[i] >= 'a' && name[i] <= 'z') name[i] = static_cast<char>(name[i] - 32);
    pos = 3;
  } else {
    while (pos < size && data[pos] != '\n') name += static_cast<char>(data[pos++]);
    ++pos;
  }
  std::string value;
  while (pos < size && data[pos] != '\n') value += static_cast<char>(data[pos++]);
  ++pos;
  // C strings end at the first NUL: so does what the reference sees.
  name = name.substr(0, name.find('\0'));
  value = value.substr(0, value.find('\0'));
  check_set_str(name, value);
  if (pos + 12 <= size) {
    std::uint32_t index;
    std::int64_t v;
    std::memcpy(&index, data + pos, 4);
    std::memcpy(&v, data + pos + 4, 8);
    // 10..15 are unknown options; C++ may not load an enum beyond its
    // 4-bit range (tests/c_api passes any integer from C).
    check_set_number(index % 16, v);
  }
  for (int i = 0; i < SPACES_OPTION_COUNT; ++i) spaces_option_set(static_cast<spaces_option_t>(i), g_defaults[i]);
  return 0;
}
