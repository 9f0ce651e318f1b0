// ---------------------------------------------------------------------------
// internal/heap.h: the heap layer: heaps and their handles, caps, spans,
// region heaps, shards (life, collection, reclaim), the owner's side of a
// free, the small-block slow path and statistics. Everything here works on
// a given shard or heap; the thread layer above finds them.
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_HEAP_H
#define SPACES_INTERNAL_HEAP_H

#include <cstdio>

#include "slab.h"

namespace spaces::detail {

// ---- heap.cpp: heaps, handles, destroy, reset, collect ------------------------

// Handles. A spaces_heap_t* is not the Heap's address but the number
//   (generation << 20) | slot,       1 <= slot < kMaxHeaps, generation >= 1
// where g_handle_slots[slot] points to the live heap, whose `handle` field
// holds that number. Destroying a heap empties its slot and moves it to the
// next generation (heap.cpp), so the old handle matches nothing afterwards;
// a slot is reused only after kHandleReuseDelay other slots were freed, so a
// stale handle could match again only after 2^44 reuses of its slot. Any
// value is checked with a masked index, a null test and one compare with a
// field the next step reads anyway, with no read outside the table or the
// type-stable Heap structs.
inline constexpr unsigned kHandleSlotBits = 20;
inline constexpr std::uint32_t kMaxHeaps = 1u << kHandleSlotBits;
inline constexpr std::uint32_t kHandleReuseDelay = 1024;
extern SPACES_HIDDEN std::atomic<Heap*> g_handle_slots[kMaxHeaps];

/// The live Heap behind a handle, else nullptr (NULL, garbage, destroyed).
SPACES_ALWAYS_INLINE Heap* heap_checked(const spaces_heap_t* handle) noexcept {
  const auto v = reinterpret_cast<std::uintptr_t>(handle);
  Heap* h = g_handle_slots[v & (kMaxHeaps - 1)].load(std::memory_order_relaxed);
  if (SPACES_UNLIKELY(h == nullptr || h->handle.load(std::memory_order_relaxed) != v)) return nullptr;
  return h;
}

/// The handle of a live heap.
SPACES_ALWAYS_INLINE spaces_heap_t* to_handle(const Heap* h) noexcept {
  return reinterpret_cast<spaces_heap_t*>(h->handle.load(std::memory_order_relaxed));
}
/// Gives the slabs the heap keeps for reuse (retained after reset) back to
/// the cache; returns the bytes freed. Owner of the heap's lock: no.
std::size_t heap_trim_retained(Heap* h, std::size_t keep = 0) noexcept;
/// Pops a retained slab (RETAIN_ON_RESET), still charged; nullptr if none.
SlabHeader* heap_pop_retained(Heap* h) noexcept;
/// Gives back what h holds and does not need, as far as the calling thread
/// may: its own shard's empty slabs, the abandoned shards', the retained
/// ones. Returns the bytes by which h's footprint went down.
std::size_t heap_collect(Heap* h) noexcept;
/// Every invariant of a heap (types.h), its shards' included: footprint ==
/// the slabs it holds + its children's. Only on a quiescent heap. O(slabs).
bool heap_is_valid(const Heap* h) noexcept;
/// The defaults of spaces_heap_options_init: no name, uncapped, general,
/// multi-threaded, no handler, no parent, no hook.
void default_options(spaces_heap_options_t* o) noexcept;
spaces_status_t heap_create(const spaces_heap_options_t* o, Heap** out) noexcept;
spaces_status_t heap_destroy(Heap* h) noexcept;
/// Reset, keeping up to `keep` bytes of single slabs for reuse (SIZE_MAX:
/// all of them, SPACES_HEAP_RETAIN_ON_RESET; 0: none).
spaces_status_t heap_reset(Heap* h, std::size_t keep) noexcept;
/// The default heap if it exists already, else nullptr.
Heap* default_heap_if_created() noexcept;
/// The process default heap, set once by thread.cpp:default_heap.
extern SPACES_HIDDEN std::atomic<Heap*> g_default_heap;
/// malloc_trim: heap_collect on the default heap, then the slab cache. True
/// if memory went back.
bool default_heap_trim() noexcept;
void heap_registry_fork_prepare() noexcept;
void heap_registry_fork_parent() noexcept;
void heap_registry_fork_child() noexcept;
/// Calls f(h, arg) for every live heap, under the registry lock.
void heap_registry_for_each(void (*f)(Heap*, void*), void* arg) noexcept;

/// Calls f(sh) for every shard of h: the embedded one, then the list.
template <class F>
void for_each_shard(Heap* h, F&& f) noexcept {
  f(&h->shard0);
  for (Shard* sh = h->shards; sh != nullptr; sh = sh->heap_next) f(sh);
}

// ---- cap.cpp: runs charged under caps, failure records -------------------------

/// Adds `bytes` to the footprint of h and every ancestor, exactly (at every
/// level or at none); at a cap counts a cap failure on the refusing heap,
/// stores it in *refused and returns false.
bool heap_charge(Heap* h, std::size_t bytes, Heap** refused) noexcept;
void heap_uncharge(Heap* h, std::size_t bytes) noexcept;
/// Charges `bytes` to h; at the cap gives back what the heap does not need
/// (heap_collect), asks other threads for their empty slabs, and runs the
/// cap handler once. False with the failure recorded (errno ENOMEM).
bool charge(Heap* h, std::size_t bytes, std::size_t request) noexcept;
/// A run of `slabs` charged to h: retained slab, a span this thread freed
/// (the thread's runs), cache, OS. nullptr with errno and the thread's last
/// failure set.
SlabHeader* acquire_run(Heap* h, std::size_t slabs, std::size_t align, std::size_t offset,
                        std::size_t request) noexcept;
/// A mini slab (mini.cpp) charged to h: kMiniSize bytes. nullptr with errno
/// and the thread's last failure set.
SlabHeader* acquire_mini(Heap* h, std::size_t request) noexcept;
/// Records a failed allocation for spaces_last_failure and sets errno.
void record_failure(spaces_status_t status, Heap* refused, std::size_t request, std::size_t charge = 0) noexcept;

// ---- span.cpp: blocks too big for a small class -------------------------------

/// A run holding one block of `size` bytes aligned to `align`: a span from
/// the slab cache (header kind `kind`) or, above the huge threshold, an OS
/// mapping (kind Huge). Charged to h; block at run_base + block_size, `size`
/// usable bytes. nullptr with the failure recorded.
SlabHeader* acquire_block_run(Heap* h, std::size_t size, std::size_t align, SlabKind kind) noexcept;
/// Blocks bigger than a small class or aligned beyond 512: spans and huge mappings.
void* alloc_large(Heap* h, std::size_t size, std::size_t align) noexcept;
void free_large(SlabHeader* s) noexcept;
/// realloc of span or huge block s to `size` bytes without a copy (span.cpp:
/// resize in place; huge: mremap). Charges only the difference. The block,
/// or nullptr when it must move instead (with *refused set if the cap
/// refused the difference: the failure is recorded).
void* resize_large(Heap* h, SlabHeader* s, std::size_t size, std::size_t align, bool* refused) noexcept;

// ---- region.cpp ----------------------------------------------------------------

/// The slow path of a region cursor (spaces_cursor_refill): a new slab or a
/// dedicated span for a request that does not fit the window [cur, end).
spaces_window_t region_refill(Shard* sh, char* cur, char* end, std::uint64_t tally, std::size_t size,
                              std::size_t align) noexcept;
/// A region block above SPACES_REGION_SPAN_THRESHOLD in a span of its own.
void* region_span(Shard* sh, std::size_t size, std::size_t align) noexcept;
/// spaces_region_mark and spaces_region_rewind on the calling thread's shard.
spaces_status_t region_mark(Shard* sh, std::uint64_t* out) noexcept;
spaces_status_t region_rewind(Shard* sh, std::uint64_t mark) noexcept;
bool region_mark_live(Shard* sh, std::uint64_t mark) noexcept;
/// Frees a shard's mark stack (heap destroy); reset only empties it.
void region_free_marks(Shard* sh) noexcept;
/// Blocks and requested bytes of a cursor tally (spaces.h: SPACES_TALLY_SHIFT).
inline std::uint64_t tally_blocks(std::uint64_t t) noexcept { return t >> SPACES_TALLY_SHIFT; }
inline std::uint64_t tally_bytes(std::uint64_t t) noexcept { return t & ((std::uint64_t{1} << SPACES_TALLY_SHIFT) - 1); }

// ---- shard.cpp: shard life -----------------------------------------------------

/// Every invariant of a shard (types.h), its runs' headers included. The
/// owner thread, the heap lock's holder for an abandoned shard, or a
/// quiescent heap. O(slabs).
bool shard_is_valid(const Shard* sh) noexcept;
/// The invariants of one size class of a shard and of its current slab:
/// what a slow path of that class changed. O(partial queue + one slab).
bool shard_class_is_valid(const Shard* sh, std::uint32_t sc) noexcept;
void shard_init(Shard* sh, Heap* h) noexcept;
/// Makes s (or &g_empty_slab) the current slab of class sc, in `current`
/// and in the `direct` entries that serve the class. Owner thread.
void set_current(Shard* sh, std::uint32_t sc, SlabHeader* s) noexcept;
/// Puts run r on the shard's runs list or takes it off, counting it in
/// run_slabs, or in minis for a mini slab (kept at the back). The heap lock
/// of a multi-threaded heap is held.
void runs_add(Shard* sh, SlabHeader* r) noexcept;
void runs_remove(Shard* sh, SlabHeader* r) noexcept;
/// Hands every run the shard holds to the cache (or to the heap's retained
/// list) and makes the shard empty. O(1) + O(region spans).
void shard_clear(Shard* sh, bool retain) noexcept;
/// Sets the owner word of every small slab of the shard to `tag` (keeping
/// flags): abandon (tag 0) and adopt.
void shard_set_owner(Shard* sh, std::uintptr_t tag) noexcept;
/// Owner thread: frees the delayed blocks, collects every slab's remote
/// frees and releases the slabs that are then empty, current ones included.
/// O(slabs); at thread exit, spaces_heap_collect and at a cap.
void shard_collect(Shard* sh) noexcept;
/// In a fork child, the shard of a thread that did not survive may have been
/// caught between two stores of a fast path: recounts its slabs' `used` from
/// their lists before anyone relies on it (heap lock held). O(free blocks).
void shard_repair_after_fork(Shard* sh) noexcept;
/// After a slab's remote frees were collected (its owner, or the heap lock's
/// holder): marked full but with free blocks again, it goes back on its
/// partial queue.
void requeue_if_unfull(Shard* sh, SlabHeader* r) noexcept;
/// shard_collect when a cap asked (Heap::trim_epoch moved past Shard::trim_seen).
void shard_trim(Shard* sh) noexcept;
/// The same for every abandoned shard of h (their threads exited), done by
/// any thread under the heap lock.
void shard_collect_abandoned(Heap* h) noexcept;
/// Moves the slabs of class sc of the heap's abandoned shards (their
/// threads exited) into `sh` (owner thread), if the heap says some may be
/// reusable, and releases the empty ones. True if it moved any.
bool shard_reclaim_abandoned(Shard* sh, std::uint32_t sc) noexcept;

// ---- owners.cpp: which thread owns which shard ----------------------------------

/// Holds the lock under which threads exit (they collect and abandon their
/// shards under it): heap reset and destroy take it around their shards.
class ThreadsExclusive {
 public:
  ThreadsExclusive() noexcept;
  ~ThreadsExclusive();
  ThreadsExclusive(const ThreadsExclusive&) = delete;
  ThreadsExclusive& operator=(const ThreadsExclusive&) = delete;
};
/// Unlinks every shard of h from its thread's list (heap destroy).
void threads_forget_heap(Heap* h) noexcept;
/// Adds sh to the calling thread's list of shards, if no thread holds it.
void owners_attach(Shard* sh) noexcept;
/// The calling thread exits: each of its shards is collected and abandoned.
void owners_abandon_thread() noexcept;
/// The calling thread's shard of h if it has one (no shard is created).
Shard* shard_find(Heap* h) noexcept;
/// fork(): the lock; in the child, every shard of a thread that did not
/// survive is abandoned (and recounted before use: shard_repair_after_fork).
void owners_fork_prepare() noexcept;
void owners_fork_parent() noexcept;
void owners_fork_child() noexcept;

// ---- owner_free.cpp: frees the fast path did not take, on the owner's side --------

/// Owner-thread free that is not the fast path (full or junk-mode slab,
/// single-threaded heap freed by another thread).
void free_local_slow(SlabHeader* s, Block* b) noexcept;
/// Frees b into s as the owner of sh, s's shard (the owner thread, or the
/// heap lock's holder for an abandoned shard); a full slab goes back on its
/// queue. Returns the slab's used count after the free (0: the caller
/// releases the slab).
std::uint32_t owner_free(Shard* sh, SlabHeader* s, Block* b) noexcept;
/// A free of the small block b of s by the calling thread, whichever thread
/// owns s: local (owner_free) or remote (free_remote).
void free_small(SlabHeader* s, Block* b, std::uintptr_t tag) noexcept;
/// Owner thread: frees the blocks other threads handed over through the
/// shard's delayed list (full slabs that got a block back).
void drain_delayed(Shard* sh) noexcept;
/// A small slab's last block came back (owner thread): release it unless it
/// is the class's current slab.
SPACES_NOINLINE void slab_now_empty(SlabHeader* s) noexcept;

// ---- refill.cpp: the small-block slow path ------------------------------------

/// Why alloc_small missed (empty current slab); see the comment in refill.cpp.
SPACES_NOINLINE void* alloc_small_slow(Shard* sh, std::uint32_t sc, std::size_t size) noexcept;
/// Releases an empty small slab of the shard (owner thread).
void release_small_slab(Shard* sh, SlabHeader* s) noexcept;

// ---- stats.cpp ---------------------------------------------------------------------

spaces_status_t heap_stats(Heap* h, spaces_stats_t* out) noexcept;
/// What mallinfo2 reports (override/malloc.cpp); zeros before the default heap exists.
struct DefaultHeapInfo {
  std::size_t footprint, peak_footprint, live_bytes, huge_blocks, huge_bytes;
};
DefaultHeapInfo default_heap_info() noexcept;
/// malloc_trim: heap_collect on the default heap, then the slab cache. True
/// if memory went back.
bool default_heap_trim() noexcept;
spaces_status_t heap_walk(Heap* h, spaces_walk_fn fn, void* arg) noexcept;
/// The leak report of a SPACES_HEAP_REPORT_LEAKS heap about to be destroyed
/// or reset (leaks.cpp): to its on_leak callback, else on stderr; nothing
/// when no block is live.
void heap_report_leaks(Heap* h, bool destroyed) noexcept;
/// SPACES_OPTION_LEAK_REPORT: the default heap's report at exit.
void default_heap_report_leaks() noexcept;
/// spaces_heap_print_stats and spaces_heap_write_stats_json.
spaces_status_t heap_print_stats(const Heap* h, std::FILE* out) noexcept;
spaces_status_t heap_write_stats_json(const Heap* h, std::FILE* out) noexcept;

}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_HEAP_H
