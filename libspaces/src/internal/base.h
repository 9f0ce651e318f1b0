// ---------------------------------------------------------------------------
// internal/base.h: the bottom layer of libspaces: options, messages and
// fatal reports, metadata memory, the process and per-thread state. It knows
// the data structures (types.h) but none of the operations on them; every
// other layer is built on it (docs/design.md, "Layers").
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_BASE_H
#define SPACES_INTERNAL_BASE_H

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "../os/os.h"
#include "config.h"
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

// ---- init.cpp: the process and its threads ---------------------------------------

// constinit: no dynamic initialiser, so no TLS wrapper call on each access.
extern constinit thread_local ThreadCtx tls_ctx SPACES_HIDDEN SPACES_TLS_INITIAL_EXEC;

/// The calling thread's tag: its thread pointer (one instruction on x86-64).
SPACES_ALWAYS_INLINE std::uintptr_t thread_tag() noexcept {
  return reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
}

/// What the layers above give process_init: called when a thread that used
/// spaces exits, and around fork.
struct ProcessHooks {
  void (*thread_exit)();
  void (*fork_prepare)();
  void (*fork_parent)();
  void (*fork_child)();
};
/// Once per process (any thread, reentrant from libc's own allocations):
/// reads the options, creates the thread-exit key, registers the fork hooks.
void process_init(const ProcessHooks& hooks) noexcept;
/// Whether process_init has finished.
bool process_ready() noexcept;
/// Makes the thread-exit hook run when the calling thread exits (once).
void arm_thread_exit() noexcept;

}  // namespace spaces::detail

#endif  // SPACES_INTERNAL_BASE_H
