// Caps: the footprint never crosses the cap; the allocation that would cross
// it fails (or the cap handler makes room); nothing allocated is touched.
#include <gtest/gtest.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

constexpr std::size_t kCap = 10 * kSlab;

/// vm.overcommit_memory: 0 heuristic, 1 always, 2 never.
int overcommit_mode() {
  std::FILE* f = std::fopen("/proc/sys/vm/overcommit_memory", "r");
  int mode = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%d", &mode) != 1) mode = 0;
    std::fclose(f);
  }
  return mode;
}

class CapTest : public ::testing::Test {
 protected:
  ScopedHeap heap{"capped", kCap};
};

// Fill with 48-byte blocks until refused: footprint <= cap at every step, the
// refusal is ENOMEM with the failure recorded, and every block keeps its contents.
TEST_F(CapTest, FillUntilRefusedThenTheCapHolds) {
  std::vector<unsigned char*> blocks;
  for (;;) {
    errno = 0;
    auto* p = static_cast<unsigned char*>(spaces_alloc(heap, 48));
    ASSERT_LE(stats_of(heap).footprint, kCap);
    if (p == nullptr) {
      EXPECT_EQ(errno, ENOMEM);
      break;
    }
    std::memset(p, static_cast<int>(blocks.size() & 0xFF), 48);
    blocks.push_back(p);
  }
  EXPECT_EQ(blocks.size(), 10u * 1354u);  // 1354 blocks of 48 bytes per slab
  const spaces_stats_t s = stats_of(heap);
  EXPECT_EQ(s.footprint, kCap);
  EXPECT_EQ(s.cap_failures, 1u);
  spaces_failure_t f{};
  ASSERT_EQ(spaces_last_failure(&f), SPACES_OK);
  EXPECT_EQ(f.status, SPACES_E_CAP);
  EXPECT_EQ(f.heap, heap.get());
  EXPECT_EQ(f.request, 48u);
  EXPECT_EQ(f.charge, kSlab);  // what the cap refused: the slab the 48 bytes needed
  EXPECT_EQ(f.footprint, kCap);
  EXPECT_EQ(f.cap, kCap);
  for (std::size_t i = 0; i < blocks.size(); ++i)
    for (int j = 0; j < 48; ++j) ASSERT_EQ(blocks[i][j], i & 0xFF);
  for (auto* p : blocks) spaces_free(p);
}

// Once blocks are freed (a whole slab's worth), allocation succeeds again.
TEST_F(CapTest, FreeingLetsAllocationSucceedAgain) {
  std::vector<void*> blocks;
  while (void* p = spaces_alloc(heap, 1024)) blocks.push_back(p);
  ASSERT_EQ(spaces_alloc(heap, 1024), nullptr);
  // Free the 63 blocks of the first slab: it goes back and the budget returns.
  for (int i = 0; i < 63; ++i) spaces_free(blocks[static_cast<std::size_t>(i)]);
  EXPECT_EQ(stats_of(heap).footprint, 9 * kSlab);
  void* p = spaces_alloc(heap, 5000);  // another class: needs a new slab
  EXPECT_NE(p, nullptr);
  spaces_free(p);
  for (std::size_t i = 63; i < blocks.size(); ++i) spaces_free(blocks[i]);
}

// A large block that would cross the cap fails; small ones still fit.
TEST_F(CapTest, LargeRequestOverTheCapFailsAlone) {
  EXPECT_EQ(spaces_alloc(heap, kCap), nullptr);
  void* p = spaces_alloc(heap, 100);
  EXPECT_NE(p, nullptr);
  EXPECT_EQ(stats_of(heap).footprint, kSlab);
  spaces_free(p);
}

struct Stash {
  std::vector<void*> blocks;
  int calls = 0;
};

// The handler runs at the cap, frees memory and asks for a retry: the allocation succeeds.
TEST(CapHandlerTest, HandlerFreesAndTheRetrySucceeds) {
  Stash stash;
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.name = "handled";
  o.cap = 2 * kSlab;
  o.cap_handler = [](spaces_heap_t*, size_t request, void* arg) {
    auto* st = static_cast<Stash*>(arg);
    ++st->calls;
    EXPECT_EQ(request, 40000u);
    for (void* p : st->blocks) spaces_free(p);
    st->blocks.clear();
    return SPACES_CAP_RETRY;
  };
  o.cap_handler_arg = &stash;
  spaces_heap_t* h = nullptr;
  ASSERT_EQ(spaces_heap_create(&o, &h), SPACES_OK);
  stash.blocks.push_back(spaces_alloc(h, 40000));
  stash.blocks.push_back(spaces_alloc(h, 40000));
  ASSERT_EQ(stats_of(h).footprint, 2 * kSlab);
  void* p = spaces_alloc(h, 40000);
  EXPECT_NE(p, nullptr);
  EXPECT_EQ(stash.calls, 1);
  EXPECT_EQ(stats_of(h).cap_failures, 1u);
  spaces_free(p);
  spaces_heap_destroy(h);
}

// A handler that cannot help runs once and the allocation fails.
TEST(CapHandlerTest, HandlerThatGivesUpMakesTheAllocationFail) {
  int calls = 0;
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.cap = 0;
  o.cap_handler = [](spaces_heap_t*, size_t, void* arg) {
    ++*static_cast<int*>(arg);
    return SPACES_CAP_RETRY;  // asks for a retry without making room
  };
  o.cap_handler_arg = &calls;
  spaces_heap_t* h = nullptr;
  ASSERT_EQ(spaces_heap_create(&o, &h), SPACES_OK);
  errno = 0;
  EXPECT_EQ(spaces_alloc(h, 1), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(calls, 1);  // one retry only
  spaces_heap_destroy(h);
}

// A handler may raise the cap instead of freeing.
TEST(CapHandlerTest, HandlerMayRaiseTheCap) {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.cap = 0;
  o.cap_handler = [](spaces_heap_t* heap, size_t, void*) {
    spaces_heap_set_cap(heap, kSlab);
    return SPACES_CAP_RETRY;
  };
  spaces_heap_t* h = nullptr;
  ASSERT_EQ(spaces_heap_create(&o, &h), SPACES_OK);
  void* p = spaces_alloc(h, 10);
  EXPECT_NE(p, nullptr);
  EXPECT_EQ(spaces_heap_cap(h), kSlab);
  spaces_heap_destroy(h);
}

// Lowering the cap below the footprint blocks new slabs but touches nothing.
TEST_F(CapTest, LoweringTheCapBelowTheFootprintBlocksNewSlabs) {
  std::vector<char*> blocks;
  for (int i = 0; i < 5; ++i) {
    auto* p = static_cast<char*>(spaces_alloc(heap, 40000));
    std::memset(p, 'a' + i, 40000);
    blocks.push_back(p);
  }
  ASSERT_EQ(stats_of(heap).footprint, 5 * kSlab);  // above the largest class: one slab each
  ASSERT_EQ(spaces_heap_set_cap(heap, kSlab), SPACES_OK);
  EXPECT_EQ(spaces_alloc(heap, 40000), nullptr);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(blocks[static_cast<std::size_t>(i)][39999], 'a' + i);
  for (char* p : blocks) spaces_free(p);
  EXPECT_NE(spaces_alloc(heap, 100), nullptr);
}

// A child heap draws on its parent's budget; the parent's cap refuses the child.
TEST(NestedCapTest, ChildIsRefusedByItsParentsCap) {
  ScopedHeap parent("parent", 4 * kSlab);
  ScopedHeap child("child", SPACES_UNCAPPED, SPACES_GENERAL, 0, parent);
  ScopedHeap sibling("sibling", SPACES_UNCAPPED, SPACES_REGION, 0, parent);
  ASSERT_NE(spaces_alloc(sibling, 100), nullptr);
  std::vector<void*> v;
  while (void* p = spaces_alloc(child, 20000)) v.push_back(p);
  EXPECT_EQ(v.size(), 9u);  // three 20000-byte blocks (class 21632) per slab, 3 slabs
  EXPECT_EQ(stats_of(parent).footprint, 4 * kSlab);
  EXPECT_EQ(stats_of(child).footprint, 3 * kSlab);
  spaces_failure_t f{};
  spaces_last_failure(&f);
  EXPECT_EQ(f.status, SPACES_E_CAP);
  EXPECT_EQ(f.heap, parent.get());
  EXPECT_EQ(stats_of(parent).cap_failures, 1u);
  EXPECT_EQ(stats_of(child).cap_failures, 0u);
  spaces_heap_destroy(child);
  EXPECT_EQ(stats_of(parent).footprint, kSlab);
}

// A cap refuses only what the blocks really need: the empty slabs a thread
// keeps (current slabs of classes it no longer uses) go back before the cap
// answers ENOMEM. The review found a capped heap refusing with 0 live bytes.
TEST(CapCollectTest, EmptySlabsGoBackBeforeTheCapRefuses) {
  ScopedHeap h("classes", 4 * kSlab);
  // One block in each of four classes, freed: four empty current slabs.
  for (std::size_t size : {16u, 100u, 1000u, 10000u}) spaces_free(spaces_alloc(h, size));
  EXPECT_EQ(stats_of(h).footprint, 4 * kSlab);
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  // A fifth class takes the whole cap: 4 slabs of 4992-byte blocks, 13 each.
  std::vector<void*> v;
  while (void* p = spaces_alloc(h, 4900)) v.push_back(p);
  EXPECT_EQ(v.size(), 4u * 13u);
  const spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.footprint, 4 * kSlab);
  EXPECT_EQ(s.live_blocks, 52u);
  EXPECT_EQ(s.cap_failures, 2u);  // the refusal that gave the empties back, and the last
  for (void* p : v) spaces_free(p);
}

// spaces_heap_collect gives back the calling thread's empty slabs at once.
TEST(CapCollectTest, CollectGivesBackEmptySlabs) {
  ScopedHeap h("collected");
  for (std::size_t size : {16u, 100u, 1000u}) spaces_free(spaces_alloc(h, size));
  void* keep = spaces_alloc(h, 48);
  EXPECT_EQ(stats_of(h).footprint, 4 * kSlab);
  ASSERT_EQ(spaces_heap_collect(h), SPACES_OK);
  EXPECT_EQ(stats_of(h).footprint, kSlab);
  EXPECT_EQ(stats_of(h).live_blocks, 1u);
  spaces_free(keep);
}

// Another thread's empty slabs cannot be taken from under it, so a refusing
// cap asks that thread to give them back on its next slow path; after it did,
// the allocation that was refused succeeds.
TEST(CapCollectTest, ACapAsksOtherThreadsForTheirEmptySlabs) {
  ScopedHeap h("shared", 3 * kSlab);
  std::mutex m;
  std::condition_variable cv;
  int step = 0;
  std::thread other([&] {
    spaces_free(spaces_alloc(h, 100));  // an empty current slab of class 112
    spaces_free(spaces_alloc(h, 1000));  // and of class 1024
    {
      std::unique_lock<std::mutex> lk(m);
      step = 1;
      cv.notify_all();
      cv.wait(lk, [&] { return step == 2; });
    }
    void* p = spaces_alloc(h, 5000);  // a slow path: it gives back its empties first
    spaces_free(p);
    std::unique_lock<std::mutex> lk(m);
    step = 3;
    cv.notify_all();
    cv.wait(lk, [&] { return step == 4; });
  });
  {
    std::unique_lock<std::mutex> lk(m);
    cv.wait(lk, [&] { return step == 1; });
  }
  EXPECT_EQ(stats_of(h).footprint, 2 * kSlab);
  void* a = spaces_alloc(h, 48);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(spaces_alloc(h, 20000), nullptr);  // a 4th slab: refused, the other thread asked
  {
    std::unique_lock<std::mutex> lk(m);
    step = 2;
    cv.notify_all();
    cv.wait(lk, [&] { return step == 3; });
  }
  // The other thread gave back both empty slabs; it keeps the slab it
  // allocated from since (empty, current: the request was answered).
  EXPECT_EQ(stats_of(h).footprint, 2 * kSlab);
  void* b = spaces_alloc(h, 20000);
  EXPECT_NE(b, nullptr);
  {
    std::unique_lock<std::mutex> lk(m);
    step = 4;
    cv.notify_all();
  }
  other.join();
  spaces_free(a);
  spaces_free(b);
}

// A size no system can back fails with ENOMEM instead of succeeding on paper
// (the review found malloc(16 TiB) succeeded: the mapping was not charged).
TEST(CapCollectTest, SixteenTebibytesFailWithEnomem) {
  if (overcommit_mode() == 1) GTEST_SKIP() << "vm.overcommit_memory=1: the kernel grants any mapping";
  ScopedHeap h("huge");
  errno = 0;
  EXPECT_EQ(spaces_alloc(h, std::size_t{16} << 40), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  spaces_failure_t f{};
  spaces_last_failure(&f);
  EXPECT_EQ(f.status, SPACES_E_NOMEM);
  EXPECT_EQ(stats_of(h).footprint, 0u);
  EXPECT_NE(spaces_alloc(h, 100), nullptr);
}

// A cap of zero refuses every allocation.
TEST(ZeroCapTest, EveryAllocationFails) {
  ScopedHeap h("zero", 0);
  errno = 0;
  EXPECT_EQ(spaces_alloc(h, 1), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(spaces_aligned_alloc(h, 64, 1), nullptr);
  EXPECT_EQ(stats_of(h).footprint, 0u);
}

}  // namespace

// ---- Soft limits and the O(1) footprint -------------------------------------------

namespace {

/// What a soft-limit handler saw; optionally frees `cache` and asks for a retry.
struct SoftLog {
  int calls = 0;
  spaces_heap_t* heap = nullptr;
  std::size_t request = 0;
  std::size_t footprint_at_call = 0;
  std::vector<void*>* cache = nullptr;
};

int log_soft(spaces_heap_t* heap, std::size_t request, void* arg) {
  auto* log = static_cast<SoftLog*>(arg);
  ++log->calls;
  log->heap = heap;
  log->request = request;
  log->footprint_at_call = spaces_heap_footprint(heap);
  if (log->cache == nullptr) return 0;
  for (void* p : *log->cache) spaces_free(p);
  log->cache->clear();
  return 1;
}

spaces_heap_t* soft_heap(const char* name, std::size_t soft, SoftLog* log, spaces_heap_t* parent = nullptr) {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.name = name;
  o.parent = parent;
  o.soft_limit = soft;
  o.on_soft_limit = &log_soft;
  o.on_soft_limit_arg = log;
  spaces_heap_t* h = nullptr;
  return spaces_heap_create(&o, &h) == SPACES_OK ? h : nullptr;
}

/// Allocates 1000-byte blocks until the footprint reaches `slabs` slabs.
void fill_to(spaces_heap_t* h, std::size_t slabs, std::vector<void*>& out) {
  while (spaces_heap_footprint(h) < slabs * kSlab) {
    void* p = spaces_alloc(h, 1000);
    ASSERT_NE(p, nullptr);
    out.push_back(p);
  }
}

}  // namespace

TEST(FootprintTest, IsTheStatsFootprintInConstantTime) {
  ScopedHeap h("footprint");
  EXPECT_EQ(spaces_heap_footprint(h), 0u);
  void* small = spaces_alloc(h, 100);
  void* span = spaces_alloc(h, 200000);
  EXPECT_EQ(spaces_heap_footprint(h), stats_of(h).footprint);
  EXPECT_EQ(spaces_heap_footprint(h), 1 * kSlab + 4 * kSlab);  // a slab, and a 4-slab span (200000 + header)
  spaces_free(span);
  EXPECT_EQ(spaces_heap_footprint(h), kSlab);
  spaces_free(small);
  EXPECT_EQ(spaces_heap_footprint(nullptr), 0u);
  EXPECT_EQ(spaces_heap_footprint(reinterpret_cast<spaces_heap_t*>(0x1234)), 0u);
  EXPECT_EQ(spaces_heap_soft_limit(h), SPACES_UNCAPPED);
  EXPECT_EQ(spaces_heap_soft_limit(nullptr), 0u);
  EXPECT_EQ(spaces_heap_set_soft_limit(reinterpret_cast<spaces_heap_t*>(0x1234), 1), SPACES_E_INVALID);
}

TEST(SoftLimitTest, TheHandlerRunsOncePerCrossingAndNothingIsRefused) {
  SoftLog log;
  spaces_heap_t* h = soft_heap("soft", 3 * kSlab, &log);
  std::vector<void*> blocks;
  fill_to(h, 3, blocks);
  EXPECT_EQ(log.calls, 0);  // at the limit is not past it
  fill_to(h, 10, blocks);   // every acquisition past it succeeds
  EXPECT_EQ(log.calls, 1);
  EXPECT_EQ(log.heap, h);
  EXPECT_EQ(log.request, 1000u);
  EXPECT_EQ(log.footprint_at_call, 4 * kSlab);  // the crossing slab is charged when it runs
  spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.soft_limit, 3 * kSlab);
  EXPECT_EQ(s.soft_limit_events, 1u);
  EXPECT_EQ(s.cap_failures, 0u);
  // Back under the limit, then past it again: a second event.
  for (void* p : blocks) spaces_free(p);
  blocks.clear();
  ASSERT_EQ(spaces_heap_collect(h), SPACES_OK);
  ASSERT_LE(spaces_heap_footprint(h), 3 * kSlab);
  fill_to(h, 5, blocks);
  EXPECT_EQ(log.calls, 2);
  EXPECT_EQ(stats_of(h).soft_limit_events, 2u);
  // A reset keeps the count, as it keeps cap_failures.
  ASSERT_EQ(spaces_heap_reset(h), SPACES_OK);
  EXPECT_EQ(stats_of(h).soft_limit_events, 2u);
  // Removing the limit stops the calls.
  ASSERT_EQ(spaces_heap_set_soft_limit(h, SPACES_UNCAPPED), SPACES_OK);
  blocks.clear();
  fill_to(h, 6, blocks);
  EXPECT_EQ(log.calls, 2);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

TEST(SoftLimitTest, AHandlerThatEvictsAsksForTheChargeAgainAndStaysUnderTheLimit) {
  SoftLog log;
  spaces_heap_t* h = soft_heap("evicting", 2 * kSlab, &log);
  // A cache of 1000-byte blocks fills two slabs; the first is full.
  std::vector<void*> cache;
  fill_to(h, 2, cache);
  log.cache = &cache;
  // A block of another size class needs a third slab: past the limit, the
  // handler evicts the cache (its full slab goes back) and asks again.
  void* p = spaces_alloc(h, 5000);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(log.calls, 1);
  EXPECT_TRUE(cache.empty());
  EXPECT_EQ(log.footprint_at_call, 3 * kSlab);
  EXPECT_EQ(spaces_heap_footprint(h), 2 * kSlab);  // the cache's current slab and the new one
  EXPECT_EQ(stats_of(h).soft_limit_events, 1u);
  spaces_free(p);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

TEST(SoftLimitTest, NestedHeapsChargeEveryAncestorsSoftLimit) {
  SoftLog parent_log, child_log;
  spaces_heap_t* parent = soft_heap("parent", 4 * kSlab, &parent_log);
  spaces_heap_t* child = soft_heap("child", 2 * kSlab, &child_log, parent);
  ASSERT_NE(child, nullptr);
  std::vector<void*> blocks;
  fill_to(child, 3, blocks);
  EXPECT_EQ(child_log.calls, 1);
  EXPECT_EQ(parent_log.calls, 0);
  fill_to(child, 5, blocks);
  EXPECT_EQ(child_log.calls, 1);
  EXPECT_EQ(parent_log.calls, 1);
  EXPECT_EQ(parent_log.heap, parent);
  EXPECT_EQ(parent_log.footprint_at_call, 5 * kSlab);
  EXPECT_EQ(stats_of(parent).soft_limit_events, 1u);
  EXPECT_EQ(stats_of(child).soft_limit_events, 1u);
  EXPECT_EQ(spaces_heap_destroy(parent), SPACES_OK);
}
