// ---------------------------------------------------------------------------
// internal/slab.h: the slab layer: runs and what they hold, knowing no
// heap's or shard's policy. The granule map, the slab cache, huge mappings,
// a slab's invariants, the block lists every small slab keeps (popping,
// pushing, carving) and the remote-free protocol (remote.cpp), and the
// hardened checks.
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_SLAB_H
#define SPACES_INTERNAL_SLAB_H

#include "base.h"
#include "granule_map.h"
#include "hardened.h"

namespace spaces::detail {

// ---- slab.cpp: slab invariants, the empty sentinel ---------------------------

/// Every invariant of a run's header (types.h). Owner thread, or a
/// quiescent heap. False after printing the invariant that failed.
bool slab_is_valid(const SlabHeader* s) noexcept;
/// Prints "spaces: invariant failed: <what> (<object>)" and returns false:
/// the checkers report which equation broke before the assertion aborts.
bool invariant_failed(const char* what, const void* object) noexcept;
#define SPACES_INVALID(what, object) ::spaces::detail::invariant_failed(what, object)

/// The header shared by every empty size class of every shard: its free
/// list is null, so alloc_small falls through to the slow path.
extern SPACES_HIDDEN SlabHeader g_empty_slab;

// ---- slab_cache.cpp: the process-wide cache of free runs ---------------------

/// A run of exactly `slabs` slabs whose base + offset is a multiple of
/// `align` (align > kSlabSize only matters with offset == kSlabSize). The
/// header is zeroed but for `slabs`, and flags says kSlabZeroed if the run
/// comes fresh from the OS; the map marks it Head/Interior. nullptr
/// and *err = ENOMEM when the OS refuses.
SlabHeader* cache_acquire(std::size_t slabs, std::size_t align, std::size_t offset, int* err) noexcept;
/// Lengthens the in-use run `run` by `more` slabs, in place: from the free
/// run binned right after it, or from the untouched reservation it ends at.
/// False (nothing changed) if the memory after it is not free. The caller
/// updates run->slabs, under its heap's lock.
bool cache_extend(SlabHeader* run, std::size_t more) noexcept;
/// Takes back the slabs of `run` after its first `keep` (0 < keep <
/// run->slabs) as warm memory. The caller updates run->slabs.
void cache_shrink(SlabHeader* run, std::size_t keep) noexcept;
/// Takes back [base, base + slabs), an in-use run whose pages moved away
/// (huge_adopt_span) and whose range was mapped afresh, as cold memory.
void cache_refilled(std::uintptr_t base, std::size_t slabs) noexcept;
/// Marks a run that is about to be released as free (magic, kind, owner 0),
/// so a later free of one of its blocks is reported, not taken as live.
void retire_header(SlabHeader* run) noexcept;
/// Takes back one run (any length) as warm memory.
void cache_release(SlabHeader* run) noexcept;
/// The thread's runs: a span of exactly `slabs` slabs (2 or more) this
/// thread freed, without the cache lock, its header zeroed but for `slabs`
/// and still marked in use; nullptr if it kept none of that length.
SlabHeader* cache_acquire_local(std::size_t slabs) noexcept;
/// Keeps a freed span (2 or more slabs) for the thread's next span of its
/// length, giving the oldest kept one to the process cache if there is no
/// room; a span too long to keep goes there at once.
void cache_release_local(SlabHeader* run) noexcept;
/// Gives every run the calling thread keeps to the process cache (thread
/// exit, malloc_trim).
void cache_flush_local() noexcept;
/// Takes back a whole list of runs holding `slabs` slabs in O(1): the list
/// is spliced, its headers are not touched.
void cache_release_list(RunList& runs, std::size_t slabs) noexcept;
/// Returns warm memory to the OS: all of it (`all`) or what exceeds the
/// cache bound or the decommit delay.
void cache_collect(bool all) noexcept;
/// Slabs held warm / cold (tests and stats).
std::size_t cache_warm_slabs() noexcept;
/// Every invariant of the slab cache: each free run once, marked free, its
/// length counted. Takes the cache lock. O(free runs).
bool cache_is_valid() noexcept;
void cache_fork_prepare() noexcept;
void cache_fork_parent() noexcept;
void cache_fork_child() noexcept;

// ---- mini.cpp: 4 KiB mini slabs cut from shared slabs ---------------------------

/// A mini slab (types.h: kMiniSize) from the process's mini hosts: its
/// header zeroed but for flags == kSlabMini. nullptr and *err when the OS
/// refuses a new host. Charging it is the caller's.
SlabHeader* mini_acquire(int* err) noexcept;
/// Takes back a mini slab (its header is retired, as cache_release does).
void mini_release(SlabHeader* mini) noexcept;
/// Whether mini's host is live and counts it in use (slab_is_valid).
bool mini_is_valid(const SlabHeader* mini) noexcept;
struct MiniCounts {
  std::size_t hosts;  ///< slabs held as mini hosts
  std::size_t minis;  ///< minis in use
};
MiniCounts mini_counts() noexcept;
void mini_fork_prepare() noexcept;
void mini_fork_parent() noexcept;
void mini_fork_child() noexcept;

// ---- huge.cpp: huge blocks in their own OS mapping ---------------------------

/// Maps a run holding one block of `size` bytes aligned to `align`; the
/// header is initialised as Huge but for heap/shard. nullptr, *err on failure.
SlabHeader* huge_map(std::size_t size, std::size_t align, int* err) noexcept;
void huge_unmap(SlabHeader* s) noexcept;
/// Resizes huge run s (off its heap's list) to hold a block of `size` bytes
/// aligned to `align`, without copying it: in place, or moved to a new
/// mapping by the kernel. Returns the run's header, which moves with it;
/// nullptr and s unchanged when the OS refuses (or a block aligned past
/// 64 KiB would have to move).
SlabHeader* huge_remap(SlabHeader* s, std::size_t size, std::size_t align) noexcept;
/// Turns span s (off its heap's list) into a huge block of `size` bytes
/// without copying it: its pages move to a new mapping, and its range in the
/// reservation is mapped afresh and given to the cache. Returns the new
/// header, or nullptr and s unchanged when the OS refuses.
SlabHeader* huge_adopt_span(SlabHeader* s, std::size_t size) noexcept;

// ---- A small slab's own lists (the owner's; slab.cpp carves) -----------------------

/// Pops a block from slab s (owner thread; s->free is not null).
SPACES_ALWAYS_INLINE SPACES_NO_SANITIZE_ADDRESS void* pop_block(SlabHeader* s, Block* b, std::size_t size) noexcept {
  hardened_on_alloc(s, b);  // before its link is read: b may be a corrupted list's garbage
  s->free = read_link(b);
  s->used.store(s->used.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  poison_alloc(b, size, s->block_size);
  vg_alloc(s->heap, b, size);
  return b;
}

/// Pushes a block on its slab's local free list (owner thread) and returns
/// the slab's remaining used count.
SPACES_ALWAYS_INLINE SPACES_NO_SANITIZE_ADDRESS std::uint32_t push_local(SlabHeader* s, Block* b) noexcept {
  vg_free(s->heap, b);
  poison(b, s->block_size);
  hardened_on_owner_free(s, b);
  write_link(b, s->local_free);
  s->local_free = b;
  s->frees.store(s->frees.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  const std::uint32_t used = s->used.load(std::memory_order_relaxed) - 1;
  s->used.store(used, std::memory_order_relaxed);
  return used;
}

/// Carves the next blocks of a small slab onto its (empty) free list, in
/// address order, about a page at a time. False when the slab is fully carved.
bool carve(SlabHeader* s) noexcept;

// ---- remote.cpp: frees from other threads -----------------------------------

/// A free by a thread that does not own the small slab s (any thread).
void free_remote(SlabHeader* s, Block* b) noexcept;
/// Owner: moves the slab's remote frees to its free list; returns how many.
/// A corrupted list aborts with a message naming the heap.
std::uint32_t collect_remote(SlabHeader* s) noexcept;
/// Owner: marks an exhausted slab full (kOwnerFull and kRemoteFull). False
/// if remote frees arrived first: collect them instead.
bool try_mark_full(SlabHeader* s) noexcept;
/// Owner: the slab is not full any more (clears both full flags).
void clear_full(SlabHeader* s) noexcept;
/// Owner (or the heap lock's holder for an abandoned shard): takes the
/// shard's delayed list; *count is its length (bounded, else it aborts).
Block* take_delayed(Shard* sh, std::size_t* count) noexcept;

}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_SLAB_H
