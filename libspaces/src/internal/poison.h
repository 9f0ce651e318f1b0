// ---------------------------------------------------------------------------
// poison.h: AddressSanitizer annotations of block and slab memory.
//
// In an ASan build, memory the user may not touch is poisoned: the slack of a
// block beyond the requested size, free blocks, uncarved slab space, and
// every run of a destroyed or reset heap. Elsewhere these are empty inline
// functions. The allocator's own accesses to poisoned memory (free-list
// links) happen in SPACES_NO_SANITIZE_ADDRESS functions.
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_POISON_H
#define SPACES_INTERNAL_POISON_H

#include <cstddef>

#include "config.h"

#if SPACES_ASAN_ENABLED
#include <sanitizer/asan_interface.h>
#endif

namespace spaces::detail {

#if SPACES_ASAN_ENABLED
inline void poison(const void* p, std::size_t n) noexcept { __asan_poison_memory_region(p, n); }
inline void unpoison(const void* p, std::size_t n) noexcept { __asan_unpoison_memory_region(p, n); }
#else
inline void poison(const void*, std::size_t) noexcept {}
inline void unpoison(const void*, std::size_t) noexcept {}
#endif

/// A block of `usable` bytes handed out for a request of `size`.
inline void poison_alloc(const void* b, std::size_t size, std::size_t usable) noexcept {
  if constexpr (SPACES_ASAN_ENABLED) {
    poison(b, usable);
    unpoison(b, size);
  } else {
    (void)b, (void)size, (void)usable;
  }
}

}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_POISON_H
