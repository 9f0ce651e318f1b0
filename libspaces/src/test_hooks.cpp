// ---------------------------------------------------------------------------
// test_hooks.cpp: the test points of the spaces_testhooks library.
//
// SPACES_TEST_POINT(name, object) (internal/config.h) calls test_point, which
// calls the hook a test installed with spaces_test_set_hook. The hook runs on
// the thread that reached the point, possibly with allocator locks held: it
// may block that thread (to force an interleaving), sleep (chaos), or record,
// but must not call back into the allocator in ways that take the same
// locks. Only this library defines the points; every other build compiles
// them out.
// ---------------------------------------------------------------------------
#include <atomic>

#include "internal/config.h"
#include <spaces/spaces.h>

extern "C" {
/// The hook: called with the point's name and the object it concerns (a
/// slab, a shard, a heap, or NULL).
typedef void (*spaces_test_hook_fn)(const char* point, const void* object, void* arg);
SPACES_API void spaces_test_set_hook(spaces_test_hook_fn fn, void* arg) noexcept;
}

namespace spaces::detail {
namespace {
constinit std::atomic<spaces_test_hook_fn> g_hook{nullptr};
constinit std::atomic<void*> g_hook_arg{nullptr};
}  // namespace

void test_point(const char* name, const void* object) noexcept {
  if (spaces_test_hook_fn fn = g_hook.load(std::memory_order_acquire)) fn(name, object, g_hook_arg.load(std::memory_order_relaxed));
}

}  // namespace spaces::detail

void spaces_test_set_hook(spaces_test_hook_fn fn, void* arg) noexcept {
  spaces::detail::g_hook_arg.store(arg, std::memory_order_relaxed);
  spaces::detail::g_hook.store(fn, std::memory_order_release);
}
