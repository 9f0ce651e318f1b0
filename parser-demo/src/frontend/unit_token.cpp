// ---------------------------------------------------------------------------
// unit_token.cpp: making UnitTokens.
// ---------------------------------------------------------------------------
#include "unit_token.hpp"

#include <algorithm>

namespace spacesc::frontend {

// The text argument is ignored: the text stays in the source.
std::unique_ptr<antlr4::CommonToken> UnitTokenFactory::create(
    std::pair<antlr4::TokenSource*, antlr4::CharStream*> source, std::size_t type, const std::string&,
    std::size_t channel, std::size_t start, std::size_t stop, std::size_t line, std::size_t column) {
  auto t = std::unique_ptr<antlr4::CommonToken>(new UnitToken(source, type, channel, start, stop));
  peak_ = std::max(peak_, ++made_);
  t->setLine(line);
  t->setCharPositionInLine(column);
  return t;
}

std::unique_ptr<antlr4::CommonToken> UnitTokenFactory::create(std::size_t type, const std::string& text) {
  peak_ = std::max(peak_, ++made_);
  return std::unique_ptr<antlr4::CommonToken>(new UnitToken(type, text));
}

}  // namespace spacesc::frontend
