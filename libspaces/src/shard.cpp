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

#include "internal/heap.h"

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

// ---- Invariants --------------------------------------------------------------

namespace {

bool class_state_is_valid(const Shard* sh, std::uint32_t sc, bool slabs) noexcept {
  const SlabHeader* c = sh->current[sc];
  for (std::size_t i = kDirectRanges[sc].first; i <= kDirectRanges[sc].last; ++i)
    if (sh->direct[i] != c) return SPACES_INVALID("shard: direct[i] == current[class of 16 i]", sh);
  if (c != &g_empty_slab) {
    if (c->kind != SlabKind::Small || c->size_class != sc || c->shard.load(std::memory_order_relaxed) != sh)
      return SPACES_INVALID("shard: current[c] is a small slab of class c of this shard", c);
    if ((c->owner.load(std::memory_order_relaxed) & kOwnerFull) != 0)
      return SPACES_INVALID("shard: the current slab is not marked full", c);
    if (slabs && !slab_is_valid(c)) return false;
  }
  std::size_t n = 0;
  for (const SlabHeader* q = sh->partial[sc].front(); q != nullptr; q = q->qnext) {
    if (++n > sh->partial[sc].size()) return SPACES_INVALID("shard: a partial queue is as long as it says", sh);
    if (q == c || q->size_class != sc || q->shard.load(std::memory_order_relaxed) != sh ||
        (q->owner.load(std::memory_order_relaxed) & kOwnerFull) != 0)
      return SPACES_INVALID("shard: partial[c] holds unfull class-c slabs of this shard, not the current one", q);
  }
  return n == sh->partial[sc].size() || SPACES_INVALID("shard: a partial queue is as long as it says", sh);
}

}  // namespace

bool shard_is_valid(const Shard* sh) noexcept {
  const std::uintptr_t tag = sh->tag.load(std::memory_order_relaxed);
  std::size_t slabs = 0, runs = 0, minis = 0;
  bool past_slabs = false;  // minis come last
  for (const SlabHeader* r = sh->runs.front(); r != nullptr; r = r->next) {
    if (++runs > sh->runs.size()) return SPACES_INVALID("shard: the runs list is as long as it says", sh);
    if (r->shard.load(std::memory_order_relaxed) != sh || r->heap != sh->heap)
      return SPACES_INVALID("shard: every run on `runs` belongs to this shard and its heap", r);
    if (!slab_is_valid(r)) return false;
    if (r->kind == SlabKind::Small && !sh->heap->single &&
        (r->owner.load(std::memory_order_relaxed) & ~kOwnerFlags) != tag)
      return SPACES_INVALID("shard: a small slab's owner word carries the shard's tag", r);
    const bool mini = (r->flags & kSlabMini) != 0;
    if (past_slabs && !mini) return SPACES_INVALID("shard: the minis are at the back of `runs`", r);
    past_slabs = mini;
    slabs += r->slabs;
    minis += mini;
  }
  if (runs != sh->runs.size() || slabs != sh->run_slabs || minis != sh->minis)
    return SPACES_INVALID("shard: run_slabs and minis count the runs on `runs`", sh);
  for (std::uint32_t sc = 0; sc < kNumClasses; ++sc)
    if (!class_state_is_valid(sh, sc, false)) return false;
  return true;
}

bool shard_class_is_valid(const Shard* sh, std::uint32_t sc) noexcept { return class_state_is_valid(sh, sc, true); }

void shard_init(Shard* sh, Heap* h) noexcept {
  for (SlabHeader*& c : sh->current) c = &g_empty_slab;
  for (SlabHeader*& d : sh->direct) d = &g_empty_slab;
  sh->cursor = spaces_cursor_t{nullptr, nullptr, 0, sh};
  sh->region_blocks.store(0, std::memory_order_relaxed);
  sh->region_bytes.store(0, std::memory_order_relaxed);
  sh->tag.store(0, std::memory_order_relaxed);
  sh->heap = h;
  sh->delayed.store(nullptr, std::memory_order_relaxed);
  sh->delayed_count.store(0, std::memory_order_relaxed);
  sh->delayed_bytes.store(0, std::memory_order_relaxed);
  for (ClassQueue& q : sh->partial) q.clear();
  sh->runs.clear();
  sh->run_slabs = 0;
  sh->minis = 0;
  sh->folded_frees.store(0, std::memory_order_relaxed);
}

void runs_add(Shard* sh, SlabHeader* r) noexcept {
  if ((r->flags & kSlabMini) != 0) {
    sh->runs.push_back(r);
    sh->minis += 1;
  } else {
    sh->runs.push_front(r);
    sh->run_slabs += r->slabs;
  }
}

void runs_remove(Shard* sh, SlabHeader* r) noexcept {
  sh->runs.remove(r);
  if ((r->flags & kSlabMini) != 0) sh->minis -= 1;
  else sh->run_slabs -= r->slabs;
}

namespace {

/// Gives back the shard's minis, the back of its runs list (heap lock held,
/// or a single-threaded heap). Returns the bytes to uncharge.
std::size_t release_minis(Shard* sh) noexcept {
  const std::size_t bytes = sh->minis * kMiniSize;
  for (; sh->minis != 0; --sh->minis) mini_release(sh->runs.pop_back());
  return bytes;
}

}  // namespace

void shard_clear(Shard* sh, bool retain) noexcept {
  Heap* h = sh->heap;
  const std::size_t slabs = sh->run_slabs;
  if (sh->minis != 0) heap_uncharge(h, release_minis(sh));
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
  sh->delayed.store(nullptr, std::memory_order_relaxed);
  sh->delayed_count.store(0, std::memory_order_relaxed);
  sh->delayed_bytes.store(0, std::memory_order_relaxed);
  sh->cursor.cur = nullptr;
  sh->cursor.end = nullptr;
  sh->cursor.tally = 0;
  sh->region_blocks.store(0, std::memory_order_relaxed);
  sh->region_bytes.store(0, std::memory_order_relaxed);
  sh->runs.clear();
  sh->run_slabs = 0;
  sh->folded_frees.store(0, std::memory_order_relaxed);
  sh->mark_depth = 0;  // every mark ends
}

void shard_set_owner(Shard* sh, std::uintptr_t tag) noexcept {
  sh->tag.store(tag, std::memory_order_release);
  for (SlabHeader* r = sh->runs.front(); r != nullptr; r = r->next) {
    if (r->kind != SlabKind::Small) continue;
    const std::uintptr_t flags = r->owner.load(std::memory_order_relaxed) & kOwnerFlags;
    r->owner.store(tag | flags, std::memory_order_release);
  }
}

namespace {

/// Puts the empty slab r on `empties`: slabs at the front, minis at the back.
void add_empty(RunList& empties, SlabHeader* r) noexcept {
  if ((r->flags & kSlabMini) != 0) empties.push_back(r);
  else empties.push_front(r);
}

/// Takes the empty small slab r off every list of `sh` (heap lock held, or a
/// single-threaded heap) and adds it to `empties`, its frees folded into
/// `into`'s count.
void detach_empty(Shard* sh, SlabHeader* r, Shard* into, RunList& empties) noexcept {
  const std::uint32_t sc = r->size_class;
  if (sh->current[sc] == r) set_current(sh, sc, &g_empty_slab);
  else if ((r->owner.load(std::memory_order_relaxed) & kOwnerFull) == 0) sh->partial[sc].remove(r);
  runs_remove(sh, r);
  add_counter(into->folded_frees, r->frees.load(std::memory_order_relaxed));
  retire_header(r);
  add_empty(empties, r);
}


/// Returns `empties` to the slab cache and uncharges them (no lock held).
void release_empties(Heap* h, RunList& empties) noexcept {
  std::size_t bytes = 0;
  for (SlabHeader* r = empties.back(); r != nullptr && (r->flags & kSlabMini) != 0; r = empties.back()) {
    mini_release(empties.pop_back());
    bytes += kMiniSize;
  }
  const std::size_t slabs = empties.size();
  if (slabs != 0) cache_release_list(empties, slabs);
  bytes += slabs * kSlabSize;
  if (bytes != 0) heap_uncharge(h, bytes);
}

}  // namespace

void requeue_if_unfull(Shard* sh, SlabHeader* r) noexcept {
  if ((r->owner.load(std::memory_order_relaxed) & kOwnerFull) != 0 &&
      (r->free != nullptr || r->local_free != nullptr)) {
    clear_full(r);
    sh->partial[r->size_class].push_back(r);
  }
}

namespace {

/// Collects the remote frees of every small slab of sh (heap lock held, as
/// sh's owner): the empty ones go to `empties`, the full ones that have
/// blocks again back on their queues.
void collect_runs_locked(Shard* sh, RunList& empties) noexcept {
  for (SlabHeader* r = sh->runs.front(); r != nullptr;) {
    SlabHeader* next = r->next;
    SPACES_TEST_POINT("shard.collect_walk", r);
    if (r->kind == SlabKind::Small) {
      collect_remote(r);
      if (r->used.load(std::memory_order_relaxed) == 0) detach_empty(sh, r, sh, empties);
      else requeue_if_unfull(sh, r);
    }
    r = next;
  }
}

}  // namespace

void shard_collect(Shard* sh) noexcept {
  drain_delayed(sh);
  Heap* h = sh->heap;
  RunList empties;
  {
    LockGuard guard(h->lock);
    collect_runs_locked(sh, empties);
    SPACES_ASSERT_EXPENSIVE(shard_is_valid(sh));
  }
  release_empties(h, empties);
}

namespace {

/// Drains the delayed list of the abandoned shard v (heap lock held, the
/// caller's own shard is sh): blocks of v's slabs are freed as v's owner
/// would, blocks of slabs that moved to sh as sh's owner, and blocks of
/// slabs that moved anywhere else as any other thread would (a remote free,
/// which takes no lock). Empty slabs go to `empties`.
SPACES_NO_SANITIZE_ADDRESS void drain_abandoned(Shard* sh, Shard* v, RunList& empties) noexcept {
  std::size_t n = 0;
  for (Block* b = take_delayed(v, &n); b != nullptr;) {
    Block* next = read_link(b);
    SlabHeader* s = block_of(b);
    Shard* w = s->shard.load(std::memory_order_acquire);
    if (w == v || w == sh) {
      if (owner_free(w, s, b) == 0) detach_empty(w, s, sh, empties);
    } else {
      free_remote(s, b);
    }
    b = next;
  }
}

/// Settles a slab that moves to `sh` (heap lock held): its remote frees are
/// collected; an empty slab goes to `empties`, one without a free block
/// stays off the queues (full), the rest go on sh's partial queue.
void adopt_slab(Shard* sh, SlabHeader* r, RunList& empties) noexcept {
  const std::uintptr_t flags = r->owner.load(std::memory_order_relaxed) & kOwnerFlags;
  r->shard.store(sh, std::memory_order_release);
  r->owner.store(sh->tag.load(std::memory_order_relaxed) | flags, std::memory_order_release);
  SPACES_TEST_POINT("shard.adopt_slab", r);
  collect_remote(r);
  if (r->used.load(std::memory_order_relaxed) == 0) {
    add_counter(sh->folded_frees, r->frees.load(std::memory_order_relaxed));
    retire_header(r);
    add_empty(empties, r);
    return;
  }
  runs_add(sh, r);
  const bool has_free = r->free != nullptr || r->local_free != nullptr || r->carved < r->capacity;
  if ((flags & kOwnerFull) != 0) {
    // Full in v: it stays full in sh until a free hands it back (if a freer
    // claimed it meanwhile, its block reaches v's delayed list, and the next
    // reclaim forwards it here).
    if (has_free) requeue_if_unfull(sh, r);
    return;
  }
  if (!has_free && try_mark_full(r)) return;  // on no queue now; FULL tells the next freer
  if (!has_free) collect_remote(r);           // remote frees arrived in between
  sh->partial[r->size_class].push_back(r);
}

/// Takes from the abandoned shard v what `sh` needs now: its slabs of class
/// sc (current and partial). Blocks other threads freed into v's full slabs
/// (v's delayed list) are settled first, which puts those slabs back on v's
/// queues for later reclaims. Taking one class at a time spreads an exited
/// thread's slabs over the threads that need them instead of piling them on
/// the first.
void reclaim_class(Shard* sh, Shard* v, std::uint32_t sc, RunList& empties) noexcept {
  drain_abandoned(sh, v, empties);
  auto take = [&](SlabHeader* r) {
    runs_remove(v, r);
    adopt_slab(sh, r, empties);
  };
  if (SlabHeader* c = v->current[sc]; c != &g_empty_slab) {
    set_current(v, sc, &g_empty_slab);
    take(c);
  }
  while (SlabHeader* r = v->partial[sc].pop_front()) take(r);
}

}  // namespace

SPACES_NO_SANITIZE_ADDRESS void shard_repair_after_fork(Shard* sh) noexcept {
  // Each free list changes by single stores, so it is sound at any instant;
  // `used` is what the snapshot may have caught half-way. A block the thread
  // was handing out or taking back then counts as used: at worst its slab
  // stays with the heap until the heap dies. One step takes two stores:
  // refill.cpp moves local_free to free (free = local_free, then local_free
  // = nullptr), and a fork between them leaves both lists holding the same
  // blocks; the move is finished here.
  for (SlabHeader* r = sh->runs.front(); r != nullptr; r = r->next) {
    if (r->kind != SlabKind::Small) continue;
    if (r->free != nullptr && r->free == r->local_free) r->local_free = nullptr;
    std::size_t n = 0;
    for (const Block* b = r->free; b != nullptr && n <= r->carved; b = read_link(b)) ++n;
    for (const Block* b = r->local_free; b != nullptr && n <= r->carved; b = read_link(b)) ++n;
    if (n > r->carved) corrupt_list_fatal(r, "free list");
    r->used.store(static_cast<std::uint32_t>(r->carved - n), std::memory_order_relaxed);
  }
  sh->forked = false;
}

void shard_trim(Shard* sh) noexcept {
  sh->trim_seen = sh->heap->trim_epoch.load(std::memory_order_relaxed);
  shard_collect(sh);
}

void shard_collect_abandoned(Heap* h) noexcept {
  if (h->single) return;
  RunList empties;
  {
    LockGuard guard(h->lock);
    for_each_shard(h, [&](Shard* v) {
      if (v->tag.load(std::memory_order_relaxed) != 0) return;
      if (v->forked) shard_repair_after_fork(v);
      drain_abandoned(v, v, empties);
      collect_runs_locked(v, empties);
    });
  }
  release_empties(h, empties);
}

bool shard_reclaim_abandoned(Shard* sh, std::uint32_t sc) noexcept {
  Heap* h = sh->heap;
  if (!h->reclaimable.load(std::memory_order_acquire)) return false;
  RunList empties;
  bool moved = false;
  {
    LockGuard guard(h->lock);
    // Cleared before the scan: a freer whose delayed push lands after the
    // scan drained that list sets it again (remote.cpp:push_delayed), and
    // that store is ordered after this one by the delayed list's exchange.
    h->reclaimable.store(false, std::memory_order_relaxed);
    const std::size_t before = sh->run_slabs;
    bool left = false;  // does any abandoned shard still hold slabs?
    for_each_shard(h, [&](Shard* v) {
      if (v == sh || v->tag.load(std::memory_order_relaxed) != 0) return;
      SPACES_TEST_POINT("shard.reclaim", v);
      if (v->forked) shard_repair_after_fork(v);
      if (!v->runs.empty() || v->delayed.load(std::memory_order_relaxed) != nullptr) reclaim_class(sh, v, sc, empties);
      left = left || !v->runs.empty();
    });
    if (left) h->reclaimable.store(true, std::memory_order_release);
    moved = sh->run_slabs != before || !empties.empty();
    SPACES_ASSERT_EXPENSIVE(shard_is_valid(sh));
  }
  release_empties(h, empties);
  return moved;
}

}  // namespace spaces::detail
