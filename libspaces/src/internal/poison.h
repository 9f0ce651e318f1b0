// ---------------------------------------------------------------------------
// poison.h: AddressSanitizer and Valgrind annotations of block memory.
//
// ASan build: memory the user may not touch is poisoned: the slack of a block
// beyond the requested size, free blocks, uncarved slab space, and every run
// of a destroyed or reset heap. The allocator's own accesses to poisoned
// memory (free-list links) happen in SPACES_NO_SANITIZE_ADDRESS functions.
//
// Valgrind build (SPACES_VALGRIND=1, the spaces_valgrind library): each heap
// is a memcheck mempool, each block a chunk of it, each region slab one chunk;
// destroying or resetting the heap frees every chunk, so memcheck reports a
// read after teardown, and leak checks see blocks, not slabs. Free-list links
// inside free (no-access) blocks are read and written through read_link and
// write_link, which open the link word for the access.
//
// Elsewhere every function here is an empty inline function.
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_POISON_H
#define SPACES_INTERNAL_POISON_H

#include <cstddef>

#include "config.h"

#if SPACES_ASAN_ENABLED
#include <sanitizer/asan_interface.h>
#endif

#ifndef SPACES_VALGRIND
#define SPACES_VALGRIND 0
#endif
#if SPACES_VALGRIND
#include <valgrind/memcheck.h>
#endif

namespace spaces::detail {

struct Block {
  Block* next;
};

// ---- Valgrind mempools ---------------------------------------------------------

#if SPACES_VALGRIND
inline void vg_pool_create(const void* heap) noexcept { VALGRIND_CREATE_MEMPOOL(heap, 0, 0); }
inline void vg_pool_destroy(const void* heap) noexcept { VALGRIND_DESTROY_MEMPOOL(heap); }
inline void vg_alloc(const void* heap, const void* p, std::size_t n) noexcept { VALGRIND_MEMPOOL_ALLOC(heap, p, n); }
inline void vg_free(const void* heap, const void* p) noexcept { VALGRIND_MEMPOOL_FREE(heap, p); }
inline void vg_resize(const void* heap, const void* p, std::size_t n) noexcept {
  VALGRIND_MEMPOOL_CHANGE(heap, p, p, n);
}
inline void vg_noaccess(const void* p, std::size_t n) noexcept { VALGRIND_MAKE_MEM_NOACCESS(p, n); }
inline Block* read_link(const Block* b) noexcept {
  VALGRIND_MAKE_MEM_DEFINED(b, sizeof(Block));
  Block* next = b->next;
  VALGRIND_MAKE_MEM_NOACCESS(b, sizeof(Block));
  return next;
}
inline void write_link(Block* b, Block* next) noexcept {
  VALGRIND_MAKE_MEM_UNDEFINED(b, sizeof(Block));
  b->next = next;
  VALGRIND_MAKE_MEM_NOACCESS(b, sizeof(Block));
}
#else
inline void vg_pool_create(const void*) noexcept {}
inline void vg_pool_destroy(const void*) noexcept {}
inline void vg_alloc(const void*, const void*, std::size_t) noexcept {}
inline void vg_free(const void*, const void*) noexcept {}
inline void vg_resize(const void*, const void*, std::size_t) noexcept {}
inline void vg_noaccess(const void*, std::size_t) noexcept {}
SPACES_ALWAYS_INLINE Block* read_link(const Block* b) noexcept { return b->next; }
SPACES_ALWAYS_INLINE void write_link(Block* b, Block* next) noexcept { b->next = next; }
#endif

// ---- AddressSanitizer ----------------------------------------------------------

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
