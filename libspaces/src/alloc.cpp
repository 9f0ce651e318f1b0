// ---------------------------------------------------------------------------
// alloc.cpp: allocation entry points below the C API that are not the small
// fast path (alloc.h:alloc_small): aligned blocks, region dispatch,
// realloc and usable sizes.
//
// An alignment up to 512 bytes is served from a small class whose size is a
// multiple of it (blocks start 512 bytes into the slab, so every block of
// such a class is aligned); larger ones go to spans (span.cpp:alloc_large).
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/alloc.h"
#include "internal/free.h"

namespace spaces::detail {
namespace {

/// The smallest class of at least `size` bytes whose size is a multiple of
/// `align` (<= kHeaderRegion), or kNumClasses.
std::uint32_t aligned_class(std::size_t size, std::size_t align) noexcept {
  for (std::uint32_t c = size_to_class(size); c < kNumClasses; ++c)
    if (class_size(c) % align == 0) return c;
  return kNumClasses;
}

/// How many bytes after p are region memory the heap handed out (for
/// realloc's copy): up to the cursor in the cursor's slab, up to the end of
/// a dedicated span, up to the end of any older slab.
std::size_t region_extent(Shard* sh, const SlabHeader* s, const void* p) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  if (s->slabs > 1 || s->size != 0) return run_base(s) + s->block_size + s->size - a;
  const std::uintptr_t end = run_base(s) + kSlabSize;
  const auto cur = reinterpret_cast<std::uintptr_t>(sh->cursor.cur);
  if (cur > a && cur <= end) return cur - a;
  return end - a;
}

}  // namespace

void* heap_alloc_generic(Heap* h, std::size_t size, std::size_t align) noexcept {
  if (align == 0 || (align & (align - 1)) != 0 || align > SPACES_MAX_ALIGNMENT) {
    record_failure(SPACES_E_INVALID, nullptr, size);
    return nullptr;
  }
  Shard* sh = shard_of(h);
  if (SPACES_UNLIKELY(sh == nullptr)) return nullptr;
  if (h->discipline == SPACES_REGION) return spaces_cursor_alloc(&sh->cursor, size, align);
  if (align <= kMinAlign) {
    if (size <= kMaxSmallSize) return alloc_small(sh, size);
    return alloc_large(h, size, align);
  }
  if (align <= kHeaderRegion && size <= kMaxSmallSize) {
    const std::uint32_t sc = aligned_class(size, align);
    if (sc < kNumClasses) return alloc_class(sh, sc, size);
  }
  return alloc_large(h, size, align);
}

std::size_t block_usable_size(const SlabHeader* s, const void* p) noexcept {
  switch (s->kind) {
    case SlabKind::Small:
      return s->block_size;
    case SlabKind::Large:
    case SlabKind::Huge:
      return run_base(s) + s->block_size + s->size - reinterpret_cast<std::uintptr_t>(p);
    case SlabKind::Region:
    case SlabKind::MiniHost:  // slab_checked gives the mini's header
    case SlabKind::FreeRun:
      return 0;
  }
  return 0;
}

void* heap_realloc(Heap* h, void* p, std::size_t size, std::size_t align) noexcept {
  // Any pointer value may arrive here: look it up in the granule map before
  // reading a header (spaces.h promises EINVAL for a foreign pointer).
  SlabHeader* s = slab_checked(p);
  if (s != nullptr) hardened_check_block(p, "realloc");
  if (s == nullptr || s->heap != h || (s->kind != SlabKind::Region && !is_block_start(s, p))) {
    record_failure(SPACES_E_INVALID, h, size);
    return nullptr;
  }
  if (h->discipline == SPACES_REGION) {
    Shard* sh = s->shard.load(std::memory_order_relaxed);
    const std::size_t avail = region_extent(sh, s, p);
    void* q = heap_alloc_generic(h, size, align);
    if (q != nullptr) std::memcpy(q, p, size < avail ? size : avail);
    return q;
  }
  const std::size_t usable = block_usable_size(s, p);
  const bool aligned = (reinterpret_cast<std::uintptr_t>(p) & (align - 1)) == 0;
  // A span or huge block that stays large resizes without a copy if it can.
  if (aligned && s->kind != SlabKind::Small && size > kMaxSmallSize) {
    bool refused = false;
    if (void* q = resize_large(h, s, size, align, &refused)) return q;
    if (refused) return nullptr;
  }
  // In place when the block still fits and is not more than twice too big,
  // and its alignment is what was asked for.
  if (size <= usable && size >= usable / 2 && aligned) {
    poison_alloc(p, size, usable);
    vg_resize(h, p, size);
    return p;
  }
  void* q = heap_alloc_generic(h, size, align);
  if (q == nullptr) return nullptr;
  unpoison(p, usable);  // the old request size is unknown: copy the whole block
  std::memcpy(q, p, size < usable ? size : usable);
  free_block(p);
  return q;
}

}  // namespace spaces::detail
