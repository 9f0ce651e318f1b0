/* ---------------------------------------------------------------------------
 * spaces.h: the C API of libspaces, the stable contract (pure C11).
 *
 * A heap owns 64 KiB slabs and serves allocations from them. Heaps are
 * explicit: you create one, allocate from it, and destroy or reset it as a
 * whole in time proportional to its slabs, never to its objects. A heap may be
 * capped: its footprint (slab bytes held, headers and fragmentation included)
 * never exceeds the cap. Two disciplines share slabs, caps, stats and
 * teardown: general heaps (size classes, individual free/realloc) and region
 * heaps (pointer bump, individual free is a no-op).
 *
 * Conventions: allocation functions return NULL with errno = ENOMEM when the
 * OS fails or the cap is reached (EINVAL for arguments that can never
 * succeed); control functions return spaces_status_t (SPACES_OK == 0) and
 * take out-parameters. A heap handle that is NULL, garbage or dead is refused
 * by every function, in every build.
 *
 * Pointers given to spaces_free are trusted in the release build: a double,
 * interior or foreign free is undefined, but spaces never loops on what one
 * damaged, and it aborts with a one-line message when it meets such damage
 * (a remote free list that a double free made into a cycle, a free into a
 * slab that went back to the cache). The hardened build (spaces::hardened,
 * libspaces_malloc_hardened.so) checks every pointer given to free, realloc
 * and usable-size functions first and aborts at the misuse with a message
 * naming the pointer and heap; docs/reliability.md lists both side by side.
 * -------------------------------------------------------------------------*/
#ifndef SPACES_SPACES_H
#define SPACES_SPACES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#define SPACES_NOEXCEPT noexcept
#define SPACES_STATIC_CAST(T, x) static_cast<T>(x)
#define SPACES_PTR_CAST(T, x) reinterpret_cast<T>(x)
#else
#define SPACES_NOEXCEPT
#define SPACES_STATIC_CAST(T, x) ((T)(x))
#define SPACES_PTR_CAST(T, x) ((T)(x))
#endif

#if defined(__GNUC__)
#define SPACES_API __attribute__((visibility("default")))
#define SPACES_MALLOC_ATTR __attribute__((malloc, warn_unused_result))
#define SPACES_INLINE_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define SPACES_API
#define SPACES_MALLOC_ATTR
#define SPACES_INLINE_LIKELY(x) (x)
#endif

#define SPACES_VERSION_MAJOR 0
#define SPACES_VERSION_MINOR 1
#define SPACES_VERSION_PATCH 0

/** Size and alignment of a slab: every block's header is found by masking. */
#define SPACES_SLAB_SIZE (SPACES_STATIC_CAST(size_t, 64) * 1024)
/** Cap value meaning "no cap". */
#define SPACES_UNCAPPED SIZE_MAX
/** Largest alignment spaces_aligned_alloc accepts (larger returns EINVAL). */
#define SPACES_MAX_ALIGNMENT (SPACES_STATIC_CAST(size_t, 1) << 30)

/* ---- Status codes ------------------------------------------------------ */

typedef enum spaces_status_e {
  SPACES_OK = 0,
  SPACES_E_INVALID = 1,     /**< an argument is invalid (NULL, dead heap, bad value) */
  SPACES_E_NOMEM = 2,       /**< the OS refused memory */
  SPACES_E_CAP = 3,         /**< the heap's cap would be exceeded */
  SPACES_E_UNSUPPORTED = 4, /**< the heap's discipline does not support this */
  SPACES_E_RANGE = 5,       /**< a value is out of the option's range */
  SPACES_E_IO = 6,          /**< writing to the stream failed */
  SPACES_E_BUSY = 7,        /**< a thread routes its allocations into the heap (or a child) */
  SPACES_STATUS_MAX_ = 0x7fffffff /**< not a status: makes any int a value of the type in C++ */
} spaces_status_t;

/** A static English description of a status code ("invalid argument", ...). */
SPACES_API const char* spaces_status_str(spaces_status_t status) SPACES_NOEXCEPT;

/* ---- Heaps ------------------------------------------------------------- */

typedef struct spaces_heap_s spaces_heap_t;

typedef enum spaces_discipline_e {
  SPACES_GENERAL = 0, /**< size classes, individual free and realloc */
  SPACES_REGION = 1,  /**< bump allocation; free is a no-op; reset/destroy free all */
  SPACES_DISCIPLINE_MAX_ = 0x7fffffff /**< not a discipline: makes any int a value of the type */
} spaces_discipline_t;

/** What a cap handler asks for after it ran. */
typedef enum spaces_cap_action_e {
  SPACES_CAP_FAIL = 0, /**< give up: the allocation returns NULL (errno ENOMEM) */
  SPACES_CAP_RETRY = 1, /**< the handler made room (freed memory, raised the cap): retry once */
  SPACES_CAP_ACTION_MAX_ = 0x7fffffff /**< not an action: makes any int a value of the type */
} spaces_cap_action_t;

/** Called when an allocation from `heap` would take its footprint past its
 *  cap. `request` is the size the caller asked for. The handler may free
 *  blocks of the heap, reset a child, or raise the cap, then return
 *  SPACES_CAP_RETRY; the allocation is retried once. Runs on the allocating
 *  thread with no allocator lock held. */
typedef spaces_cap_action_t (*spaces_cap_handler_t)(spaces_heap_t* heap, size_t request,
                                                    void* arg);

/** Called when a heap's blocks are about to be freed all at once: by
 *  spaces_heap_destroy or spaces_heap_reset of the heap, or of an ancestor
 *  (whose destroy and reset destroy it). `destroyed` is 1 when the heap dies,
 *  0 when it is reset and lives on. Runs on the thread that called destroy or
 *  reset, children's hooks first, before any of the heap's memory is
 *  released and with no allocator lock held: it may read the heap's blocks
 *  (run destructors, report what is still live) and use other heaps. It must
 *  not allocate from the heap, and it cannot destroy or reset any heap of its
 *  tree (its root and every heap below it): such a destroy or reset returns
 *  SPACES_E_INVALID. This is how an owner learns that an ancestor's reset
 *  took its heap (spaces::Arena uses it). */
typedef void (*spaces_teardown_fn)(spaces_heap_t* heap, int destroyed, void* arg);

/** Called when an allocation took the heap's footprint from at most its soft
 *  limit to above it (a slab or span acquisition; the allocation goes on and
 *  does not fail). The handler may free blocks of the heap, reset a child or
 *  evict caches, and returns nonzero to have the acquisition charged again
 *  once: memory it gave back may then serve it. Runs on the allocating
 *  thread with no allocator lock held; it must not allocate from the heap.
 *  Nested heaps: every ancestor whose soft limit the charge crossed is
 *  called, innermost first. */
typedef int (*spaces_soft_limit_fn)(spaces_heap_t* heap, size_t request, void* arg);

/** The heap is used by one thread at a time (allocations and frees alike):
 *  no shard lookup, and frees of its blocks never take the atomic path. */
#define SPACES_HEAP_SINGLE_THREADED 0x1u
/** reset keeps the heap's slabs (its footprint stays) for the next round
 *  instead of returning them to the process slab cache. */
#define SPACES_HEAP_RETAIN_ON_RESET 0x2u
/** destroy and reset report the blocks still live, to on_leak or stderr. */
#define SPACES_HEAP_REPORT_LEAKS 0x4u
/** A small heap: its first small blocks (up to 1 KiB each) come from 4 KiB
 *  mini slabs shared with other heaps, so a heap holding a few blocks costs
 *  4 KiB of its cap per size class instead of a 64 KiB slab; past 32 KiB of
 *  footprint it takes whole slabs like any heap. Frees of blocks in minis
 *  take the free path's slower branch. General heaps only (ignored in
 *  hardened builds, whose checks need whole slabs). */
#define SPACES_HEAP_TINY 0x8u

/** The first blocks of a leak report: where, how big, and what they hold. */
typedef struct spaces_leak_block_s {
  const void* block;
  size_t size;             /**< usable size (requested size in a region heap: not reported) */
  unsigned char head[16];  /**< the block's first bytes... */
  size_t head_len;         /**< ...this many (min(16, size)) */
} spaces_leak_block_t;

/** Live blocks of one size class (block_size 0: every block above the small classes). */
typedef struct spaces_leak_class_s {
  size_t block_size;
  size_t blocks;
  size_t bytes;
} spaces_leak_class_t;

/** What a destroy or reset found still live (SPACES_HEAP_REPORT_LEAKS). The
 *  arrays are valid during the callback only. A region heap keeps no block
 *  boundaries: only its totals are reported (classes and first empty). */
typedef struct spaces_leak_report_s {
  int destroyed;                      /**< 1 for destroy, 0 for reset */
  size_t blocks;                      /**< live blocks */
  size_t bytes;                       /**< their bytes (usable sizes; requested in a region) */
  const spaces_leak_class_t* classes; /**< one per size class with live blocks, ascending, larger blocks last */
  size_t class_count;
  const spaces_leak_block_t* first;   /**< the first blocks found (SPACES_OPTION_LEAK_BLOCKS of them) */
  size_t first_count;
} spaces_leak_report_t;

/** Receives a leak report: called by destroy and reset of a heap created
 *  with SPACES_HEAP_REPORT_LEAKS when blocks are still live, after the
 *  teardown hook and before any memory is released, with no lock held. */
typedef void (*spaces_leak_fn)(spaces_heap_t* heap, const spaces_leak_report_t* report, void* arg);

typedef struct spaces_heap_options_s {
  const char* name;                 /**< copied (63 bytes kept); NULL names it "heap-<id>" */
  size_t cap;                       /**< footprint cap in bytes; SPACES_UNCAPPED for none */
  spaces_discipline_t discipline;   /**< SPACES_GENERAL or SPACES_REGION */
  unsigned flags;                   /**< SPACES_HEAP_* flags */
  spaces_cap_handler_t cap_handler; /**< optional; see spaces_cap_handler_t */
  void* cap_handler_arg;            /**< passed to cap_handler */
  spaces_heap_t* parent;            /**< optional: draw on this heap's cap, die with it */
  spaces_teardown_fn on_teardown;   /**< optional; see spaces_teardown_fn */
  void* on_teardown_arg;            /**< passed to on_teardown */
  size_t soft_limit;                /**< footprint past which on_soft_limit runs; SPACES_UNCAPPED for none */
  spaces_soft_limit_fn on_soft_limit; /**< optional; see spaces_soft_limit_fn */
  void* on_soft_limit_arg;          /**< passed to on_soft_limit */
  spaces_leak_fn on_leak;           /**< with SPACES_HEAP_REPORT_LEAKS; NULL prints the report on stderr */
  void* on_leak_arg;                /**< passed to on_leak */
} spaces_heap_options_t;

/** Fills `options` with the defaults: no name, uncapped, no soft limit,
 *  general, multi-threaded, no handlers, no parent, no teardown hook. */
SPACES_API void spaces_heap_options_init(spaces_heap_options_t* options) SPACES_NOEXCEPT;

/** Creates a heap. Fails with SPACES_E_INVALID for NULL `out`, an unknown
 *  discipline or flag, or a parent handle that is not a live heap;
 *  SPACES_E_NOMEM when the OS refuses memory or 1,048,575 heaps are alive.
 *  A cap too small for a single slab is not an error: a heap holds no slab
 *  until its first allocation. Any thread.
 *
 *  A handle is a number, not the heap's address: once its heap is destroyed
 *  (by spaces_heap_destroy or by an ancestor's destroy or reset), every
 *  function refuses it (SPACES_E_INVALID, NULL, 0 or "") and no later heap is
 *  ever reached through it, in every build. */
SPACES_API spaces_status_t spaces_heap_create(const spaces_heap_options_t* options,
                                              spaces_heap_t** out) SPACES_NOEXCEPT;

/** Destroys a heap and every block in it; its child heaps are destroyed
 *  first. Cost: O(1) list splices plus O(large spans + huge mappings); it
 *  never touches the objects or the headers of small slabs: the slabs go to
 *  the process slab cache (bounded by SPACES_OPTION_SLAB_CACHE) as one list.
 *  Pointers into the heap are dangling afterwards. Must not race with any
 *  other use of the heap or of its blocks (join the threads first).
 *  Returns SPACES_E_INVALID for NULL or an already destroyed heap, and
 *  SPACES_E_BUSY, changing nothing, while a thread routes into the heap or
 *  one of its children (spaces_thread_set_heap). */
SPACES_API spaces_status_t spaces_heap_destroy(spaces_heap_t* heap) SPACES_NOEXCEPT;

/** Frees every block of the heap (and destroys its children) but keeps the
 *  heap, its name, cap and options. Same cost as destroy; with
 *  SPACES_HEAP_RETAIN_ON_RESET the slabs stay with the heap (footprint
 *  unchanged but for large spans and children, which go as in a destroy)
 *  and are reinitialised lazily when reused. Statistics restart
 *  from zero except peak_footprint, cap_failures, soft_limit_events and
 *  resets. Same
 *  concurrency rule as destroy; SPACES_E_BUSY while a thread routes into
 *  one of its children (routing into the heap itself is no obstacle). */
SPACES_API spaces_status_t spaces_heap_reset(spaces_heap_t* heap) SPACES_NOEXCEPT;

/** spaces_heap_reset that keeps up to `keep` bytes of the heap's slabs for
 *  its next round (they stay in its footprint, as with
 *  SPACES_HEAP_RETAIN_ON_RESET, which keeps them all) and gives the rest, and
 *  every span of several slabs, to the slab cache; Zig's retain_with_limit.
 *  keep 0 is a plain reset. Same errors as spaces_heap_reset. */
SPACES_API spaces_status_t spaces_heap_reset_keep(spaces_heap_t* heap, size_t keep) SPACES_NOEXCEPT;

/** Gives back memory the heap holds but no block needs, as far as the
 *  calling thread can: the empty slabs of its own part of the heap (after
 *  settling other threads' frees into it), those of threads that exited,
 *  and the slabs kept by SPACES_HEAP_RETAIN_ON_RESET. They go to the process
 *  slab cache (spaces_collect gives that back to the OS). A cap does the same
 *  before it refuses an allocation, and then asks the heap's other threads
 *  to give back their empty slabs on their next slab acquisition. Any
 *  thread; O(slabs of the calling thread's part and of exited threads'). */
SPACES_API spaces_status_t spaces_heap_collect(spaces_heap_t* heap) SPACES_NOEXCEPT;

/** Sets the cap (SPACES_UNCAPPED removes it). Lowering it below the current
 *  footprint makes new slab acquisitions fail until the footprint drops;
 *  nothing allocated is touched. Any thread. */
SPACES_API spaces_status_t spaces_heap_set_cap(spaces_heap_t* heap, size_t cap) SPACES_NOEXCEPT;

/** The heap's cap (SPACES_UNCAPPED if none); 0 for an invalid heap. */
SPACES_API size_t spaces_heap_cap(const spaces_heap_t* heap) SPACES_NOEXCEPT;

/** Sets the soft limit (SPACES_UNCAPPED removes it): the next acquisition
 *  that takes the footprint from at most `bytes` to above it calls the
 *  heap's on_soft_limit handler and counts in soft_limit_events. Nothing
 *  is refused because of it. Any thread. */
SPACES_API spaces_status_t spaces_heap_set_soft_limit(spaces_heap_t* heap, size_t bytes) SPACES_NOEXCEPT;

/** The heap's soft limit (SPACES_UNCAPPED if none); 0 for an invalid heap. */
SPACES_API size_t spaces_heap_soft_limit(const spaces_heap_t* heap) SPACES_NOEXCEPT;

/** The heap's footprint now: the slab bytes it and its children hold, what
 *  the cap and the soft limit are compared with. O(1), no lock, any thread;
 *  0 for an invalid heap. */
SPACES_API size_t spaces_heap_footprint(const spaces_heap_t* heap) SPACES_NOEXCEPT;

/** A number that identifies the heap for its whole life and is never given
 *  to another heap; 0 for NULL or a destroyed heap. Lets an owner check that
 *  a handle it kept still denotes the heap it created (a parent's destroy or
 *  reset destroys the children). */
SPACES_API uint64_t spaces_heap_id(const spaces_heap_t* heap) SPACES_NOEXCEPT;

/** The heap's name; "" for an invalid heap. Valid until the heap dies. */
SPACES_API const char* spaces_heap_name(const spaces_heap_t* heap) SPACES_NOEXCEPT;

/** The heap's discipline; SPACES_GENERAL for an invalid heap. */
SPACES_API spaces_discipline_t spaces_heap_discipline(const spaces_heap_t* heap) SPACES_NOEXCEPT;

/** The process default heap (general, multi-threaded, capped by
 *  SPACES_OPTION_DEFAULT_CAP): the heap behind the malloc override. */
SPACES_API spaces_heap_t* spaces_default_heap(void) SPACES_NOEXCEPT;

/* ---- Routing: a thread's current heap ----------------------------------- */

/** Makes `heap` the calling thread's current heap: while it is, every malloc,
 *  calloc, realloc(NULL, n), aligned_alloc, posix_memalign, memalign, valloc
 *  and every form of operator new on this thread allocates from it and counts
 *  against its cap, when the malloc replacement is in the process
 *  (libspaces_malloc.so preloaded, or spaces::override linked); without it,
 *  only spaces_thread_heap sees the setting. NULL (or the default heap) makes
 *  the default heap current again. `previous`, if not NULL, receives the
 *  heap that was current (NULL for the default heap), also on failure.
 *
 *  Blocks never change heaps: free, and realloc of an existing block, act on
 *  the block's own heap, from any thread, routed or not. Threads do not
 *  inherit the setting (a thread starts on the default heap); a fork child's
 *  forking thread keeps it. While any thread routes into a heap, destroying
 *  it or an ancestor, or resetting an ancestor, is refused with
 *  SPACES_E_BUSY; resetting the heap itself is allowed (same concurrency
 *  rule as spaces_heap_reset). A thread's route ends when it exits.
 *
 *  Fails, leaving the current heap unchanged, with SPACES_E_INVALID for a
 *  handle that is not a live heap; SPACES_E_UNSUPPORTED for a region heap
 *  (routed code frees and reallocates, which a region cannot honour);
 *  SPACES_E_BUSY for a SPACES_HEAP_SINGLE_THREADED heap another thread
 *  routes into; SPACES_E_NOMEM when the thread's part of the heap cannot be
 *  created. */
SPACES_API spaces_status_t spaces_thread_set_heap(spaces_heap_t* heap,
                                                  spaces_heap_t** previous) SPACES_NOEXCEPT;

/** The calling thread's current heap; NULL when it is the default heap. */
SPACES_API spaces_heap_t* spaces_thread_heap(void) SPACES_NOEXCEPT;

/* ---- Allocation -------------------------------------------------------- */

/** Allocates `size` bytes (size 0 gives a unique minimal block), aligned to
 *  16 bytes. NULL with errno ENOMEM at the cap or when the OS fails, EINVAL
 *  for an invalid heap. Any thread (one at a time for single-threaded heaps). */
SPACES_API void* spaces_alloc(spaces_heap_t* heap, size_t size) SPACES_NOEXCEPT SPACES_MALLOC_ATTR;

/** Allocates `count * size` zeroed bytes; NULL with errno ENOMEM when the
 *  product overflows. Memory fresh from the OS is not cleared again, so a
 *  large calloc costs what the pages touched later cost; a large block
 *  reusing memory returned to the OS with MADV_DONTNEED has only the first
 *  page of each 64 KiB cleared. */
SPACES_API void* spaces_calloc(spaces_heap_t* heap, size_t count,
                               size_t size) SPACES_NOEXCEPT SPACES_MALLOC_ATTR;

/** Allocates `size` bytes aligned to `alignment`, a power of two up to
 *  SPACES_MAX_ALIGNMENT (otherwise NULL with errno EINVAL). */
SPACES_API void* spaces_aligned_alloc(spaces_heap_t* heap, size_t alignment,
                                      size_t size) SPACES_NOEXCEPT SPACES_MALLOC_ATTR;

/** Resizes `ptr` (a block of `heap`, or NULL to allocate from `heap`). Stays
 *  in place when the new size fits the block's size class or span; a block
 *  above 32 KiB that stays above it also grows or shrinks in place when the
 *  memory after it allows, and otherwise moves without a copy from 8 MiB up
 *  (its pages are remapped). A cap is charged only the difference. Any other
 *  resize moves into `heap` and frees the old block; a moved block counts as
 *  an allocation and a free in the statistics. On failure returns NULL and
 *  leaves `ptr` untouched. A `ptr` of another heap, or one that is not the
 *  start of a block spaces handed out, fails with EINVAL (no header is read).
 *  Size 0 gives a minimal block (never NULL on success).
 *  Region heaps keep no block sizes: they always move the block, copying
 *  `size` bytes or up to the end of the memory the region used after `ptr`,
 *  whichever is less; the old block stays until reset. */
SPACES_API void* spaces_realloc(spaces_heap_t* heap, void* ptr, size_t size) SPACES_NOEXCEPT;

/** Like spaces_realloc but keeps `alignment` when the block must move. */
SPACES_API void* spaces_realloc_aligned(spaces_heap_t* heap, void* ptr, size_t alignment,
                                        size_t size) SPACES_NOEXCEPT;

/** Frees a block of any heap; NULL is a no-op; blocks of region heaps are
 *  ignored. Any thread may free any block (a non-owner thread's free goes to
 *  the slab's remote list, and counts as a free at once). Freeing a block
 *  twice, or a pointer that is not a block's start, is undefined in the
 *  release build and aborts in the hardened build (see the file comment). */
SPACES_API void spaces_free(void* ptr) SPACES_NOEXCEPT;

/** Bytes usable at `ptr` (at least the size requested). 0 for NULL, for a
 *  pointer spaces does not own, and for blocks of region heaps, which keep no
 *  per-block size. */
SPACES_API size_t spaces_usable_size(const void* ptr) SPACES_NOEXCEPT;

/** The heap a block belongs to; NULL for NULL, for pointers spaces does not
 *  own, and for blocks of destroyed heaps. Safe on any pointer value. */
SPACES_API spaces_heap_t* spaces_heap_of(const void* ptr) SPACES_NOEXCEPT;

/** Whether `ptr` lies in memory spaces manages (a few instructions). */
SPACES_API int spaces_owns(const void* ptr) SPACES_NOEXCEPT;

/** The calling thread's most recent allocation failure. */
typedef struct spaces_failure_s {
  spaces_status_t status; /**< SPACES_E_CAP, SPACES_E_NOMEM or SPACES_E_INVALID */
  spaces_heap_t* heap;    /**< the heap whose cap refused (an ancestor for nested heaps) */
  size_t request;         /**< bytes the caller asked for */
  size_t footprint;       /**< that heap's footprint when it refused */
  size_t cap;             /**< that heap's cap when it refused */
  size_t charge;          /**< bytes the refusal was about: at a cap, the slab, span or
                               mini slab the request needed; otherwise `request` */
} spaces_failure_t;

/** Copies the calling thread's most recent allocation failure into `out`
 *  (status SPACES_OK if this thread never failed). Lets a caller tell a cap
 *  from an OS failure after a NULL. */
SPACES_API spaces_status_t spaces_last_failure(spaces_failure_t* out) SPACES_NOEXCEPT;

/* ---- Region fast path -------------------------------------------------- */

/** The bump cursor of a region heap, for the inline fast path below. The
 *  fields are the allocator's; read none of them. A hot loop may copy the
 *  cursor into a local variable, allocate through the copy (which the
 *  compiler then keeps in registers) and store it back with `*cursor =
 *  local` before anything else uses the heap on this thread; until then the
 *  heap's statistics and realloc do not see the copy's allocations. */
typedef struct spaces_cursor_s {
  char* cur;
  char* end;
  uint64_t tally; /* this window's blocks << SPACES_TALLY_SHIFT | its requested bytes */
  void* owner;    /* the allocator's shard */
} spaces_cursor_t;

/** The fast path counts blocks and requested bytes with one add: a window is
 *  one slab, so its bytes fit in the low 30 bits and its blocks in the rest.
 *  The slow path folds the tally into the heap's totals at each new window. */
#define SPACES_TALLY_SHIFT 30

/** The calling thread's cursor of a region heap (NULL for a general or
 *  invalid heap). It stays valid until the heap is destroyed; for a
 *  multi-threaded heap it belongs to the calling thread only. */
SPACES_API spaces_cursor_t* spaces_region_cursor(spaces_heap_t* heap) SPACES_NOEXCEPT;

/** A position in a region heap (spaces_region_mark). A value: copy it freely. */
typedef struct spaces_mark_s {
  uint64_t value;
} spaces_mark_t;

/** Marks where the calling thread stands in a region heap, so that
 *  spaces_region_rewind(heap, mark) can later free everything the thread
 *  allocated from it since. Marks nest as a stack: rewinding to a mark ends
 *  the marks taken after it, and keeps it (rewind to it again at will);
 *  reset and destroy end them all. O(1); a thread holds up to 65,535 live
 *  marks per heap. SPACES_E_INVALID for a dead heap or NULL `out`,
 *  SPACES_E_UNSUPPORTED for a general heap, SPACES_E_NOMEM when the OS
 *  refuses the mark stack memory or 65,535 marks are live. */
SPACES_API spaces_status_t spaces_region_mark(spaces_heap_t* heap, spaces_mark_t* out) SPACES_NOEXCEPT;

/** Frees every block the calling thread allocated from the region heap
 *  since `mark`: its cursor returns to the mark, the slabs, spans and huge
 *  mappings it opened since go back (their bytes leave the footprint), the
 *  statistics count what was live at the mark, and the marks taken after it
 *  end. Cost: O(runs released). SPACES_E_INVALID, changing nothing, for a
 *  mark that is not a live mark of this thread's part of the heap: ended by
 *  an earlier rewind, a reset or destroy, taken by another thread or heap,
 *  or garbage. A cursor copied into a local variable must be stored back
 *  before (spaces_cursor_t) and read again after. */
SPACES_API spaces_status_t spaces_region_rewind(spaces_heap_t* heap, spaces_mark_t mark) SPACES_NOEXCEPT;

/** 1 if spaces_region_rewind(heap, mark) would accept the mark on this
 *  thread, else 0. Lets an owner check before it undoes its own state. */
SPACES_API int spaces_region_mark_live(spaces_heap_t* heap, spaces_mark_t mark) SPACES_NOEXCEPT;

/** Requests above this many bytes (with their alignment) that do not fit the
 *  cursor's current window get a span of their own instead of a new slab
 *  (one that does fit takes the window's room, as any request does). */
#define SPACES_REGION_SPAN_THRESHOLD (SPACES_SLAB_SIZE / 2 - 256)

/** A cursor's new window: the block just allocated ends at `cur`. */
typedef struct spaces_window_s {
  char* cur; /**< NULL on failure (errno ENOMEM or EINVAL) */
  char* end;
} spaces_window_t;

/** Slow path of spaces_cursor_alloc for requests up to the span threshold:
 *  the window [cur, end) of the cursor whose owner field is `owner` has no
 *  room, so open the next slab and place the block at its start (a 0-byte
 *  request takes 1 byte, in the old window if it has room). Folds `tally`
 *  and the new block into the heap's statistics; the new window's tally
 *  starts at 0. Values in, values out: the cursor's address never escapes,
 *  so a cursor copied into a local variable stays in registers. */
SPACES_API spaces_window_t spaces_cursor_refill(void* owner, char* cur, char* end, uint64_t tally, size_t size,
                                                size_t alignment) SPACES_NOEXCEPT;

/** Slow path of spaces_cursor_alloc above the span threshold: a span of its
 *  own (the window is unchanged). NULL with errno as spaces_aligned_alloc. */
SPACES_API void* spaces_cursor_span(void* owner, size_t size, size_t alignment) SPACES_NOEXCEPT;

/** Bump-allocates `size` bytes aligned to `alignment` (a power of two) from a
 *  region cursor: one compare, one add for the statistics, a call when the
 *  slab is exhausted. Same results as spaces_aligned_alloc on the cursor's
 *  heap. */
static inline void* spaces_cursor_alloc(spaces_cursor_t* cursor, size_t size,
                                        size_t alignment) SPACES_NOEXCEPT {
  uintptr_t p = (SPACES_PTR_CAST(uintptr_t, cursor->cur) + (alignment - 1)) & ~SPACES_STATIC_CAST(uintptr_t, alignment - 1);
  uintptr_t e = SPACES_PTR_CAST(uintptr_t, cursor->end);
  /* One compare. `end` is a slab boundary (or NULL with `cur` NULL), so for
   * alignments up to a slab p <= e and e - p is the room left; size - 1 <
   * room admits sizes 1..room, while size 0 wraps around and takes the slow
   * path, which gives it a unique byte. An empty cursor has no room. The
   * alignment test folds away for constant alignments. */
  if (SPACES_INLINE_LIKELY(alignment <= SPACES_SLAB_SIZE && size - 1 < e - p)) {
    cursor->cur = SPACES_PTR_CAST(char*, p + size);
    cursor->tally += size + (SPACES_STATIC_CAST(uint64_t, 1) << SPACES_TALLY_SHIFT);
    return SPACES_PTR_CAST(void*, p);
  }
  if (size > SPACES_REGION_SPAN_THRESHOLD || alignment > SPACES_REGION_SPAN_THRESHOLD - size) {
    return spaces_cursor_span(cursor->owner, size, alignment);
  } else {
    spaces_window_t w = spaces_cursor_refill(cursor->owner, cursor->cur, cursor->end, cursor->tally, size, alignment);
    cursor->tally = 0;
    if (w.cur == NULL) return NULL;
    cursor->cur = w.cur;
    cursor->end = w.end;
    return w.cur - (size != 0 ? size : 1);
  }
}

/* ---- Statistics and walk ------------------------------------------------ */

typedef struct spaces_stats_s {
  size_t live_bytes;     /**< bytes in live blocks: usable sizes in general heaps,
                              requested sizes in region heaps (see docs/design.md) */
  size_t live_blocks;    /**< blocks allocated and not yet freed */
  size_t footprint;      /**< slab bytes held, headers and fragmentation included */
  size_t peak_footprint; /**< highest footprint since creation */
  size_t cap;            /**< the cap; SPACES_UNCAPPED if none */
  size_t slabs;          /**< 64 KiB slabs held (a span of n slabs counts n) */
  size_t alloc_count;    /**< successful allocations since creation or reset */
  size_t free_count;     /**< frees since creation or reset (remote ones once collected) */
  size_t cap_failures;   /**< slab acquisitions refused by the cap */
  size_t resets;         /**< spaces_heap_reset calls */
  size_t soft_limit;     /**< the soft limit; SPACES_UNCAPPED if none */
  size_t soft_limit_events; /**< acquisitions that took the footprint past the soft limit */
} spaces_stats_t;

/** Fills `out` with the heap's statistics; children's slabs count in a
 *  parent's footprint but not in its blocks. O(slabs). Blocks other threads
 *  freed count as freed at once, whether or not their owner collected them.
 *  Exact when no other thread uses the heap meanwhile; otherwise each field
 *  of a general heap is a recent value. For a region heap it must not run while another thread
 *  allocates through the heap's cursor (plain memory written inline). */
SPACES_API spaces_status_t spaces_heap_stats(const spaces_heap_t* heap,
                                             spaces_stats_t* out) SPACES_NOEXCEPT;

/** Writes the statistics readably (one field per line) to `out`. */
SPACES_API spaces_status_t spaces_heap_print_stats(const spaces_heap_t* heap,
                                                   FILE* out) SPACES_NOEXCEPT;

/** Writes the statistics as one JSON object and a newline to `out`. */
SPACES_API spaces_status_t spaces_heap_write_stats_json(const spaces_heap_t* heap,
                                                        FILE* out) SPACES_NOEXCEPT;

/** Called once per live block; return nonzero to stop the walk. */
typedef int (*spaces_walk_fn)(void* block, size_t usable_size, void* arg);

/** Visits every live block of a general heap exactly once, slab by slab:
 *  the same blocks spaces_heap_stats counts. Not safe against concurrent
 *  allocation or free in the heap, nor against allocating or freeing in it
 *  from `fn`; frees by other threads are settled first (as their owners
 *  would), so call it when the heap's threads are quiescent.
 *  SPACES_E_UNSUPPORTED for region heaps (they keep no block boundaries). */
SPACES_API spaces_status_t spaces_heap_walk(spaces_heap_t* heap, spaces_walk_fn fn,
                                            void* arg) SPACES_NOEXCEPT;

/* ---- Options (knobs) --------------------------------------------------- */

/** Process-wide options. Each is read from the environment variable
 *  SPACES_<NAME> on first use (bad values are reported once on stderr and
 *  the default is kept) and may be changed with spaces_option_set. Units and
 *  defaults: docs/tuning.md. */
typedef enum spaces_option_e {
  SPACES_OPTION_SLAB_CACHE = 0,     /**< bytes of empty warm slabs kept for reuse */
  SPACES_OPTION_DECOMMIT = 1,       /**< 0 keep, 1 MADV_FREE, 2 MADV_DONTNEED, 3 unmap */
  SPACES_OPTION_DECOMMIT_DELAY = 2, /**< ms a cached slab stays warm before decommit */
  SPACES_OPTION_RESERVE_SIZE = 3,   /**< bytes of address space reserved from the OS at once */
  SPACES_OPTION_HUGE_THRESHOLD = 4, /**< blocks larger than this are mapped from the OS directly */
  SPACES_OPTION_HUGE_PAGES = 5,     /**< 1: ask for transparent huge pages on reservations */
  SPACES_OPTION_JUNK = 6,           /**< 0 off, 1 fill new blocks with 0xA5 and freed with 0x5A */
  SPACES_OPTION_STATS_AT_EXIT = 7,  /**< 1: print the default heap's stats at exit */
  SPACES_OPTION_DEFAULT_CAP = 8,    /**< cap of the default heap, bytes (0 = none) */
  SPACES_OPTION_VERBOSE = 9,        /**< 1: report OS failures and cap failures on stderr */
  SPACES_OPTION_LEAK_REPORT = 10,   /**< 1: report the default heap's live blocks at exit */
  SPACES_OPTION_LEAK_BLOCKS = 11,   /**< blocks a leak report lists one by one (0-64, default 8) */
  SPACES_OPTION_COUNT = 12,
  SPACES_OPTION_MAX_ = 0x7fffffff   /**< not an option: a C caller may pass any int, and C++ must
                                         be able to hold it (functions refuse it) */
} spaces_option_t;

/** Sets an option. SPACES_E_INVALID for an unknown option, SPACES_E_RANGE for
 *  a value outside its range (the option keeps its value). Any thread. */
SPACES_API spaces_status_t spaces_option_set(spaces_option_t option,
                                             long long value) SPACES_NOEXCEPT;

/** Reads an option into `out`. */
SPACES_API spaces_status_t spaces_option_get(spaces_option_t option,
                                             long long* out) SPACES_NOEXCEPT;

/** Sets an option by name ("slab_cache", case-insensitive) from text as in the
 *  environment: a decimal number with an optional K/M/G/T (powers of 1024)
 *  suffix for byte sizes, or a keyword for enumerations ("dontneed"). */
SPACES_API spaces_status_t spaces_option_set_str(const char* name,
                                                 const char* value) SPACES_NOEXCEPT;

/** The lower-case name of an option ("slab_cache"); NULL if unknown. */
SPACES_API const char* spaces_option_name(spaces_option_t option) SPACES_NOEXCEPT;

/** Returns memory held in the process slab cache to the OS now, as
 *  SPACES_OPTION_DECOMMIT says, with the spans the calling thread freed
 *  and kept for reuse. Any thread. */
SPACES_API void spaces_collect(void) SPACES_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SPACES_SPACES_H */
