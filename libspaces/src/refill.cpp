// ---------------------------------------------------------------------------
// refill.cpp: the small-block slow path (alloc_small_slow, a flat sequence
// of named attempts) and the opening and release of small slabs.
//
// Everything here runs when a fast path missed, so it may take locks, count,
// and tidy up; nothing here runs per allocation in the common case.
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/heap.h"

namespace spaces::detail {
namespace {

bool junk_enabled() noexcept { return option(SPACES_OPTION_JUNK) != 0; }

/// Gives the slab's free list blocks: its own frees first, then frees from
/// other threads, then uncarved space. False if it has none at all.
bool refill_free_list(SlabHeader* s) noexcept {
  if (s->free != nullptr) return true;
  if (s->local_free != nullptr) {
    s->free = s->local_free;
    s->local_free = nullptr;
    return true;
  }
  if (collect_remote(s) != 0) return true;
  return carve(s);
}

SPACES_NO_SANITIZE_ADDRESS void* pop(SlabHeader* s, std::size_t size) noexcept { return pop_block(s, s->free, size); }

/// Runs f on a shard's runs list: under the heap lock, which a
/// single-threaded heap does not take.
template <class F>
void with_runs_lock(Heap* h, F&& f) noexcept {
  if (h->single) {
    f();
    return;
  }
  LockGuard guard(h->lock);
  f();
}

/// A tiny heap's small slabs are minis (mini.cpp) until it outgrows them:
/// while its footprint is below kMiniCeiling, for classes of which a mini
/// holds a few blocks (heap_create leaves `tiny` off in hardened builds,
/// whose per-slab bitmaps assume a slab).
constexpr std::size_t kMiniCeiling = 32 * 1024;
constexpr std::size_t kMiniMaxBlock = 1024;

bool wants_mini(const Heap* h, std::uint32_t sc) noexcept {
  return h->tiny && class_size(sc) <= kMiniMaxBlock && h->footprint.load(std::memory_order_relaxed) < kMiniCeiling;
}

/// Gives a small slab or a mini on no list back to where it came from, and
/// uncharges it.
void give_back_small(Heap* h, SlabHeader* s) noexcept {
  if ((s->flags & kSlabMini) != 0) {
    mini_release(s);
    heap_uncharge(h, kMiniSize);
  } else {
    cache_release(s);
    heap_uncharge(h, kSlabSize);
  }
}

/// A fresh small slab (or mini) of class sc for the shard, on its runs list.
SlabHeader* open_small_slab(Shard* sh, std::uint32_t sc, std::size_t request) noexcept {
  Heap* h = sh->heap;
  SlabHeader* s = wants_mini(h, sc) ? acquire_mini(h, request) : acquire_run(h, 1, kSlabSize, 0, request);
  if (s == nullptr) return nullptr;
  if (!hardened_slab_open(s)) {
    give_back_small(h, s);
    record_failure(SPACES_E_NOMEM, h, request);
    return nullptr;
  }
  const bool mini = (s->flags & kSlabMini) != 0;
  s->magic = kSlabMagic;
  s->kind = SlabKind::Small;
  s->size_class = static_cast<std::uint8_t>(sc);
  s->block_size = class_size(sc);
  s->capacity = static_cast<std::uint16_t>(small_usable(s) / s->block_size);
  s->flags = static_cast<std::uint8_t>((h->single ? kSlabSingleThreaded : 0) | (mini ? kSlabMini : 0));
  s->shard.store(sh, std::memory_order_relaxed);
  const std::uintptr_t tag = h->single ? thread_tag() : sh->tag.load(std::memory_order_relaxed);
  s->owner.store(tag | (junk_enabled() ? kOwnerSlow : 0), std::memory_order_relaxed);
  poison(small_first(s), small_usable(s));
  vg_noaccess(small_first(s), small_usable(s));
  SPACES_ASSERT_EXPENSIVE(slab_is_valid(s));
  with_runs_lock(h, [&] { runs_add(sh, s); });
  return s;
}

}  // namespace

// ---- Small blocks -------------------------------------------------------------

namespace {

/// Attempt 1: the current slab's own frees (local, then remote), then its
/// uncarved space. A slab with none left is marked full and stops being
/// current; nullptr then.
SlabHeader* refill_current(Shard* sh, std::uint32_t sc) noexcept {
  SlabHeader* s = sh->current[sc];
  if (s == &g_empty_slab) return nullptr;
  for (;;) {
    if (refill_free_list(s)) return s;
    if (try_mark_full(s)) break;  // else a remote free arrived: collect it
  }
  set_current(sh, sc, &g_empty_slab);
  return nullptr;
}

/// Attempt 3: the first slab of the class's partial queue that has blocks;
/// the others are marked full on the way.
SlabHeader* take_partial(Shard* sh, std::uint32_t sc) noexcept {
  while (SlabHeader* s = sh->partial[sc].pop_front()) {
    if (refill_free_list(s)) return s;
    if (!try_mark_full(s)) sh->partial[sc].push_front(s);  // a remote free arrived: retry it
  }
  return nullptr;
}

/// Attempt 4: the class's slabs of threads that exited (multi-threaded
/// heaps), then the partial queue again.
SlabHeader* take_reclaimed(Shard* sh, std::uint32_t sc) noexcept {
  if (sh->heap->single || !shard_reclaim_abandoned(sh, sc)) return nullptr;
  return take_partial(sh, sc);
}

/// Attempt 5: a new slab (acquire_run: a retained slab, the slab cache, the
/// OS; at the cap: collect, the cap handler, one retry).
SlabHeader* take_new(Shard* sh, std::uint32_t sc, std::size_t size) noexcept {
  SlabHeader* s = open_small_slab(sh, sc, size);
  if (s != nullptr) refill_free_list(s);
  return s;
}

/// Junk mode: the block is filled with 0xA5 and its slab does not stay
/// current, so that every allocation comes back here.
void junk_fill(Shard* sh, std::uint32_t sc, SlabHeader* s, void* block, std::size_t size) noexcept {
  std::memset(block, 0xA5, size);
  s->owner.fetch_or(kOwnerSlow, std::memory_order_relaxed);
  set_current(sh, sc, &g_empty_slab);
  const bool has_free = s->free != nullptr || s->local_free != nullptr || s->carved < s->capacity;
  if (has_free || !try_mark_full(s)) sh->partial[sc].push_front(s);
}

}  // namespace

// alloc_small missed: the current slab of class sc has an empty free list,
// or there is no current slab (the shared empty sentinel). The attempts, in
// order (each returns a slab with a non-empty free list, or nullptr):
//   0. if a cap refused memory since this shard last looked (trim_epoch),
//      give back the shard's empty slabs first (shard.cpp:shard_trim)
//   1. refill_current: the current slab's frees and uncarved space
//   2. drain_delayed: blocks other threads freed into full slabs, which puts
//      those slabs back on their partial queues (owner_free.cpp)
//   3. take_partial: the class's partial queue
//   4. take_reclaimed: what exited threads left
//   5. take_new: a new slab
void* alloc_small_slow(Shard* sh, std::uint32_t sc, std::size_t size) noexcept {
  SPACES_TEST_POINT("refill.slow", sh);
  if (SPACES_UNLIKELY(sh->trim_seen != sh->heap->trim_epoch.load(std::memory_order_relaxed))) shard_trim(sh);
  SlabHeader* s = refill_current(sh, sc);
  if (s == nullptr) {
    drain_delayed(sh);
    s = take_partial(sh, sc);
    if (s == nullptr) s = take_reclaimed(sh, sc);
    if (s == nullptr) s = take_new(sh, sc, size);
    if (s == nullptr) return nullptr;
    set_current(sh, sc, s);
  }
  void* block = pop(s, size);
  if (SPACES_UNLIKELY(junk_enabled())) junk_fill(sh, sc, s, block, size);
  SPACES_ASSERT_EXPENSIVE(shard_class_is_valid(sh, sc));
  return block;
}

void release_small_slab(Shard* sh, SlabHeader* s) noexcept {
  // used == 0: no block of s is on its remote list or on a delayed list, so
  // no other thread will touch s again (remote.cpp).
  SPACES_ASSERT_INTERNAL(s->used.load(std::memory_order_relaxed) == 0 &&
                         s->remote.load(std::memory_order_relaxed) == 0);
  SPACES_ASSERT_EXPENSIVE(slab_is_valid(s));
  SPACES_TEST_POINT("slab.release", s);
  Heap* h = sh->heap;
  add_counter(sh->folded_frees, s->frees.load(std::memory_order_relaxed));
  with_runs_lock(h, [&] { runs_remove(sh, s); });
  give_back_small(h, s);
}

}  // namespace spaces::detail
