// ---------------------------------------------------------------------------
// slab.cpp: what holds for every run's header (slab_is_valid and the report
// of a broken invariant), the empty sentinel slab every size class starts
// with, and carving a small slab's blocks a page at a time.
// ---------------------------------------------------------------------------
#include "internal/slab.h"

namespace spaces::detail {

constinit SlabHeader g_empty_slab{};

// ---- Carving ----------------------------------------------------------------------

namespace {
/// Blocks are carved an OS page at a time: every block that ends in the page
/// where the next one ends, so a fresh slab is touched page by page as it is
/// used (mimalloc's extend) and a slab holding one block touches one page.
constexpr std::uintptr_t kCarvePage = 4096;
}  // namespace

SPACES_NO_SANITIZE_ADDRESS bool carve(SlabHeader* s) noexcept {
  if (s->carved >= s->capacity) return false;
  const std::size_t bs = s->block_size;
  char* first = small_first(s) + s->carved * bs;
  const std::uintptr_t page_end = (reinterpret_cast<std::uintptr_t>(first) + bs + kCarvePage - 1) & ~(kCarvePage - 1);
  std::size_t n = (page_end - reinterpret_cast<std::uintptr_t>(first)) / bs;
  if (n > static_cast<std::size_t>(s->capacity - s->carved)) n = s->capacity - s->carved;
  for (std::size_t i = 0; i + 1 < n; ++i)
    write_link(reinterpret_cast<Block*>(first + i * bs), reinterpret_cast<Block*>(first + (i + 1) * bs));
  write_link(reinterpret_cast<Block*>(first + (n - 1) * bs), nullptr);
  if constexpr (SPACES_HARDENED)
    for (std::size_t i = 0; i < n; ++i) hardened_on_carve(first + i * bs);
  s->free = reinterpret_cast<Block*>(first);
  s->carved = static_cast<std::uint16_t>(s->carved + n);
  return true;
}


bool invariant_failed(const char* what, const void* object) noexcept {
  message("spaces: invariant failed: %s (%p)\n", what, object);
  return false;
}

namespace {

/// Length of an owner free list of s, or SIZE_MAX if it leaves the slab's
/// carved blocks or is longer than they are (a cycle).
SPACES_NO_SANITIZE_ADDRESS std::size_t list_length(const SlabHeader* s, const Block* b) noexcept {
  const auto first = reinterpret_cast<std::uintptr_t>(small_first(s));
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
  const bool mini = (s->flags & kSlabMini) != 0;
  if (s->slabs != (mini ? 0u : 1u) || s->capacity != small_usable(s) / s->block_size || s->carved > s->capacity)
    return SPACES_INVALID("small slab: one slab (a mini: none), capacity, carved <= capacity", s);
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
  if ((s->flags & kSlabMini) != 0) {
    if (s->magic != kSlabMagic || s->kind != SlabKind::Small) return SPACES_INVALID("mini slab: magic and kind", s);
    if (!mini_is_valid(s)) return false;
  } else if (s->magic != kSlabMagic || s->slabs == 0) {
    return SPACES_INVALID("slab: magic and length", s);
  }
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
    case SlabKind::MiniHost:  // on no heap's list
    case SlabKind::FreeRun:
      break;
  }
  return SPACES_INVALID("slab: a kind in use", s);
}

}  // namespace spaces::detail
