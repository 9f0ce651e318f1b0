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

#include "internal/heap.h"

namespace spaces::detail {

spaces_status_t heap_stats(Heap* h, spaces_stats_t* out) noexcept {
  spaces_stats_t st{};
  std::uint64_t frees = 0;
  {
    LockGuard guard(h->lock);
    for_each_shard(h, [&](Shard* sh) {
      frees += sh->folded_frees.load(std::memory_order_relaxed);
      const std::uint64_t tally = sh->cursor.tally;
      st.live_blocks += sh->region_blocks.load(std::memory_order_relaxed) + tally_blocks(tally);
      st.live_bytes += sh->region_bytes.load(std::memory_order_relaxed) + tally_bytes(tally);
      // Blocks handed over to the owner are free, though their slabs still
      // count them used until the owner takes them.
      const std::uint64_t delayed = sh->delayed_count.load(std::memory_order_relaxed);
      frees += delayed;
      st.live_blocks -= delayed;
      st.live_bytes -= sh->delayed_bytes.load(std::memory_order_relaxed);
      for (SlabHeader* r = sh->runs.front(); r != nullptr; r = r->next) {
        if (r->kind != SlabKind::Small) continue;
        // So are the blocks on the remote list: its count is in the remote word.
        const std::size_t remote = remote_count(r->remote.load(std::memory_order_acquire));
        const std::size_t used = r->used.load(std::memory_order_relaxed) - remote;
        st.live_blocks += used;
        st.live_bytes += used * r->block_size;
        frees += r->frees.load(std::memory_order_relaxed) + remote;
      }
    });
    if (h->discipline == SPACES_GENERAL) {
      for (RunList* list : {&h->large, &h->huge}) {
        for (SlabHeader* r = list->front(); r != nullptr; r = r->next) {
          st.live_blocks += 1;
          st.live_bytes += r->size;
        }
      }
      frees += h->large_frees;
    }
  }
  st.footprint = h->footprint.load(std::memory_order_relaxed);
  st.peak_footprint = h->peak.load(std::memory_order_relaxed);
  st.cap = h->cap.load(std::memory_order_relaxed);
  st.slabs = st.footprint / kSlabSize;
  st.free_count = static_cast<std::size_t>(frees);
  st.alloc_count = st.free_count + st.live_blocks;
  st.cap_failures = static_cast<std::size_t>(h->cap_failures.load(std::memory_order_relaxed));
  st.resets = static_cast<std::size_t>(h->resets);
  st.soft_limit = h->soft_limit.load(std::memory_order_relaxed);
  st.soft_limit_events = static_cast<std::size_t>(h->soft_events.load(std::memory_order_relaxed));
  *out = st;
  return SPACES_OK;
}

DefaultHeapInfo default_heap_info() noexcept {
  DefaultHeapInfo d{};
  Heap* h = default_heap_if_created();
  if (h == nullptr) return d;
  spaces_stats_t st{};
  heap_stats(h, &st);
  d.footprint = st.footprint;
  d.peak_footprint = st.peak_footprint;
  d.live_bytes = st.live_bytes;
  LockGuard guard(h->lock);
  for (SlabHeader* r = h->huge.front(); r != nullptr; r = r->next) {
    d.huge_blocks += 1;
    d.huge_bytes += r->slabs * kSlabSize;
  }
  return d;
}

// ---- Printing -------------------------------------------------------------------

spaces_status_t heap_print_stats(const Heap* h, std::FILE* out) noexcept {
  spaces_stats_t s;
  heap_stats(const_cast<Heap*>(h), &s);
  char cap[24] = "none";
  if (s.cap != SPACES_UNCAPPED) std::snprintf(cap, sizeof(cap), "%zu", s.cap);
  char soft[24] = "none";
  if (s.soft_limit != SPACES_UNCAPPED) std::snprintf(soft, sizeof(soft), "%zu", s.soft_limit);
  const int n = std::fprintf(out,
                             "heap '%s' (%s)\n"
                             "  live bytes      %zu\n"
                             "  live blocks     %zu\n"
                             "  footprint       %zu\n"
                             "  peak footprint  %zu\n"
                             "  cap             %s\n"
                             "  slabs           %zu\n"
                             "  allocations     %zu\n"
                             "  frees           %zu\n"
                             "  cap failures    %zu\n"
                             "  soft limit      %s\n"
                             "  soft events     %zu\n"
                             "  resets          %zu\n",
                             h->name, h->discipline == SPACES_REGION ? "region" : "general", s.live_bytes,
                             s.live_blocks, s.footprint, s.peak_footprint, cap, s.slabs, s.alloc_count,
                             s.free_count, s.cap_failures, soft, s.soft_limit_events, s.resets);
  return n < 0 ? SPACES_E_IO : SPACES_OK;
}

spaces_status_t heap_write_stats_json(const Heap* h, std::FILE* out) noexcept {
  spaces_stats_t s;
  heap_stats(const_cast<Heap*>(h), &s);
  // Heap names are the caller's bytes: escape what JSON requires.
  char name[kHeapNameMax * 6 + 1];
  std::size_t n = 0;
  for (const char* c = h->name; *c != '\0'; ++c) {
    const auto u = static_cast<unsigned char>(*c);
    if (u == '"' || u == '\\') {
      name[n++] = '\\';
      name[n++] = static_cast<char>(u);
    } else if (u < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      const char esc[6] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 15]};
      std::memcpy(name + n, esc, 6);
      n += 6;
    } else {
      name[n++] = static_cast<char>(u);
    }
  }
  name[n] = '\0';
  char cap[24] = "null";
  if (s.cap != SPACES_UNCAPPED) std::snprintf(cap, sizeof(cap), "%zu", s.cap);
  char soft[24] = "null";
  if (s.soft_limit != SPACES_UNCAPPED) std::snprintf(soft, sizeof(soft), "%zu", s.soft_limit);
  const int w = std::fprintf(out,
                             "{\"name\":\"%s\",\"discipline\":\"%s\",\"live_bytes\":%zu,\"live_blocks\":%zu,"
                             "\"footprint\":%zu,\"peak_footprint\":%zu,\"cap\":%s,\"slabs\":%zu,"
                             "\"alloc_count\":%zu,\"free_count\":%zu,\"cap_failures\":%zu,"
                             "\"soft_limit\":%s,\"soft_limit_events\":%zu,\"resets\":%zu}\n",
                             name, h->discipline == SPACES_REGION ? "region" : "general", s.live_bytes,
                             s.live_blocks, s.footprint, s.peak_footprint, cap, s.slabs, s.alloc_count,
                             s.free_count, s.cap_failures, soft, s.soft_limit_events, s.resets);
  return w < 0 ? SPACES_E_IO : SPACES_OK;
}

// ---- Walk --------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxBlocksPerSlab = kSlabUsable / kMinAlign;

/// Marks the blocks on one free list in `bits`; a list longer than the
/// slab's carved blocks, or one that leaves them, is corrupted.
SPACES_NO_SANITIZE_ADDRESS void mark_free(const SlabHeader* s, const Block* b, std::uint64_t* bits) noexcept {
  const auto first = reinterpret_cast<std::uintptr_t>(small_first(s));
  for (std::size_t n = 0; b != nullptr; b = read_link(b)) {
    const std::uintptr_t off = reinterpret_cast<std::uintptr_t>(b) - first;
    const std::size_t i = off / s->block_size;
    if (++n > s->carved || i >= s->carved || off % s->block_size != 0) corrupt_list_fatal(s, "free list");
    bits[i / 64] |= std::uint64_t{1} << (i % 64);
  }
}

/// Frees the blocks on v's delayed list into their slabs, as their owners
/// would. The links live in freed blocks, which ASan builds keep poisoned:
/// only code that opts out of the instrumentation may read them.
SPACES_NO_SANITIZE_ADDRESS void settle_delayed(Shard* v) noexcept {
  std::size_t n = 0;
  for (Block* b = take_delayed(v, &n); b != nullptr;) {
    Block* next = read_link(b);
    SlabHeader* s = block_of(b);
    owner_free(s->shard.load(std::memory_order_relaxed), s, b);
    b = next;
  }
}

/// Hands every block the heap's other threads freed to its slab's free list,
/// as their owners would (the heap is quiescent; heap lock held, so that no
/// thread exits or adopts meanwhile). Slabs that become empty stay.
void settle_remote_frees(Heap* h) noexcept {
  for_each_shard(h, settle_delayed);
  for_each_shard(h, [](Shard* v) {
    for (SlabHeader* r = v->runs.front(); r != nullptr; r = r->next) {
      if (r->kind != SlabKind::Small) continue;
      collect_remote(r);
      requeue_if_unfull(v, r);
    }
  });
}

}  // namespace

spaces_status_t heap_walk(Heap* h, spaces_walk_fn fn, void* arg) noexcept {
  if (h->discipline != SPACES_GENERAL) return SPACES_E_UNSUPPORTED;
  {
    LockGuard guard(h->lock);
    settle_remote_frees(h);
  }
  bool stop = false;
  for_each_shard(h, [&](Shard* sh) {
    for (SlabHeader* r = sh->runs.front(); r != nullptr && !stop; r = r->next) {
      if (r->kind != SlabKind::Small) continue;
      std::uint64_t bits[kMaxBlocksPerSlab / 64 + 1] = {};
      mark_free(r, r->free, bits);
      mark_free(r, r->local_free, bits);
      char* first = small_first(r);
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
