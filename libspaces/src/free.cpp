// ---------------------------------------------------------------------------
// free.cpp: the generic continuation of the free fast path (free.h), for
// every block the one compare did not take: small blocks of full or
// junk-mode slabs and of other threads' slabs (owner_free.cpp, remote.cpp),
// every block of a mini slab (its host's owner word is 0),
// region blocks (a no-op), large and huge blocks (span.cpp), and frees into
// slabs that went back to the cache (reported).
// ---------------------------------------------------------------------------
#include "internal/thread.h"

namespace spaces::detail {

// Not instrumented by ASan: push_local poisons the block, then links it
// (as in free_block, whose continuation this is).
SPACES_NO_SANITIZE_ADDRESS void free_generic(SlabHeader* s, void* p, std::uintptr_t tag) noexcept {
  switch (s->kind) {
    case SlabKind::Small:
      free_small(s, static_cast<Block*>(p), tag);
      return;
    case SlabKind::MiniHost:  // a mini's header is the one that owns p
      s = mini_of(p);
      if (s->kind != SlabKind::Small) break;  // a mini given back
      if (s->owner.load(std::memory_order_relaxed) == tag) {  // free_block's compare, on the mini
        if (push_local(s, static_cast<Block*>(p)) == 0) slab_now_empty(s);
        return;
      }
      free_small(s, static_cast<Block*>(p), tag);
      return;
    case SlabKind::Region:
      return;  // region blocks die with their heap
    case SlabKind::Large:
    case SlabKind::Huge:
      free_large(s);
      return;
    case SlabKind::FreeRun:
      break;
  }
  fatal("spaces: free of %p: its slab was already released (double free?)\n", p);
}

}  // namespace spaces::detail
