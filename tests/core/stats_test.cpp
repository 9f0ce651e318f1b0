// Statistics (exact values, readable and JSON output) and the walk over live blocks.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

std::string capture(spaces_status_t (*writer)(const spaces_heap_t*, FILE*), const spaces_heap_t* h) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  EXPECT_EQ(writer(h, f), SPACES_OK);
  std::fclose(f);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

// Counts follow allocations and frees exactly, slab by slab.
TEST(StatsTest, CountsAreExact) {
  ScopedHeap h("counted");
  std::vector<void*> v;
  for (int i = 0; i < 3000; ++i) v.push_back(spaces_alloc(h, 40));  // class 48, 1354 per slab
  spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.live_blocks, 3000u);
  EXPECT_EQ(s.live_bytes, 3000u * 48);
  EXPECT_EQ(s.slabs, 3u);
  EXPECT_EQ(s.footprint, 3 * kSlab);
  EXPECT_EQ(s.peak_footprint, 3 * kSlab);
  EXPECT_EQ(s.alloc_count, 3000u);
  EXPECT_EQ(s.free_count, 0u);
  EXPECT_EQ(s.cap, SPACES_UNCAPPED);
  for (int i = 0; i < 1000; ++i) spaces_free(v[static_cast<std::size_t>(i)]);
  void* big = spaces_alloc(h, 100000);
  s = stats_of(h);
  EXPECT_EQ(s.live_blocks, 2001u);
  EXPECT_EQ(s.live_bytes, 2000u * 48 + (2 * kSlab - kHeaderRegion));
  EXPECT_EQ(s.alloc_count, 3001u);
  EXPECT_EQ(s.free_count, 1000u);
  EXPECT_EQ(s.footprint, 5 * kSlab);
  spaces_free(big);
  EXPECT_EQ(stats_of(h).free_count, 1001u);
  EXPECT_EQ(stats_of(h).peak_footprint, 5 * kSlab);
}

// The readable form names every field, one per line.
TEST(StatsTest, PrintStatsIsReadable) {
  ScopedHeap h("printed", 1 << 20);
  void* p = spaces_alloc(h, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(capture(spaces_heap_print_stats, h),
            "heap 'printed' (general)\n"
            "  live bytes      112\n"
            "  live blocks     1\n"
            "  footprint       65536\n"
            "  peak footprint  65536\n"
            "  cap             1048576\n"
            "  slabs           1\n"
            "  allocations     1\n"
            "  frees           0\n"
            "  cap failures    0\n"
            "  soft limit      none\n"
            "  soft events     0\n"
            "  resets          0\n");
}

// The JSON form is one object per line, with null for no cap and escaped names.
TEST(StatsTest, JsonIsExact) {
  ScopedHeap h("a \"quoted\"\\name", SPACES_UNCAPPED, SPACES_REGION);
  ASSERT_NE(spaces_alloc(h, 10), nullptr);
  EXPECT_EQ(capture(spaces_heap_write_stats_json, h),
            "{\"name\":\"a \\\"quoted\\\"\\\\name\",\"discipline\":\"region\",\"live_bytes\":10,"
            "\"live_blocks\":1,\"footprint\":65536,\"peak_footprint\":65536,\"cap\":null,\"slabs\":1,"
            "\"alloc_count\":1,\"free_count\":0,\"cap_failures\":0,\"soft_limit\":null,"
            "\"soft_limit_events\":0,\"resets\":0}\n");
}

// Frees from another thread count as frees at once, before the owner collects them
// (issue: stats and walk disagreed after every thread joined).
TEST(StatsTest, RemoteFreesCountAsFreeAtOnce) {
  ScopedHeap h("remote");
  std::vector<void*> v;
  for (int i = 0; i < 100; ++i) v.push_back(spaces_alloc(h, 64));
  std::thread([&] {
    for (void* p : v) spaces_free(p);
  }).join();
  // Still on the slab's remote list, but free: the remote word counts them.
  spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.free_count, 100u);
  EXPECT_EQ(s.alloc_count, 100u);
  for (int i = 0; i < 2000; ++i) ASSERT_NE(spaces_alloc(h, 64), nullptr);  // exhausts the free list: collects
  s = stats_of(h);
  EXPECT_EQ(s.free_count, 100u);
  EXPECT_EQ(s.live_blocks, 2000u);
  EXPECT_EQ(s.live_bytes, 2000u * 64);
}

// The walk visits every live block exactly once, with its usable size.
TEST(WalkTest, VisitsExactlyTheLiveBlocks) {
  ScopedHeap h("walked");
  std::map<void*, std::size_t> live;
  std::vector<void*> all;
  for (int i = 0; i < 5000; ++i) {
    const std::size_t n = 1 + static_cast<std::size_t>(i * 7919) % 3000;
    void* p = spaces_alloc(h, n);
    all.push_back(p);
    live[p] = spaces_usable_size(p);
  }
  for (int i = 0; i < 3; ++i) {
    void* p = spaces_alloc(h, 100000 * static_cast<std::size_t>(i + 1));
    all.push_back(p);
    live[p] = spaces_usable_size(p);
  }
  for (std::size_t i = 0; i < all.size(); i += 3) {
    live.erase(all[i]);
    spaces_free(all[i]);
  }
  std::map<void*, std::size_t> seen;
  int duplicates = 0;
  struct Ctx {
    std::map<void*, std::size_t>* seen;
    int* duplicates;
  } ctx{&seen, &duplicates};
  ASSERT_EQ(spaces_heap_walk(
                h,
                [](void* block, size_t usable, void* arg) {
                  auto* c = static_cast<Ctx*>(arg);
                  if (!c->seen->emplace(block, usable).second) ++*c->duplicates;
                  return 0;
                },
                &ctx),
            SPACES_OK);
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(seen, live);
}

// A nonzero return stops the walk.
TEST(WalkTest, NonzeroReturnStops) {
  ScopedHeap h("stopped");
  for (int i = 0; i < 100; ++i) ASSERT_NE(spaces_alloc(h, 32), nullptr);
  int visits = 0;
  spaces_heap_walk(
      h,
      [](void*, size_t, void* arg) {
        return ++*static_cast<int*>(arg) == 10 ? 1 : 0;
      },
      &visits);
  EXPECT_EQ(visits, 10);
}

// Blocks freed by other threads and not yet collected are not visited.
TEST(WalkTest, SkipsRemotelyFreedBlocks) {
  ScopedHeap h("remote-walk");
  std::vector<void*> v;
  for (int i = 0; i < 10; ++i) v.push_back(spaces_alloc(h, 32));
  std::thread([&] { spaces_free(v[3]); }).join();
  int visits = 0;
  spaces_heap_walk(
      h, [](void*, size_t, void* arg) { return ++*static_cast<int*>(arg), 0; }, &visits);
  EXPECT_EQ(visits, 9);
}

// A block freed by another thread into a full slab goes to the owner's
// delayed list (a full mini's too); a walk hands it back to its slab before
// it looks, reading the list's links inside freed (poisoned) blocks, which
// only the allocator may (ChaosTest.ThreadChurn hit it under ASan when a
// walk found the list non-empty). The next block's free goes to the slab's
// remote list. Both are skipped, exactly.
TEST(WalkTest, SkipsBlocksHandedOverFromAFullSlab) {
  for (unsigned flags : {0u, SPACES_HEAP_TINY}) {
    ScopedHeap h("full-walk", SPACES_UNCAPPED, SPACES_GENERAL, flags);
    const std::size_t per_slab = flags != 0 ? (kMini - 128) / 64 : (kSlab - kHeaderRegion) / 64;
    std::vector<void*> v;
    for (std::size_t i = 0; i <= per_slab; ++i) v.push_back(spaces_alloc(h, 64));  // the last marks the first slab full
    std::thread([&] {
      spaces_free(v[0]);  // FULL: handed over through the delayed list
      spaces_free(v[1]);  // the remote list
    }).join();
    std::size_t visits = 0;
    ASSERT_EQ(spaces_heap_walk(
                  h, [](void*, size_t, void* arg) { return ++*static_cast<std::size_t*>(arg), 0; }, &visits),
              SPACES_OK);
    EXPECT_EQ(visits, per_slab - 1) << flags;
    EXPECT_EQ(stats_of(h).live_blocks, per_slab - 1) << flags;
    for (std::size_t i = 2; i < v.size(); ++i) spaces_free(v[i]);
  }
}

}  // namespace
