// ---------------------------------------------------------------------------
// free.cpp: freeing a block that the fast path (spaces_free, inline in
// internal.h) did not take: full or junk-mode slabs, other threads' slabs,
// single-threaded heaps freed from another thread, region blocks (a no-op),
// large and huge blocks.
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/internal.h"

namespace spaces::detail {

void slab_now_empty(SlabHeader* s) noexcept {
  Shard* sh = s->shard.load(std::memory_order_relaxed);
  if (sh->current[s->size_class] == s) return;  // keep the slab we allocate from
  sh->partial[s->size_class].remove(s);
  release_small_slab(sh, s);
}

SPACES_NO_SANITIZE_ADDRESS void free_local_slow(SlabHeader* s, Block* b) noexcept {
  const bool junk = option(SPACES_OPTION_JUNK) != 0;
  if (junk) std::memset(static_cast<void*>(b), 0x5A, s->block_size);
  const std::uint32_t used = push_local(s, b);
  Shard* sh = s->shard.load(std::memory_order_relaxed);
  const std::uintptr_t o = s->owner.load(std::memory_order_relaxed);
  std::uintptr_t now = o & ~kOwnerFull;
  if (!junk) now &= ~kOwnerSlow;
  if (o & kOwnerFull) {
    // Not full any more: back on its queue. (Its notified flag, if set,
    // makes drain_notify skip it, since the full bit is gone.)
    s->owner.store(now, std::memory_order_seq_cst);
    sh->partial[s->size_class].push_back(s);
  } else if (now != o) {
    s->owner.store(now, std::memory_order_relaxed);
  }
  if (used == 0) slab_now_empty(s);
}

void free_generic(SlabHeader* s, void* p, std::uintptr_t tag) noexcept {
  switch (s->kind) {
    case SlabKind::Small: {
      const std::uintptr_t o = s->owner.load(std::memory_order_relaxed);
      if ((o & ~kOwnerFlags) == tag || (s->flags & kSlabSingleThreaded) != 0) {
        free_local_slow(s, static_cast<Block*>(p));
      } else {
        free_remote(s, static_cast<Block*>(p));
      }
      return;
    }
    case SlabKind::Region:
      return;  // region blocks die with their heap
    case SlabKind::Large:
    case SlabKind::Huge:
      free_large(s);
      return;
    case SlabKind::FreeRun:
      break;
  }
  SPACES_CHECK(!"free of a block in a released slab (double free?)");
}

}  // namespace spaces::detail
