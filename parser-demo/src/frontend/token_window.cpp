// ---------------------------------------------------------------------------
// token_window.cpp: fetching, checking and dropping the tokens of an item.
// ---------------------------------------------------------------------------
#include "token_window.hpp"

#include "tokens.hpp"

#include <spacesc/ast_builder.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace spacesc::frontend {

using antlr4::Token;
using toy::ToyLexer;

// ---- Checking tokens ------------------------------------------------------------

namespace {

/// The lexer's next token, or EOF once an error past the limit is recorded.
std::unique_ptr<Token> next_token(UnitToyLexer& lexer, const DiagEngine& diags) {
  return diags.past_limit() ? lexer.make_eof() : lexer.nextToken();
}

/// Reports lexical errors (docs/toy-language.md §2.4, §2.5); false drops
/// the token.
bool accept(ParseState& state, const Token* t) {
  if (t->getType() == ToyLexer::BAD) {
    const auto byte = static_cast<unsigned char>(text_of(state.file, t).front());
    char buf[64];
    if (byte >= 0x21 && byte < 0x7f)
      std::snprintf(buf, sizeof buf, "unexpected character '%c'", byte);
    else
      std::snprintf(buf, sizeof buf, "unexpected byte 0x%02X", byte);
    state.diags.error(loc_of(t), buf);
    return false;
  }
  if (t->getType() == ToyLexer::NUMBER) {
    const std::string_view text = text_of(state.file, t);
    if (std::count(text.begin(), text.end(), '.') > 1)
      state.diags.error(loc_of(t), "malformed number '" + std::string(text.substr(0, 40)) + "'");
    else if (text.size() > 300 && std::isinf(std::strtod(std::string(text).c_str(), nullptr)))
      state.diags.error(loc_of(t), "number too large");
  }
  return true;
}

/// Tracks the bracket depth `depth` across a consumed token; past
/// kMaxNesting, reports the bracket and abandons the unit.
void count_bracket(ParseState& state, std::uint32_t& depth, const Token* t) {
  switch (t->getType()) {
    case ToyLexer::LPAREN:
    case ToyLexer::LBRACK:
    case ToyLexer::LBRACE:
      if (++depth > kMaxNesting) {
        state.diags.error(loc_of(t), "brackets nested deeper than " + std::to_string(kMaxNesting) +
                                         " levels; the parser stops here");
        throw NestingAbandon{};
      }
      break;
    case ToyLexer::RPAREN:
    case ToyLexer::RBRACK:
    case ToyLexer::RBRACE:
      if (depth > 0) --depth;
      break;
    default:
      break;
  }
}

}  // namespace

// ---- The TokenStream interface ----------------------------------------------

Token* TokenWindow::LT(ssize_t k) {
  if (k == 0) return nullptr;
  if (k < 0) {
    const ssize_t i = static_cast<ssize_t>(p_) + k;
    return i < 0 ? nullptr : buf_[static_cast<std::size_t>(i)].get();
  }
  const std::size_t i = p_ + static_cast<std::size_t>(k) - 1;
  fill(i + 1);
  return i < buf_.size() ? buf_[i].get() : buf_.back().get();
}

std::size_t TokenWindow::LA(ssize_t i) {
  const Token* t = LT(i);
  return t == nullptr ? 0 : t->getType();
}

void TokenWindow::consume() {
  if (state_.pending) std::rethrow_exception(state_.pending);
  fill(p_ + 1);
  const Token* t = buf_[p_].get();
  if (t->getType() == Token::EOF) throw antlr4::IllegalStateException("cannot consume EOF");
  count_bracket(state_, depth_, t);
  ++p_;
}

void TokenWindow::seek(std::size_t index) {
  const std::size_t i = index < base_ ? 0 : index - base_;
  fill(i + 1);
  p_ = std::min(i, buf_.size() - 1);
}

std::string TokenWindow::getText(Token* start, Token* stop) {
  if (start == nullptr || stop == nullptr) return {};
  const std::size_t a = start->getStartIndex(), b = stop->getStopIndex();
  if (a > b || b >= state_.file.text.size()) return {};
  return std::string(state_.file.text.substr(a, b - a + 1));
}

// ---- Fetching -------------------------------------------------------------------

/// Fetches tokens until the window holds `n` (or ends at EOF).
void TokenWindow::fill(std::size_t n) {
  while (buf_.size() < n) {
    if (!buf_.empty() && buf_.back()->getType() == Token::EOF) return;
    std::unique_ptr<Token> t = next_token(lexer_, state_.diags);
    if (!accept(state_, t.get())) continue;
    static_cast<UnitToken*>(t.get())->set_token_index(base_ + buf_.size());
    buf_.push_back(std::move(t));
    ++fetched_;
  }
}

// ---- Dropping -------------------------------------------------------------------

void TokenWindow::drop_item(spaces::TrivialArena* arena) {
  if (markers_ != 0) return;
  alive_peak_ = std::max(alive_peak_, buf_.size());
  if (arena == nullptr || factory_.made() * sizeof(UnitToken) < kTokenRegionReset) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(p_));
    base_ += p_;
    p_ = 0;
    return;
  }
  remake_lookahead(arena);
}

/// Resets the token region and re-makes the lookahead tokens in it.
void TokenWindow::remake_lookahead(spaces::TrivialArena* arena) {
  saved_.clear();
  for (std::size_t i = p_; i < buf_.size(); ++i) {
    const Token* t = buf_[i].get();
    saved_.push_back(Saved{t->getType(), t->getStartIndex(), t->getStopIndex(), t->getLine(),
                           t->getCharPositionInLine(), t->getTokenIndex()});
  }
  base_ += p_;
  p_ = 0;
  buf_.clear();
  arena->reset();
  factory_.reset_count();
  for (const Saved& s : saved_) {
    auto t = factory_.make(s.type, s.start, s.stop, s.line, s.column);
    static_cast<UnitToken*>(t.get())->set_token_index(s.index);
    buf_.push_back(std::move(t));
  }
}

}  // namespace spacesc::frontend
