// ---------------------------------------------------------------------------
// internal/alloc.h: the allocation fast paths, inline so that api.cpp and
// override/ compile them into their entry points.
//
// Every function an allocation can go through, fast path first:
//
//   spaces_alloc (api.cpp)                malloc, operator new (override/)
//     heap_checked (heap.h): the handle     default_shard (thread.h): TLS
//     shard_of (thread.h): TLS cache          |
//     |                                       |
//     +-> alloc_direct (<= 1 KiB)  /  alloc_class (larger small blocks)
//           pop_block (slab.h)                 the whole fast path: one load,
//           |                                  one test, a pop, used++
//           +-> alloc_small_slow (refill.cpp)  the class's current slab is empty:
//                 shard_trim, refill_current, drain_delayed, take_partial,
//                 shard_reclaim_abandoned, open_small_slab
//                   acquire_run -> charge (cap.cpp) -> cache_acquire
//                   (slab_cache.cpp) -> os::map_aligned
//   heap_alloc_generic (alloc.cpp)        aligned, large, region, realloc:
//     alloc_large (span.cpp)               spans and huge mappings
//     spaces_cursor_alloc (spaces.h)       region heaps: region.cpp behind it
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_ALLOC_H
#define SPACES_INTERNAL_ALLOC_H

#include <cstring>

#include "granule_map.h"
#include "thread.h"

namespace spaces::detail {

/// The small-block fast path: pop the free list of the class's current slab.
SPACES_FAST_PATH void* alloc_class(Shard* sh, std::uint32_t sc, std::size_t size) noexcept {
  SlabHeader* s = sh->current[sc];
  Block* b = s->free;
  if (SPACES_LIKELY(b != nullptr)) return pop_block(s, b, size);
  return alloc_small_slow(sh, sc, size);
}

/// The fast path for blocks up to 1 KiB: one load finds the current slab.
SPACES_FAST_PATH void* alloc_direct(Shard* sh, std::size_t size) noexcept {
  SlabHeader* s = sh->direct[direct_index(size)];
  Block* b = s->free;
  if (SPACES_LIKELY(b != nullptr)) return pop_block(s, b, size);
  return alloc_small_slow(sh, size_to_class(size), size);
}

/// Any small block (size <= kMaxSmallSize).
SPACES_ALWAYS_INLINE void* alloc_small(Shard* sh, std::size_t size) noexcept {
  if (SPACES_LIKELY(size <= kMaxDirectSize)) return alloc_direct(sh, size);
  return alloc_class(sh, size_to_class(size), size);
}

/// calloc's clearing of a block of `bytes` just handed out, skipped for a
/// span or mapping fresh from the OS (kSlabZeroed): calloc(1 GiB) then costs
/// an mmap and leaves nothing resident. A span cut from memory decommitted
/// with MADV_DONTNEED (kSlabZeroTails) is zero but for the first page of each
/// slab: only those are cleared, 1/16 of the bytes.
inline void clear_new_block(void* p, std::size_t bytes) noexcept {
  if (bytes > kMaxSmallSize) {
    const SlabHeader* s = slab_checked(p);  // a region block may have no header of its own
    if (s != nullptr && (s->kind == SlabKind::Large || s->kind == SlabKind::Huge)) {
      if ((s->flags & kSlabZeroed) != 0) return;
      if ((s->flags & kSlabZeroTails) != 0) {
        const auto begin = reinterpret_cast<std::uintptr_t>(p);
        const std::uintptr_t end = begin + bytes;
        const std::size_t page = os::page_size();
        for (std::uintptr_t slab = begin & ~kSlabMask; slab < end; slab += kSlabSize) {
          const std::uintptr_t lo = slab > begin ? slab : begin;
          const std::uintptr_t hi = slab + page < end ? slab + page : end;
          if (lo < hi) std::memset(reinterpret_cast<void*>(lo), 0, hi - lo);
        }
        return;
      }
    }
  }
  std::memset(p, 0, bytes);
}

}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_ALLOC_H
