// White-box tests of the structures under the C API: size classes, the
// header-from-pointer mask, the granule map, and the slab cache's bound,
// coalescing and warm reuse.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "internal/alloc.h"
#include "internal/free.h"
#include "test_util.hpp"

using namespace spaces::detail;
using spaces_test::make_heap;
using spaces_test::stats_of;

namespace {

class SizeClassTest : public ::testing::TestWithParam<int> {};

// Every class fits at least two blocks per slab, is 16-aligned, and is the
// smallest class for every size between its predecessor and itself.
TEST_P(SizeClassTest, ClassIsTheSmallestThatHoldsTheSize) {
  const auto c = static_cast<std::uint32_t>(GetParam());
  const std::size_t size = class_size(c);
  EXPECT_EQ(size % kMinAlign, 0u);
  EXPECT_GE(kSlabUsable / size, 2u);
  const std::size_t prev = c == 0 ? 0 : class_size(c - 1);
  for (std::size_t n = prev + 1; n <= size; ++n) ASSERT_EQ(size_to_class(n), c) << n;
}
INSTANTIATE_TEST_SUITE_P(AllSizeClasses, SizeClassTest, ::testing::Range(0, static_cast<int>(kNumClasses)));

// slab_of masks p - 1 and adds the color: a block at a slab boundary finds the slab below.
TEST(SlabOfTest, MasksPMinusOneAndColors) {
  const std::uintptr_t base = std::uintptr_t{0x7f0000000000} + 3 * kSlabSize;  // color 3
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(slab_of(reinterpret_cast<void*>(base + 512))), base + 3 * 128);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(slab_of(reinterpret_cast<void*>(base + kSlabSize))), base + 3 * 128);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(header_at(base + kSlabSize)), base + kSlabSize);  // color 0
  EXPECT_EQ(run_base(header_at(base)), base);
}

// The granule map marks the runs handed out and nothing else.
TEST(GranuleMapTest, MarksHandedOutRuns) {
  spaces_heap_t* h = make_heap("mapped");
  void* big = spaces_alloc(h, 3 * kSlabSize);  // 4 slabs
  const std::uintptr_t base = run_base(slab_of(big));
  EXPECT_EQ(map_get(base), Granule::Head);
  EXPECT_EQ(map_get(base + kSlabSize), Granule::Interior);
  EXPECT_EQ(map_get(base + 3 * kSlabSize), Granule::Interior);
  int local = 0;
  EXPECT_EQ(map_get(reinterpret_cast<std::uintptr_t>(&local)), Granule::None);
  EXPECT_EQ(slab_checked(big), slab_of(big));
  EXPECT_EQ(slab_checked(static_cast<char*>(big) + kSlabSize), nullptr);  // interior of a span
  EXPECT_TRUE(slab_is_valid(slab_of(big)));
  spaces_free(big);
  cache_flush_local();  // the thread kept it (the thread's runs): to the process cache
  EXPECT_EQ(map_get(base), Granule::FreeHead);  // binned, warm
  spaces_heap_destroy(h);
}

// A mini host lends its 15 minis to any heaps; the 16th tiny heap opens a
// second host, and a host whose last mini comes back returns to the slab
// cache unless it is the only one with room. block_of finds a mini's header
// by the second mask.
TEST(MiniHostTest, HostsLendMinisAndGoBackWhenEmpty) {
  ASSERT_EQ(mini_counts().hosts, 0u);  // a fresh process
  std::vector<spaces_heap_t*> heaps;
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < kMinisPerHost; ++i) {  // 15 minis, then one more
    heaps.push_back(make_heap("tiny", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_TINY));
    blocks.push_back(spaces_alloc(heaps.back(), 64));
    ASSERT_NE(blocks.back(), nullptr);
  }
  EXPECT_EQ(mini_counts().hosts, 2u);
  EXPECT_EQ(mini_counts().minis, kMinisPerHost);
  const std::uintptr_t first_host = reinterpret_cast<std::uintptr_t>(blocks[0]) & ~kSlabMask;
  for (std::size_t i = 0; i + 1 < kMinisPerHost; ++i) {
    const auto a = reinterpret_cast<std::uintptr_t>(blocks[i]);
    EXPECT_EQ(a & ~kSlabMask, first_host) << i;
    EXPECT_EQ(a - first_host, (i + 1) * kMiniSize) << i;  // mini 0 is the host's header
    SlabHeader* m = block_of(blocks[i]);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m), a + kMiniUsable);
    EXPECT_EQ(slab_of(blocks[i])->kind, SlabKind::MiniHost);
    EXPECT_EQ(slab_checked(blocks[i]), m);
    EXPECT_TRUE(slab_is_valid(m));
  }
  EXPECT_NE(reinterpret_cast<std::uintptr_t>(blocks.back()) & ~kSlabMask, first_host);
  // Emptying the first host gives it back: the second still has room.
  for (std::size_t i = 0; i + 1 < kMinisPerHost; ++i) ASSERT_EQ(spaces_heap_destroy(heaps[i]), SPACES_OK);
  EXPECT_EQ(mini_counts().hosts, 1u);
  EXPECT_EQ(mini_counts().minis, 1u);
  EXPECT_EQ(header_at(first_host)->magic, kFreeRunMagic);  // in the slab cache
  // The last host stays, empty, for the next tiny heap.
  ASSERT_EQ(spaces_heap_destroy(heaps.back()), SPACES_OK);
  EXPECT_EQ(mini_counts().hosts, 1u);
  EXPECT_EQ(mini_counts().minis, 0u);
}

// Destroy never trims: past the bound the excess goes back over later calls.
// fork() can snapshot a slab in the middle of the owner's move of its local
// frees to its free list (two stores): both lists then hold the same
// blocks. The child's repair of the abandoned shard must finish the move,
// not report a corrupted list (ThreadsTest.ForkChildAllocatesImmediately
// hit this under TSan about once in 300 runs).
TEST(ForkRepairTest, HalfMovedLocalFreesAreCountedOnce) {
  spaces_heap_t* h = make_heap("half-moved");
  std::vector<void*> blocks{spaces_alloc(h, 128)};
  SlabHeader* s = slab_of(blocks[0]);
  // The owner moves local_free to free only when free is empty: take every
  // block carved so far, then give three back.
  while (s->free != nullptr) blocks.push_back(spaces_alloc(h, 128));
  for (int i = 0; i < 3; ++i) spaces_free(blocks[static_cast<std::size_t>(i)]);  // onto local_free
  Shard* sh = shard_find(heap_checked(h));
  ASSERT_NE(sh, nullptr);
  ASSERT_EQ(s->free, nullptr);
  ASSERT_NE(s->local_free, nullptr);
  const std::uint32_t carved = s->carved;
  s->free = s->local_free;  // the move's first store, as fork caught it
  sh->forked = true;
  shard_repair_after_fork(sh);
  EXPECT_FALSE(sh->forked);
  EXPECT_EQ(s->local_free, nullptr);
  EXPECT_EQ(s->used.load(), carved - 3);
  EXPECT_TRUE(slab_is_valid(s));
  for (std::size_t i = 3; i < blocks.size(); ++i) spaces_free(blocks[i]);
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  spaces_heap_destroy(h);
}

TEST(SlabCacheTest, DestroyLeavesTrimmingToLaterCalls) {
  spaces_collect();
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_SLAB_CACHE, 16 * static_cast<long long>(kSlabSize)), SPACES_OK);
  spaces_heap_t* h = make_heap("big", SPACES_UNCAPPED, SPACES_REGION);
  for (int i = 0; i < 200; ++i) ASSERT_NE(spaces_alloc(h, 40000), nullptr);  // one slab each
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  EXPECT_GE(cache_warm_slabs(), 150u);  // over the bound of 16
  spaces_heap_t* g = make_heap("after", SPACES_UNCAPPED, SPACES_REGION);
  for (int i = 0; i < 20 && cache_warm_slabs() > 16; ++i) ASSERT_NE(spaces_alloc(g, 40000), nullptr);
  EXPECT_LE(cache_warm_slabs(), 16u);
  spaces_heap_destroy(g);
  spaces_collect();
  EXPECT_EQ(cache_warm_slabs(), 0u);
  spaces_option_set(SPACES_OPTION_SLAB_CACHE, 256LL << 20);
}

// Two neighbouring spans released one by one coalesce into one warm run that
// can serve a span as large as both.
TEST(SlabCacheTest, NeighbouringSpansCoalesce) {
  spaces_collect();
  spaces_heap_t* h = make_heap("spans", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED);
  // Fresh memory is cut in order, so these spans are neighbours.
  void* a = spaces_alloc(h, 3 * kSlabSize - 1024);  // 3 slabs
  void* b = spaces_alloc(h, 3 * kSlabSize - 1024);
  ASSERT_EQ(run_base(slab_of(b)), run_base(slab_of(a)) + 3 * kSlabSize);
  spaces_free(a);
  spaces_free(b);
  cache_flush_local();  // the thread kept them (the thread's runs): to the process cache
  void* c = spaces_alloc(h, 6 * kSlabSize - 1024);  // 6 slabs: only the merged run fits where a was
  EXPECT_EQ(run_base(slab_of(c)), run_base(slab_of(a)));
  spaces_heap_destroy(h);
}

// A freed span too short for a new one grows into the untouched reservation
// after it: its resident pages are reused, not left warm beside a cold run.
TEST(SlabCacheTest, WarmRunGrowsIntoFreshMemory) {
  spaces_collect();
  spaces_heap_t* h = make_heap("grow-fresh", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED);
  // Larger than a reservation (32 MiB): maps one of its own size with no
  // room left, so the next span starts a new reservation with room after it.
  void* x = spaces_alloc(h, (33u << 20) - 1024);
  ASSERT_NE(x, nullptr);
  void* a = spaces_alloc(h, 3 * kSlabSize - 1024);  // 3 slabs
  ASSERT_NE(a, nullptr);
  spaces_free(a);
  cache_flush_local();  // the thread kept it (the thread's runs): to the process cache
  void* c = spaces_alloc(h, 5 * kSlabSize - 1024);  // 5 slabs
  EXPECT_EQ(run_base(slab_of(c)), run_base(slab_of(a)));
  spaces_heap_destroy(h);
}

// The thread's runs: a span this thread freed serves its next span of the
// same length, without the cache lock; while kept it is free (its header
// retired, so its block is refused) but still marked in use in the map. A
// length it does not hold, spaces_collect and a cache bound of 0 send spans
// to the process cache.
TEST(ThreadRunsTest, AFreedSpanServesTheNextOfItsLength) {
  spaces_collect();
  spaces_heap_t* h = make_heap("runs");
  void* a = spaces_alloc(h, 3 * kSlabSize - 1024);  // 3 slabs
  const std::uintptr_t base = run_base(slab_of(a));
  spaces_free(a);
  EXPECT_EQ(tls_ctx.run_count, 1u);
  EXPECT_EQ(tls_ctx.run_slabs, 3u);
  EXPECT_EQ(map_get(base), Granule::Head);
  EXPECT_EQ(slab_checked(a), nullptr);  // retired
  EXPECT_EQ(spaces_heap_footprint(h), 0u);  // charged to no heap
  void* b = spaces_alloc(h, 3 * kSlabSize - 1024);
  EXPECT_EQ(b, a);
  EXPECT_EQ(tls_ctx.run_count, 0u);
  EXPECT_EQ(spaces_heap_footprint(h), 3 * kSlabSize);
  void* c = spaces_alloc(h, 5 * kSlabSize - 1024);  // a length not kept: the process cache
  spaces_free(b);
  spaces_free(c);
  EXPECT_EQ(tls_ctx.run_count, 2u);
  EXPECT_EQ(tls_ctx.run_slabs, 8u);
  spaces_collect();
  EXPECT_EQ(tls_ctx.run_count, 0u);
  EXPECT_EQ(map_get(base), Granule::FreeHead);
  // Bounded by the cache bound: at 0 every freed span goes to the process cache.
  long long bound = 0;
  ASSERT_EQ(spaces_option_get(SPACES_OPTION_SLAB_CACHE, &bound), SPACES_OK);
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_SLAB_CACHE, 0), SPACES_OK);
  spaces_free(spaces_alloc(h, 3 * kSlabSize - 1024));
  EXPECT_EQ(tls_ctx.run_count, 0u);
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_SLAB_CACHE, bound), SPACES_OK);
  // At most kThreadRuns runs: the oldest goes when a fifth comes.
  void* spans[kThreadRuns + 1];
  for (void*& p : spans) p = spaces_alloc(h, 2 * kSlabSize - 1024);
  for (void* p : spans) spaces_free(p);
  EXPECT_EQ(tls_ctx.run_count, kThreadRuns);
  EXPECT_EQ(tls_ctx.runs[0], slab_of(spans[1]));  // spans[0], the oldest, went to the process cache
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
  spaces_collect();
}

// A thread's runs go to the process cache when it exits.
TEST(ThreadRunsTest, ThreadExitGivesTheRunsBack) {
  spaces_collect();
  spaces_heap_t* h = make_heap("exit");
  std::uintptr_t base = 0;
  std::thread([&] {
    void* a = spaces_alloc(h, 4 * kSlabSize - 1024);
    base = run_base(slab_of(a));
    spaces_free(a);
    EXPECT_EQ(tls_ctx.run_count, 1u);
  }).join();
  EXPECT_EQ(map_get(base), Granule::FreeHead);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

/// Three neighbouring 3-slab spans; span `cold` is freed and its pages go
/// back to the OS (spaces_collect), then span `warm` is freed, then a 5-slab
/// span is allocated. Returns its offset in slabs from the first span's base.
std::ptrdiff_t five_slabs_after(std::size_t cold, std::size_t warm) {
  spaces_collect();
  spaces_heap_t* h = make_heap("grow", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED);
  void* spans[3];
  for (void*& p : spans) p = spaces_alloc(h, 3 * kSlabSize - 1024);
  const std::uintptr_t base = run_base(slab_of(spans[0]));
  for (std::size_t i = 1; i < 3; ++i) EXPECT_EQ(run_base(slab_of(spans[i])), base + 3 * i * kSlabSize);
  spaces_free(spans[cold]);
  spaces_collect();
  spaces_free(spans[warm]);
  cache_flush_local();  // the thread kept it (the thread's runs): to the process cache
  void* c = spaces_alloc(h, 5 * kSlabSize - 1024);
  const auto at = static_cast<std::ptrdiff_t>(run_base(slab_of(c)) - base) / static_cast<std::ptrdiff_t>(kSlabSize);
  // The slab left over from the cold span is still a free run.
  const std::uintptr_t leftover = cold > warm ? base + 3 * cold * kSlabSize + 2 * kSlabSize : base + 3 * cold * kSlabSize;
  EXPECT_EQ(map_get(leftover), Granule::FreeHead);
  spaces_heap_destroy(h);
  return at;
}

// The same with a cold run after the warm one: five slabs take the first
// span and two slabs of the second.
TEST(SlabCacheTest, WarmRunGrowsIntoColdRunAfterIt) { EXPECT_EQ(five_slabs_after(1, 0), 0); }

// And with a cold run before it: the last two slabs of the first span and
// all of the second (the third, in use, stops it growing forwards).
TEST(SlabCacheTest, WarmRunGrowsIntoColdRunBeforeIt) { EXPECT_EQ(five_slabs_after(0, 1), 1); }

}  // namespace
