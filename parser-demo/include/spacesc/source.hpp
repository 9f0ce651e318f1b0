// ---------------------------------------------------------------------------
// source.hpp: source locations and the bytes of one translation unit.
//
// A location is a 1-based line and column where every byte counts as one
// column (docs/toy-language.md §2.1). Locations are 8 bytes and carry no file: a
// unit has one file, so the file name lives once in SourceFile. The bytes
// are not owned here: the driver reads them into the unit's heap so that
// --mem-cap counts them.
// ---------------------------------------------------------------------------
#ifndef SPACESC_SOURCE_HPP
#define SPACESC_SOURCE_HPP

#include <compare>
#include <cstdint>
#include <string_view>

namespace spacesc {

/// A position in a source file: 1-based line and byte column.
struct SourceLoc {
  std::uint32_t line = 0;
  std::uint32_t col = 0;

  friend constexpr auto operator<=>(SourceLoc, SourceLoc) = default;
};
static_assert(sizeof(SourceLoc) == 8, "every AST node carries one");

/// The text of one translation unit and the name it is reported under.
struct SourceFile {
  std::string_view name;  ///< the path as given on the command line
  std::string_view text;  ///< every byte of the file
};

}  // namespace spacesc

#endif  // SPACESC_SOURCE_HPP
