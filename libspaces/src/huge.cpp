// ---------------------------------------------------------------------------
// huge.cpp: huge blocks, each in its own OS mapping.
//
// Blocks above SPACES_OPTION_HUGE_THRESHOLD bypass the slab cache: caching
// them would pin more memory than the cache bound is meant to hold, and the
// mmap/munmap cost is small next to touching that much memory. The mapping
// starts with a slab header like any run, so slab_of() and the granule map
// treat it the same; an alignment above 64 KiB places the header in the slab
// just below the aligned block and trims the mapping around it.
//
// realloc resizes a huge block without copying it (huge_remap): mremap in
// place, or, when the address space after it is taken, mremap onto a new
// 64 KiB-aligned mapping, which moves the page tables and not the bytes.
// The header then moves with the block; its color slot may differ.
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/slab.h"

namespace spaces::detail {

SlabHeader* huge_map(std::size_t size, std::size_t align, int* err) noexcept {
  const std::size_t offset = align <= kHeaderRegion ? kHeaderRegion : (align <= kSlabSize ? align : kSlabSize);
  if (size > SIZE_MAX / 2 - offset - align) {
    *err = ENOMEM;
    return nullptr;
  }
  const std::size_t total = (offset + size + kSlabMask) & ~kSlabMask;
  void* p = nullptr;
  std::uintptr_t base;
  if (align > kSlabSize) {
    // [p, p + total + align): the block goes at p + align, its header one
    // slab below; unmap what lies outside [header, header + total).
    if (int e = os::map_aligned(total + align, align, &p); e != 0) {
      *err = e;
      return nullptr;
    }
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    base = start + align - kSlabSize;
    os::unmap(p, base - start);
    os::unmap(reinterpret_cast<void*>(base + total), start + total + align - (base + total));
  } else {
    if (int e = os::map_aligned(total, kSlabSize, &p); e != 0) {
      *err = e;
      return nullptr;
    }
    base = reinterpret_cast<std::uintptr_t>(p);
  }
  if (!map_mark(base, total / kSlabSize, Granule::Head, Granule::Interior)) {
    os::unmap(reinterpret_cast<void*>(base), total);
    *err = ENOMEM;
    return nullptr;
  }
  SlabHeader* s = header_at(base);
  std::memset(static_cast<void*>(s), 0, sizeof(SlabHeader));
  s->magic = kSlabMagic;
  s->kind = SlabKind::Huge;
  s->flags = kSlabZeroed;
  s->slabs = static_cast<std::uint32_t>(total / kSlabSize);
  s->block_size = static_cast<std::uint32_t>(offset);
  s->size = total - offset;
  return s;
}

namespace {

/// Forgets the granules of a mapping that goes back to the OS, leaving a
/// tombstone so that a later free of its block is named a double free (until
/// the address is ours again, or someone else's: then it reads as a foreign
/// pointer, which it is).
void forget_mapping(std::uintptr_t base, std::size_t slabs) noexcept {
  map_clear(base, slabs);
  map_mark(base, 1, Granule::Unmapped, Granule::None);
}

/// Resizes in place: shrinks, or grows into unmapped address space.
bool remap_in_place(SlabHeader* s, std::size_t total) noexcept {
  const std::uintptr_t base = run_base(s);
  const std::size_t old_total = s->slabs * kSlabSize;
  if (total < old_total) {
    map_clear(base + total, (old_total - total) / kSlabSize);
    unpoison(reinterpret_cast<void*>(base + total), old_total - total);
    os::unmap(reinterpret_cast<void*>(base + total), old_total - total);
    return true;
  }
  if (!map_prepare(base, total)) return false;
  if (os::remap(reinterpret_cast<void*>(base), old_total, total, nullptr) != 0) return false;
  map_mark(base + old_total, (total - old_total) / kSlabSize, Granule::Interior, Granule::Interior);
  return true;
}

/// Moves the pages of run s to a new 64 KiB-aligned mapping of `total`
/// bytes, one VMA lengthened to that size (so that mremap can resize it
/// later: a resize may not span two), and its header to its slot there (the
/// color slot depends on the address). The old range is left unmapped for
/// the caller to settle. The new header, marked in the map, or nullptr with
/// nothing moved.
SlabHeader* move_run(SlabHeader* s, std::size_t total) noexcept {
  const std::uintptr_t base = run_base(s);
  const std::size_t bytes = s->slabs * kSlabSize;
  const std::uintptr_t color = reinterpret_cast<std::uintptr_t>(s) - base;
  void* to = nullptr;
  if (os::map_aligned(total, kSlabSize, &to) != 0) return nullptr;
  const auto dst = reinterpret_cast<std::uintptr_t>(to);
  if (!map_prepare(dst, total)) {
    os::unmap(to, total);
    return nullptr;
  }
  unpoison(reinterpret_cast<void*>(base), bytes);  // the shadow does not move with the pages
  if (os::remap(reinterpret_cast<void*>(base), bytes, total, to) != 0) {
    os::unmap(to, total);
    return nullptr;
  }
  SlabHeader* moved = header_at(dst);
  std::memmove(static_cast<void*>(moved), reinterpret_cast<void*>(dst + color), sizeof(SlabHeader));
  map_mark(dst, total / kSlabSize, Granule::Head, Granule::Interior);
  return moved;
}

}  // namespace

SlabHeader* huge_adopt_span(SlabHeader* s, std::size_t size) noexcept {
  const std::size_t total = (s->block_size + size + kSlabMask) & ~kSlabMask;
  const std::uintptr_t base = run_base(s);
  const std::size_t slabs = s->slabs;
  SlabHeader* r = move_run(s, total);
  if (r == nullptr) return nullptr;
  // The span's range is a hole in its reservation now: map it afresh for the
  // cache, or forget it if the OS refuses (the range is lost, nothing else).
  if (os::map_fixed(reinterpret_cast<void*>(base), slabs * kSlabSize) == 0) cache_refilled(base, slabs);
  else map_clear(base, slabs);
  r->kind = SlabKind::Huge;
  r->flags = 0;
  r->slabs = static_cast<std::uint32_t>(total / kSlabSize);
  r->size = total - r->block_size;
  return r;
}

SlabHeader* huge_remap(SlabHeader* s, std::size_t size, std::size_t align) noexcept {
  const std::size_t total = (s->block_size + size + kSlabMask) & ~kSlabMask;
  SlabHeader* r = s;
  if (total != s->slabs * kSlabSize && !remap_in_place(s, total)) {
    // A new mapping is 64 KiB-aligned: a block aligned past that would lose it.
    if (align > kSlabSize) return nullptr;
    const std::uintptr_t base = run_base(s);
    const std::size_t slabs = s->slabs;
    r = move_run(s, total);
    if (r == nullptr) return nullptr;
    forget_mapping(base, slabs);
  }
  r->slabs = static_cast<std::uint32_t>(total / kSlabSize);
  r->size = total - r->block_size;
  return r;
}

void huge_unmap(SlabHeader* s) noexcept {
  const std::uintptr_t base = run_base(s);
  const std::size_t total = s->slabs * kSlabSize;
  forget_mapping(base, s->slabs);
  unpoison(reinterpret_cast<void*>(base), total);  // the OS may map something else here
  os::unmap(reinterpret_cast<void*>(base), total);
}

}  // namespace spaces::detail
