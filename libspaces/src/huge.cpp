// ---------------------------------------------------------------------------
// huge.cpp: huge blocks, each in its own OS mapping.
//
// Blocks above SPACES_OPTION_HUGE_THRESHOLD bypass the slab cache: caching
// them would pin more memory than the cache bound is meant to hold, and the
// mmap/munmap cost is small next to touching that much memory. The mapping
// starts with a slab header like any run, so slab_of() and the granule map
// treat it the same; an alignment above 64 KiB places the header in the slab
// just below the aligned block and trims the mapping around it.
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
  s->slabs = static_cast<std::uint32_t>(total / kSlabSize);
  s->block_size = static_cast<std::uint32_t>(offset);
  s->size = total - offset;
  return s;
}

void huge_unmap(SlabHeader* s) noexcept {
  const std::uintptr_t base = run_base(s);
  const std::size_t total = s->slabs * kSlabSize;
  map_clear(base, s->slabs);
  // A tombstone, so that a second free of the block is named a double free
  // (until the address is ours again, or someone else's: then it reads as a
  // foreign pointer, which it is).
  map_mark(base, 1, Granule::Unmapped, Granule::None);
  unpoison(reinterpret_cast<void*>(base), total);  // the OS may map something else here
  os::unmap(reinterpret_cast<void*>(base), total);
}

}  // namespace spaces::detail
