// ---------------------------------------------------------------------------
// unit_token.hpp: the lexer's tokens and the factory that makes them.
//
// ANTLR's CommonTokenFactory copies each token's text into the token, and
// every token is a separate global-heap block of 112 bytes. A UnitToken
// copies no text (tokens.hpp:text_of reads it from the source), is 40 bytes
// and is bumped into the unit's token region (--alloc=arena), so --mem-cap
// counts tokens; TokenWindow (token_window.hpp) resets that region between
// items. With --alloc=new, tokens come from the global heap. The lexer makes
// them through UnitToyLexer::emit (unit_toy_lexer.hpp).
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_UNIT_TOKEN_HPP
#define SPACESC_FRONTEND_UNIT_TOKEN_HPP

#include <spaces/spaces.hpp>

#include <antlr4-runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace spacesc::frontend {

namespace detail {

/// The calling thread's token region, set by TokenArenaScope; nullptr means
/// the global heap.
inline constinit thread_local spaces::TrivialArena* tls_token_arena = nullptr;

}  // namespace detail

/// Token bytes the region may hand out before TokenWindow resets it.
inline constexpr std::size_t kTokenRegionReset = 256 * 1024;

/// A token as the Toy parser needs it: its type, where it starts and stops
/// in the source, its line and column, its index in the token stream. Its
/// text stays in the source (tokens.hpp:text_of). ANTLR's CommonToken also
/// holds a std::string, the source pair and the channel: 112 bytes against
/// these 40, which count twice per element of a literal.
///
/// The memory comes from the calling thread's token region (TokenArenaScope),
/// or from the global heap when none is installed. Deleting one runs its
/// destructor and returns nothing to the region: TokenWindow resets the
/// region instead.
class UnitToken final : public antlr4::Token {
 public:
  /// `type` may be Token::EOF; `stop` is `start - 1` for an empty token.
  /// Lines, columns and indices beyond 32 bits saturate (loc_of clamps them
  /// there anyway).
  UnitToken(std::size_t type, std::size_t start, std::size_t stop, std::size_t line, std::size_t column) noexcept
      : start_(start), stop_(stop), type_(type == EOF ? kEof : narrow(type)), line_(narrow(line)),
        column_(narrow(column)) {}

  std::size_t getType() const override { return type_ == kEof ? EOF : type_; }
  std::size_t getLine() const override { return line_; }
  std::size_t getCharPositionInLine() const override { return column_; }
  std::size_t getChannel() const override { return DEFAULT_CHANNEL; }  // the grammar skips the rest
  std::size_t getTokenIndex() const override { return index_; }
  std::size_t getStartIndex() const override { return start_; }
  std::size_t getStopIndex() const override { return stop_; }
  /// Nothing of ANTLR's that spacesc runs asks a token for its source: the
  /// error strategy reports through the unit's DiagEngine.
  antlr4::TokenSource* getTokenSource() const override { return nullptr; }
  antlr4::CharStream* getInputStream() const override { return nullptr; }
  /// The text is in the source; this token does not know the source.
  std::string getText() const override { return {}; }
  std::string toString() const override;

  void set_token_index(std::size_t index) noexcept { index_ = narrow(index); }

  static void* operator new(std::size_t n) {
    if (detail::tls_token_arena != nullptr) return detail::tls_token_arena->allocate(n, alignof(UnitToken));
    return ::operator new(n);
  }
  static void operator delete(void* p) noexcept {
    if (detail::tls_token_arena == nullptr) ::operator delete(p);
  }

 private:
  static constexpr std::uint32_t kEof = UINT32_MAX;
  static std::uint32_t narrow(std::size_t v) noexcept {
    return static_cast<std::uint32_t>(std::min<std::size_t>(v, UINT32_MAX - 1));
  }

  std::size_t start_;
  std::size_t stop_;
  std::uint32_t type_;
  std::uint32_t line_;
  std::uint32_t column_;
  std::uint32_t index_ = 0;
};

/// Installs `arena` as the calling thread's token region for the scope's
/// lifetime (a thread-local, because operator new is static; each unit
/// parses on one thread). nullptr means the global heap.
class TokenArenaScope {
 public:
  explicit TokenArenaScope(spaces::TrivialArena* arena) noexcept : previous_(detail::tls_token_arena) {
    detail::tls_token_arena = arena;
  }
  ~TokenArenaScope() { detail::tls_token_arena = previous_; }
  TokenArenaScope(const TokenArenaScope&) = delete;
  TokenArenaScope& operator=(const TokenArenaScope&) = delete;

 private:
  spaces::TrivialArena* previous_;
};

/// Makes UnitTokens, and counts the tokens made since the token region's
/// last reset.
class UnitTokenFactory {
 public:
  std::unique_ptr<antlr4::Token> make(std::size_t type, std::size_t start, std::size_t stop, std::size_t line,
                                      std::size_t column) {
    std::unique_ptr<antlr4::Token> t(new UnitToken(type, start, stop, line, column));
    peak_ = std::max(peak_, ++made_);
    return t;
  }
  /// Tokens made since reset_count().
  std::size_t made() const noexcept { return made_; }
  /// The most tokens made between two resets.
  std::size_t peak() const noexcept { return peak_; }
  void reset_count() noexcept { made_ = 0; }

 private:
  std::size_t made_ = 0;
  std::size_t peak_ = 0;
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_UNIT_TOKEN_HPP
