// ---------------------------------------------------------------------------
// internal/free.h: the free fast path, inline so that api.cpp and override/
// compile it into spaces_free, free and operator delete.
//
// Every function a free can go through, fast path first:
//
//   spaces_free (api.cpp), free, operator delete (override/)
//     [hardened builds: hardened_check_block (hardened.h)]
//     free_block: slab_of(p), one compare of the owner word with the thread's
//     tag; push_local (slab.h): the whole fast path
//       +-> slab_now_empty (owner_free.cpp)    the slab's last block came back
//             release_small_slab (refill.cpp) -> cache_release (slab_cache.cpp)
//       +-> free_generic (free.cpp)            the compare failed:
//             Small, owner (full or junk slab) -> free_local_slow -> owner_free
//             Small, another thread -> free_remote (remote.cpp): one CAS on
//               the remote list, or, into a full slab, a claim and a push on
//               the shard's delayed list (drained by owner_free.cpp:drain_delayed)
//             Large/Huge -> free_large (span.cpp)
//             Region -> nothing (freed with the heap)
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_FREE_H
#define SPACES_INTERNAL_FREE_H

#include "thread.h"

namespace spaces::detail {

/// The free fast path: the calling thread owns the slab (one compare, with
/// the full and junk flags folded into the owner word) and pushes the block
/// on its local list; everything else goes to free_generic.
SPACES_FAST_PATH void free_block(void* p) noexcept {
  SlabHeader* s = slab_of(p);
  const std::uintptr_t tag = thread_tag();
  if (SPACES_LIKELY(s->owner.load(std::memory_order_relaxed) == tag)) {
    if (SPACES_UNLIKELY(push_local(s, static_cast<Block*>(p)) == 0)) slab_now_empty(s);
    return;
  }
  free_generic(s, p, tag);
}

}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_FREE_H
