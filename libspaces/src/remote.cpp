// ---------------------------------------------------------------------------
// remote.cpp: frees from threads that do not own the slab.
//
// A non-owner pushes the block onto the slab's `remote` list with one
// compare-and-swap (a Treiber stack: many producers, one consumer); the
// owner takes the whole list with one exchange when its free list runs dry
// (refill.cpp:refill_free_list). Blocks on the remote list still count as
// used until collected, so `used` stays owner-only and non-atomic in spirit.
//
// Full slabs are on no queue, so the owner would never look at them again.
// The first remote free into a full slab therefore also pushes the slab onto
// its shard's `notify` list (guarded by the slab's `notified` flag, so a slab
// is on it at most once); the owner drains that list in its slow path. The
// owner sets the full bit and then re-reads `remote`, the freer pushes and
// then reads the full bit, both sequentially consistent: at least one of
// them sees the other (refill.cpp:mark_full).
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/internal.h"

namespace spaces::detail {
namespace {

void push_notify(Shard* sh, SlabHeader* s) noexcept {
  SlabHeader* head = sh->notify.load(std::memory_order_relaxed);
  do {
    s->notify_next = head;
  } while (!sh->notify.compare_exchange_weak(head, s, std::memory_order_release, std::memory_order_relaxed));
}

void notify(SlabHeader* s) noexcept {
  if (s->notified.exchange(1, std::memory_order_acq_rel) != 0) return;
  Shard* sh = s->shard.load(std::memory_order_acquire);
  push_notify(sh, s);
  // Nobody drains an abandoned shard's list: tell the heap that a reclaim
  // (shard.cpp:shard_reclaim_abandoned) is worth it.
  if (sh->tag == 0) sh->heap->reclaimable.store(true, std::memory_order_release);
}

}  // namespace

void forward_notify(SlabHeader* s) noexcept { push_notify(s->shard.load(std::memory_order_acquire), s); }

SPACES_NO_SANITIZE_ADDRESS void free_remote(SlabHeader* s, Block* b) noexcept {
  if (SPACES_UNLIKELY(option(SPACES_OPTION_JUNK) != 0)) std::memset(static_cast<void*>(b), 0x5A, s->block_size);
  vg_free(s->heap, b);
  poison(b, s->block_size);
  Block* head = s->remote.load(std::memory_order_relaxed);
  do {
    write_link(b, head);
  } while (!s->remote.compare_exchange_weak(head, b, std::memory_order_seq_cst, std::memory_order_relaxed));
  if (s->owner.load(std::memory_order_seq_cst) & kOwnerFull) notify(s);
}

SPACES_NO_SANITIZE_ADDRESS std::uint32_t collect_remote(SlabHeader* s) noexcept {
  if (s->remote.load(std::memory_order_relaxed) == nullptr) return 0;
  Block* list = s->remote.exchange(nullptr, std::memory_order_acquire);
  if (list == nullptr) return 0;
  std::uint32_t n = 1;
  Block* tail = list;
  for (Block* next = read_link(tail); next != nullptr; next = read_link(tail)) {
    tail = next;
    ++n;
  }
  write_link(tail, s->free);
  s->free = list;
  s->used.store(s->used.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  s->frees.store(s->frees.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  return n;
}

void drain_notify(Shard* sh) noexcept {
  if (sh->notify.load(std::memory_order_relaxed) == nullptr) return;
  SlabHeader* s = sh->notify.exchange(nullptr, std::memory_order_acquire);
  while (s != nullptr) {
    SlabHeader* next = s->notify_next;
    if (s->shard.load(std::memory_order_acquire) != sh) {
      // Pushed here just before a reclaim moved it to another shard.
      forward_notify(s);
      s = next;
      continue;
    }
    s->notified.store(0, std::memory_order_seq_cst);
    const std::uintptr_t o = s->owner.load(std::memory_order_relaxed);
    if (o & kOwnerFull) {
      // Only full slabs need rescuing; one that is current or on its queue
      // again was notified twice.
      collect_remote(s);
      if (s->used.load(std::memory_order_relaxed) == 0) {
        s->owner.store(o & ~kOwnerFull, std::memory_order_relaxed);
        release_small_slab(sh, s);
      } else if (s->free != nullptr || s->local_free != nullptr) {
        s->owner.store(o & ~kOwnerFull, std::memory_order_relaxed);
        sh->partial[s->size_class].push_back(s);
      }
    }
    s = next;
  }
}

}  // namespace spaces::detail
