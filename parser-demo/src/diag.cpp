// ---------------------------------------------------------------------------
// diag.cpp: sorting and rendering the errors of a unit.
//
// Rendering walks the file front to back alongside the errors, which are
// mostly in file order, so a 100 MB file with a hundred errors costs about
// one scan, not a hundred.
// ---------------------------------------------------------------------------
#include <spacesc/diag.hpp>

#include <algorithm>

namespace spacesc {

void DiagEngine::error(SourceLoc loc, std::string message) {
  diags_.push_back(Diag{loc, std::move(message)});
}

void DiagEngine::sort_by_position() {
  std::stable_sort(diags_.begin(), diags_.end(), [](const Diag& a, const Diag& b) { return a.loc < b.loc; });
}

void DiagEngine::render(std::string& out) {
  const std::string_view text = file_.text;
  std::size_t line_start = 0;  // offset of the first byte of line `line`
  std::uint32_t line = 1;
  const std::size_t shown = std::min(diags_.size(), kErrorLimit);
  for (std::size_t i = 0; i < shown; ++i) {
    const Diag& d = diags_[i];
    out.append(file_.name);
    out.append(":" + std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": error: ");
    out.append(d.message);
    out.push_back('\n');
    if (d.loc.line < line) {  // report order went backwards: scan again from the start
      line = 1;
      line_start = 0;
    }
    while (line < d.loc.line && line_start < text.size()) {
      const std::size_t nl = text.find('\n', line_start);
      if (nl == std::string_view::npos) {
        line_start = text.size();
        break;
      }
      line_start = nl + 1;
      ++line;
    }
    if (line != d.loc.line) continue;  // the end of file position after a final newline
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    // Long lines (minified or generated input) are cut around the caret.
    constexpr std::size_t kMaxShown = 160;
    std::size_t col0 = d.loc.col - 1;
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
  if (diags_.size() >= kErrorLimit) out.append(file_.name).append(": note: too many errors; stopped\n");
}

}  // namespace spacesc
