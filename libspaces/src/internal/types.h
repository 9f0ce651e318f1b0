// ---------------------------------------------------------------------------
// types.h: libspaces data structures and their invariants.
//   SlabHeader   128 bytes in the first 512 of every 64 KiB slab or span; found
//                from any block by slab_of(p), which masks p - 1
//   Shard        one thread's view of one heap: current slab per size class,
//                partial queues, the region cursor, the runs it holds
//   Heap         owns shards, large spans and huge mappings, a footprint cap,
//                stats and children; destroy() is O(shards + spans)
//   ThreadCtx    per-thread state: the owner tag, a heap -> shard cache
//   Block        a free block: its first word links the free list
// Vocabulary: "page" always means an OS page; our unit is the "slab"; a "run"
// is n >= 1 contiguous slabs with one header at its start (a slab, a span, a
// free run in the slab cache).
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_TYPES_H
#define SPACES_INTERNAL_TYPES_H

#include <spaces/spaces.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "../ds/list.hpp"
#include "../ds/size_class.hpp"
#include "../ds/spinlock.hpp"
#include "config.h"
#include "poison.h"

namespace spaces::detail {

/// Adds to a counter that one thread writes and others read (statistics): a
/// load and a store, no read-modify-write.
template <class T>
SPACES_ALWAYS_INLINE void add_counter(std::atomic<T>& c, T delta) noexcept {
  c.store(c.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

// ---- Geometry -------------------------------------------------------------

inline constexpr std::size_t kSlabShift = 16;
inline constexpr std::size_t kSlabSize = std::size_t{1} << kSlabShift;
inline constexpr std::uintptr_t kSlabMask = kSlabSize - 1;
static_assert(kSlabSize == SPACES_SLAB_SIZE && kSlabSize == 64 * 1024, "slab_of() masks it");

/// Bytes at the start of each slab reserved for its header; small blocks and
/// default-aligned large blocks start right after.
inline constexpr std::size_t kHeaderRegion = 512;
/// The header sits at one of kHeaderColors 128-byte slots of the header
/// region, picked by bits 16-17 of the slab address: 64 KiB-aligned headers
/// would otherwise all map to the same L1 set (a measurement found ~3.4 ns
/// per free in random order across slabs; coloring halved it).
inline constexpr std::size_t kHeaderStride = 128;
inline constexpr std::size_t kHeaderColors = kHeaderRegion / kHeaderStride;
static_assert(kHeaderColors == 4, "slab_of() computes the color with a 2-bit mask");
inline constexpr std::size_t kSlabUsable = kSlabSize - kHeaderRegion;
static_assert(2 * kMaxSmallSize <= kSlabUsable, "the largest class fits twice in a slab");

/// Small blocks are at least this aligned (every class is a multiple of 16).
inline constexpr std::size_t kMinAlign = 16;


// ---- SlabHeader ----------------------------------------------------------------

enum class SlabKind : std::uint8_t {
  FreeRun = 0,  ///< in the slab cache
  Small = 1,    ///< carved into blocks of one size class (general heaps)
  Region = 2,   ///< bump-allocated by a region cursor, or a region's dedicated span
  Large = 3,    ///< one block of a general heap spanning one or more slabs
  Huge = 4,     ///< one block in its own OS mapping
  /// A slab cut into mini slabs (mini.cpp) for the first blocks of small
  /// heaps: its blocks' headers are found by a second mask (block_of)
  MiniHost = 5,
};

/// The owner word of a small slab: the owning thread's tag (the thread
/// pointer, 64-byte aligned) or'ed with these flags. Any other slab kind and
/// an abandoned small slab hold 0, which no thread's tag equals, so the free
/// fast path's single compare `owner == tag` sends them all to free_generic.
/// The word is the owner's private view: only the owner (or, for an
/// abandoned shard, the holder of the heap lock) writes it; other threads
/// only compare it with their tag. What other threads must agree on lives
/// in the remote word below.
inline constexpr std::uintptr_t kOwnerFull = 1;  ///< not on its partial queue nor current
inline constexpr std::uintptr_t kOwnerSlow = 2;  ///< junk-fill mode: every free is slow
inline constexpr std::uintptr_t kOwnerFlags = kOwnerFull | kOwnerSlow;

// ---- The remote word ---------------------------------------------------------
//
// SlabHeader::remote is the only field of a small slab that threads other
// than the owner write. One 64-bit word holds the list of blocks they freed
// and the slab's FULL state, so that a single compare-and-swap decides every
// race between a remote free and the owner (remote.cpp has the protocol and
// docs/design.md the argument):
//
//   bits  0..3   flags: kRemoteFull
//   bits  4..15  the list's first block, as its offset from the run base
//                (blocks are 16-aligned and at least 512 bytes in; 0 = empty)
//   bits 16..31  how many blocks the list holds (<= capacity <= 4064)
//   bits 32..63  zero
//
// kRemoteFull is set by the owner only on an empty list (CAS 0 -> FULL) when
// the slab has no free block left and leaves every queue. It says "the owner
// will not look at this slab again unless told". The first remote freer that
// sees it clears it (CAS FULL -> 0) *instead of* pushing its block, and hands
// the block to the owner through the shard's delayed list. So FULL and a
// non-empty list never coexist, and the count bounds every walk of the list.
inline constexpr std::uint64_t kRemoteFull = 1;
inline constexpr std::uint64_t kRemoteHeadMask = 0xFFF0;
inline constexpr unsigned kRemoteCountShift = 16;
inline constexpr std::uint64_t kRemoteCountMask = 0xFFFF;

SPACES_ALWAYS_INLINE std::uint32_t remote_count(std::uint64_t w) noexcept {
  return static_cast<std::uint32_t>((w >> kRemoteCountShift) & kRemoteCountMask);
}
SPACES_ALWAYS_INLINE std::uint32_t remote_head_offset(std::uint64_t w) noexcept {
  return static_cast<std::uint32_t>(w & kRemoteHeadMask);
}

/// SlabHeader::flags
inline constexpr std::uint8_t kSlabSingleThreaded = 1;  ///< heap is single-threaded: frees are local
inline constexpr std::uint8_t kSlabCold = 2;            ///< free run: decommitted or never touched
/// Large/Huge: the block's memory was never written when it was handed out
/// (a fresh OS mapping), so calloc need not clear it.
inline constexpr std::uint8_t kSlabZeroed = 4;
/// Large, when handed out, and cold free runs: every byte is zero but the
/// first page of each slab (slab_cache.cpp: Temp::ColdZero), so calloc
/// clears those pages only.
inline constexpr std::uint8_t kSlabZeroTails = 8;
/// Small: a mini slab of a mini host (mini.cpp), not a slab of its own.
inline constexpr std::uint8_t kSlabMini = 16;

inline constexpr std::uint32_t kSlabMagic = 0x5A1AB5EDu;
inline constexpr std::uint32_t kFreeRunMagic = 0xF4EE4B15u;

struct Shard;
struct Heap;

// SlabHeader. Invariants (slab_is_valid(), checked by SPACES_ASSERT_EXPENSIVE):
//   slab_of(p) == this for every block p handed out from this run
//   Small:  used == carved - |free| - |local_free|   (slab_is_valid)
//           blocks on the remote list, or on their way to the owner through
//           a shard's delayed list, still count as used until the owner
//           takes them: a slab with used == 0 has no free in flight
//           remote_count(remote) == |remote list| <= capacity
//           (remote & kRemoteFull) => the remote list is empty and (owner & kOwnerFull)
//           capacity == kSlabUsable / block_size, carved <= capacity
//           owner & ~kOwnerFlags == shard->tag, or 0 once the shard is abandoned
//           (owner & kOwnerFull) <=> the slab is not on shard->partial[size_class]
//           and is not shard->current[size_class]
//   Large:  block at base + block_size (the offset), size usable bytes,
//           slabs * kSlabSize == block_size + size
//   Huge:   as Large; the run is an OS mapping of `size + block_size` bytes
//   every run a heap holds is charged to heap->footprint (cap.cpp:charge)
// Layout: line 0 holds everything the alloc and free fast paths touch
// (alloc.h:alloc_small, free.h:free_block); line 1 the list links and
// the slow-path fields.
struct alignas(64) SlabHeader {
  // ---- line 0: fast paths
  Block* free;                       ///< allocation list; owner thread only
  Block* local_free;                 ///< blocks freed by the owner thread
  std::atomic<std::uint32_t> used;   ///< blocks out (relaxed: stats read it)
  std::uint32_t block_size;          ///< Small: class size; Large/Huge: offset of the block
  std::atomic<std::uintptr_t> owner; ///< see kOwnerFull
  std::atomic<std::uint64_t> remote; ///< the remote word: other threads' frees, FULL (remote.cpp)
  std::atomic<std::uint64_t> frees;  ///< local frees + collected remote frees (stats)
  std::atomic<Shard*> shard;         ///< the shard that owns a Small/Region slab
  SlabKind kind;
  std::uint8_t size_class;
  std::uint8_t flags;
  std::uint8_t reserved;
  std::uint32_t magic;                 ///< kSlabMagic, or kFreeRunMagic in the cache

  // ---- line 1: lists and slow paths
  SlabHeader* next;   ///< runs list of a shard/heap, or a slab cache list
  SlabHeader* prev;
  SlabHeader* qnext;  ///< shard->partial[size_class] (Small only)
  SlabHeader* qprev;
  Heap* heap;
  std::uint32_t slabs;    ///< run length in slabs
  std::uint16_t capacity; ///< Small: blocks that fit
  std::uint16_t carved;   ///< Small: blocks carved so far (lazily, slab.cpp:carve)
  union {
    std::size_t size;          ///< Large/Huge/Region span: usable bytes of the block
    std::uint64_t stamp;       ///< FreeRun in a bin: os::now_ms() when binned
    void* block_bits;          ///< Small, hardened builds: the slab's bitmaps (hardened.cpp)
  };
  /// heap->epoch when the run was handed out. Last: in the fourth color slot
  /// it ends where the first block begins, so a write just before a block
  /// lands here, where the hardened build notices it (hardened.cpp), rather
  /// than in a size or a list link.
  std::uint64_t heap_epoch;
};
static_assert(sizeof(SlabHeader) == kHeaderStride, "a header fills one color slot");
static_assert(offsetof(SlabHeader, next) == 64, "fast-path fields fill line 0");
static_assert(offsetof(SlabHeader, heap_epoch) == kHeaderStride - 8, "the epoch ends the header");

using RunList = IntrusiveList<SlabHeader, &SlabHeader::next, &SlabHeader::prev>;
using ClassQueue = IntrusiveList<SlabHeader, &SlabHeader::qnext, &SlabHeader::qprev>;

/// The header of the run holding block p: mask p - 1 (so a block that starts
/// exactly at a slab boundary, as 64 KiB-aligned blocks do, finds the header
/// of the slab before it), then add the color offset. No load.
SPACES_ALWAYS_INLINE SlabHeader* slab_of(const void* p) noexcept {
  const std::uintptr_t base = (reinterpret_cast<std::uintptr_t>(p) - 1) & ~kSlabMask;
  return reinterpret_cast<SlabHeader*>(base + ((base >> (kSlabShift - 7)) & 0x180));
}
/// The header of the run starting at `base` (64 KiB-aligned).
SPACES_ALWAYS_INLINE SlabHeader* header_at(std::uintptr_t base) noexcept {
  return reinterpret_cast<SlabHeader*>(base + ((base >> (kSlabShift - 7)) & 0x180));
}
static_assert(((std::uintptr_t{3} << kSlabShift) >> (kSlabShift - 7) & 0x180) == 3 * kHeaderStride,
              "color = bits 16-17 of the slab address, times 128");
/// The 64 KiB-aligned start of the run whose header is h.
SPACES_ALWAYS_INLINE std::uintptr_t run_base(const SlabHeader* h) noexcept {
  return reinterpret_cast<std::uintptr_t>(h) & ~kSlabMask;
}
SPACES_ALWAYS_INLINE char* slab_blocks(const SlabHeader* h) noexcept {
  return reinterpret_cast<char*>(run_base(h) + kHeaderRegion);
}

// ---- Mini slabs ------------------------------------------------------------------
//
// A tiny heap's first blocks come from 4 KiB mini slabs (mini.cpp): a slab
// of kind MiniHost is cut into kMinisPerHost minis, the first of which holds
// the host's own header. A mini is a small slab in everything but its size.
// Its blocks start at the mini's first byte, so a block is as aligned as in
// a slab (a class of a multiple of 512 keeps its 512-byte alignment), and
// its SlabHeader (flag kSlabMini) ends the mini. A block's header is found by
// a second mask once the slab header says MiniHost (block_of); block starts
// are masked as they are (not p - 1), as no block ends a mini. Block offsets
// (the remote word) still count from the host's base, so none is 0. The
// free fast path never sees a mini: a host's owner word is 0, so its blocks
// go to free_generic.
inline constexpr std::size_t kMiniShift = 12;
inline constexpr std::size_t kMiniSize = std::size_t{1} << kMiniShift;
inline constexpr std::uintptr_t kMiniMask = kMiniSize - 1;
inline constexpr std::size_t kMinisPerHost = kSlabSize / kMiniSize;
inline constexpr std::size_t kMiniUsable = kMiniSize - kHeaderStride;
static_assert(kHeaderRegion <= kMiniSize, "the host's header region fits in its first mini");

/// The header of the mini slab holding block p of a mini host.
SPACES_ALWAYS_INLINE SlabHeader* mini_of(const void* p) noexcept {
  return reinterpret_cast<SlabHeader*>((reinterpret_cast<std::uintptr_t>(p) & ~kMiniMask) + kMiniUsable);
}
/// The first block of small slab s, and the bytes its blocks may take.
SPACES_ALWAYS_INLINE char* small_first(const SlabHeader* s) noexcept {
  const auto h = reinterpret_cast<std::uintptr_t>(s);
  return reinterpret_cast<char*>((s->flags & kSlabMini) != 0 ? h & ~kMiniMask : run_base(s) + kHeaderRegion);
}
SPACES_ALWAYS_INLINE std::size_t small_usable(const SlabHeader* s) noexcept {
  return (s->flags & kSlabMini) != 0 ? kMiniUsable : kSlabUsable;
}
/// The header of the run or mini slab that holds block p (slab_of, then the
/// second mask for a mini host's blocks).
SPACES_ALWAYS_INLINE SlabHeader* block_of(const void* p) noexcept {
  SlabHeader* s = slab_of(p);
  return SPACES_UNLIKELY(s->kind == SlabKind::MiniHost) ? mini_of(p) : s;
}

// ---- Shard ------------------------------------------------------------------

// Shard: one thread's part of one heap. Single-threaded heaps have exactly one
// (embedded in the Heap); multi-threaded heaps create one per thread on
// demand (thread.cpp:shard_lookup_slow). Invariants:
//   current[c] is never null: it is &g_empty_slab (free == nullptr) or a
//   Small slab of class c owned by this shard, not full, not on partial[c]
//   every run on `runs` has run->shard == this; its slabs are charged to heap
//   tag == the owning thread's tag, or 0 after the thread exited (abandoned)
//   only the owner thread touches current, partial, cursor and the slabs'
//   free/local_free lists; `runs` changes under heap->lock (multi-threaded);
//   once abandoned (tag 0) the holder of heap->lock acts as the owner
//   every block on `delayed` is a block of a Small slab of this heap that was
//   full when it was freed; it still counts in its slab's `used`
//   direct[i] == current[size_to_class(16 * i)] for every i (set_current)
/// A region shard's position when spaces_region_mark took it (region.cpp):
/// what to keep when spaces_region_rewind returns to it.
struct RegionMark {
  std::uint64_t serial;  ///< unique in the process (region.cpp); 0 never
  SlabHeader* front;     ///< the front of `runs` then: everything in front of it goes
  SlabHeader* huge;      ///< the shard's newest huge region span then (heap->huge), or nullptr
  spaces_cursor_t cursor;
  std::uint64_t blocks;  ///< region_blocks then
  std::uint64_t bytes;   ///< region_bytes then
};

// Layout: `direct` first, so alloc_small reads one indexed word.
struct Shard {
  SlabHeader* direct[kDirectEntries];  ///< current slab by direct_index(size), size <= 1 KiB
  SlabHeader* current[kNumClasses];
  spaces_cursor_t cursor;  ///< region heaps: the bump cursor (public layout)
  /// The owning thread's tag; 0 once abandoned. Written under heap->lock;
  /// read by freers that hand a block over (remote.cpp).
  std::atomic<std::uintptr_t> tag;
  Heap* heap;
  /// Blocks freed by other threads into this shard's full slabs (remote.cpp):
  /// a Treiber stack through the blocks' first words, drained by the owner.
  std::atomic<Block*> delayed;
  /// Blocks pushed on `delayed` and not yet drained (stats; may briefly run
  /// ahead of the list: pushers count before they push).
  std::atomic<std::uint64_t> delayed_count;
  std::atomic<std::uint64_t> delayed_bytes;  ///< their block sizes (stats)
  ClassQueue partial[kNumClasses];
  RunList runs;                     ///< small slabs, region slabs and region spans
  std::size_t run_slabs;            ///< slabs on `runs` (a mini slab counts 0)
  /// Mini slabs on `runs` (mini.cpp), always at its back, so that shard_clear
  /// takes them off before it splices the rest into the slab cache.
  std::uint32_t minis;
  /// Frees counted by slabs this shard released (one writer: the owner, or
  /// the heap lock's holder for an abandoned shard; stats read it).
  std::atomic<std::uint64_t> folded_frees;
  std::uint64_t trim_seen;          ///< Heap::trim_epoch when this shard last gave back its empties
  bool forked;                      ///< abandoned by fork(): see shard.cpp:shard_repair_after_fork
  std::atomic<std::uint64_t> region_blocks;  ///< Region: blocks of past cursor windows and spans
  std::atomic<std::uint64_t> region_bytes;   ///< Region: their requested bytes
  RegionMark* marks;                ///< Region: the live marks, oldest first (pages of their own, region.cpp)
  std::uint32_t mark_depth;         ///< live marks
  std::uint32_t mark_capacity;      ///< room in `marks`
  Shard* heap_next;                 ///< heap->shards
  Shard* thread_next;               ///< the owning thread's shard list (registry lock)
  Shard* thread_prev;
  struct ThreadCtx* thread;
};

// ---- Heap ---------------------------------------------------------------------

inline constexpr std::uint32_t kHeapMagic = 0x4EA95ACEu;
inline constexpr std::uint32_t kHeapDeadMagic = 0xDEADBEA7u;
inline constexpr std::size_t kHeapNameMax = 64;

// Heap. Invariants (heap_is_valid()):
//   magic == kHeapMagic and id != 0 while alive; kHeapDeadMagic and id == epoch == 0 after
//   g_handle_slots[slot of handle].heap == this while alive (heap.h: handles)
//   footprint == sum of the slab bytes of every run it holds (shards' runs,
//   large, huge, retained) + the footprints of its children
//   footprint <= cap, except after a cap was lowered below it
//   soft_events == the charges that took footprint from <= soft_limit to above it
//   peak >= footprint
//   a child's parent is alive; destroy and reset destroy children first
// Heap structs are type-stable: they come from meta.cpp and are never given
// back to the OS, so reading a dead handle's magic is safe.
struct Heap {
  std::uint32_t magic;
  std::uint8_t discipline;  ///< spaces_discipline_t
  std::uint8_t single;      ///< SPACES_HEAP_SINGLE_THREADED
  std::uint8_t retain;      ///< SPACES_HEAP_RETAIN_ON_RESET
  std::uint8_t tiny;        ///< SPACES_HEAP_TINY: small slabs are minis while the heap is small (refill.cpp)
  std::uint64_t id;     ///< never reused; spaces_heap_id
  std::uint64_t epoch;  ///< new at creation and at every reset; runs remember it
  std::atomic<std::uintptr_t> handle;  ///< what the C API hands out (heap.h: handles); 0 once dead
  std::atomic<std::size_t> footprint;
  std::atomic<std::size_t> peak;
  std::atomic<std::size_t> cap;
  std::atomic<std::uint64_t> cap_failures;
  std::atomic<std::size_t> soft_limit;  ///< SPACES_UNCAPPED: none
  std::atomic<std::uint64_t> soft_events;
  /// A charge crossed the soft limit and its handler has not run yet
  /// (cap.cpp: set by the crossing charge, taken by the next to look).
  std::atomic<bool> soft_pending;
  /// Moves when a cap refuses memory: each shard then gives back its empty
  /// slabs on its next slow path (cap.cpp:charge, shard.cpp:shard_trim).
  std::atomic<std::uint64_t> trim_epoch;
  /// Set when an abandoned shard may hold slabs worth reclaiming (thread
  /// exit, or a remote free into an abandoned shard's full slab).
  std::atomic<bool> reclaimable;
  std::uint64_t resets;
  spaces_cap_handler_t cap_handler;
  void* cap_handler_arg;
  spaces_soft_limit_fn soft_handler;
  void* soft_handler_arg;
  bool report_leaks;  ///< SPACES_HEAP_REPORT_LEAKS
  spaces_leak_fn leak_fn;
  void* leak_arg;
  spaces_teardown_fn on_teardown;
  void* on_teardown_arg;
  bool tearing_down;  ///< destroy or reset in progress (its hook may not start another)
  /// Threads whose current heap this is (thread.cpp:thread_route); while
  /// nonzero, destroying it or an ancestor is refused (heap.cpp).
  std::atomic<std::uint32_t> routes;
  /// Root only: teardown hooks of this tree running now; no heap of the tree
  /// may be reset or destroyed meanwhile (heap.cpp:begin_teardown).
  std::atomic<std::uint32_t> hooks_running;
  Heap* parent;
  Heap* root;            ///< the topmost ancestor (this heap if it has no parent)
  SpinLock charge_lock;  ///< root only: serializes the charges of nested heaps (heap.cpp)
  Heap* first_child;  ///< children list, under parent->lock
  Heap* next_sibling;
  Heap* prev_sibling;
  Heap* registry_next;  ///< every live heap (heap.cpp registry), for fork and exit stats
  Heap* registry_prev;
  SpinLock lock;        ///< shards list, large, huge, retained, children
  Shard* shards;        ///< every shard but shard0 (multi-threaded heaps)
  RunList large;        ///< Large spans
  std::size_t large_slabs;  ///< slabs of the spans on `large`, so a teardown need not walk them
  RunList huge;         ///< Huge mappings
  RunList retained;     ///< empty slabs kept across reset (SPACES_HEAP_RETAIN_ON_RESET)
  std::uint64_t large_allocs;  ///< allocations of Large/Huge blocks (under lock)
  std::uint64_t large_frees;
  char name[kHeapNameMax];
  Shard shard0;               ///< the single-threaded heap's shard; the first thread's otherwise
};

/// The heap's name for a message, or "?" when h does not look alive (heap
/// structs are type-stable, so any Heap* may be read).
inline const char* heap_name_of(const Heap* h) noexcept {
  return h != nullptr && h->magic == kHeapMagic ? h->name : "?";
}

// ---- ThreadCtx -------------------------------------------------------------------

inline constexpr std::size_t kShardCacheSize = 8;
/// Freed spans a thread keeps (slab_cache.cpp: the thread's runs), and the
/// slabs they may hold in all.
inline constexpr std::size_t kThreadRuns = 4;
inline constexpr std::size_t kThreadRunSlabs = 64;

// ThreadCtx: one per thread, zero-initialised TLS (no constructor, so the
// malloc override can use it before any static initialiser has run).
//   cache[h->id % kShardCacheSize] maps a heap id to this thread's shard of
//   that heap; heap ids are never reused, so a stale entry never matches
struct ThreadCtx {
  struct Entry {
    std::uint64_t heap_id;
    Shard* shard;
  };
  Entry cache[kShardCacheSize];
  Shard* shards;         ///< shards this thread owns (registry lock)
  /// This thread's shard of its current heap, `route` or else the default
  /// heap: malloc's fast path allocates from it.
  Shard* default_shard;
  Heap* route;  ///< the current heap set by spaces_thread_set_heap; nullptr: the default heap
  spaces_failure_t last_failure;
  /// Spans this thread freed, kept for its next span of the same length
  /// (slab_cache.cpp: the thread's runs), newest last; their slabs.
  SlabHeader* runs[kThreadRuns];
  std::uint32_t run_count;
  std::uint32_t run_slabs;
  bool registered;    ///< the thread-exit hook is armed
  bool initializing;  ///< this thread runs threads_init (re-entry from libc)
};

}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_TYPES_H
