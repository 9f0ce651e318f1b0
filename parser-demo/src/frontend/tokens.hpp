// ---------------------------------------------------------------------------
// tokens.hpp: reading a token's position and text, and a rule's tokens.
//
// A token's text is never copied out of the source (unit_token.hpp): it is
// read through the token's start and stop indices. With no parse tree
// built, a rule context's children are only the terminal nodes that
// UnitToyParser::consume adds, so its tokens are found with a static cast
// instead of the generated accessors (c->IDENT()), which pay two
// dynamic_casts per child. These run for every token, so they are inline.
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_TOKENS_HPP
#define SPACESC_FRONTEND_TOKENS_HPP

#include <spacesc/source.hpp>

#include <antlr4-runtime.h>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace spacesc::frontend {

/// Where `t` starts: ANTLR's 1-based line and 0-based column, as a
/// SourceLoc (both 1-based), clamped to 32 bits.
inline SourceLoc loc_of(const antlr4::Token* t) noexcept {
  const auto clamp = [](std::size_t v) {
    return static_cast<std::uint32_t>(std::min<std::size_t>(v, std::numeric_limits<std::uint32_t>::max()));
  };
  return SourceLoc{clamp(t->getLine()), clamp(t->getCharPositionInLine() + 1)};
}

/// The bytes of `t` in `file`; empty for EOF.
inline std::string_view text_of(const SourceFile& file, const antlr4::Token* t) noexcept {
  const std::size_t start = t->getStartIndex();
  const std::size_t stop = t->getStopIndex();
  if (t->getType() == antlr4::Token::EOF || start > stop || stop >= file.text.size()) return {};
  return file.text.substr(start, stop - start + 1);
}

/// The token of child `child` of a rule context: always a terminal node
/// (see the file comment).
inline const antlr4::Token* child_token(antlr4::tree::ParseTree* child) {
  assert(dynamic_cast<antlr4::tree::TerminalNode*>(child) != nullptr);
  return static_cast<antlr4::tree::TerminalNode*>(child)->getSymbol();
}

/// The `i`-th token of type `type` directly under `c`, or nullptr.
inline const antlr4::Token* token(antlr4::ParserRuleContext* c, std::size_t type, std::size_t i = 0) {
  for (antlr4::tree::ParseTree* child : c->children) {
    const antlr4::Token* t = child_token(child);
    if (t->getType() == type && i-- == 0) return t;
  }
  return nullptr;
}

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_TOKENS_HPP
