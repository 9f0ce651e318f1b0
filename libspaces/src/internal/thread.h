// ---------------------------------------------------------------------------
// internal/thread.h: the thread layer: the calling thread's shards, the
// default heap, thread exit and fork, and the generic continuations of the
// allocation and free fast paths (alloc.h, free.h). api.cpp and override/
// sit on top of it.
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_THREAD_H
#define SPACES_INTERNAL_THREAD_H

#include "heap.h"

namespace spaces::detail {

// ---- thread.cpp: shard lookup, the default heap, thread exit and fork ----------------

SPACES_NOINLINE Shard* shard_lookup_slow(Heap* h) noexcept;
/// The calling thread's shard of h: the embedded one for single-threaded
/// heaps, else a TLS cache probe. nullptr only when out of memory.
SPACES_ALWAYS_INLINE Shard* shard_of(Heap* h) noexcept {
  if (h->single) return &h->shard0;
  ThreadCtx::Entry& e = tls_ctx.cache[h->id % kShardCacheSize];
  if (SPACES_LIKELY(e.heap_id == h->id)) return e.shard;
  return shard_lookup_slow(h);
}
SPACES_NOINLINE Shard* default_shard_slow() noexcept;
/// The calling thread's shard of the default heap (malloc's fast path).
SPACES_ALWAYS_INLINE Shard* default_shard() noexcept {
  Shard* sh = tls_ctx.default_shard;
  if (SPACES_LIKELY(sh != nullptr)) return sh;
  return default_shard_slow();
}
/// The default heap (created on first use, capped by SPACES_DEFAULT_CAP).
Heap* default_heap() noexcept;
/// spaces_thread_set_heap on a checked heap (nullptr: the default heap).
spaces_status_t thread_route(Heap* h, Heap** previous) noexcept;
/// The thread-exit and fork hooks registered (once per process).
void threads_init() noexcept;

// ---- free.cpp: the generic continuation of the free fast path --------------------

/// Every free the fast path (free.h:free_block) did not take.
SPACES_NOINLINE void free_generic(SlabHeader* s, void* p, std::uintptr_t tag) noexcept;

// ---- alloc.cpp: allocation below the C API that is not the small fast path ----------

void* heap_alloc_generic(Heap* h, std::size_t size, std::size_t align) noexcept;
void* heap_realloc(Heap* h, void* p, std::size_t size, std::size_t align) noexcept;
std::size_t block_usable_size(const SlabHeader* s, const void* p) noexcept;

}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_THREAD_H
