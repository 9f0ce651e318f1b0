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
#include "internal/heap.h"

namespace spaces::detail {
namespace {

/// Requests above this get their own span instead of the cursor's slab.
constexpr std::size_t kRegionSpanThreshold = SPACES_REGION_SPAN_THRESHOLD;
static_assert(kRegionSpanThreshold == kSlabUsable / 2, "half a slab's usable bytes");

/// Adds to the shard's region totals (owner thread; stats read them).
void count(Shard* sh, std::uint64_t blocks, std::uint64_t bytes) noexcept {
  sh->region_blocks.store(sh->region_blocks.load(std::memory_order_relaxed) + blocks, std::memory_order_relaxed);
  sh->region_bytes.store(sh->region_bytes.load(std::memory_order_relaxed) + bytes, std::memory_order_relaxed);
}

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
  SlabHeader* s = acquire_block_run(h, size, align, SlabKind::Region);
  if (s == nullptr) return nullptr;
  const bool huge = s->kind == SlabKind::Huge;
  s->kind = SlabKind::Region;
  s->shard.store(sh, std::memory_order_relaxed);
  if (huge) {
    // With the heap's huge mappings: unmapped at teardown, not cached.
    LockGuard guard(h->lock);
    h->huge.push_front(s);
  } else {
    add_run(sh, s);
  }
  char* block = reinterpret_cast<char*>(run_base(s) + s->block_size);
  unpoison(block, s->size);  // like a region slab: open until reset (realloc copies up to its end)
  vg_alloc(h, block, s->size);
  return block;
}

}  // namespace

namespace {

bool bad_alignment(std::size_t align) noexcept {
  return align == 0 || (align & (align - 1)) != 0 || align > SPACES_MAX_ALIGNMENT;
}

}  // namespace

void* region_span(Shard* sh, std::size_t size, std::size_t align) noexcept {
  if (bad_alignment(align)) {
    record_failure(SPACES_E_INVALID, nullptr, size);
    return nullptr;
  }
  if (size == 0) size = 1;  // counted as one byte, as everywhere else
  void* block = dedicated_span(sh, size, align);
  if (block != nullptr) count(sh, 1, size);
  return block;
}

spaces_window_t region_refill(Shard* sh, char* cur, char* end, std::uint64_t tally, std::size_t size,
                              std::size_t align) noexcept {
  // The window's tally goes into the totals (the caller starts a new one).
  count(sh, tally_blocks(tally), tally_bytes(tally));
  if (bad_alignment(align)) {
    record_failure(SPACES_E_INVALID, nullptr, size);
    return spaces_window_t{nullptr, nullptr};
  }
  if (size == 0) size = 1;  // a unique address, as malloc(0) gives
  SPACES_ASSERT(size + align - 1 <= kRegionSpanThreshold);  // larger ones go to region_span
  // A 0-byte request skips the inline path even when the window has room.
  if (end != nullptr) {
    const std::uintptr_t p = (reinterpret_cast<std::uintptr_t>(cur) + align - 1) & ~(align - 1);
    const auto e = reinterpret_cast<std::uintptr_t>(end);
    if (p < e && size <= e - p) {
      count(sh, 1, size);
      return spaces_window_t{reinterpret_cast<char*>(p + size), end};
    }
  }
  Heap* h = sh->heap;
  SlabHeader* s = acquire_run(h, 1, kSlabSize, 0, size);
  if (s == nullptr) return spaces_window_t{nullptr, nullptr};
  s->magic = kSlabMagic;
  s->kind = SlabKind::Region;
  s->shard.store(sh, std::memory_order_relaxed);
  add_run(sh, s);
  // Region blocks carry no per-block poisoning (the inline path could not
  // unpoison them): the slab is open until reset or destroy poisons it.
  unpoison(slab_blocks(s), kSlabUsable);
  vg_alloc(h, slab_blocks(s), kSlabUsable);  // one chunk: blocks are not tracked one by one
  const std::uintptr_t p = (reinterpret_cast<std::uintptr_t>(slab_blocks(s)) + align - 1) & ~(align - 1);
  count(sh, 1, size);
  return spaces_window_t{reinterpret_cast<char*>(p + size), reinterpret_cast<char*>(run_base(s) + kSlabSize)};
}

}  // namespace spaces::detail
