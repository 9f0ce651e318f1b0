// ---------------------------------------------------------------------------
// refill.cpp: the slow paths of allocation: refilling a size class, opening
// and releasing small slabs, acquiring runs under the cap, large blocks.
//
// Everything here runs when a fast path missed, so it may take locks, count,
// and tidy up; nothing here runs per allocation in the common case.
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/heap.h"

namespace spaces::detail {
namespace {


bool junk_enabled() noexcept { return option(SPACES_OPTION_JUNK) != 0; }

bool h_single(const Shard* sh) noexcept { return sh->heap->single != 0; }

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

/// A fresh small slab of class sc for the shard, on its runs list.
SlabHeader* open_small_slab(Shard* sh, std::uint32_t sc, std::size_t request) noexcept {
  Heap* h = sh->heap;
  SlabHeader* s = acquire_run(h, 1, kSlabSize, 0, request);
  if (s == nullptr) return nullptr;
  if (!hardened_slab_open(s)) {
    cache_release(s);
    heap_uncharge(h, kSlabSize);
    record_failure(SPACES_E_NOMEM, h, request);
    return nullptr;
  }
  s->magic = kSlabMagic;
  s->kind = SlabKind::Small;
  s->size_class = static_cast<std::uint8_t>(sc);
  s->block_size = class_size(sc);
  s->capacity = static_cast<std::uint16_t>(kSlabUsable / s->block_size);
  s->flags = h->single ? kSlabSingleThreaded : 0;
  s->shard.store(sh, std::memory_order_relaxed);
  const std::uintptr_t tag = h->single ? thread_tag() : sh->tag.load(std::memory_order_relaxed);
  s->owner.store(tag | (junk_enabled() ? kOwnerSlow : 0), std::memory_order_relaxed);
  poison(slab_blocks(s), kSlabUsable);
  vg_noaccess(slab_blocks(s), kSlabUsable);
  SPACES_ASSERT_EXPENSIVE(slab_is_valid(s));
  if (h->single) {
    sh->runs.push_front(s);
  } else {
    LockGuard guard(h->lock);
    sh->runs.push_front(s);
  }
  sh->run_slabs += 1;
  return s;
}

}  // namespace

// ---- Small blocks -------------------------------------------------------------

// alloc_small missed: the current slab of class sc has an empty free list,
// or there is no current slab (the shared empty sentinel). Tried in order:
//   0. if a cap refused memory since this shard last looked (trim_epoch),
//      give back the shard's empty slabs first (shard.cpp:shard_trim)
//   1. the current slab's own frees (local, then remote), then its uncarved space
//   2. blocks other threads freed into full slabs (the shard's delayed list),
//      which puts those slabs back on their partial queues
//   3. the next slab on the class's partial queue
//   4. a new slab (acquire_run: retained slab, slab cache, OS; at the cap the
//      retained slabs are given back, then the cap handler runs, one retry)
// In junk mode the slab is not left current, so every allocation comes back
// here to be filled with 0xA5.
void* alloc_small_slow(Shard* sh, std::uint32_t sc, std::size_t size) noexcept {
  SPACES_TEST_POINT("refill.slow", sh);
  if (SPACES_UNLIKELY(sh->trim_seen != sh->heap->trim_epoch.load(std::memory_order_relaxed))) shard_trim(sh);
  SlabHeader* s = sh->current[sc];
  void* block = nullptr;
  if (s != &g_empty_slab) {
    while (block == nullptr) {
      if (refill_free_list(s)) {
        block = pop(s, size);
      } else if (try_mark_full(s)) {
        set_current(sh, sc, &g_empty_slab);
        break;
      }
    }
  }
  if (block == nullptr) {
    drain_delayed(sh);
    for (bool reclaimed = false;;) {
      while ((s = sh->partial[sc].pop_front()) != nullptr) {
        if (refill_free_list(s)) {
          block = pop(s, size);
          break;
        }
        if (!try_mark_full(s)) sh->partial[sc].push_front(s);  // a remote free arrived: retry it
      }
      if (block != nullptr || reclaimed || h_single(sh)) break;
      // Before taking a new slab, take over what exited threads left.
      reclaimed = true;
      if (!shard_reclaim_abandoned(sh, sc)) break;
    }
    if (block == nullptr) {
      s = open_small_slab(sh, sc, size);
      if (s == nullptr) return nullptr;
      refill_free_list(s);
      block = pop(s, size);
    }
    set_current(sh, sc, s);
  }
  if (SPACES_UNLIKELY(junk_enabled())) {
    std::memset(block, 0xA5, size);
    s->owner.fetch_or(kOwnerSlow, std::memory_order_relaxed);
    set_current(sh, sc, &g_empty_slab);
    if (s->free != nullptr || s->local_free != nullptr || s->carved < s->capacity) sh->partial[sc].push_front(s);
    else if (!try_mark_full(s)) sh->partial[sc].push_front(s);
  }
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
  if (h->single) {
    sh->runs.remove(s);
  } else {
    LockGuard guard(h->lock);
    sh->runs.remove(s);
  }
  sh->run_slabs -= 1;
  cache_release(s);
  heap_uncharge(h, kSlabSize);
}

}  // namespace spaces::detail
