// ---------------------------------------------------------------------------
// internal.h: functions shared between the files of libspaces, grouped by
// the file that defines them, bottom layer first (STYLE.md §2):
//   meta, slab (granule map), slab_cache, span  ->  heap, region, refill,
//   stats, options  ->  thread, alloc, free, remote  ->  api
// The fast paths (alloc_small, shard_of) are inline here so that api.cpp and
// override/ compile them into their entry points.
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_INTERNAL_H
#define SPACES_INTERNAL_INTERNAL_H

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "../os/os.h"
#include "config.h"
#include "granule_map.h"
#include "hardened.h"
#include "poison.h"
#include "types.h"

namespace spaces::detail {

// ---- options.cpp -------------------------------------------------------------

/// Reads every SPACES_<NAME> variable once; reports bad values on stderr.
void options_init() noexcept;
extern SPACES_HIDDEN std::atomic<int> g_options_state;               ///< 2 once options_init has run
extern SPACES_HIDDEN std::atomic<long long> g_options[SPACES_OPTION_COUNT];
/// Current value of an option (reads the environment on first use). Inline:
/// some slow paths (remote frees, junk mode) read it on every call.
SPACES_ALWAYS_INLINE long long option(spaces_option_t o) noexcept {
  if (SPACES_UNLIKELY(g_options_state.load(std::memory_order_acquire) != 2)) options_init();
  return g_options[o].load(std::memory_order_relaxed);
}
/// Parses "12", "64K", "256M", "1G" (powers of 1024); false on garbage or overflow.
bool parse_size(const char* text, long long* out) noexcept;
/// The option's index if it names one (a C caller may pass any integer).
bool option_index(spaces_option_t o, unsigned* index) noexcept;
spaces_status_t option_set(spaces_option_t o, long long value) noexcept;
spaces_status_t option_set_str(const char* name, const char* value) noexcept;
const char* option_name(spaces_option_t o) noexcept;

// ---- util (assert.cpp) -------------------------------------------------------

/// Writes a message to stderr without allocating; printf-like, %s %zu %p %d only.
void message(const char* fmt, ...) noexcept __attribute__((format(printf, 1, 2)));
/// message() then abort(): for hardened checks that name pointer and heap.
[[noreturn]] SPACES_COLD void fatal(const char* fmt, ...) noexcept __attribute__((format(printf, 1, 2)));

// ---- Misuse reports (assert.cpp) and hardened checks (hardened.cpp) ----------

/// A list of slab s that other threads write (remote list) failed its
/// bounded walk: aborts naming the slab's heap.
[[noreturn]] SPACES_COLD void corrupt_list_fatal(const SlabHeader* s, const char* what) noexcept;
/// The shard's delayed list is longer than the heap has slabs (a cycle).
[[noreturn]] SPACES_COLD void corrupt_delayed_fatal(const Shard* sh) noexcept;

// ---- meta.cpp: memory for the allocator's own structures ---------------------

/// Zeroed, 64-byte aligned memory that is never returned to the OS (so heap
/// structs are type-stable). nullptr when the OS refuses.
void* meta_alloc(std::size_t size) noexcept;
/// Returns `p` (of `size` bytes) for reuse, oldest first (FIFO), so a dead
/// heap's struct is reused as late as possible.
void meta_free(void* p, std::size_t size) noexcept;
/// fork(): the metadata lock is the innermost; taken last, released first.
void meta_fork_prepare() noexcept;
void meta_fork_parent() noexcept;
void meta_fork_child() noexcept;

// ---- slab.cpp: the granule map and slab invariants ---------------------------

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
/// header is zeroed but for `slabs`; the map marks it Head/Interior. nullptr
/// and *err = ENOMEM when the OS refuses.
SlabHeader* cache_acquire(std::size_t slabs, std::size_t align, std::size_t offset, int* err) noexcept;
/// Marks a run that is about to be released as free (magic, kind, owner 0),
/// so a later free of one of its blocks is reported, not taken as live.
void retire_header(SlabHeader* run) noexcept;
/// Takes back one run (any length) as warm memory.
void cache_release(SlabHeader* run) noexcept;
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

// ---- huge.cpp: huge blocks in their own OS mapping ---------------------------

/// Maps a run holding one block of `size` bytes aligned to `align`; the
/// header is initialised as Huge but for heap/shard. nullptr, *err on failure.
SlabHeader* huge_map(std::size_t size, std::size_t align, int* err) noexcept;
void huge_unmap(SlabHeader* s) noexcept;

// ---- heap.cpp: heaps, caps, destroy and reset --------------------------------

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

/// The heap's name for a message, or "?" when h does not look alive.
const char* heap_name_of(const Heap* h) noexcept;
/// The handle of a live heap.
SPACES_ALWAYS_INLINE spaces_heap_t* to_handle(const Heap* h) noexcept {
  return reinterpret_cast<spaces_heap_t*>(h->handle.load(std::memory_order_relaxed));
}
/// Adds `bytes` to the footprint of h and every ancestor, atomically at each
/// level; if any cap would be crossed, undoes what it added, counts a cap
/// failure on the refusing heap, stores it in *refused and returns false.
bool heap_charge(Heap* h, std::size_t bytes, Heap** refused) noexcept;
void heap_uncharge(Heap* h, std::size_t bytes) noexcept;
/// Gives the slabs the heap keeps for reuse (retained after reset) back to
/// the cache; returns the bytes freed. Owner of the heap's lock: no.
std::size_t heap_trim_retained(Heap* h) noexcept;
/// Pops a retained slab (RETAIN_ON_RESET), still charged; nullptr if none.
SlabHeader* heap_pop_retained(Heap* h) noexcept;
/// Gives back what h holds and does not need, as far as the calling thread
/// may: its own shard's empty slabs, the abandoned shards', the retained
/// ones. Returns the bytes by which h's footprint went down.
std::size_t heap_collect(Heap* h) noexcept;
/// Every invariant of a heap (types.h), its shards' included: footprint ==
/// the slabs it holds + its children's. Only on a quiescent heap. O(slabs).
bool heap_is_valid(const Heap* h) noexcept;
spaces_status_t heap_create(const spaces_heap_options_t* o, Heap** out) noexcept;
spaces_status_t heap_destroy(Heap* h) noexcept;
spaces_status_t heap_reset(Heap* h) noexcept;
/// The default heap (created on first use).
Heap* default_heap() noexcept;
/// The default heap if it exists already, else nullptr.
Heap* default_heap_if_created() noexcept;
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
/// shard_collect when a cap asked (Heap::trim_epoch moved past Shard::trim_seen).
void shard_trim(Shard* sh) noexcept;
/// The same for every abandoned shard of h (their threads exited), done by
/// any thread under the heap lock.
void shard_collect_abandoned(Heap* h) noexcept;
/// Moves the slabs of class sc of the heap's abandoned shards (their
/// threads exited) into `sh` (owner thread), if the heap says some may be
/// reusable, and releases the empty ones. True if it moved any.
bool shard_reclaim_abandoned(Shard* sh, std::uint32_t sc) noexcept;

// ---- refill.cpp: slow paths of allocation ------------------------------------

/// Why alloc_small missed (empty current slab); see the comment in refill.cpp.
SPACES_NOINLINE void* alloc_small_slow(Shard* sh, std::uint32_t sc, std::size_t size) noexcept;
/// Charges `bytes` to h; at the cap gives back retained slabs and runs the
/// cap handler once. False with the failure recorded (errno ENOMEM).
bool charge(Heap* h, std::size_t bytes, std::size_t request) noexcept;
/// A run of `slabs` charged to the shard's heap: retained slab, cache, OS;
/// at the cap: trim retained, cap handler, one retry. nullptr with errno and
/// the thread's last failure set.
SlabHeader* acquire_run(Heap* h, std::size_t slabs, std::size_t align, std::size_t offset,
                        std::size_t request) noexcept;
/// Releases an empty small slab of the shard (owner thread).
void release_small_slab(Shard* sh, SlabHeader* s) noexcept;
/// Records a failed allocation for spaces_last_failure and sets errno.
void record_failure(spaces_status_t status, Heap* refused, std::size_t request) noexcept;

// ---- span.cpp: blocks too big for a small class -------------------------------

/// A run holding one block of `size` bytes aligned to `align`: a span from
/// the slab cache (header kind `kind`) or, above the huge threshold, an OS
/// mapping (kind Huge). Charged to h; block at run_base + block_size, `size`
/// usable bytes. nullptr with the failure recorded.
SlabHeader* acquire_block_run(Heap* h, std::size_t size, std::size_t align, SlabKind kind) noexcept;
/// Blocks bigger than a small class or aligned beyond 512: spans and huge mappings.
void* alloc_large(Heap* h, std::size_t size, std::size_t align) noexcept;
void free_large(SlabHeader* s) noexcept;

// ---- region.cpp ----------------------------------------------------------------

/// The slow path of a region cursor (spaces_cursor_refill): a new slab or a
/// dedicated span for a request that does not fit the window [cur, end).
spaces_window_t region_refill(Shard* sh, char* cur, char* end, std::uint64_t tally, std::size_t size,
                              std::size_t align) noexcept;
/// A region block above SPACES_REGION_SPAN_THRESHOLD in a span of its own.
void* region_span(Shard* sh, std::size_t size, std::size_t align) noexcept;
/// Blocks and requested bytes of a cursor tally (spaces.h: SPACES_TALLY_SHIFT).
inline std::uint64_t tally_blocks(std::uint64_t t) noexcept { return t >> SPACES_TALLY_SHIFT; }
inline std::uint64_t tally_bytes(std::uint64_t t) noexcept { return t & ((std::uint64_t{1} << SPACES_TALLY_SHIFT) - 1); }

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

// ---- free.cpp --------------------------------------------------------------------

SPACES_NOINLINE void free_generic(SlabHeader* s, void* p, std::uintptr_t tag) noexcept;
/// Owner-thread free that is not the fast path (full or junk-mode slab,
/// single-threaded heap freed by another thread).
void free_local_slow(SlabHeader* s, Block* b) noexcept;
/// Frees b into s as the owner of sh, s's shard (the owner thread, or the
/// heap lock's holder for an abandoned shard); a full slab goes back on its
/// queue. Returns the slab's used count after the free (0: the caller
/// releases the slab).
std::uint32_t owner_free(Shard* sh, SlabHeader* s, Block* b) noexcept;
/// Owner thread: frees the blocks other threads handed over through the
/// shard's delayed list (full slabs that got a block back).
void drain_delayed(Shard* sh) noexcept;
/// A small slab's last block came back (owner thread): release it unless it
/// is the class's current slab.
SPACES_NOINLINE void slab_now_empty(SlabHeader* s) noexcept;

// ---- thread.cpp: thread state and shard lookup -----------------------------------

// constinit: no dynamic initialiser, so no TLS wrapper call on each access.
extern constinit thread_local ThreadCtx tls_ctx SPACES_HIDDEN SPACES_TLS_INITIAL_EXEC;

/// The calling thread's tag: its thread pointer (one instruction on x86-64).
SPACES_ALWAYS_INLINE std::uintptr_t thread_tag() noexcept {
  return reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
}
SPACES_NOINLINE Shard* shard_lookup_slow(Heap* h) noexcept;
/// The calling thread's shard of h: the embedded one for single-threaded
/// heaps, else a TLS cache probe. nullptr only when out of memory.
SPACES_ALWAYS_INLINE Shard* shard_of(Heap* h) noexcept {
  if (h->single) return &h->shard0;
  ThreadCtx::Entry& e = tls_ctx.cache[h->id % kShardCacheSize];
  if (SPACES_LIKELY(e.heap_id == h->id)) return e.shard;
  return shard_lookup_slow(h);
}
/// The calling thread's shard of h if it has one (no shard is created).
Shard* shard_find(Heap* h) noexcept;
SPACES_NOINLINE Shard* default_shard_slow() noexcept;
/// The calling thread's shard of the default heap (malloc's fast path).
SPACES_ALWAYS_INLINE Shard* default_shard() noexcept {
  Shard* sh = tls_ctx.default_shard;
  if (SPACES_LIKELY(sh != nullptr)) return sh;
  return default_shard_slow();
}
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
/// Registers the fork handlers and the thread-exit key (once).
void threads_init() noexcept;

// ---- alloc.cpp: entry points below the C API --------------------------------------

/// Pops a block from slab s (owner thread; s->free is not null).
SPACES_ALWAYS_INLINE SPACES_NO_SANITIZE_ADDRESS void* pop_block(SlabHeader* s, Block* b, std::size_t size) noexcept {
  hardened_on_alloc(s, b);  // before its link is read: b may be a corrupted list's garbage
  s->free = read_link(b);
  s->used.store(s->used.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  poison_alloc(b, size, s->block_size);
  vg_alloc(s->heap, b, size);
  return b;
}

/// The small-block fast path: pop the free list of the class's current slab.
SPACES_FAST_PATH void* alloc_class(Shard* sh, std::uint32_t sc, std::size_t size) noexcept {
  SlabHeader* s = sh->current[sc];
  Block* b = s->free;
  if (SPACES_LIKELY(b != nullptr)) return pop_block(s, b, size);
  return alloc_small_slow(sh, sc, size);
}

/// The fast path for blocks up to 1 KiB: one load finds the current slab.
SPACES_FAST_PATH void* alloc_direct(Shard* sh, std::size_t size) noexcept {
  SlabHeader* s = sh->direct[direct_index(size)];
  Block* b = s->free;
  if (SPACES_LIKELY(b != nullptr)) return pop_block(s, b, size);
  return alloc_small_slow(sh, size_to_class(size), size);
}

/// Any small block (size <= kMaxSmallSize).
SPACES_ALWAYS_INLINE void* alloc_small(Shard* sh, std::size_t size) noexcept {
  if (SPACES_LIKELY(size <= kMaxDirectSize)) return alloc_direct(sh, size);
  return alloc_class(sh, size_to_class(size), size);
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

/// The free fast path: the calling thread owns the slab (one compare, with
/// the full and junk flags folded into the owner word) and pushes the block
/// on its local list; everything else goes to free_generic.
SPACES_FAST_PATH void free_block(void* p) noexcept {
  SlabHeader* s = slab_of(p);
  const std::uintptr_t tag = thread_tag();
  if (SPACES_LIKELY(s->owner.load(std::memory_order_relaxed) == tag)) {
    if (SPACES_UNLIKELY(push_local(s, static_cast<Block*>(p)) == 0)) slab_now_empty(s);
    return;
  }
  free_generic(s, p, tag);
}
void* heap_alloc_generic(Heap* h, std::size_t size, std::size_t align) noexcept;
void* heap_realloc(Heap* h, void* p, std::size_t size, std::size_t align) noexcept;
std::size_t block_usable_size(const SlabHeader* s, const void* p) noexcept;

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

}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_INTERNAL_H
