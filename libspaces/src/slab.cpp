// ---------------------------------------------------------------------------
// slab.cpp: the granule map (which 64 KiB granules are ours, and what they
// hold) and the invariants of a slab header.
//
// The map has one byte per granule in two levels: a static top array with
// one pointer per GiB of the 47-bit address space (1 MiB of BSS, touched only
// where we own memory) and 16 KiB leaves from meta.cpp. "Is this pointer
// ours?" is two dependent loads, with no lock: leaves are published with a
// compare-and-swap and never freed. Each granule is written by whoever holds
// the run it belongs to (slab_cache.cpp under its lock, span.cpp for huge
// mappings), one byte per run boundary.
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/internal.h"

namespace spaces::detail {

constinit std::atomic<std::atomic<std::uint8_t>*> g_map_top[kMapTopEntries]{};

namespace {

constexpr std::size_t kLeafShift = kMapLeafShift;
constexpr std::size_t kLeafEntries = kMapLeafEntries;

std::atomic<std::uint8_t>* leaf_of(std::uintptr_t addr, bool create) noexcept {
  const std::uintptr_t top = addr >> kLeafShift;
  if (top >= kMapTopEntries) return nullptr;
  std::atomic<std::uint8_t>* leaf = g_map_top[top].load(std::memory_order_acquire);
  if (leaf == nullptr && create) {
    auto* fresh = static_cast<std::atomic<std::uint8_t>*>(meta_alloc(kLeafEntries));
    if (fresh == nullptr) return nullptr;
    if (g_map_top[top].compare_exchange_strong(leaf, fresh, std::memory_order_acq_rel)) return fresh;
    meta_free(fresh, kLeafEntries);  // another thread installed this leaf first
  }
  return leaf;
}

void map_store(std::uintptr_t addr, Granule g) noexcept {
  std::atomic<std::uint8_t>* leaf = leaf_of(addr, false);
  if (leaf != nullptr) leaf[(addr >> kSlabShift) & (kLeafEntries - 1)].store(static_cast<std::uint8_t>(g), std::memory_order_release);
}

}  // namespace

constinit SlabHeader g_empty_slab{};


bool map_prepare(std::uintptr_t base, std::size_t bytes) noexcept {
  const std::uintptr_t last = base + bytes - 1;
  for (std::uintptr_t a = base & ~((std::uintptr_t{1} << kLeafShift) - 1); a <= last;
       a += std::uintptr_t{1} << kLeafShift) {
    if (leaf_of(a, true) == nullptr) return false;
  }
  return true;
}

bool map_mark(std::uintptr_t base, std::size_t slabs, Granule head, Granule tail) noexcept {
  // Create every leaf the run touches first, so that a failure leaves the
  // map unchanged.
  const std::uintptr_t last = base + (slabs - 1) * kSlabSize;
  if (!map_prepare(base, slabs * kSlabSize)) return false;
  map_store(base, head);
  if (slabs >= 2) {
    // Interior granules are written once per run: a later split only
    // rewrites the boundaries it creates.
    for (std::uintptr_t a = base + kSlabSize; a < last; a += kSlabSize) map_store(a, Granule::Interior);
    map_store(last, tail);
  }
  return true;
}

void map_clear(std::uintptr_t base, std::size_t slabs) noexcept {
  for (std::size_t i = 0; i < slabs; ++i) map_store(base + i * kSlabSize, Granule::None);
}



bool invariant_failed(const char* what, const void* object) noexcept {
  message("spaces: invariant failed: %s (%p)\n", what, object);
  return false;
}

namespace {

/// Length of an owner free list of s, or SIZE_MAX if it leaves the slab's
/// carved blocks or is longer than they are (a cycle).
SPACES_NO_SANITIZE_ADDRESS std::size_t list_length(const SlabHeader* s, const Block* b) noexcept {
  const auto first = reinterpret_cast<std::uintptr_t>(slab_blocks(s));
  std::size_t n = 0;
  for (; b != nullptr; b = read_link(b)) {
    const std::uintptr_t off = reinterpret_cast<std::uintptr_t>(b) - first;
    if (++n > s->carved || off % s->block_size != 0 || off / s->block_size >= s->carved) return SIZE_MAX;
  }
  return n;
}

bool small_slab_is_valid(const SlabHeader* s) noexcept {
  if (s->size_class >= kNumClasses || s->block_size != class_size(s->size_class))
    return SPACES_INVALID("small slab: size class and block size agree", s);
  if (s->slabs != 1 || s->capacity != kSlabUsable / s->block_size || s->carved > s->capacity)
    return SPACES_INVALID("small slab: one slab, capacity, carved <= capacity", s);
  const std::size_t f = list_length(s, s->free);
  const std::size_t l = list_length(s, s->local_free);
  if (f == SIZE_MAX || l == SIZE_MAX) return SPACES_INVALID("small slab: free lists stay in the carved blocks", s);
  // Blocks on the remote list, or on their way through a delayed list, still count as used.
  if (s->used.load(std::memory_order_relaxed) + f + l != s->carved)
    return SPACES_INVALID("small slab: used + |free| + |local_free| == carved", s);
  const std::uint64_t w = s->remote.load(std::memory_order_acquire);
  if (remote_count(w) > s->used.load(std::memory_order_relaxed) || (remote_count(w) == 0) != (remote_head_offset(w) == 0))
    return SPACES_INVALID("small slab: remote count <= used, and 0 iff the remote list is empty", s);
  if ((w & kRemoteFull) != 0 && ((s->owner.load(std::memory_order_relaxed) & kOwnerFull) == 0 || remote_count(w) != 0))
    return SPACES_INVALID("small slab: kRemoteFull only on an empty list of a slab its owner marked full", s);
  return true;
}

}  // namespace

SPACES_NO_SANITIZE_ADDRESS bool slab_is_valid(const SlabHeader* s) noexcept {
  if (s->magic != kSlabMagic || s->slabs == 0) return SPACES_INVALID("slab: magic and length", s);
  if (map_get(run_base(s)) != Granule::Head) return SPACES_INVALID("slab: the granule map marks its head", s);
  switch (s->kind) {
    case SlabKind::Small:
      return small_slab_is_valid(s);
    case SlabKind::Large:
    case SlabKind::Huge:
      if (s->slabs * kSlabSize != s->block_size + s->size)
        return SPACES_INVALID("span: slabs * 64 KiB == block offset + usable size", s);
      return true;
    case SlabKind::Region:
      return true;
    case SlabKind::FreeRun:
      break;
  }
  return SPACES_INVALID("slab: a kind in use", s);
}

}  // namespace spaces::detail
