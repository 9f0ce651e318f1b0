// ---------------------------------------------------------------------------
// config.h: compiler macros and the assertion tiers of libspaces.
//
// Standard headers only. Assertions come in tiers (mimalloc's internal.h):
//   SPACES_ASSERT            API misuse that a debug build should catch  (SPACES_DEBUG >= 1)
//   SPACES_ASSERT_INTERNAL   internal invariants, cheap                  (SPACES_DEBUG >= 2)
//   SPACES_ASSERT_EXPENSIVE  whole-structure checkers (slab_is_valid)    (SPACES_DEBUG >= 3)
//   SPACES_CHECK             stays on in hardened builds (SPACES_HARDENED)
// A failed assertion prints file, line and expression and aborts; it never
// allocates.
// ---------------------------------------------------------------------------
#ifndef SPACES_INTERNAL_CONFIG_H
#define SPACES_INTERNAL_CONFIG_H

#include <cstddef>
#include <cstdint>

#define SPACES_LIKELY(x) __builtin_expect(!!(x), 1)
#define SPACES_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SPACES_NOINLINE __attribute__((noinline))
#define SPACES_COLD __attribute__((cold))
#define SPACES_ALWAYS_INLINE inline __attribute__((always_inline))
#define SPACES_TLS_INITIAL_EXEC __attribute__((tls_model("initial-exec")))
/// On declarations of the library's own globals: they are never preempted,
/// so code reaches them directly instead of through the GOT.
#define SPACES_HIDDEN __attribute__((visibility("hidden")))

#ifndef SPACES_DEBUG
#define SPACES_DEBUG 0
#endif
#ifndef SPACES_HARDENED
#define SPACES_HARDENED 0
#endif

// Sanitizer builds: the allocator writes free-list links into blocks it has
// poisoned, so the functions that touch block memory opt out of ASan
// instrumentation (the poisoning still guards every user access).
// The inline fast paths touch block memory too; an always_inline function
// takes the instrumentation of its caller, so in ASan builds they become
// real (noinline) functions instead.
#if defined(__SANITIZE_ADDRESS__) || defined(SPACES_ASAN)
#define SPACES_ASAN_ENABLED 1
#define SPACES_NO_SANITIZE_ADDRESS __attribute__((no_sanitize("address")))
#define SPACES_FAST_PATH inline __attribute__((noinline, no_sanitize("address")))
#else
#define SPACES_ASAN_ENABLED 0
#define SPACES_NO_SANITIZE_ADDRESS
#define SPACES_FAST_PATH inline __attribute__((always_inline))
#endif

namespace spaces::detail {

/// Prints "spaces: <file>:<line>: assertion failed: <expr>" and aborts.
[[noreturn]] SPACES_COLD void assert_fail(const char* expr, const char* file, int line) noexcept;

}  // namespace spaces::detail

#define SPACES_ASSERT_ALWAYS(expr) \
  (SPACES_LIKELY(expr) ? static_cast<void>(0) : ::spaces::detail::assert_fail(#expr, __FILE__, __LINE__))

#if SPACES_DEBUG >= 1
#define SPACES_ASSERT(expr) SPACES_ASSERT_ALWAYS(expr)
#else
#define SPACES_ASSERT(expr) static_cast<void>(0)
#endif
#if SPACES_DEBUG >= 2
#define SPACES_ASSERT_INTERNAL(expr) SPACES_ASSERT_ALWAYS(expr)
#else
#define SPACES_ASSERT_INTERNAL(expr) static_cast<void>(0)
#endif
#if SPACES_DEBUG >= 3
#define SPACES_ASSERT_EXPENSIVE(expr) SPACES_ASSERT_ALWAYS(expr)
#else
#define SPACES_ASSERT_EXPENSIVE(expr) static_cast<void>(0)
#endif
#if SPACES_HARDENED || SPACES_DEBUG >= 1
#define SPACES_CHECK(expr) SPACES_ASSERT_ALWAYS(expr)
#else
#define SPACES_CHECK(expr) static_cast<void>(0)
#endif

// Test points: named places in the cross-thread protocols where a test build
// (SPACES_TEST_HOOKS, the spaces_testhooks library) calls a hook installed by
// the test, which may stop the thread there, drive other threads and resume
// it, or sleep at random (chaos). Compiled out everywhere else.
#ifndef SPACES_TEST_HOOKS
#define SPACES_TEST_HOOKS 0
#endif
#if SPACES_TEST_HOOKS
namespace spaces::detail {
void test_point(const char* name, const void* object) noexcept;
}  // namespace spaces::detail
#define SPACES_TEST_POINT(name, object) ::spaces::detail::test_point(name, object)
#else
#define SPACES_TEST_POINT(name, object) static_cast<void>(0)
#endif

#endif  // SPACES_INTERNAL_CONFIG_H
