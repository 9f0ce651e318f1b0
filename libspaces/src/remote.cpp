// ---------------------------------------------------------------------------
// remote.cpp: frees from threads that do not own the slab, and the owner's
// side of them (collecting, marking full, draining the delayed list).
//
// The rule this file keeps: once a freeing thread has made its block visible
// to the owner, it reads and writes nothing of that slab. The owner may then
// take the block, find the slab empty and release it, and the slab may belong
// to another heap a moment later; a freer that still touched the header
// would corrupt it. So every decision a freer needs is taken, and every
// field it needs is read, before its one publishing compare-and-swap.
//
// The remote word (types.h) packs the slab's remote list with kRemoteFull:
//
//   freer, FULL clear   CAS {head, n} -> {b, n + 1} with b linked to head.
//                       Published; nothing of the slab is touched after.
//   freer, FULL set     CAS FULL -> 0: the freer "claims" the slab. Its
//                       block is on no list yet, so the slab still counts it
//                       used and cannot be released; the freer reads the
//                       slab's shard, then pushes the block on the shard's
//                       delayed list: published, and from then on the freer
//                       touches only the shard (and its heap), which live
//                       as long as the heap.
//   owner, mark full    CAS 0 -> FULL, only when the slab has no free block;
//                       it fails iff remote frees arrived, which the owner
//                       then collects instead.
//   owner, collect      exchange -> 0 when the list is not empty; the count
//                       says how many links to follow, and the last one must
//                       be null, so a corrupted list (a block freed twice by
//                       other threads) is reported instead of followed.
//   owner, drain        takes the shard's delayed list and frees each block
//                       as a local free; the slab, full until now, goes back
//                       on its partial queue.
//
// Because FULL is only set on an empty list and every freer that sees it
// clears it before doing anything else, exactly one freer claims each FULL,
// and a full slab always learns of its first remote free: either the freer's
// CAS ran before the owner's mark (the mark fails and the owner collects) or
// after it (the freer sees FULL and claims). No second word, no ordering
// argument across words.
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/slab.h"

namespace spaces::detail {
namespace {

SPACES_ALWAYS_INLINE std::uint32_t offset_in_run(const SlabHeader* s, const void* b) noexcept {
  return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(b) - run_base(s));
}

/// Whether b lies in the block area of the small slab s (a cheap sanity
/// check of a link read from a list other threads write).
SPACES_ALWAYS_INLINE bool in_block_area(const SlabHeader* s, const Block* b) noexcept {
  const std::uintptr_t off = reinterpret_cast<std::uintptr_t>(b) - reinterpret_cast<std::uintptr_t>(small_first(s));
  return off < small_usable(s);
}

SPACES_ALWAYS_INLINE Block* block_at(const SlabHeader* s, std::uint32_t offset) noexcept {
  return offset == 0 ? nullptr : reinterpret_cast<Block*>(run_base(s) + offset);
}

/// Hands b to the owner of the full slab s through the delayed list of s's
/// shard. The caller has claimed s (cleared kRemoteFull), so b still counts
/// as used and s stays alive until the push below publishes b.
SPACES_NO_SANITIZE_ADDRESS void push_delayed(SlabHeader* s, Block* b) noexcept {
  Shard* sh = s->shard.load(std::memory_order_acquire);
  SPACES_TEST_POINT("remote.claimed", s);
  sh->delayed_count.fetch_add(1, std::memory_order_relaxed);
  sh->delayed_bytes.fetch_add(s->block_size, std::memory_order_relaxed);
  Block* head = sh->delayed.load(std::memory_order_relaxed);
  do {
    write_link(b, head);
  } while (!sh->delayed.compare_exchange_weak(head, b, std::memory_order_acq_rel, std::memory_order_relaxed));
  // b is published: s may be gone. Only the shard is read from here on.
  SPACES_TEST_POINT("remote.delayed_pushed", sh);
  // Nobody drains an abandoned shard's list but a reclaim
  // (shard.cpp:shard_reclaim_abandoned): tell the heap one is worth it.
  if (sh->tag.load(std::memory_order_acquire) == 0)
    sh->heap->reclaimable.store(true, std::memory_order_release);
}

}  // namespace

SPACES_NO_SANITIZE_ADDRESS void free_remote(SlabHeader* s, Block* b) noexcept {
  if (SPACES_UNLIKELY(option(SPACES_OPTION_JUNK) != 0)) {
    unpoison(b, s->block_size);  // the slack is poisoned in ASan builds; poisoned again below
    std::memset(static_cast<void*>(b), 0x5A, s->block_size);
  }
  vg_free(s->heap, b);
  poison(b, s->block_size);
  hardened_on_remote_free(s, b);
  const std::uint64_t self = offset_in_run(s, b);
  std::uint64_t w = s->remote.load(std::memory_order_relaxed);
  for (;;) {
    if (SPACES_UNLIKELY((w & kRemoteFull) != 0)) {
      if (s->remote.compare_exchange_weak(w, w & ~kRemoteFull, std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
        push_delayed(s, b);
        return;
      }
      continue;
    }
    write_link(b, block_at(s, remote_head_offset(w)));
    const std::uint64_t next = self | (static_cast<std::uint64_t>(remote_count(w) + 1) << kRemoteCountShift);
    SPACES_TEST_POINT("remote.before_push", s);
    if (s->remote.compare_exchange_weak(w, next, std::memory_order_release, std::memory_order_relaxed)) break;
  }
  // b is published: the owner may collect it and release s at any moment.
  SPACES_TEST_POINT("remote.pushed", nullptr);
}

SPACES_NO_SANITIZE_ADDRESS std::uint32_t collect_remote(SlabHeader* s) noexcept {
  if (remote_head_offset(s->remote.load(std::memory_order_relaxed)) == 0) return 0;
  const std::uint64_t w = s->remote.exchange(0, std::memory_order_acquire);
  const std::uint32_t n = remote_count(w);
  Block* list = block_at(s, remote_head_offset(w));
  SPACES_TEST_POINT("remote.collected", s);
  // n links to follow, the last of them null: anything else is a list that a
  // double free (or a write after free) damaged. Bounded either way.
  Block* tail = list;
  bool sound = n != 0 && n <= s->capacity && (w & kRemoteFull) == 0 && in_block_area(s, list);
  for (std::uint32_t i = 1; sound && i < n; ++i) {
    tail = read_link(tail);
    sound = in_block_area(s, tail) && hardened_block_ok(s, tail);
  }
  if (!sound || read_link(tail) != nullptr) corrupt_list_fatal(s, "remote free list");
  hardened_collected(s, list, n);
  write_link(tail, s->free);
  s->free = list;
  s->used.store(s->used.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  s->frees.store(s->frees.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  SPACES_ASSERT_EXPENSIVE(slab_is_valid(s));
  return n;
}

bool try_mark_full(SlabHeader* s) noexcept {
  std::uint64_t expected = 0;
  if (!s->remote.compare_exchange_strong(expected, kRemoteFull, std::memory_order_acq_rel,
                                         std::memory_order_relaxed))
    return false;  // remote frees arrived: the caller collects them
  s->owner.store(s->owner.load(std::memory_order_relaxed) | kOwnerFull, std::memory_order_relaxed);
  return true;
}

void clear_full(SlabHeader* s) noexcept {
  s->owner.store(s->owner.load(std::memory_order_relaxed) & ~kOwnerFull, std::memory_order_relaxed);
  // Fails when a freer claimed the slab first: its block is on its way to
  // the delayed list, and no further freer will see FULL. Either way FULL is
  // clear afterwards.
  std::uint64_t expected = kRemoteFull;
  s->remote.compare_exchange_strong(expected, 0, std::memory_order_acq_rel, std::memory_order_relaxed);
}

SPACES_NO_SANITIZE_ADDRESS Block* take_delayed(Shard* sh, std::size_t* count) noexcept {
  *count = 0;
  if (sh->delayed.load(std::memory_order_relaxed) == nullptr) return nullptr;
  // acq_rel: a reclaimer's earlier `reclaimable = false` must be visible to
  // every freer whose push lands after this exchange (shard.cpp).
  Block* list = sh->delayed.exchange(nullptr, std::memory_order_acq_rel);
  // Each block on the list belongs to a distinct full slab of the heap, so
  // the list cannot be longer than the heap's footprint in slabs (in minis,
  // the smallest slabs).
  const std::size_t bound = sh->heap->footprint.load(std::memory_order_relaxed) / kMiniSize + 1;
  std::size_t n = 0;
  std::uint64_t bytes = 0;
  for (Block* b = list; b != nullptr; b = read_link(b)) {
    if (++n > bound) corrupt_delayed_fatal(sh);
    bytes += block_of(b)->block_size;
  }
  sh->delayed_count.fetch_sub(n, std::memory_order_relaxed);
  sh->delayed_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  *count = n;
  return list;
}

}  // namespace spaces::detail
