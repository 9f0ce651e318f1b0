// ---------------------------------------------------------------------------
// region.cpp: the slow path of region (bump) heaps.
//
// The fast path is spaces_cursor_alloc, inline in spaces.h: LLVM's
// BumpPtrAllocator::Allocate, a compare and two stores. This file opens the
// next slab when the cursor's slab is exhausted (the rest of the old one is
// left unused: at most half a slab, since bigger requests never take this
// path) and gives requests above half a slab a dedicated span, or a huge
// mapping, so they never waste a slab's tail. Region blocks are never freed
// one by one; reset and destroy release whole slabs, and a rewind releases
// the slabs opened since a mark.
//
// Marks. A shard's runs list is in the order the region opened them, newest
// first, so a mark is the list's front, the cursor and the totals; a rewind
// pops runs until that front reappears. Live marks are a stack per shard
// (`marks`); a mark handed out is its index and a serial unique in the process,
// so a mark that a rewind, reset or destroy ended, or another thread's or
// heap's, or garbage, is refused without being followed anywhere.
// ---------------------------------------------------------------------------
#include <cstring>

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
  SPACES_ASSERT_INTERNAL(s->block_size >= kHeaderRegion);  // a span, not a window (release_run)
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
  s->block_size = 0;  // a window slab (a span's is its block's offset)
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

// ---- Marks ------------------------------------------------------------------------

namespace {

constexpr std::uint32_t kMaxMarks = 0xFFFF;  // the index field of a mark's value
constexpr unsigned kMarkIndexBits = 16;

/// Serials of marks, unique in the process: a mark of one heap or thread
/// never matches another's stack.
constinit std::atomic<std::uint64_t> g_mark_serial{0};

/// The live mark `value` names in sh's stack, or nullptr.
RegionMark* live_mark(Shard* sh, std::uint64_t value) noexcept {
  const auto index = static_cast<std::uint32_t>(value & ((1u << kMarkIndexBits) - 1));
  const std::uint64_t serial = value >> kMarkIndexBits;
  if (index >= sh->mark_depth || serial == 0 || sh->marks[index].serial != serial) return nullptr;
  return &sh->marks[index];
}

/// Bytes of a mark stack of `capacity` marks: whole pages.
std::size_t stack_bytes(std::uint32_t capacity) noexcept {
  const std::size_t page = os::page_size();
  return (capacity * sizeof(RegionMark) + page - 1) / page * page;
}

/// Room for one more live mark. The stack lives in pages of its own (not
/// meta.cpp's size buckets: it grows by doubling, and each size would take
/// a bucket), doubling up to the 65,535 marks a value can name.
bool grow_marks(Shard* sh) noexcept {
  if (sh->mark_depth < sh->mark_capacity) return true;
  if (sh->mark_capacity >= kMaxMarks) return false;
  const std::uint32_t want = sh->mark_capacity == 0 ? 1 : sh->mark_capacity * 2;
  const std::size_t bytes = stack_bytes(want > kMaxMarks ? kMaxMarks : want);
  void* p = nullptr;
  if (os::map_aligned(bytes, os::page_size(), &p) != 0) return false;
  auto* marks = static_cast<RegionMark*>(p);
  if (sh->marks != nullptr) {
    std::memcpy(static_cast<void*>(marks), sh->marks, sh->mark_depth * sizeof(RegionMark));
    os::unmap(sh->marks, stack_bytes(sh->mark_capacity));
  }
  sh->marks = marks;
  const std::size_t fits = bytes / sizeof(RegionMark);
  sh->mark_capacity = static_cast<std::uint32_t>(fits > kMaxMarks ? kMaxMarks : fits);
  return true;
}

/// The shard's newest huge region span (heap lock held).
SlabHeader* newest_huge_locked(Heap* h, const Shard* sh) noexcept {
  for (SlabHeader* s = h->huge.front(); s != nullptr; s = s->next)
    if (s->shard.load(std::memory_order_relaxed) == sh) return s;
  return nullptr;
}

/// Hands a run a rewind popped back to the memory checkers: a window slab
/// was one chunk, a span one block.
void forget_run(Heap* h, SlabHeader* s) noexcept {
  vg_free(h, s->block_size == 0 ? static_cast<void*>(slab_blocks(s))
                                : reinterpret_cast<void*>(run_base(s) + s->block_size));
}

/// Takes off the shard's runs and huge spans newer than m (heap lock held
/// for a multi-threaded heap): runs to `gone`, huge spans to `huge`.
void unlink_since(Shard* sh, const RegionMark& m, RunList* gone, RunList* huge) noexcept {
  Heap* h = sh->heap;
  while (sh->runs.front() != m.front) {
    SlabHeader* s = sh->runs.pop_front();
    SPACES_ASSERT(s != nullptr);  // the mark's front is on the list: its serial said so
    sh->run_slabs -= s->slabs;
    forget_run(h, s);
    gone->push_front(s);
  }
  for (SlabHeader* s = h->huge.front(); s != nullptr && s != m.huge;) {
    SlabHeader* next = s->next;
    if (s->shard.load(std::memory_order_relaxed) == sh) {
      h->huge.remove(s);
      huge->push_front(s);
    }
    s = next;
  }
}

}  // namespace

spaces_status_t region_mark(Shard* sh, std::uint64_t* out) noexcept {
  Heap* h = sh->heap;
  if (!grow_marks(sh)) return SPACES_E_NOMEM;
  RegionMark& m = sh->marks[sh->mark_depth];
  m.serial = g_mark_serial.fetch_add(1, std::memory_order_relaxed) + 1;
  m.front = sh->runs.front();
  {
    LockGuard guard(h->lock);
    m.huge = newest_huge_locked(h, sh);
  }
  m.cursor = sh->cursor;
  m.blocks = sh->region_blocks.load(std::memory_order_relaxed);
  m.bytes = sh->region_bytes.load(std::memory_order_relaxed);
  *out = (m.serial << kMarkIndexBits) | sh->mark_depth;
  sh->mark_depth++;
  return SPACES_OK;
}

bool region_mark_live(Shard* sh, std::uint64_t value) noexcept { return live_mark(sh, value) != nullptr; }

spaces_status_t region_rewind(Shard* sh, std::uint64_t value) noexcept {
  const RegionMark* live = live_mark(sh, value);
  if (live == nullptr) return SPACES_E_INVALID;
  const RegionMark m = *live;
  sh->mark_depth = static_cast<std::uint32_t>(live - sh->marks) + 1;
  Heap* h = sh->heap;
  RunList gone, huge;
  const std::size_t before = sh->run_slabs;
  {
    LockGuard guard(h->lock);  // the runs list (multi-threaded heaps) and the huge list
    unlink_since(sh, m, &gone, &huge);
  }
  const std::size_t slabs = before - sh->run_slabs;
  cache_release_list(gone, slabs);
  std::size_t bytes = slabs * kSlabSize;
  while (SlabHeader* s = huge.pop_front()) {
    bytes += s->slabs * kSlabSize;
    vg_free(h, reinterpret_cast<void*>(run_base(s) + s->block_size));
    huge_unmap(s);
  }
  heap_uncharge(h, bytes);
  sh->cursor = m.cursor;
  sh->region_blocks.store(m.blocks, std::memory_order_relaxed);
  sh->region_bytes.store(m.bytes, std::memory_order_relaxed);
  return SPACES_OK;
}

void region_free_marks(Shard* sh) noexcept {
  if (sh->marks != nullptr) os::unmap(sh->marks, stack_bytes(sh->mark_capacity));
  sh->marks = nullptr;
  sh->mark_depth = 0;
  sh->mark_capacity = 0;
}

}  // namespace spaces::detail
