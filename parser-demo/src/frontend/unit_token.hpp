// ---------------------------------------------------------------------------
// unit_token.hpp: the lexer's tokens and the factory that makes them.
//
// ANTLR's CommonTokenFactory copies each token's text into the token, and
// every token is a separate global-heap block of about 100 bytes. A
// UnitToken copies no text (tokens.hpp:text_of reads it from the source)
// and is bumped into the unit's token region (--alloc=arena), so --mem-cap
// counts tokens; TokenWindow (token_window.hpp) resets that region between
// items. With --alloc=new, tokens come from the global heap.
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_UNIT_TOKEN_HPP
#define SPACESC_FRONTEND_UNIT_TOKEN_HPP

#include <spaces/spaces.hpp>

#include <antlr4-runtime.h>

#include <cstddef>
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

/// A CommonToken whose memory comes from the calling thread's token region
/// (TokenArenaScope), or from the global heap when none is installed.
/// Deleting one runs its destructor and returns nothing to the region:
/// TokenWindow resets the region instead.
class UnitToken final : public antlr4::CommonToken {
 public:
  using CommonToken::CommonToken;

  static void* operator new(std::size_t n) {
    if (detail::tls_token_arena != nullptr) return detail::tls_token_arena->allocate(n, alignof(UnitToken));
    return ::operator new(n);
  }
  static void operator delete(void* p) noexcept {
    if (detail::tls_token_arena == nullptr) ::operator delete(p);
  }
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

/// Makes UnitTokens without copying their text, and counts the tokens made
/// since the token region's last reset.
class UnitTokenFactory final : public antlr4::TokenFactory<antlr4::CommonToken> {
 public:
  /// Tokens made since reset_count().
  std::size_t made() const noexcept { return made_; }
  /// The most tokens made between two resets.
  std::size_t peak() const noexcept { return peak_; }
  void reset_count() noexcept { made_ = 0; }

  std::unique_ptr<antlr4::CommonToken> create(std::pair<antlr4::TokenSource*, antlr4::CharStream*> source,
                                              std::size_t type, const std::string& text, std::size_t channel,
                                              std::size_t start, std::size_t stop, std::size_t line,
                                              std::size_t column) override;
  std::unique_ptr<antlr4::CommonToken> create(std::size_t type, const std::string& text) override;

 private:
  std::size_t made_ = 0;
  std::size_t peak_ = 0;
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_UNIT_TOKEN_HPP
