// ---------------------------------------------------------------------------
// diag.cpp: sorting and rendering the errors of a unit.
//
// Rendering walks the file front to back alongside the errors, which are
// mostly in file order, so a 100 MB file with a hundred errors costs about
// one scan, not a hundred.
// ---------------------------------------------------------------------------
#include <spacesc/diag.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace spacesc {
namespace {

/// Where rendering is in the text: line `line` starts at byte `start`.
/// Errors come mostly in file order, so the cursor moves forward and the
/// whole render costs about one scan of the file.
struct LineCursor {
  std::string_view text;
  std::uint32_t line = 1;
  std::size_t start = 0;

  /// Moves to line `target`; false if the text has no such line (no error
  /// is reported past the end-of-file position, so this is defensive).
  bool seek(std::uint32_t target) {
    if (target < line) {  // report order went backwards: scan again from the start
      line = 1;
      start = 0;
    }
    while (line < target && start < text.size()) {
      const std::size_t nl = text.find('\n', start);
      if (nl == std::string_view::npos) {
        start = text.size();
        break;
      }
      start = nl + 1;
      ++line;
    }
    return line == target;
  }
};

/// Appends the line that starts at `line_start`, then a caret under column
/// `col`. Bytes other than tabs and printable ASCII show as spaces; the
/// caret line keeps the tabs, so the caret lines up whatever the tab width.
void quote(std::string_view text, std::size_t line_start, std::uint32_t col, std::string& out) {
  std::size_t line_end = text.find('\n', line_start);
  if (line_end == std::string_view::npos) line_end = text.size();
  // Long lines (minified or generated input) are cut around the caret.
  constexpr std::size_t kMaxShown = 160;
  std::size_t col0 = col - 1;
  std::size_t from = line_start;
  if (col0 > kMaxShown / 2) from = line_start + col0 - kMaxShown / 2;
  const std::size_t to = std::min(line_end, from + kMaxShown);
  std::string shown_line;
  for (std::size_t k = from; k < to; ++k) {
    const unsigned char c = static_cast<unsigned char>(text[k]);
    shown_line.push_back(c == '\t' || (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : ' ');
  }
  out.append(shown_line);
  out.push_back('\n');
  std::size_t caret = line_start + col0 - from;
  out.append(std::string(caret, ' '));
  for (std::size_t k = from; k < from + caret && k < to; ++k)
    if (text[k] == '\t') out[out.size() - caret + (k - from)] = '\t';
  out.append("^\n");
}

}  // namespace

std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxQuoted = 32;
  std::string s = "'";
  s.append(text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) s.append("...");
  return s + "'";
}

void DiagEngine::error(SourceLoc loc, std::string message) {
  diags_.push_back(Diag{loc, std::move(message)});
}

void DiagEngine::sort_by_position() {
  std::stable_sort(diags_.begin(), diags_.end(), [](const Diag& a, const Diag& b) { return a.loc < b.loc; });
}

void DiagEngine::render(std::string& out) {
  LineCursor cursor{file_.text};
  const std::size_t shown = std::min(diags_.size(), kErrorLimit);
  for (std::size_t i = 0; i < shown; ++i) {
    const Diag& d = diags_[i];
    out.append(file_.name);
    out.append(":" + std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": error: ");
    out.append(d.message);
    out.push_back('\n');
    if (cursor.seek(d.loc.line)) quote(file_.text, cursor.start, d.loc.col, out);
  }
  if (diags_.size() > kErrorLimit) out.append(file_.name).append(": note: too many errors; stopped\n");
}

}  // namespace spacesc
