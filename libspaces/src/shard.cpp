// ---------------------------------------------------------------------------
// shard.cpp: a shard's life: initialisation, clearing at destroy/reset, and
// the change of owner when its thread exits or a new thread adopts it.
//
// Clearing is the heart of O(1) teardown: a shard's runs (small slabs, region
// slabs, region spans) are one intrusive list, which joins the slab cache or
// the heap's retained list with one splice, headers untouched. Reclaiming
// moves the reusable slabs of exited threads' shards to a live thread that
// needs memory, so thread churn does not strand free blocks.
// ---------------------------------------------------------------------------
#include <array>
#include <cstring>

#include "internal/internal.h"

namespace spaces::detail {

namespace {

constexpr auto make_direct_ranges() {
  std::array<DirectRange, kNumClasses> r{};
  for (std::uint32_t c = 0; c < kNumClasses; ++c) r[c] = direct_range(c);
  return r;
}
constexpr auto kDirectRanges = make_direct_ranges();

}  // namespace

void set_current(Shard* sh, std::uint32_t sc, SlabHeader* s) noexcept {
  sh->current[sc] = s;
  for (std::size_t i = kDirectRanges[sc].first; i <= kDirectRanges[sc].last; ++i) sh->direct[i] = s;
}

void shard_init(Shard* sh, Heap* h) noexcept {
  for (SlabHeader*& c : sh->current) c = &g_empty_slab;
  for (SlabHeader*& d : sh->direct) d = &g_empty_slab;
  sh->cursor = spaces_cursor_t{nullptr, nullptr, 0, sh};
  sh->region_blocks.store(0, std::memory_order_relaxed);
  sh->region_bytes.store(0, std::memory_order_relaxed);
  sh->tag = 0;
  sh->heap = h;
  sh->notify.store(nullptr, std::memory_order_relaxed);
  for (ClassQueue& q : sh->partial) q.clear();
  sh->runs.clear();
  sh->run_slabs = 0;
  sh->folded_frees = 0;
}

void shard_clear(Shard* sh, bool retain) noexcept {
  Heap* h = sh->heap;
  const std::size_t slabs = sh->run_slabs;
  if (retain) {
    LockGuard guard(h->lock);
    if constexpr (SPACES_ASAN_ENABLED) {
      for (SlabHeader* r = sh->runs.front(); r != nullptr; r = r->next)
        poison(reinterpret_cast<void*>(run_base(r) + kHeaderRegion), r->slabs * kSlabSize - kHeaderRegion);
    }
    h->retained.splice_front(sh->runs);
  } else {
    cache_release_list(sh->runs, slabs);
    heap_uncharge(h, slabs * kSlabSize);
  }
  for (SlabHeader*& c : sh->current) c = &g_empty_slab;
  for (SlabHeader*& d : sh->direct) d = &g_empty_slab;
  for (ClassQueue& q : sh->partial) q.clear();
  sh->notify.store(nullptr, std::memory_order_relaxed);
  sh->cursor.cur = nullptr;
  sh->cursor.end = nullptr;
  sh->cursor.tally = 0;
  sh->region_blocks.store(0, std::memory_order_relaxed);
  sh->region_bytes.store(0, std::memory_order_relaxed);
  sh->runs.clear();
  sh->run_slabs = 0;
  sh->folded_frees = 0;
}

void shard_set_owner(Shard* sh, std::uintptr_t tag) noexcept {
  sh->tag = tag;
  for (SlabHeader* r = sh->runs.front(); r != nullptr; r = r->next) {
    if (r->kind != SlabKind::Small) continue;
    const std::uintptr_t flags = r->owner.load(std::memory_order_relaxed) & kOwnerFlags;
    r->owner.store(tag | flags, std::memory_order_seq_cst);
  }
}

void shard_collect(Shard* sh) noexcept {
  drain_notify(sh);
  Heap* h = sh->heap;
  RunList empties;
  {
    LockGuard guard(h->lock);
    for (SlabHeader* r = sh->runs.front(); r != nullptr;) {
      SlabHeader* next = r->next;
      if (r->kind == SlabKind::Small) {
        collect_remote(r);
        const std::uint32_t sc = r->size_class;
        const std::uintptr_t o = r->owner.load(std::memory_order_relaxed);
        if (r->used.load(std::memory_order_relaxed) == 0 && r->notified.load(std::memory_order_acquire) == 0) {
          if (sh->current[sc] == r) set_current(sh, sc, &g_empty_slab);
          else if ((o & kOwnerFull) == 0) sh->partial[sc].remove(r);
          sh->runs.remove(r);
          sh->run_slabs -= 1;
          sh->folded_frees += r->frees.load(std::memory_order_relaxed);
          empties.push_front(r);
        } else if ((o & kOwnerFull) != 0 && (r->free != nullptr || r->local_free != nullptr)) {
          r->owner.store(o & ~kOwnerFull, std::memory_order_relaxed);  // not full any more
          sh->partial[sc].push_back(r);
        }
      }
      r = next;
    }
  }
  const std::size_t slabs = empties.size();
  if (slabs != 0) {
    cache_release_list(empties, slabs);
    heap_uncharge(h, slabs * kSlabSize);
  }
}

namespace {

/// Settles a slab that moves to `sh` (heap lock held): its remote frees are
/// collected; an empty slab goes to `empties`, a full one stays off the
/// queue (full bit set, with the remote-free handshake), the rest go on
/// sh's partial queue.
void adopt_slab(Shard* sh, SlabHeader* r, RunList& empties) noexcept {
  const std::uint32_t sc = r->size_class;
  const std::uintptr_t slow = r->owner.load(std::memory_order_relaxed) & kOwnerSlow;
  r->shard.store(sh, std::memory_order_release);
  r->owner.store(sh->tag | slow, std::memory_order_seq_cst);
  collect_remote(r);
  if (r->used.load(std::memory_order_relaxed) == 0 && r->notified.load(std::memory_order_acquire) == 0) {
    sh->folded_frees += r->frees.load(std::memory_order_relaxed);
    empties.push_front(r);
    return;
  }
  sh->runs.push_front(r);
  sh->run_slabs += 1;
  const bool has_free = r->free != nullptr || r->local_free != nullptr || r->carved < r->capacity;
  if (!has_free) {
    r->owner.store(sh->tag | slow | kOwnerFull, std::memory_order_seq_cst);
    if (r->remote.load(std::memory_order_seq_cst) == nullptr) return;  // full: notify brings it back
    r->owner.store(sh->tag | slow, std::memory_order_seq_cst);
    collect_remote(r);
  }
  sh->partial[sc].push_back(r);
}

/// Takes from the abandoned shard v what `sh` needs now: its slabs of class
/// sc (current and partial). Full slabs of v that other threads freed into
/// (v's notify list) are settled and put back on v's queues for later
/// reclaims. Taking one class at a time spreads an exited thread's slabs
/// over the threads that need them instead of piling them on the first.
void reclaim_class(Shard* sh, Shard* v, std::uint32_t sc, RunList& empties) noexcept {
  for (SlabHeader* s = v->notify.exchange(nullptr, std::memory_order_acquire); s != nullptr;) {
    SlabHeader* next = s->notify_next;
    if (s->shard.load(std::memory_order_acquire) != v) {
      forward_notify(s);  // moved by an earlier reclaim
    } else {
      s->notified.store(0, std::memory_order_seq_cst);
      collect_remote(s);
      const std::uintptr_t o = s->owner.load(std::memory_order_relaxed);
      if (s->used.load(std::memory_order_relaxed) == 0) {
        // Notified while full, it may have become current or queued since.
        if (v->current[s->size_class] == s) set_current(v, s->size_class, &g_empty_slab);
        else if ((o & kOwnerFull) == 0) v->partial[s->size_class].remove(s);
        v->runs.remove(s);
        v->run_slabs -= 1;
        sh->folded_frees += s->frees.load(std::memory_order_relaxed);
        empties.push_front(s);
      } else if ((o & kOwnerFull) != 0 && (s->free != nullptr || s->local_free != nullptr)) {
        s->owner.store(o & ~kOwnerFull, std::memory_order_relaxed);
        v->partial[s->size_class].push_back(s);
      }
    }
    s = next;
  }
  auto take = [&](SlabHeader* r) {
    v->runs.remove(r);
    v->run_slabs -= 1;
    adopt_slab(sh, r, empties);
  };
  if (SlabHeader* c = v->current[sc]; c != &g_empty_slab) {
    set_current(v, sc, &g_empty_slab);
    take(c);
  }
  while (SlabHeader* r = v->partial[sc].pop_front()) take(r);
}

}  // namespace

bool shard_reclaim_abandoned(Shard* sh, std::uint32_t sc) noexcept {
  Heap* h = sh->heap;
  if (!h->reclaimable.load(std::memory_order_acquire)) return false;
  RunList empties;
  bool moved = false;
  {
    LockGuard guard(h->lock);
    const std::size_t before = sh->run_slabs;
    bool left = false;  // does any abandoned shard still hold slabs?
    auto visit = [&](Shard* v) {
      if (v == sh || v->tag != 0) return;
      if (!v->runs.empty() || v->notify.load(std::memory_order_relaxed) != nullptr) reclaim_class(sh, v, sc, empties);
      left = left || !v->runs.empty();
    };
    visit(&h->shard0);
    for (Shard* v = h->shards; v != nullptr; v = v->heap_next) visit(v);
    if (!left) h->reclaimable.store(false, std::memory_order_release);
    moved = sh->run_slabs != before || !empties.empty();
  }
  const std::size_t slabs = empties.size();
  if (slabs != 0) {
    cache_release_list(empties, slabs);
    heap_uncharge(h, slabs * kSlabSize);
  }
  return moved;
}

}  // namespace spaces::detail
