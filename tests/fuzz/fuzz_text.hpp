// Helpers shared by the fuzzers' failure messages.
#ifndef SPACES_TESTS_FUZZ_FUZZ_TEXT_HPP
#define SPACES_TESTS_FUZZ_FUZZ_TEXT_HPP

#include <cstdio>
#include <string>

namespace spaces_fuzz {

/// `s` quoted, with every byte that is not printable ASCII (and \ and ")
/// written as \xNN, so an input can be read off a failure message.
inline std::string show(const std::string& s) {
  std::string r;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '"') {
      r += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\x%02x", c);
      r += esc;
    }
  }
  return "\"" + r + "\"";
}

}  // namespace spaces_fuzz

#endif  // SPACES_TESTS_FUZZ_FUZZ_TEXT_HPP
