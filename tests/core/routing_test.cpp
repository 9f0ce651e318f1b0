// A thread's current heap (spaces_thread_set_heap, spaces::ScopedHeap): the
// setting itself and its edges. What routed malloc and new do is tested with
// the replacement linked in (tests/override/routing_test.cpp); here the
// library is used without it, so only the setting and what it forbids are
// visible.
#include <gtest/gtest.h>
#include <spaces/spaces.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "test_util.hpp"

namespace {

using spaces_test::make_heap;

/// The calling thread's current heap back to the default at the end of a
/// test, whatever the test left.
class RoutingTest : public ::testing::Test {
 protected:
  void TearDown() override { ASSERT_EQ(spaces_thread_set_heap(nullptr, nullptr), SPACES_OK); }
};
using RoutingThreadsTest = RoutingTest;

TEST_F(RoutingTest, AThreadStartsOnTheDefaultHeap) { EXPECT_EQ(spaces_thread_heap(), nullptr); }

TEST_F(RoutingTest, SetReturnsThePreviousHeap) {
  spaces_test::ScopedHeap a("a"), b("b");
  spaces_heap_t* prev = reinterpret_cast<spaces_heap_t*>(0x1);
  ASSERT_EQ(spaces_thread_set_heap(a, &prev), SPACES_OK);
  EXPECT_EQ(prev, nullptr);
  EXPECT_EQ(spaces_thread_heap(), a.get());
  ASSERT_EQ(spaces_thread_set_heap(b, &prev), SPACES_OK);
  EXPECT_EQ(prev, a.get());
  EXPECT_EQ(spaces_thread_heap(), b.get());
  ASSERT_EQ(spaces_thread_set_heap(b, &prev), SPACES_OK);  // the same again: nothing changes
  EXPECT_EQ(prev, b.get());
  ASSERT_EQ(spaces_thread_set_heap(nullptr, &prev), SPACES_OK);
  EXPECT_EQ(prev, b.get());
  EXPECT_EQ(spaces_thread_heap(), nullptr);
  // Nothing routes into them now: both can go.
  EXPECT_EQ(spaces_heap_destroy(a), SPACES_OK);
  EXPECT_EQ(spaces_heap_destroy(b), SPACES_OK);
}

TEST_F(RoutingTest, TheDefaultHeapIsNoRoute) {
  spaces_test::ScopedHeap a("a");
  ASSERT_EQ(spaces_thread_set_heap(a, nullptr), SPACES_OK);
  spaces_heap_t* prev = nullptr;
  ASSERT_EQ(spaces_thread_set_heap(spaces_default_heap(), &prev), SPACES_OK);
  EXPECT_EQ(prev, a.get());
  EXPECT_EQ(spaces_thread_heap(), nullptr);
}

TEST_F(RoutingTest, GarbageAndDeadHandlesAreRefusedAndChangeNothing) {
  spaces_test::ScopedHeap a("a");
  ASSERT_EQ(spaces_thread_set_heap(a, nullptr), SPACES_OK);
  spaces_heap_t* dead = make_heap("dead");
  ASSERT_EQ(spaces_heap_destroy(dead), SPACES_OK);
  for (spaces_heap_t* bad : {dead, reinterpret_cast<spaces_heap_t*>(0x1234),
                             reinterpret_cast<spaces_heap_t*>(~std::uintptr_t{0})}) {
    spaces_heap_t* prev = nullptr;
    EXPECT_EQ(spaces_thread_set_heap(bad, &prev), SPACES_E_INVALID);
    EXPECT_EQ(prev, a.get());  // what is still current
    EXPECT_EQ(spaces_thread_heap(), a.get());
  }
  EXPECT_EQ(spaces_thread_set_heap(dead, nullptr), SPACES_E_INVALID);  // previous may be NULL
}

TEST_F(RoutingTest, ARegionHeapIsRefused) {
  spaces_test::ScopedHeap r("r", SPACES_UNCAPPED, SPACES_REGION);
  spaces_heap_t* prev = reinterpret_cast<spaces_heap_t*>(0x1);
  EXPECT_EQ(spaces_thread_set_heap(r, &prev), SPACES_E_UNSUPPORTED);
  EXPECT_EQ(prev, nullptr);
  EXPECT_EQ(spaces_thread_heap(), nullptr);
  EXPECT_STREQ(spaces_status_str(SPACES_E_BUSY), "a thread routes its allocations into the heap");
}

TEST_F(RoutingTest, DestroyingTheRoutedHeapIsRefusedAndLosesNothing) {
  spaces_heap_t* h = make_heap("routed");
  void* p = spaces_alloc(h, 100);
  ASSERT_NE(p, nullptr);
  const spaces_stats_t before = spaces_test::stats_of(h);
  ASSERT_EQ(spaces_thread_set_heap(h, nullptr), SPACES_OK);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_E_BUSY);
  // Still whole: the block, the statistics, the route.
  const spaces_stats_t after = spaces_test::stats_of(h);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
  EXPECT_EQ(after.footprint, before.footprint);
  EXPECT_EQ(spaces_heap_of(p), h);
  EXPECT_EQ(spaces_thread_heap(), h);
  ASSERT_EQ(spaces_thread_set_heap(nullptr, nullptr), SPACES_OK);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

TEST_F(RoutingTest, AnAncestorCannotTakeARoutedChild) {
  spaces_heap_t* root = make_heap("root");
  spaces_heap_t* mid = make_heap("mid", SPACES_UNCAPPED, SPACES_GENERAL, 0, root);
  spaces_heap_t* leaf = make_heap("leaf", SPACES_UNCAPPED, SPACES_GENERAL, 0, mid);
  ASSERT_NE(leaf, nullptr);
  ASSERT_EQ(spaces_thread_set_heap(leaf, nullptr), SPACES_OK);
  EXPECT_EQ(spaces_heap_destroy(root), SPACES_E_BUSY);
  EXPECT_EQ(spaces_heap_reset(root), SPACES_E_BUSY);
  EXPECT_EQ(spaces_heap_destroy(mid), SPACES_E_BUSY);
  EXPECT_EQ(spaces_heap_reset(mid), SPACES_E_BUSY);
  EXPECT_NE(spaces_heap_id(leaf), 0u);
  // Resetting the routed heap itself keeps it, so the route stays valid.
  ASSERT_NE(spaces_alloc(leaf, 64), nullptr);
  EXPECT_EQ(spaces_heap_reset(leaf), SPACES_OK);
  EXPECT_EQ(spaces_test::stats_of(leaf).live_blocks, 0u);
  EXPECT_NE(spaces_alloc(leaf, 64), nullptr);
  ASSERT_EQ(spaces_thread_set_heap(mid, nullptr), SPACES_OK);  // leaf is free to go now
  EXPECT_EQ(spaces_heap_reset(mid), SPACES_OK);
  EXPECT_EQ(spaces_heap_id(leaf), 0u);
  EXPECT_EQ(spaces_heap_destroy(root), SPACES_E_BUSY);
  ASSERT_EQ(spaces_thread_set_heap(nullptr, nullptr), SPACES_OK);
  EXPECT_EQ(spaces_heap_destroy(root), SPACES_OK);
}

TEST_F(RoutingThreadsTest, ARouteOfAnotherThreadBlocksDestroyUntilItEnds) {
  spaces_heap_t* h = make_heap("shared");
  std::atomic<int> step{0};
  std::thread t([&] {
    ASSERT_EQ(spaces_thread_set_heap(h, nullptr), SPACES_OK);
    step.store(1);
    while (step.load() != 2) std::this_thread::yield();
    ASSERT_EQ(spaces_thread_set_heap(nullptr, nullptr), SPACES_OK);
    step.store(3);
  });
  while (step.load() != 1) std::this_thread::yield();
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_E_BUSY);
  step.store(2);
  while (step.load() != 3) std::this_thread::yield();
  t.join();
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

TEST_F(RoutingThreadsTest, ARouteEndsWhenItsThreadExits) {
  spaces_heap_t* h = make_heap("left");
  std::thread([&] { ASSERT_EQ(spaces_thread_set_heap(h, nullptr), SPACES_OK); }).join();
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
  // A single-threaded heap's shard arms no exit hook of its own.
  spaces_heap_t* s = make_heap("single-left", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED);
  std::thread([&] { ASSERT_EQ(spaces_thread_set_heap(s, nullptr), SPACES_OK); }).join();
  EXPECT_EQ(spaces_heap_destroy(s), SPACES_OK);
}

TEST_F(RoutingThreadsTest, ThreadsStartedInsideARouteDoNotInheritIt) {
  spaces_test::ScopedHeap h("parent-thread");
  ASSERT_EQ(spaces_thread_set_heap(h, nullptr), SPACES_OK);
  spaces_heap_t* seen = reinterpret_cast<spaces_heap_t*>(0x1);
  std::thread([&] { seen = spaces_thread_heap(); }).join();
  EXPECT_EQ(seen, nullptr);
  EXPECT_EQ(spaces_thread_heap(), h.get());
}

TEST_F(RoutingThreadsTest, ASingleThreadedHeapTakesOneRoutedThread) {
  spaces_heap_t* s = make_heap("single", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED);
  ASSERT_EQ(spaces_thread_set_heap(s, nullptr), SPACES_OK);
  spaces_status_t other = SPACES_OK;
  spaces_heap_t* other_current = reinterpret_cast<spaces_heap_t*>(0x1);
  std::thread([&] {
    other = spaces_thread_set_heap(s, nullptr);
    other_current = spaces_thread_heap();
  }).join();
  EXPECT_EQ(other, SPACES_E_BUSY);
  EXPECT_EQ(other_current, nullptr);
  ASSERT_EQ(spaces_thread_set_heap(nullptr, nullptr), SPACES_OK);
  std::thread([&] {
    other = spaces_thread_set_heap(s, nullptr);
    spaces_thread_set_heap(nullptr, nullptr);
  }).join();
  EXPECT_EQ(other, SPACES_OK);
  EXPECT_EQ(spaces_heap_destroy(s), SPACES_OK);
}

TEST_F(RoutingThreadsTest, AForkChildKeepsItsOwnRouteAndDropsTheOthers) {
  spaces_heap_t* mine = make_heap("mine");
  spaces_heap_t* theirs = make_heap("theirs");
  std::atomic<int> step{0};
  std::thread t([&] {
    spaces_thread_set_heap(theirs, nullptr);
    step.store(1);
    while (step.load() != 2) std::this_thread::yield();
    spaces_thread_set_heap(nullptr, nullptr);
  });
  while (step.load() != 1) std::this_thread::yield();
  ASSERT_EQ(spaces_thread_set_heap(mine, nullptr), SPACES_OK);
  const pid_t pid = fork();
  if (pid == 0) {
    // Exit codes say which check failed.
    if (spaces_thread_heap() != mine) _exit(10);
    if (spaces_heap_destroy(theirs) != SPACES_OK) _exit(11);  // its routing thread is not in the child
    if (spaces_heap_destroy(mine) != SPACES_E_BUSY) _exit(12);
    if (spaces_thread_set_heap(nullptr, nullptr) != SPACES_OK) _exit(13);
    if (spaces_heap_destroy(mine) != SPACES_OK) _exit(14);
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(spaces_heap_destroy(theirs), SPACES_E_BUSY);  // in the parent, still routed
  step.store(2);
  t.join();
  ASSERT_EQ(spaces_thread_set_heap(nullptr, nullptr), SPACES_OK);
  EXPECT_EQ(spaces_heap_destroy(theirs), SPACES_OK);
  EXPECT_EQ(spaces_heap_destroy(mine), SPACES_OK);
}

// ---- The facade ---------------------------------------------------------------

TEST_F(RoutingTest, ScopedHeapNestsAndRestores) {
  spaces::Heap a(spaces::HeapOptions().name("a")), b(spaces::HeapOptions().name("b"));
  {
    spaces::ScopedHeap in_a(a);
    EXPECT_EQ(in_a.previous(), nullptr);
    EXPECT_EQ(spaces_thread_heap(), a.get());
    {
      spaces::ScopedHeap in_b(b);
      EXPECT_EQ(in_b.previous(), a.get());
      EXPECT_EQ(spaces_thread_heap(), b.get());
    }
    EXPECT_EQ(spaces_thread_heap(), a.get());
  }
  EXPECT_EQ(spaces_thread_heap(), nullptr);
}

TEST_F(RoutingTest, ScopedHeapFallsBackToTheDefaultWhenThePreviousHeapIsGone) {
  spaces_heap_t* outer = make_heap("outer");
  spaces::Heap inner(spaces::HeapOptions().name("inner"));
  ASSERT_EQ(spaces_thread_set_heap(outer, nullptr), SPACES_OK);
  {
    spaces::ScopedHeap in(inner);
    EXPECT_EQ(spaces_heap_destroy(outer), SPACES_OK);  // no longer routed: allowed
  }
  EXPECT_EQ(spaces_thread_heap(), nullptr);
}

TEST_F(RoutingTest, ScopedHeapThrowsForHeapsItCannotRouteInto) {
  spaces::Heap region(spaces::HeapOptions().name("region").discipline(spaces::Discipline::Region));
  try {
    spaces::ScopedHeap in(region);
    FAIL() << "a region heap was routed into";
  } catch (const spaces::heap_error& e) {
    EXPECT_EQ(e.status(), SPACES_E_UNSUPPORTED);
    EXPECT_STREQ(e.what(), "spaces: not supported by this heap's discipline");
  }
  EXPECT_THROW(spaces::ScopedHeap(reinterpret_cast<spaces_heap_t*>(0x1234)), spaces::heap_error);
  EXPECT_EQ(spaces_thread_heap(), nullptr);
}

using RoutingDeathTest = RoutingTest;

TEST_F(RoutingDeathTest, AHeapThatDiesUnderARouteAbortsNamingIt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* h = new spaces::Heap(spaces::HeapOptions().name("still-routed"));
        spaces::ScopedHeap in(*h);
        delete h;
      },
      "^spaces: heap 'still-routed' \\(0x[0-9a-f]+\\) destroyed while a thread routes its allocations into it\n");
}

}  // namespace
