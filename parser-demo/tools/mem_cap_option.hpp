// ---------------------------------------------------------------------------
// mem_cap_option.hpp: spacesc's --mem-cap option, its value's grammar and
// the messages for a value that is not a cap.
//
// A size is decimal digits, then optionally K, M, G or T (powers of 1024),
// an `i` after one of them and a `B`, in any case (256M, 64KiB, 1gb, 4096):
// the grammar of spaces_option_set_str. Everything else is a usage error,
// named with the value: CLI11's AsSizeValue, used before, read the number
// with strtoull, so "-1" wrapped and 2^64 became 2^64 - 1 (both "no cap"),
// and "0x10" was 16. Zero is refused too: it would fail every unit.
// Header-only, so that tests/fuzz/mem_cap_fuzzer.cpp checks this code
// without linking spacesc's front end.
// ---------------------------------------------------------------------------
#ifndef SPACESC_TOOLS_MEM_CAP_OPTION_HPP
#define SPACESC_TOOLS_MEM_CAP_OPTION_HPP

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace spacesc {

/// What a --mem-cap value means: a cap in bytes, or why it is none.
struct MemCap {
  std::size_t bytes = 0;
  std::string error;  ///< empty when `bytes` is the cap
};

/// Parses a --mem-cap value (the grammar above); the error names the value.
inline MemCap parse_mem_cap(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const MemCap not_a_size{0, quoted + " is not a size (bytes, or a number with K, M, G or T: 256M)"};
  const MemCap too_large{0, quoted + " is too large (at most " + std::to_string(SIZE_MAX) + " bytes)"};
  std::size_t i = 0, value = 0;
  bool overflow = false;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const auto digit = static_cast<std::size_t>(text[i] - '0');
    overflow = overflow || value > (SIZE_MAX - digit) / 10;
    value = value * 10 + digit;
  }
  if (i == 0) return not_a_size;
  const auto lower = [&](std::size_t k) { return k < text.size() ? static_cast<char>(text[k] | 0x20) : '\0'; };
  std::size_t scale = 1;
  if (const std::size_t p = std::string_view("kmgt").find(lower(i)); p != std::string_view::npos) {
    scale = std::size_t{1} << (10 * (p + 1));
    if (lower(++i) == 'i') ++i;
  }
  if (lower(i) == 'b') ++i;
  if (i != text.size()) return not_a_size;
  if (overflow || value > SIZE_MAX / scale) return too_large;
  if (value == 0) return MemCap{0, "a cap must be at least 1 byte, not " + quoted};
  return MemCap{value * scale, {}};
}

/// Declares --mem-cap on `app`, storing the cap in `cap`. A bad value is a
/// CLI::ValidationError: `--mem-cap: '-5' is not a size (...)`.
inline CLI::Option* add_mem_cap_option(CLI::App& app, std::size_t& cap) {
  const CLI::Validator as_cap(
      [](std::string& value) {
        const MemCap c = parse_mem_cap(value);
        if (c.error.empty()) value = std::to_string(c.bytes);
        return c.error;
      },
      "", "size");
  return app
      .add_option("--mem-cap", cap, "Cap on each unit's memory: bytes, or with a K/M/G/T suffix (256M); default: no cap")
      ->transform(as_cap)
      ->option_text("SIZE");
}

}  // namespace spacesc

#endif  // SPACESC_TOOLS_MEM_CAP_OPTION_HPP
