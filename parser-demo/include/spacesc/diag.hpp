// ---------------------------------------------------------------------------
// diag.hpp: DiagEngine, the error sink of one translation unit.
//
// Every stage reports `error(loc, message)` and carries on; nothing throws
// across a stage. Errors are kept, not printed, because the first error a
// unit shows must be the first in the order of docs/toy-language.md §7.3 while
// the lexer runs ahead of the parser: the parser sorts its errors by
// position when it is done, and render() prints each with its source line
// and a caret, as clang does. The error limit keeps binary garbage from
// producing millions of lines.
// ---------------------------------------------------------------------------
#ifndef SPACESC_DIAG_HPP
#define SPACESC_DIAG_HPP

#include <spacesc/source.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace spacesc {

/// `'TEXT'` for a message that names a token or a name: TEXT cut to 32
/// bytes, then `...` (docs/toy-language.md §7.4), so that a megabyte
/// identifier makes a short message. The parser and sema both use it.
std::string quoted(std::string_view text);

/// Collects the errors of one translation unit. Owner thread only.
class DiagEngine {
 public:
  /// Errors shown at most. Producers stop at the first error past it, so
  /// that the note after the last one shown means an error was dropped.
  static constexpr std::size_t kErrorLimit = 100;

  explicit DiagEngine(const SourceFile& file) noexcept : file_(file) {}

  /// Records an error at `loc` (a valid location).
  void error(SourceLoc loc, std::string message);

  /// Number of errors recorded so far.
  std::size_t error_count() const noexcept { return diags_.size(); }
  bool has_errors() const noexcept { return !diags_.empty(); }
  /// Whether an error past the limit was recorded: producers should stop.
  bool past_limit() const noexcept { return diags_.size() > kErrorLimit; }

  /// Puts the errors reported so far in file order (stable). The parser
  /// calls it once done: its lexer runs ahead of it, but §7.3 wants lexical
  /// and syntax errors in file order. Later stages report in their own
  /// defined order (an argument before its callee, missing main last),
  /// which is not always position order, so they are never sorted.
  void sort_by_position();

  /// Appends every error in report order to `out`, each as
  /// `FILE:LINE:COL: error: MESSAGE`, the source line and a caret, then a
  /// note if the limit dropped any. O(file size + errors).
  void render(std::string& out);

 private:
  struct Diag {
    SourceLoc loc;
    std::string message;
  };
  const SourceFile& file_;
  std::vector<Diag> diags_;
};

}  // namespace spacesc

#endif  // SPACESC_DIAG_HPP
