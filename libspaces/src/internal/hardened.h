// ---------------------------------------------------------------------------
// internal/hardened.h: the checks of the hardened build, inline where they run
// on every allocation and free (hardened.cpp explains the design and holds
// the side table and the reports).
//
// A small block's state lives in two bitmaps per slab, one bit per 16 bytes:
// `live` (set while handed out; written by the slab's owner) and `pending`
// (set by a thread that frees a block it does not own, cleared by the owner
// when it takes the block back). A free block also carries a canary in its
// second word. Everything that can fail calls a cold report in hardened.cpp,
// so the inline parts are loads, compares and one store. In the release
// build every function here is an empty inline.
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_HARDENED_H
#define SPACES_INTERNAL_HARDENED_H

#include <atomic>
#include <cstdint>

#include "config.h"
#include "granule_map.h"
#include "types.h"

namespace spaces::detail {

#if SPACES_HARDENED

struct SlabBits {
  static constexpr std::size_t kWords = kSlabSize / kMinAlign / 64;
  std::atomic<std::uint64_t> live[kWords];
  std::atomic<std::uint64_t> pending[kWords];
};
static_assert(sizeof(SlabBits) == 1024, "two bitmaps of one bit per 16 bytes of a slab");

/// One block's bit: its word in both bitmaps and the mask. (Plain fields, no
/// member functions: it lives on the stack of no_sanitize functions, where
/// an instrumented accessor would see a stale use-after-scope poisoning.)
struct BitRef {
  SlabBits* bits;
  std::size_t word;
  std::uint64_t mask;
};

/// A small slab's bitmaps are found through its header (set when it opens).
SPACES_ALWAYS_INLINE BitRef bit_of(const SlabHeader* s, const void* b) noexcept {
  const std::size_t i = (reinterpret_cast<std::uintptr_t>(b) - run_base(s)) >> 4;
  return BitRef{static_cast<SlabBits*>(s->block_bits), i / 64, std::uint64_t{1} << (i % 64)};
}

// A free block's second word holds a canary that depends on its address,
// written when the block is freed or carved and checked when it is handed
// out: a write after free into the first 16 bytes is reported instead of
// handing out damaged memory. Plain word accesses: the block is poisoned in
// ASan builds, and these run in no_sanitize functions.
inline constexpr std::uintptr_t kCanaryKey = 0xF5EEB10C5CA9A21Dull;
SPACES_ALWAYS_INLINE std::uintptr_t canary_of(const void* b) noexcept {
  return reinterpret_cast<std::uintptr_t>(b) ^ kCanaryKey;
}
SPACES_ALWAYS_INLINE std::uintptr_t read_canary(const void* b) noexcept {
  return reinterpret_cast<const std::uintptr_t*>(b)[1];
}
SPACES_ALWAYS_INLINE void write_canary(const void* b) noexcept {
  reinterpret_cast<std::uintptr_t*>(const_cast<void*>(b))[1] = canary_of(b);
}

/// Whether b is the start of a carved block of the small slab s.
SPACES_ALWAYS_INLINE bool small_block_start(const SlabHeader* s, const void* b) noexcept {
  const std::uintptr_t off = reinterpret_cast<std::uintptr_t>(b) - reinterpret_cast<std::uintptr_t>(slab_blocks(s));
  if (off >= kSlabUsable) return false;  // before the blocks wraps around too
  const auto d = static_cast<std::uint32_t>(off);
  const std::uint32_t i = block_index(s->size_class, d);
  return i * s->block_size == d && i < s->carved;
}

// ---- Reports (hardened.cpp; cold, they abort) ---------------------------------
[[noreturn]] SPACES_COLD void hardened_report_bad_pointer(const void* p, const char* what) noexcept;
[[noreturn]] SPACES_COLD void hardened_report_freed(const SlabHeader* s, const void* p, const char* what) noexcept;
[[noreturn]] SPACES_COLD void hardened_report_alloc(const SlabHeader* s, const void* b) noexcept;

/// Checks a pointer given to free/delete/realloc/usable_size (`what` names
/// the call): a live block of a live heap, or an abort naming the pointer.
SPACES_ALWAYS_INLINE SPACES_NO_SANITIZE_ADDRESS void hardened_check_block(const void* p, const char* what) noexcept {
  const SlabHeader* s = slab_checked(p);
  if (SPACES_UNLIKELY(s == nullptr)) hardened_report_bad_pointer(p, what);
  const Heap* h = s->heap;
  if (SPACES_UNLIKELY(h == nullptr || h->magic != kHeapMagic || s->heap_epoch != h->epoch))
    hardened_report_bad_pointer(p, what);
  if (s->kind != SlabKind::Small) {
    if (SPACES_UNLIKELY(!is_block_start(s, p))) hardened_report_bad_pointer(p, what);
    return;
  }
  if (SPACES_UNLIKELY(!small_block_start(s, p))) hardened_report_bad_pointer(p, what);
  const BitRef r = bit_of(s, p);
  if (SPACES_UNLIKELY((r.bits->live[r.word].load(std::memory_order_relaxed) & r.mask) == 0 ||
                      (r.bits->pending[r.word].load(std::memory_order_relaxed) & r.mask) != 0))
    hardened_report_freed(s, p, what);
}

/// The owner hands out block b (before its link is read: b may be a
/// corrupted list's garbage).
SPACES_ALWAYS_INLINE SPACES_NO_SANITIZE_ADDRESS void hardened_on_alloc(const SlabHeader* s, const void* b) noexcept {
  if (SPACES_UNLIKELY(!small_block_start(s, b) || read_canary(b) != canary_of(b))) hardened_report_alloc(s, b);
  const BitRef r = bit_of(s, b);
  const std::uint64_t live = r.bits->live[r.word].load(std::memory_order_relaxed);
  if (SPACES_UNLIKELY(((live | r.bits->pending[r.word].load(std::memory_order_relaxed)) & r.mask) != 0))
    hardened_report_alloc(s, b);
  r.bits->live[r.word].store(live | r.mask, std::memory_order_relaxed);
}

/// The owner takes b back (a local free, or a block of the delayed list).
SPACES_ALWAYS_INLINE SPACES_NO_SANITIZE_ADDRESS void hardened_on_owner_free(const SlabHeader* s, const void* b) noexcept {
  write_canary(b);
  const BitRef r = bit_of(s, b);
  r.bits->live[r.word].store(r.bits->live[r.word].load(std::memory_order_relaxed) & ~r.mask, std::memory_order_relaxed);
  if (SPACES_UNLIKELY((r.bits->pending[r.word].load(std::memory_order_relaxed) & r.mask) != 0))
    r.bits->pending[r.word].fetch_and(~r.mask, std::memory_order_relaxed);  // it came through the delayed list
}

/// Another thread frees b, before publishing it; the loser of two threads
/// freeing the same block at once aborts here.
SPACES_ALWAYS_INLINE SPACES_NO_SANITIZE_ADDRESS void hardened_on_remote_free(const SlabHeader* s, const void* b) noexcept {
  const BitRef r = bit_of(s, b);
  if (SPACES_UNLIKELY((r.bits->pending[r.word].fetch_or(r.mask, std::memory_order_relaxed) & r.mask) != 0))
    hardened_report_freed(s, b, "free");
  write_canary(b);
}

/// A block is carved into a slab's free list.
SPACES_ALWAYS_INLINE SPACES_NO_SANITIZE_ADDRESS void hardened_on_carve(const void* b) noexcept { write_canary(b); }

/// Whether b may be on s's remote list (on the block grid, pending).
SPACES_ALWAYS_INLINE SPACES_NO_SANITIZE_ADDRESS bool hardened_block_ok(const SlabHeader* s, const Block* b) noexcept {
  if (!small_block_start(s, b)) return false;
  const BitRef r = bit_of(s, b);
  return (r.bits->pending[r.word].load(std::memory_order_relaxed) & r.mask) != 0;
}

/// A small slab is opened: its bitmaps are found (the side table grows on
/// demand) and cleared. False when the OS refused memory for the table.
bool hardened_slab_open(SlabHeader* s) noexcept;
/// The owner took n blocks from the remote list starting at `list`.
void hardened_collected(SlabHeader* s, Block* list, std::uint32_t n) noexcept;

#else

inline void hardened_check_block(const void*, const char*) noexcept {}
inline bool hardened_slab_open(SlabHeader*) noexcept { return true; }
inline void hardened_on_carve(const void*) noexcept {}
inline void hardened_on_alloc(const SlabHeader*, const void*) noexcept {}
inline void hardened_on_owner_free(const SlabHeader*, const void*) noexcept {}
inline void hardened_on_remote_free(const SlabHeader*, const void*) noexcept {}
inline bool hardened_block_ok(const SlabHeader*, const Block*) noexcept { return true; }
inline void hardened_collected(SlabHeader*, Block*, std::uint32_t) noexcept {}

#endif

}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_HARDENED_H
