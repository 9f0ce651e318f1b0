// ---------------------------------------------------------------------------
// internal/granule_map.h: which 64 KiB granules of the address space spaces
// handed out, and what they hold (slab.cpp keeps the map).
//
// One byte per granule in two levels: a static top array with one pointer
// per GiB of the 47-bit address space, and 16 KiB leaves made on demand and
// never freed, so a lookup is two dependent loads with no lock. It answers
// "is this pointer ours?" for spaces_owns, spaces_heap_of, realloc and every
// hardened check, and lets the slab cache find free neighbours to coalesce.
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_GRANULE_MAP_H
#define SPACES_INTERNAL_GRANULE_MAP_H

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "config.h"
#include "types.h"

namespace spaces::detail {

/// What the map knows of each 64 KiB granule of the address space.
enum class Granule : std::uint8_t {
  None = 0,      ///< not memory spaces handed out
  Head = 1,      ///< first slab of a run that is in use (or spliced into the cache)
  Interior = 2,  ///< a later slab of a run
  FreeHead = 3,  ///< first slab of a binned free run (slab_cache.cpp)
  FreeTail = 4,  ///< last slab of a binned free run of >= 2 slabs
  Unmapped = 5,  ///< first slab of a huge block whose mapping went back to the OS
};
// Two levels: one pointer per GiB of the 47-bit address space (static), a
// leaf of one byte per 64 KiB granule. Inline: the hardened free path and
// realloc look every pointer up.
inline constexpr std::size_t kMapLeafShift = 30;
inline constexpr std::size_t kMapTopEntries = std::size_t{1} << (47 - kMapLeafShift);
inline constexpr std::size_t kMapLeafEntries = std::size_t{1} << (kMapLeafShift - kSlabShift);
extern SPACES_HIDDEN std::atomic<std::atomic<std::uint8_t>*> g_map_top[kMapTopEntries];

SPACES_ALWAYS_INLINE Granule map_get(std::uintptr_t addr) noexcept {
  const std::uintptr_t top = addr >> kMapLeafShift;
  if (top >= kMapTopEntries) return Granule::None;
  const std::atomic<std::uint8_t>* leaf = g_map_top[top].load(std::memory_order_acquire);
  if (leaf == nullptr) return Granule::None;
  return static_cast<Granule>(leaf[(addr >> kSlabShift) & (kMapLeafEntries - 1)].load(std::memory_order_acquire));
}
/// Creates the map's leaves for [base, base + bytes), so that marking runs
/// there cannot fail later. False if the OS refused memory for a leaf.
bool map_prepare(std::uintptr_t base, std::size_t bytes) noexcept;
/// Marks the `slabs` granules from `base`: `head` for the first, Interior for
/// the others, `tail` for the last when slabs >= 2. False if the map could not
/// get memory for a new leaf.
bool map_mark(std::uintptr_t base, std::size_t slabs, Granule head, Granule tail) noexcept;
/// Writes one granule of memory spaces handed out (its leaf exists).
void map_set(std::uintptr_t addr, Granule g) noexcept;
void map_clear(std::uintptr_t base, std::size_t slabs) noexcept;
/// The run holding a block handed out, if `p` is one: the map says Head for
/// the granule of p - 1 and the header's magic is right. Any pointer value.
SPACES_ALWAYS_INLINE SlabHeader* slab_checked(const void* p) noexcept {
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p);
  if (a <= kSlabSize) return nullptr;
  const std::uintptr_t base = (a - 1) & ~kSlabMask;
  if (map_get(base) != Granule::Head) return nullptr;
  SlabHeader* s = header_at(base);
  if (s->magic != kSlabMagic) return nullptr;
  if (s->kind != SlabKind::MiniHost) return s;
  // A mini host's first mini is its own header; the others end with theirs.
  if ((a & ~kMiniMask) == base) return nullptr;
  s = mini_of(p);
  return s->magic == kSlabMagic ? s : nullptr;
}
/// Whether `p` is the start of a block of run `s` (Small: on the block grid,
/// carved; found with a multiply, not a division).
SPACES_ALWAYS_INLINE bool is_block_start(const SlabHeader* s, const void* p) noexcept {
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p);
  switch (s->kind) {
    case SlabKind::Small: {
      const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(small_first(s));
      if (a < first || a - first >= small_usable(s)) return false;
      const auto off = static_cast<std::uint32_t>(a - first);
      const std::uint32_t i = block_index(s->size_class, off);
      return i * s->block_size == off && i < s->carved;
    }
    case SlabKind::Large:
    case SlabKind::Huge:
      return a == run_base(s) + s->block_size;
    case SlabKind::Region:
      return a >= run_base(s) + kHeaderRegion;
    case SlabKind::MiniHost:
    case SlabKind::FreeRun:
      return false;
  }
  return false;
}
}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_GRANULE_MAP_H
