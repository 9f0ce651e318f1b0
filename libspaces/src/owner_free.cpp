// ---------------------------------------------------------------------------
// owner_free.cpp: the owner's side of a free the fast path did not take: a
// full or junk-mode slab, a single-threaded heap freed from another thread,
// blocks other threads handed over through the shard's delayed list
// (remote.cpp), and the slab that becomes empty.
//
// "Owner" is the thread whose tag the slab's owner word carries, or, for an
// abandoned shard, whoever holds the heap lock; only it touches the slab's
// free lists and the shard's queues.
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/heap.h"

namespace spaces::detail {

void slab_now_empty(SlabHeader* s) noexcept {
  Shard* sh = s->shard.load(std::memory_order_relaxed);
  if (sh->current[s->size_class] == s) {
    // Keep the slab we allocate from, unless a cap asked for memory back.
    if (SPACES_UNLIKELY(sh->trim_seen != sh->heap->trim_epoch.load(std::memory_order_relaxed))) shard_trim(sh);
    return;
  }
  sh->partial[s->size_class].remove(s);
  release_small_slab(sh, s);
}

SPACES_NO_SANITIZE_ADDRESS std::uint32_t owner_free(Shard* sh, SlabHeader* s, Block* b) noexcept {
  const bool junk = option(SPACES_OPTION_JUNK) != 0;
  if (junk) {
    unpoison(b, s->block_size);  // ASan builds poison the slack and freed blocks; push_local poisons it again
    std::memset(static_cast<void*>(b), 0x5A, s->block_size);
  }
  const std::uint32_t used = push_local(s, b);
  const std::uintptr_t o = s->owner.load(std::memory_order_relaxed);
  if (o & kOwnerFull) {
    // Not full any more: back on its queue, and FULL off the remote word.
    clear_full(s);
    sh->partial[s->size_class].push_back(s);
  }
  if (!junk && (o & kOwnerSlow) != 0)
    s->owner.store(s->owner.load(std::memory_order_relaxed) & ~kOwnerSlow, std::memory_order_relaxed);
  return used;
}

void free_local_slow(SlabHeader* s, Block* b) noexcept {
  if (owner_free(s->shard.load(std::memory_order_relaxed), s, b) == 0) slab_now_empty(s);
}

void free_small(SlabHeader* s, Block* b, std::uintptr_t tag) noexcept {
  const std::uintptr_t o = s->owner.load(std::memory_order_relaxed);
  if ((o & ~kOwnerFlags) == tag || (s->flags & kSlabSingleThreaded) != 0) free_local_slow(s, b);
  else free_remote(s, b);
}

SPACES_NO_SANITIZE_ADDRESS void drain_delayed(Shard* sh) noexcept {
  std::size_t n = 0;
  const std::uintptr_t tag = thread_tag();
  SPACES_TEST_POINT("remote.drain", sh);
  for (Block* b = take_delayed(sh, &n); b != nullptr;) {
    Block* next = read_link(b);
    SlabHeader* s = block_of(b);
    if (s->shard.load(std::memory_order_acquire) == sh) {
      if (owner_free(sh, s, b) == 0) slab_now_empty(s);
    } else {
      // The slab moved on (a reclaim took it while this shard was abandoned):
      // free the block as any other thread would.
      free_small(s, b, tag);
    }
    b = next;
  }
}

}  // namespace spaces::detail
