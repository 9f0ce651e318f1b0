// ---------------------------------------------------------------------------
// override/override.h: what malloc.cpp and new.cpp share.
//
// The override is part of the library, not a client of spaces.h: it compiles
// the inline fast paths of alloc.h and free.h straight into malloc and operator new
// (docs/design.md explains this exception to the layering).
// ---------------------------------------------------------------------------
#ifndef SPACES_OVERRIDE_OVERRIDE_H
#define SPACES_OVERRIDE_OVERRIDE_H

#include "../internal/alloc.h"
#include "../internal/free.h"

#define SPACES_EXPORT __attribute__((visibility("default")))

namespace spaces::detail {

/// malloc's slow path: the first allocation of a thread, large blocks,
/// alignments above 16, and failures. nullptr with errno set.
void* override_alloc(std::size_t size, std::size_t align) noexcept;

/// The small-block fast path on the calling thread's default shard.
SPACES_ALWAYS_INLINE void* override_malloc(std::size_t size) noexcept {
  Shard* sh = tls_ctx.default_shard;
  if (SPACES_LIKELY(sh != nullptr && size <= kMaxDirectSize)) return alloc_direct(sh, size);
  return override_alloc(size, kMinAlign);
}

}  // namespace spaces::detail

#endif  // SPACES_OVERRIDE_OVERRIDE_H
