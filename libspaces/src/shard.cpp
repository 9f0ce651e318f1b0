// ---------------------------------------------------------------------------
// shard.cpp: a shard's life: initialisation, clearing at destroy/reset, and
// the change of owner when its thread exits or a new thread adopts it.
//
// Clearing is the heart of O(1) teardown: a shard's runs (small slabs, region
// slabs, region spans) are one intrusive list, which joins the slab cache or
// the heap's retained list with one splice, headers untouched.
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/internal.h"

namespace spaces::detail {

void shard_init(Shard* sh, Heap* h) noexcept {
  for (SlabHeader*& c : sh->current) c = &g_empty_slab;
  sh->cursor = spaces_cursor_t{nullptr, nullptr, 0, 0, sh};
  sh->tag = 0;
  sh->heap = h;
  sh->notify.store(nullptr, std::memory_order_relaxed);
  for (ClassQueue& q : sh->partial) q.clear();
  sh->runs.clear();
  sh->run_slabs = 0;
  sh->folded_frees = 0;
  sh->region_spans_bytes = 0;
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
  for (ClassQueue& q : sh->partial) q.clear();
  sh->notify.store(nullptr, std::memory_order_relaxed);
  sh->cursor.cur = nullptr;
  sh->cursor.end = nullptr;
  sh->cursor.count = 0;
  sh->cursor.requested = 0;
  sh->runs.clear();
  sh->run_slabs = 0;
  sh->folded_frees = 0;
  sh->region_spans_bytes = 0;
}

void shard_set_owner(Shard* sh, std::uintptr_t tag) noexcept {
  sh->tag = tag;
  for (SlabHeader* r = sh->runs.front(); r != nullptr; r = r->next) {
    if (r->kind != SlabKind::Small) continue;
    const std::uintptr_t flags = r->owner.load(std::memory_order_relaxed) & kOwnerFlags;
    r->owner.store(tag | flags, std::memory_order_seq_cst);
  }
}

}  // namespace spaces::detail
