// Destroy and reset: whole heaps at once, children first, slabs reused warm.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

std::uintptr_t slab_base(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) - 1) & ~(kSlab - 1); }

// After destroy the handle is dead: every call on it answers SPACES_E_INVALID or 0.
TEST(DestroyTest, HandleIsDeadAfterDestroy) {
  spaces_heap_t* h = make_heap("doomed");
  ASSERT_NE(spaces_alloc(h, 100), nullptr);
  const uint64_t id = spaces_heap_id(h);
  EXPECT_NE(id, 0u);
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  EXPECT_EQ(spaces_heap_id(h), 0u);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_reset(h), SPACES_E_INVALID);
  spaces_stats_t s;
  EXPECT_EQ(spaces_heap_stats(h, &s), SPACES_E_INVALID);
  EXPECT_STREQ(spaces_heap_name(h), "");
  EXPECT_EQ(spaces_alloc(h, 10), nullptr);
}

// A new heap's first slabs are the ones the destroyed heap gave back (warm reuse).
TEST(DestroyTest, NewHeapReusesTheDestroyedHeapsSlabs) {
  spaces_heap_t* a = make_heap("a", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED);
  std::set<std::uintptr_t> slabs;
  for (int i = 0; i < 10000; ++i) slabs.insert(slab_base(spaces_alloc(a, 64)));
  ASSERT_EQ(slabs.size(), 10u);
  ASSERT_EQ(spaces_heap_destroy(a), SPACES_OK);
  spaces_heap_t* b = make_heap("b", SPACES_UNCAPPED, SPACES_REGION, SPACES_HEAP_SINGLE_THREADED);
  std::size_t reused = 0;
  for (int i = 0; i < 10; ++i) {
    void* p = spaces_alloc(b, 60000);  // one slab each
    reused += slabs.count(slab_base(p));
  }
  EXPECT_EQ(reused, 10u);
  spaces_heap_destroy(b);
}

// A destroyed heap's spans go to the cache whole (no walk), and the next
// heap's spans of the same length are cut from them, warm; so is a slab.
TEST(DestroyTest, SpansOfADestroyedHeapServeTheNextHeap) {
  ScopedHeap parent("parent");
  spaces_heap_t* a = make_heap("spans", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED, parent);
  constexpr int kSpans = 300;
  constexpr std::size_t kSize = 100 << 10;  // two slabs each, with the header region
  std::set<std::uintptr_t> spans;
  for (int i = 0; i < kSpans; ++i) spans.insert(slab_base(spaces_alloc(a, kSize)));
  ASSERT_EQ(spans.size(), static_cast<std::size_t>(kSpans));
  EXPECT_EQ(stats_of(parent).footprint, kSpans * 2 * kSlab);
  ASSERT_EQ(spaces_heap_destroy(a), SPACES_OK);
  EXPECT_EQ(stats_of(parent).footprint, 0u);
  spaces_heap_t* b = make_heap("next", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED, parent);
  std::size_t reused = 0;
  for (int i = 0; i < kSpans; ++i) {
    void* p = spaces_alloc(b, kSize);
    ASSERT_NE(p, nullptr);
    std::memset(p, 0x5a, kSize);
    reused += spans.count(slab_base(p));
  }
  EXPECT_EQ(reused, static_cast<std::size_t>(kSpans));
  EXPECT_EQ(stats_of(parent).footprint, kSpans * 2 * kSlab);
  ASSERT_EQ(spaces_heap_reset(b), SPACES_OK);
  EXPECT_EQ(stats_of(parent).footprint, 0u);
  // A small block after the reset lands in one of those slabs, too.
  EXPECT_EQ(spans.count(slab_base(spaces_alloc(b, 64))), 1u);
  EXPECT_EQ(stats_of(parent).footprint, kSlab);
  spaces_heap_destroy(b);
}

// Reset frees every block but keeps the heap, its name, cap and options.
TEST(ResetTest, ResetKeepsTheHeap) {
  ScopedHeap h("kept", 100 * kSlab);
  std::vector<void*> v;
  for (int i = 0; i < 3000; ++i) v.push_back(spaces_alloc(h, 100));
  void* big = spaces_alloc(h, 500000);
  ASSERT_NE(big, nullptr);
  const spaces_stats_t before = stats_of(h);
  ASSERT_EQ(spaces_heap_reset(h), SPACES_OK);
  const spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.footprint, 0u);
  EXPECT_EQ(s.alloc_count, 0u);
  EXPECT_EQ(s.free_count, 0u);
  EXPECT_EQ(s.resets, 1u);
  EXPECT_EQ(s.peak_footprint, before.footprint);
  EXPECT_EQ(s.cap, 100 * kSlab);
  EXPECT_STREQ(spaces_heap_name(h), "kept");
  EXPECT_NE(spaces_alloc(h, 100), nullptr);
  EXPECT_EQ(stats_of(h).alloc_count, 1u);
}

// With RETAIN_ON_RESET the slabs stay with the heap and are reused.
TEST(ResetTest, RetainOnResetKeepsTheFootprint) {
  ScopedHeap h("retaining", SPACES_UNCAPPED, SPACES_REGION, SPACES_HEAP_RETAIN_ON_RESET);
  std::set<std::uintptr_t> slabs;
  for (int i = 0; i < 5000; ++i) slabs.insert(slab_base(spaces_alloc(h, 64)));
  const std::size_t footprint = stats_of(h).footprint;
  ASSERT_EQ(footprint, slabs.size() * kSlab);
  ASSERT_EQ(spaces_heap_reset(h), SPACES_OK);
  EXPECT_EQ(stats_of(h).footprint, footprint);
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  std::size_t reused = 0;
  std::set<std::uintptr_t> again;
  for (int i = 0; i < 5000; ++i) again.insert(slab_base(spaces_alloc(h, 64)));
  for (auto s : again) reused += slabs.count(s);
  EXPECT_EQ(reused, slabs.size());
  EXPECT_EQ(stats_of(h).footprint, footprint);
}

// Retained slabs count against the cap, and are given back when the cap is reached.
TEST(ResetTest, RetainedSlabsAreGivenBackAtTheCap) {
  ScopedHeap h("retaining", 4 * kSlab, SPACES_GENERAL, SPACES_HEAP_RETAIN_ON_RESET);
  for (int i = 0; i < 4; ++i) ASSERT_NE(spaces_alloc(h, 20000), nullptr);  // class 21632: 3 per slab
  ASSERT_EQ(stats_of(h).footprint, 2 * kSlab);
  ASSERT_EQ(spaces_heap_reset(h), SPACES_OK);
  ASSERT_EQ(stats_of(h).footprint, 2 * kSlab);
  // A large block needs 4 slabs: only possible once the retained ones go back.
  EXPECT_NE(spaces_alloc(h, 3 * kSlab), nullptr);
  EXPECT_EQ(stats_of(h).footprint, 4 * kSlab);
}

// Destroying a parent destroys its children first; resetting it does too.
TEST(NestingTest, ParentDestroyAndResetDestroyChildren) {
  spaces_heap_t* parent = make_heap("tu");
  spaces_heap_t* ast = make_heap("ast", SPACES_UNCAPPED, SPACES_REGION, 0, parent);
  spaces_heap_t* ir = make_heap("ir", SPACES_UNCAPPED, SPACES_REGION, 0, parent);
  ASSERT_NE(spaces_alloc(ast, 1000), nullptr);
  ASSERT_NE(spaces_alloc(ir, 1000), nullptr);
  EXPECT_EQ(stats_of(parent).footprint, 2 * kSlab);
  ASSERT_EQ(spaces_heap_reset(parent), SPACES_OK);
  EXPECT_EQ(spaces_heap_id(ast), 0u);
  EXPECT_EQ(spaces_heap_id(ir), 0u);
  EXPECT_EQ(stats_of(parent).footprint, 0u);
  spaces_heap_t* again = make_heap("ast2", SPACES_UNCAPPED, SPACES_REGION, 0, parent);
  ASSERT_NE(spaces_alloc(again, 10), nullptr);
  ASSERT_EQ(spaces_heap_destroy(parent), SPACES_OK);
  EXPECT_EQ(spaces_heap_id(again), 0u);
}

// A heap created with a dead parent is refused.
TEST(NestingTest, DeadParentIsRefused) {
  spaces_heap_t* parent = make_heap("gone");
  spaces_heap_destroy(parent);
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.parent = parent;
  spaces_heap_t* h = reinterpret_cast<spaces_heap_t*>(1);
  EXPECT_EQ(spaces_heap_create(&o, &h), SPACES_E_INVALID);
  EXPECT_EQ(h, nullptr);
}

// Destroy never needs the objects: a heap of a million blocks goes in one call
// and its footprint returns to zero on the parent.
TEST(DestroyTest, MillionBlockHeapIsDestroyedWhole) {
  ScopedHeap parent("parent");
  spaces_heap_t* h = make_heap("million", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED, parent);
  for (int i = 0; i < 1000000; ++i) ASSERT_NE(spaces_alloc(h, 32 + static_cast<std::size_t>(i % 33)), nullptr);
  EXPECT_GT(stats_of(parent).footprint, 700 * kSlab);
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  EXPECT_EQ(stats_of(parent).footprint, 0u);
}

// ---- Teardown hooks --------------------------------------------------------------

struct HookLog {
  std::vector<std::string> events;
  spaces_status_t nested_destroy = SPACES_OK;
  spaces_status_t nested_reset = SPACES_OK;
};

void record(spaces_heap_t* h, int destroyed, void* arg) {
  auto* log = static_cast<HookLog*>(arg);
  log->events.push_back(std::string(spaces_heap_name(h)) + (destroyed ? " destroyed" : " reset"));
}

spaces_heap_t* hooked(const char* name, HookLog* log, spaces_heap_t* parent = nullptr) {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.name = name;
  o.parent = parent;
  o.on_teardown = record;
  o.on_teardown_arg = log;
  spaces_heap_t* h = nullptr;
  EXPECT_EQ(spaces_heap_create(&o, &h), SPACES_OK);
  return h;
}

// The teardown hook runs on reset and destroy, of the heap and of its
// ancestors, children first, with the heap still alive.
TEST(TeardownHookTest, RunsOnResetAndDestroyChildrenFirst) {
  HookLog log;
  spaces_heap_t* unit = hooked("unit", &log);
  spaces_heap_t* ast = hooked("ast", &log, unit);
  hooked("ast-tokens", &log, ast);
  spaces_heap_t* ir = hooked("ir", &log, unit);
  ASSERT_NE(spaces_alloc(ast, 100), nullptr);
  ASSERT_EQ(spaces_heap_reset(ir), SPACES_OK);
  ASSERT_EQ(spaces_heap_reset(unit), SPACES_OK);
  EXPECT_EQ(log.events, (std::vector<std::string>{"ir reset", "ir destroyed", "ast-tokens destroyed",
                                                  "ast destroyed", "unit reset"}));
  EXPECT_EQ(spaces_heap_id(ast), 0u);
  log.events.clear();
  ASSERT_EQ(spaces_heap_destroy(unit), SPACES_OK);
  EXPECT_EQ(log.events, (std::vector<std::string>{"unit destroyed"}));
}

void teardown_again(spaces_heap_t* h, int, void* arg) {
  auto* log = static_cast<HookLog*>(arg);
  log->nested_destroy = spaces_heap_destroy(h);
  log->nested_reset = spaces_heap_reset(h);
}

// A hook cannot start a second teardown of its heap.
TEST(TeardownHookTest, HookCannotResetOrDestroyItsHeap) {
  HookLog log;
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.on_teardown = teardown_again;
  o.on_teardown_arg = &log;
  spaces_heap_t* h = nullptr;
  ASSERT_EQ(spaces_heap_create(&o, &h), SPACES_OK);
  ASSERT_EQ(spaces_heap_reset(h), SPACES_OK);
  EXPECT_EQ(log.nested_destroy, SPACES_E_INVALID);
  EXPECT_EQ(log.nested_reset, SPACES_E_INVALID);
  EXPECT_NE(spaces_alloc(h, 10), nullptr);  // the reset finished; the heap lives on
  log = HookLog{};
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  EXPECT_EQ(log.nested_destroy, SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_id(h), 0u);
}

struct AncestorLog {
  spaces_heap_t* ancestor = nullptr;
  spaces_status_t reset = SPACES_OK;
  spaces_status_t destroy = SPACES_OK;
};

void reset_the_ancestor(spaces_heap_t*, int, void* arg) {
  auto* log = static_cast<AncestorLog*>(arg);
  log->reset = spaces_heap_reset(log->ancestor);
  log->destroy = spaces_heap_destroy(log->ancestor);
}

// A hook that resets or destroys an ancestor is refused, not looped on (the
// fuzzer found the parent's reset destroying the child whose hook ran it,
// forever: tests/fuzz/regressions/heap_ops_fuzzer/hook-resets-ancestor-hangs).
TEST(TeardownHookTest, HookCannotResetOrDestroyAnAncestor) {
  AncestorLog log;
  spaces_heap_t* parent = make_heap("parent");
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.parent = parent;
  o.on_teardown = reset_the_ancestor;
  o.on_teardown_arg = &log;
  spaces_heap_t* child = nullptr;
  ASSERT_EQ(spaces_heap_create(&o, &child), SPACES_OK);
  log.ancestor = parent;
  ASSERT_EQ(spaces_heap_destroy(child), SPACES_OK);
  EXPECT_EQ(log.reset, SPACES_E_INVALID);
  EXPECT_EQ(log.destroy, SPACES_E_INVALID);
  EXPECT_NE(spaces_heap_id(parent), 0u);
  EXPECT_EQ(spaces_heap_destroy(parent), SPACES_OK);  // outside the hook, it works
}

}  // namespace
