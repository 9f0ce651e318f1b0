// ---------------------------------------------------------------------------
// stats.cpp: heap statistics, their printing, and the walk over live blocks.
//
// Nothing here is counted on a fast path beyond what the fast paths keep
// anyway: a small slab's `used` and `frees`, a region cursor's count and
// requested bytes. Statistics are summed from those at the time of the call,
// O(slabs); allocations are frees plus live blocks.
// ---------------------------------------------------------------------------
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "internal/internal.h"

namespace spaces::detail {
namespace {

template <class F>
void for_each_shard(Heap* h, F&& f) noexcept {
  f(&h->shard0);
  for (Shard* sh = h->shards; sh != nullptr; sh = sh->heap_next) f(sh);
}

}  // namespace

spaces_status_t heap_stats(Heap* h, spaces_stats_t* out) noexcept {
  spaces_stats_t st{};
  std::uint64_t frees = 0;
  {
    LockGuard guard(h->lock);
    for_each_shard(h, [&](Shard* sh) {
      frees += sh->folded_frees;
      const std::uint64_t tally = sh->cursor.tally;
      st.live_blocks += sh->region_blocks.load(std::memory_order_relaxed) + tally_blocks(tally);
      st.live_bytes += sh->region_bytes.load(std::memory_order_relaxed) + tally_bytes(tally);
      for (SlabHeader* r = sh->runs.front(); r != nullptr; r = r->next) {
        if (r->kind != SlabKind::Small) continue;
        const std::size_t used = r->used.load(std::memory_order_relaxed);
        st.live_blocks += used;
        st.live_bytes += used * r->block_size;
        frees += r->frees.load(std::memory_order_relaxed);
      }
    });
    if (h->discipline == SPACES_GENERAL) {
      for (SlabHeader* r = h->large.front(); r != nullptr; r = r->next) {
        st.live_blocks += 1;
        st.live_bytes += r->size;
      }
      for (SlabHeader* r = h->huge.front(); r != nullptr; r = r->next) {
        st.live_blocks += 1;
        st.live_bytes += r->size;
      }
      frees += h->large_frees;
    }
    frees += h->folded_frees;
  }
  st.footprint = h->footprint.load(std::memory_order_relaxed);
  st.peak_footprint = h->peak.load(std::memory_order_relaxed);
  st.cap = h->cap.load(std::memory_order_relaxed);
  st.slabs = st.footprint / kSlabSize;
  st.free_count = static_cast<std::size_t>(frees);
  st.alloc_count = st.free_count + st.live_blocks;
  st.cap_failures = static_cast<std::size_t>(h->cap_failures.load(std::memory_order_relaxed));
  st.resets = static_cast<std::size_t>(h->resets);
  *out = st;
  return SPACES_OK;
}

// ---- Walk --------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxBlocksPerSlab = kSlabUsable / kMinAlign;

/// Marks the blocks on one free list in `bits`.
SPACES_NO_SANITIZE_ADDRESS void mark_free(const SlabHeader* s, const Block* b, std::uint64_t* bits) noexcept {
  const auto first = reinterpret_cast<std::uintptr_t>(slab_blocks(s));
  for (; b != nullptr; b = read_link(b)) {
    const std::size_t i = (reinterpret_cast<std::uintptr_t>(b) - first) / s->block_size;
    bits[i / 64] |= std::uint64_t{1} << (i % 64);
  }
}

}  // namespace

spaces_status_t heap_walk(Heap* h, spaces_walk_fn fn, void* arg) noexcept {
  if (h->discipline != SPACES_GENERAL) return SPACES_E_UNSUPPORTED;
  bool stop = false;
  for_each_shard(h, [&](Shard* sh) {
    for (SlabHeader* r = sh->runs.front(); r != nullptr && !stop; r = r->next) {
      if (r->kind != SlabKind::Small) continue;
      std::uint64_t bits[kMaxBlocksPerSlab / 64 + 1] = {};
      mark_free(r, r->free, bits);
      mark_free(r, r->local_free, bits);
      mark_free(r, r->remote.load(std::memory_order_acquire), bits);  // quiescent: no pushes now
      char* first = slab_blocks(r);
      for (std::size_t i = 0; i < r->carved && !stop; ++i) {
        if (bits[i / 64] & (std::uint64_t{1} << (i % 64))) continue;
        stop = fn(first + i * r->block_size, r->block_size, arg) != 0;
      }
    }
  });
  for (RunList* list : {&h->large, &h->huge}) {
    for (SlabHeader* r = list->front(); r != nullptr && !stop; r = r->next)
      stop = fn(reinterpret_cast<char*>(run_base(r) + r->block_size), r->size, arg) != 0;
  }
  return SPACES_OK;
}

}  // namespace spaces::detail
