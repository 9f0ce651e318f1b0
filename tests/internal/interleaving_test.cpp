// Forced interleavings of the cross-thread protocols (spaces_testhooks):
// each test stops a thread at a named protocol point, drives the others
// through the window, resumes it, and checks every invariant. Each pins a
// race a review found (docs/reliability.md lists them).
//   Workloads: one owner and one freeing thread around a full or non-full
//   slab; a slab released and taken by another heap while a freer is
//   stopped; an exiting thread stopped while a reset runs; two nested
//   charges, one stopped inside its root's charge lock; a delayed block whose
//   slab a reclaim moves.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "interleaving.hpp"
#include "internal/alloc.h"
#include "internal/free.h"
#include "test_util.hpp"

using namespace spaces::detail;
using spaces_test::Interleaving;
using spaces_test::make_heap;
using spaces_test::stats_of;

namespace {

constexpr std::size_t kBlock = 64;
constexpr std::size_t kPerSlab = kSlabUsable / kBlock;  // 1016

Heap* heap_of(spaces_heap_t* h) { return heap_checked(h); }

/// Allocates a whole slab of 64-byte blocks, then one more block, so that the
/// first slab is full (its FULL flag set); returns the first slab's blocks.
std::vector<void*> fill_one_slab(spaces_heap_t* h, void** extra) {
  std::vector<void*> v;
  for (std::size_t i = 0; i < kPerSlab; ++i) v.push_back(spaces_alloc(h, kBlock));
  *extra = spaces_alloc(h, kBlock);
  return v;
}

// A freer that claims a full slab holds it alive (its block still counts as
// used) until it hands the block over; once it has, it touches nothing of
// the slab: the slab can be released and taken by another heap, and the
// freer's return leaves that heap's slab as it was.
TEST(InterleavingTest, FreerOfAFullSlabTouchesNothingAfterHandingItsBlockOver) {
  Interleaving il;
  spaces_heap_t* h = make_heap("owner");
  void* extra = nullptr;
  std::vector<void*> blocks = fill_one_slab(h, &extra);
  SlabHeader* s = slab_of(blocks[0]);
  ASSERT_EQ(s->remote.load(), kRemoteFull);

  il.stop_at("remote.claimed");
  il.stop_at("remote.delayed_pushed");
  std::thread freer([&] { spaces_free(blocks[0]); });
  EXPECT_EQ(il.wait_stopped("remote.claimed"), s);
  // Claimed: FULL is gone, the block is on no list and still counts as used.
  EXPECT_EQ(s->remote.load(), 0u);
  for (std::size_t i = 1; i < blocks.size(); ++i) spaces_free(blocks[i]);
  EXPECT_EQ(s->used.load(), 1u);
  EXPECT_EQ(s->kind, SlabKind::Small);  // not released: the claimed block holds it
  il.resume("remote.claimed");

  il.wait_stopped("remote.delayed_pushed");
  // Published: the owner takes the block, finds the slab empty, releases it,
  // and another heap takes the slab and fills it.
  ASSERT_EQ(spaces_heap_collect(h), SPACES_OK);
  EXPECT_EQ(s->magic, kFreeRunMagic);
  spaces_heap_t* other = make_heap("other");
  void* other_extra = nullptr;
  std::vector<void*> theirs = fill_one_slab(other, &other_extra);
  ASSERT_EQ(slab_of(theirs[0]), s);  // the warm cache hands out the slab just released
  ASSERT_EQ(s->remote.load(), kRemoteFull);
  il.resume("remote.delayed_pushed");
  freer.join();

  // The freer left the other heap's slab alone.
  EXPECT_EQ(s->remote.load(), kRemoteFull);
  EXPECT_EQ(s->heap, heap_of(other));
  EXPECT_TRUE(slab_is_valid(s));
  EXPECT_TRUE(heap_is_valid(heap_of(h)));
  EXPECT_TRUE(heap_is_valid(heap_of(other)));
  EXPECT_TRUE(cache_is_valid());
  EXPECT_EQ(stats_of(h).live_blocks, 1u);
  EXPECT_EQ(stats_of(other).live_blocks, kPerSlab + 1);
  spaces_free(extra);
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  spaces_heap_destroy(other);
  spaces_heap_destroy(h);
}

// A freer of a slab that is not full publishes its block with one CAS and
// returns: the owner may release the slab at once and another heap reuse it.
TEST(InterleavingTest, FreerOfAPartialSlabTouchesNothingAfterItsPush) {
  Interleaving il;
  spaces_heap_t* h = make_heap("owner");
  void* keep = spaces_alloc(h, 1000);  // another class: the heap keeps a slab
  void* p = spaces_alloc(h, kBlock);
  SlabHeader* s = slab_of(p);
  il.stop_at("remote.pushed");
  std::thread freer([&] { spaces_free(p); });
  il.wait_stopped("remote.pushed");
  EXPECT_EQ(remote_count(s->remote.load()), 1u);
  ASSERT_EQ(spaces_heap_collect(h), SPACES_OK);  // collects the block, releases the empty slab
  EXPECT_EQ(s->used.load(), 0u);
  EXPECT_EQ(stats_of(h).footprint, kSlabSize);  // only keep's slab is left
  spaces_heap_t* other = make_heap("other");
  void* q = spaces_alloc(other, kBlock);
  ASSERT_EQ(slab_of(q), s);
  const std::uint64_t word = s->remote.load();
  il.resume("remote.pushed");
  freer.join();
  EXPECT_EQ(s->remote.load(), word);
  EXPECT_TRUE(slab_is_valid(s));
  EXPECT_TRUE(heap_is_valid(heap_of(other)));
  EXPECT_TRUE(cache_is_valid());
  EXPECT_EQ(stats_of(other).live_blocks, 1u);
  spaces_free(q);
  spaces_free(keep);
  spaces_heap_destroy(other);
  spaces_heap_destroy(h);
}

// A reset waits for a thread that is exiting (collecting and abandoning its
// shard of the heap) instead of clearing the runs that thread walks. The
// reset is stopped after it destroyed the children (which takes the heap
// lock), the exiting thread is stopped inside its walk (holding the heap
// lock), and the reset resumed: it must find the thread lock taken and wait,
// and its wait point resumes the exiting thread. A reset that does not wait
// clears the shard under the walk, and returns with the thread still stopped.
TEST(InterleavingTest, ResetWaitsForAThreadThatIsExiting) {
  Interleaving il;
  spaces_heap_t* h = make_heap("exiting");
  ASSERT_NE(spaces_alloc(h, 48), nullptr);  // the resetting thread's own shard
  std::atomic<bool> go{false};
  std::thread worker([&] {
    std::vector<void*> mine;
    for (int i = 0; i < 3000; ++i) mine.push_back(spaces_alloc(h, 48));
    for (std::size_t i = 0; i < mine.size(); i += 2) spaces_free(mine[i]);
    while (!go.load()) std::this_thread::yield();
  });  // exits: collects and abandons its shard
  il.stop_at("heap.reset");
  std::thread resetter([&] { EXPECT_EQ(spaces_heap_reset(h), SPACES_OK); });
  il.wait_stopped("heap.reset");
  il.stop_at("shard.collect_walk", worker.get_id());
  go.store(true);
  il.wait_stopped("shard.collect_walk");
  (void)il.count("threads.exclusive_wait");
  il.when("threads.exclusive_wait", [&] { il.resume("shard.collect_walk"); });
  il.resume("heap.reset");
  resetter.join();
  const bool waited = !il.is_stopped("shard.collect_walk");
  EXPECT_TRUE(waited) << "the reset cleared the shard while a thread was exiting";
  il.resume("shard.collect_walk");
  worker.join();
  EXPECT_TRUE(heap_is_valid(heap_of(h)));
  EXPECT_TRUE(cache_is_valid());
  const spaces_stats_t st = stats_of(h);
  EXPECT_EQ(st.footprint, 0u);
  EXPECT_EQ(st.live_blocks, 0u);
  ASSERT_NE(spaces_alloc(h, 48), nullptr);
  spaces_heap_destroy(h);
}

// Nested charges are exact: a child's charge is never visible while its
// parent may still refuse it, so another allocation that both levels have
// room for is never refused for it.
TEST(InterleavingTest, NestedChargeIsNeverRefusedForAnotherChargesTransient) {
  Interleaving il;
  spaces_heap_t* parent = make_heap("parent", 2 * kSlabSize);
  spaces_heap_t* child = make_heap("child", 2 * kSlabSize, SPACES_GENERAL, 0, parent);
  void* own = spaces_alloc(parent, 100);  // the parent's own slab: 1 of 2
  ASSERT_NE(own, nullptr);
  // A wants 2 slabs from the child: the child has room, the parent will refuse.
  il.stop_at("charge.nested");
  void* a = reinterpret_cast<void*>(1);
  std::thread ta([&] { a = spaces_alloc(child, kSlabSize + 1000); });
  il.wait_stopped("charge.nested");
  // B wants 1 slab from the child: both levels have room for it. It waits
  // for A's charge to finish (the root's charge lock), then succeeds.
  void* b = nullptr;
  std::thread tb([&] { b = spaces_alloc(child, 100); });
  il.resume("charge.nested");
  ta.join();
  tb.join();
  EXPECT_EQ(a, nullptr);
  EXPECT_NE(b, nullptr);
  EXPECT_EQ(stats_of(child).cap_failures, 0u);
  EXPECT_EQ(stats_of(parent).cap_failures, 1u);
  EXPECT_EQ(stats_of(child).footprint, kSlabSize);
  EXPECT_EQ(stats_of(parent).footprint, 2 * kSlabSize);
  spaces_free(b);
  spaces_free(own);
  spaces_heap_destroy(parent);
}

// A freer that read a full slab's shard while that shard was abandoned hands
// its block to the abandoned shard, though a reclaim moved the slab to a live
// thread meanwhile: the next collect forwards the block, and nothing is lost.
TEST(InterleavingTest, DelayedBlockOfASlabThatMovedIsForwarded) {
  Interleaving il;
  spaces_heap_t* h = make_heap("moved");
  void* first = spaces_alloc(h, 16);  // this thread's own shard, so it reclaims instead of adopting
  std::vector<void*> blocks;
  void* extra = nullptr;
  std::thread([&] { blocks = fill_one_slab(h, &extra); }).join();  // its shard is abandoned now
  SlabHeader* s = slab_of(blocks[0]);
  Shard* abandoned = s->shard.load();
  ASSERT_EQ(abandoned->tag.load(), 0u);
  ASSERT_EQ(s->remote.load(), kRemoteFull);
  std::size_t live = 1 + kPerSlab + 1;

  il.stop_at("remote.claimed");
  std::thread freer([&] { spaces_free(blocks[0]); });
  EXPECT_EQ(il.wait_stopped("remote.claimed"), s);
  // Another thread frees a second block: FULL is gone, so it goes on the
  // remote list; collecting the abandoned shard puts the slab back on its
  // queue, and this thread's next allocation of the class reclaims it.
  std::thread([&] { spaces_free(blocks[1]); }).join();
  ASSERT_EQ(spaces_heap_collect(h), SPACES_OK);
  void* mine = spaces_alloc(h, kBlock);
  Shard* main_shard = shard_find(heap_of(h));
  ASSERT_EQ(s->shard.load(), main_shard);
  ASSERT_NE(main_shard, abandoned);
  il.resume("remote.claimed");
  freer.join();
  live = live - 2 + 1;
  // The block went to the abandoned shard's delayed list: it is free, though
  // its slab still counts it used until someone forwards it.
  EXPECT_EQ(abandoned->delayed_count.load(), 1u);
  EXPECT_EQ(stats_of(h).live_blocks, live);
  ASSERT_EQ(spaces_heap_collect(h), SPACES_OK);
  EXPECT_EQ(abandoned->delayed_count.load(), 0u);
  EXPECT_TRUE(heap_is_valid(heap_of(h)));
  EXPECT_EQ(stats_of(h).live_blocks, live);
  for (std::size_t i = 2; i < blocks.size(); ++i) spaces_free(blocks[i]);
  spaces_free(extra);
  spaces_free(mine);
  spaces_free(first);
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  ASSERT_EQ(spaces_heap_collect(h), SPACES_OK);
  EXPECT_TRUE(heap_is_valid(heap_of(h)));
  EXPECT_EQ(stats_of(h).footprint, 0u);
  spaces_heap_destroy(h);
}

// The slab cache returns memory to the OS after releasing its lock. While a
// thread is inside that system call, its runs are off every list: another
// thread takes the lock (allocates a span, frees the span right after the
// run), and neither the new span nor the freed neighbour's merge touches
// the run; afterwards the run is binned cold and merges with its neighbour.
TEST(InterleavingTest, DecommitRunsOutsideTheCacheLockAndNothingTakesItsRun) {
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_SLAB_CACHE, 0), SPACES_OK);  // every release is over the bound
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_DECOMMIT, 2), SPACES_OK);    // MADV_DONTNEED
  constexpr std::size_t kSpan = 4 * kSlabSize - kHeaderRegion;           // a block of exactly 4 slabs
  spaces_heap_t* h = make_heap("decommit");
  spaces_heap_t* other = make_heap("other");
  char* a = static_cast<char*>(spaces_alloc(h, kSpan));
  char* b = static_cast<char*>(spaces_alloc(h, kSpan));
  char* c = static_cast<char*>(spaces_alloc(h, kSpan));
  ASSERT_TRUE(a != nullptr && b != nullptr && c != nullptr);
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(a) - kHeaderRegion;
  // Cut in order from the untouched reservation of this new process.
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(b), reinterpret_cast<std::uintptr_t>(a) + 4 * kSlabSize);
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(c), reinterpret_cast<std::uintptr_t>(b) + 4 * kSlabSize);
  std::memset(a, 1, kSpan);

  Interleaving il;
  std::atomic<bool> go{false};
  std::thread freer([&] {
    while (!go.load()) std::this_thread::yield();
    spaces_free(a);
  });
  il.stop_at("cache.decommit", freer.get_id());
  go.store(true);
  const auto* range = static_cast<const std::uintptr_t*>(il.wait_stopped("cache.decommit"));
  ASSERT_NE(range, nullptr);
  EXPECT_EQ(range[0], base);  // Decommits::Range: base, then slabs
  EXPECT_EQ(range[1], 4u);
  // The lock is free: this thread takes it twice, and neither step touches
  // the run being decommitted.
  char* d = static_cast<char*>(spaces_alloc(other, kSpan));
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(reinterpret_cast<std::uintptr_t>(d) >= base + 4 * kSlabSize ||
              reinterpret_cast<std::uintptr_t>(d) + kSpan <= base)
      << "a span was cut from a run that is being decommitted";
  spaces_free(b);  // binned, and decommitted by this thread at once: no merge with the run before it
  EXPECT_EQ(map_get(base), Granule::Head);
  EXPECT_EQ(map_get(base + 4 * kSlabSize), Granule::FreeHead);
  EXPECT_TRUE(cache_is_valid());
  il.resume("cache.decommit");
  freer.join();
  // Binned cold now, merged with b's run: one free run of 8 slabs.
  EXPECT_EQ(map_get(base), Granule::FreeHead);
  EXPECT_EQ(map_get(base + 4 * kSlabSize), Granule::Interior);
  EXPECT_EQ(map_get(base + 7 * kSlabSize), Granule::FreeTail);
  EXPECT_TRUE(cache_is_valid());
  char* e = static_cast<char*>(spaces_alloc(other, 8 * kSlabSize - kHeaderRegion));
  EXPECT_EQ(e, a);  // the cold run, whole
  spaces_free(e);
  spaces_free(c);
  spaces_free(d);
  EXPECT_TRUE(cache_is_valid());
  spaces_heap_destroy(other);
  spaces_heap_destroy(h);
}

}  // namespace
