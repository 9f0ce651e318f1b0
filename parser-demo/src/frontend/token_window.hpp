// ---------------------------------------------------------------------------
// token_window.hpp: the parser's token stream, one item's tokens at a time.
//
// ANTLR's CommonTokenStream keeps every token of the file until the parser
// dies. TokenWindow pulls tokens from the lexer on demand and keeps only
// those of the current item (a definition or a statement): drop_item()
// frees the ones before the current token. ANTLR's marks and seeks stay
// inside one item. On the way it turns BAD tokens and malformed numbers
// into lexical errors (they never reach the parser) and enforces
// kMaxNesting as brackets are consumed.
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_TOKEN_WINDOW_HPP
#define SPACESC_FRONTEND_TOKEN_WINDOW_HPP

#include "parse_state.hpp"
#include "unit_token.hpp"
#include "unit_toy_lexer.hpp"

#include <spaces/spaces.hpp>

#include <antlr4-runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace spacesc::frontend {

/// The tokens of the current item, fetched from `lexer` as the parser asks
/// for them. Owner thread only.
class TokenWindow final : public antlr4::TokenStream {
 public:
  TokenWindow(UnitToyLexer& lexer, ParseState& state, UnitTokenFactory& factory)
      : lexer_(lexer), state_(state), factory_(factory) {}
  ~TokenWindow() override { release_all(); }

  antlr4::Token* LT(ssize_t k) override;
  std::size_t LA(ssize_t i) override;
  /// Moves past the current token, counting bracket depth; throws
  /// NestingAbandon past kMaxNesting, after reporting it.
  void consume() override;
  ssize_t mark() override {
    ++markers_;
    return -1;
  }
  void release(ssize_t) override { --markers_; }
  std::size_t index() override { return base_ + p_; }
  void seek(std::size_t index) override;
  std::size_t size() override { return base_ + buf_.size(); }
  antlr4::Token* get(std::size_t index) const override {
    return index >= base_ && index - base_ < buf_.size() ? buf_[index - base_].get() : nullptr;
  }
  antlr4::TokenSource* getTokenSource() const override { return &lexer_; }
  std::string getText(const antlr4::misc::Interval&) override { return {}; }
  std::string getText() override { return {}; }
  std::string getText(antlr4::RuleContext*) override { return {}; }
  std::string getText(antlr4::Token* start, antlr4::Token* stop) override;
  std::string getSourceName() const override { return std::string(state_.file.name); }

  /// Frees every token before the current one. Once the token region has
  /// handed out kTokenRegionReset bytes it is reset, and the lookahead
  /// tokens (usually none or one) are re-made in it: resetting after every
  /// item would cost a heap reset per statement. Call between items only,
  /// with no ANTLR mark held.
  void drop_item(spaces::TrivialArena* arena);

  /// Sets the bracket depth the next item starts at (0 at top level, 1 in
  /// a function body), so that an error's unbalanced brackets do not add up.
  void set_depth(std::uint32_t depth) noexcept { depth_ = depth; }
  /// The bracket depth after the tokens consumed so far.
  std::uint32_t depth() const noexcept { return depth_; }
  /// Tokens handed to the parser so far.
  std::size_t fetched() const noexcept { return fetched_; }
  /// The most tokens alive at once.
  std::size_t alive_peak() const noexcept { return std::max(alive_peak_, buf_.size()); }

  /// Frees every token (before the token region goes away).
  void release_all() noexcept { buf_.clear(); }

 private:
  /// What drop_item keeps of a lookahead token across a region reset.
  struct Saved {
    std::size_t type, start, stop, line, column, index;
  };

  void fill(std::size_t n);
  void remake_lookahead(spaces::TrivialArena* arena);

  UnitToyLexer& lexer_;
  ParseState& state_;
  UnitTokenFactory& factory_;
  std::vector<std::unique_ptr<antlr4::Token>> buf_;
  std::vector<Saved> saved_;
  std::size_t base_ = 0;  // absolute index of buf_[0]
  std::size_t p_ = 0;     // current token, relative to buf_
  std::size_t fetched_ = 0;
  std::size_t alive_peak_ = 0;
  int markers_ = 0;
  std::uint32_t depth_ = 0;
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_TOKEN_WINDOW_HPP
