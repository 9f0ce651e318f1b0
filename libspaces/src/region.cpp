// ---------------------------------------------------------------------------
// region.cpp: the slow path of region (bump) heaps.
//
// The fast path is spaces_cursor_alloc, inline in spaces.h: LLVM's
// BumpPtrAllocator::Allocate, a compare and two stores. This file opens the
// next slab when the cursor's slab is exhausted (the rest of the old one is
// left unused: at most half a slab, since bigger requests never take this
// path) and gives requests above half a slab a dedicated span, or a huge
// mapping, so they never waste a slab's tail. Region blocks are never freed
// one by one; reset and destroy release whole slabs.
// ---------------------------------------------------------------------------
#include "internal/internal.h"

namespace spaces::detail {
namespace {

/// Requests above this get their own span instead of the cursor's slab.
constexpr std::size_t kRegionSpanThreshold = kSlabUsable / 2;

void add_run(Shard* sh, SlabHeader* s) noexcept {
  Heap* h = sh->heap;
  if (h->single) {
    sh->runs.push_front(s);
  } else {
    LockGuard guard(h->lock);
    sh->runs.push_front(s);
  }
  sh->run_slabs += s->slabs;
}

void* dedicated_span(Shard* sh, std::size_t size, std::size_t align) noexcept {
  Heap* h = sh->heap;
  const std::size_t offset = align <= kHeaderRegion ? kHeaderRegion : (align <= kSlabSize ? align : kSlabSize);
  if (size > SIZE_MAX / 2 - offset) {
    record_failure(SPACES_E_NOMEM, h, size);
    return nullptr;
  }
  SlabHeader* s;
  if (offset + size > static_cast<std::size_t>(option(SPACES_OPTION_HUGE_THRESHOLD))) {
    const std::size_t total = (offset + size + kSlabMask) & ~kSlabMask;
    if (!charge(h, total, size)) return nullptr;
    int err = 0;
    s = huge_map(size, align, &err);
    if (s == nullptr) {
      heap_uncharge(h, total);
      record_failure(SPACES_E_NOMEM, h, size);
      return nullptr;
    }
    s->heap = h;
    s->heap_gen = h->gen;
    s->kind = SlabKind::Region;
    s->shard.store(sh, std::memory_order_relaxed);
    // Huge region blocks go with the heap's huge mappings: unmapped, not cached.
    LockGuard guard(h->lock);
    h->huge.push_front(s);
  } else {
    const std::size_t slabs = (offset + size + kSlabMask) >> kSlabShift;
    s = acquire_run(h, slabs, align, offset, size);
    if (s == nullptr) return nullptr;
    s->magic = kSlabMagic;
    s->kind = SlabKind::Region;
    s->shard.store(sh, std::memory_order_relaxed);
    s->block_size = static_cast<std::uint32_t>(offset);
    s->size = slabs * kSlabSize - offset;
    add_run(sh, s);
  }
  char* block = reinterpret_cast<char*>(run_base(s) + offset);
  unpoison(block, s->size);
  vg_alloc(h, block, s->size);  // like a region slab: open until reset (realloc copies up to its end)
  sh->cursor.count++;
  sh->cursor.requested += size;
  sh->region_spans_bytes += size;
  return block;
}

}  // namespace

void* region_alloc_slow(Shard* sh, std::size_t size, std::size_t align) noexcept {
  if (align == 0 || (align & (align - 1)) != 0 || align > SPACES_MAX_ALIGNMENT) {
    record_failure(SPACES_E_INVALID, nullptr, size);
    return nullptr;
  }
  if (size == 0) size = 1;  // a unique address, as malloc(0) gives
  if (size > kRegionSpanThreshold || size + align - 1 > kRegionSpanThreshold) return dedicated_span(sh, size, align);
  // The request fits a fresh slab (the cursor's one, if it had room, was
  // taken by the inline path unless size was 0).
  if (sh->cursor.end != nullptr) {
    const std::uintptr_t p = (reinterpret_cast<std::uintptr_t>(sh->cursor.cur) + align - 1) & ~(align - 1);
    const auto e = reinterpret_cast<std::uintptr_t>(sh->cursor.end);
    if (p < e && size <= e - p) {
      sh->cursor.cur = reinterpret_cast<char*>(p + size);
      sh->cursor.count++;
      sh->cursor.requested += size;
      return reinterpret_cast<void*>(p);
    }
  }
  Heap* h = sh->heap;
  SlabHeader* s = acquire_run(h, 1, kSlabSize, 0, size);
  if (s == nullptr) return nullptr;
  s->magic = kSlabMagic;
  s->kind = SlabKind::Region;
  s->shard.store(sh, std::memory_order_relaxed);
  add_run(sh, s);
  // Region blocks carry no per-block poisoning (the inline path could not
  // unpoison them): the slab is open until reset or destroy poisons it.
  unpoison(slab_blocks(s), kSlabUsable);
  vg_alloc(h, slab_blocks(s), kSlabUsable);  // one chunk: blocks are not tracked one by one
  const std::uintptr_t p = (reinterpret_cast<std::uintptr_t>(slab_blocks(s)) + align - 1) & ~(align - 1);
  sh->cursor.cur = reinterpret_cast<char*>(p + size);
  sh->cursor.end = reinterpret_cast<char*>(run_base(s) + kSlabSize);
  sh->cursor.count++;
  sh->cursor.requested += size;
  return reinterpret_cast<void*>(p);
}

}  // namespace spaces::detail
