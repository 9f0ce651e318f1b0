// Tiny heaps (SPACES_HEAP_TINY): a heap's first small slabs are 4 KiB mini
// slabs cut from shared slabs. What one costs, when it outgrows them, caps,
// frees from other threads, reset and destroy, and the pointers the API must
// refuse.
#include <gtest/gtest.h>
#include <spaces/spaces.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

/// Blocks of 64 bytes one mini holds: 4 KiB less its 128-byte header.
constexpr std::size_t kPerMini = (kMini - 128) / 64;
static_assert(kPerMini == 62);

spaces_heap_t* tiny_heap(const char* name, std::size_t cap = SPACES_UNCAPPED, unsigned flags = 0) {
  return make_heap(name, cap, SPACES_GENERAL, SPACES_HEAP_TINY | flags);
}

std::vector<void*> alloc_n(spaces_heap_t* h, std::size_t n, std::size_t size) {
  std::vector<void*> v;
  for (std::size_t i = 0; i < n; ++i) {
    void* p = spaces_alloc(h, size);
    EXPECT_NE(p, nullptr) << "block " << i;
    if (p == nullptr) break;
    std::memset(p, static_cast<int>(i), size);
    v.push_back(p);
  }
  return v;
}

TEST(TinyHeapTest, OneBlockCostsOneMini) {
  spaces_heap_t* h = tiny_heap("one-block");
  void* p = spaces_alloc(h, 64);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(spaces_heap_footprint(h), kMini);
  const spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.footprint, kMini);
  EXPECT_EQ(s.live_blocks, 1u);
  EXPECT_EQ(s.live_bytes, 64u);
  // The first block starts the mini (its 128-byte header ends it).
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kMini, 0u);
  EXPECT_EQ(spaces_usable_size(p), 64u);
  EXPECT_EQ(spaces_heap_of(p), h);
  EXPECT_TRUE(spaces_owns(p));
  spaces_free(p);
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

TEST(TinyHeapTest, EachSmallClassTakesAMiniAndBiggerBlocksASlab) {
  spaces_heap_t* h = tiny_heap("classes");
  for (std::size_t size : {16u, 64u, 256u, 1024u}) ASSERT_NE(spaces_alloc(h, size), nullptr) << size;
  EXPECT_EQ(spaces_heap_footprint(h), 4 * kMini);
  // 1040 bytes: a class of which a mini would hold three blocks only.
  void* big = spaces_alloc(h, 1040);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(spaces_heap_footprint(h), 4 * kMini + kSlab);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(big) % kSlab, kHeaderRegion);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

TEST(TinyHeapTest, OutgrowsItsMinisAt32KiB) {
  spaces_heap_t* h = tiny_heap("outgrow");
  std::vector<void*> blocks = alloc_n(h, 8 * kPerMini, 64);
  EXPECT_EQ(spaces_heap_footprint(h), 8 * kMini);  // 32 KiB of minis
  void* next = spaces_alloc(h, 64);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(spaces_heap_footprint(h), 8 * kMini + kSlab);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(next) % kSlab, kHeaderRegion);  // a slab's first block
  blocks.push_back(next);
  for (void* p : blocks) spaces_free(p);
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  // Every mini and the slab are empty: collect gives them all back.
  ASSERT_EQ(spaces_heap_collect(h), SPACES_OK);
  EXPECT_EQ(spaces_heap_footprint(h), 0u);
  // Small again: the next block comes from a mini.
  ASSERT_NE(spaces_alloc(h, 64), nullptr);
  EXPECT_EQ(spaces_heap_footprint(h), kMini);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

TEST(TinyHeapTest, TheCapCountsMinisExactly) {
  spaces_heap_t* h = tiny_heap("capped", 2 * kMini);
  std::vector<void*> blocks = alloc_n(h, 2 * kPerMini, 64);
  ASSERT_EQ(blocks.size(), 2 * kPerMini);
  EXPECT_EQ(spaces_heap_footprint(h), 2 * kMini);
  errno = 0;
  EXPECT_EQ(spaces_alloc(h, 64), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  spaces_failure_t f{};
  ASSERT_EQ(spaces_last_failure(&f), SPACES_OK);
  EXPECT_EQ(f.status, SPACES_E_CAP);
  EXPECT_EQ(f.heap, h);
  EXPECT_EQ(f.footprint, 2 * kMini);
  EXPECT_EQ(stats_of(h).cap_failures, 1u);
  // A block given back serves the next request: nothing is charged.
  spaces_free(blocks.back());
  blocks.pop_back();
  EXPECT_NE(spaces_alloc(h, 64), nullptr);
  EXPECT_EQ(spaces_heap_footprint(h), 2 * kMini);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

TEST(TinyHeapTest, ResetGivesBackTheMinisAndTheHeapStartsSmallAgain) {
  for (unsigned flags : {0u, SPACES_HEAP_RETAIN_ON_RESET}) {
    spaces_heap_t* h = tiny_heap("reset", SPACES_UNCAPPED, flags);
    alloc_n(h, 3 * kPerMini, 64);
    EXPECT_EQ(spaces_heap_footprint(h), 3 * kMini);
    ASSERT_EQ(spaces_heap_reset(h), SPACES_OK);
    // Minis are never retained: they are worth less than the heap's next round
    // would pay for a whole slab.
    EXPECT_EQ(spaces_heap_footprint(h), 0u) << flags;
    const spaces_stats_t s = stats_of(h);
    EXPECT_EQ(s.live_blocks, 0u);
    EXPECT_EQ(s.resets, 1u);
    ASSERT_NE(spaces_alloc(h, 64), nullptr);
    EXPECT_EQ(spaces_heap_footprint(h), kMini) << flags;
    EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
  }
}

TEST(TinyHeapTest, WalkAndLeakReportSeeTheMinisBlocks) {
  spaces_heap_t* h = tiny_heap("walk");
  std::vector<void*> blocks = alloc_n(h, 5, 48);
  spaces_free(blocks[2]);
  std::vector<void*> seen;
  ASSERT_EQ(spaces_heap_walk(
                h,
                [](void* b, size_t usable, void* arg) {
                  EXPECT_EQ(usable, 48u);
                  static_cast<std::vector<void*>*>(arg)->push_back(b);
                  return 0;
                },
                &seen),
            SPACES_OK);
  EXPECT_EQ(seen, (std::vector<void*>{blocks[0], blocks[1], blocks[3], blocks[4]}));
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

TEST(TinyHeapTest, RegionAndSingleThreadedHeaps) {
  // A region keeps its slabs: the flag changes nothing.
  spaces_heap_t* r = make_heap("region", SPACES_UNCAPPED, SPACES_REGION, SPACES_HEAP_TINY);
  ASSERT_NE(spaces_alloc(r, 64), nullptr);
  EXPECT_EQ(spaces_heap_footprint(r), kSlab);
  EXPECT_EQ(spaces_heap_destroy(r), SPACES_OK);
  spaces_heap_t* st = tiny_heap("single", SPACES_UNCAPPED, SPACES_HEAP_SINGLE_THREADED);
  std::vector<void*> blocks = alloc_n(st, kPerMini + 1, 64);
  EXPECT_EQ(spaces_heap_footprint(st), 2 * kMini);
  for (void* p : blocks) spaces_free(p);
  EXPECT_EQ(stats_of(st).live_blocks, 0u);
  EXPECT_EQ(spaces_heap_destroy(st), SPACES_OK);
}

TEST(TinyHeapTest, AThousandHeapsCostAMiniEach) {
  std::vector<spaces_heap_t*> heaps;
  for (int i = 0; i < 1000; ++i) {
    heaps.push_back(tiny_heap("many"));
    ASSERT_NE(spaces_alloc(heaps.back(), 64), nullptr);
  }
  std::size_t total = 0;
  for (spaces_heap_t* h : heaps) total += spaces_heap_footprint(h);
  EXPECT_EQ(total, 1000 * kMini);
  // Neighbouring heaps share hosts: their blocks are a mini apart, not a slab.
  std::size_t shared = 0;
  for (std::size_t i = 1; i < heaps.size(); ++i) {
    void* a = nullptr;
    void* b = nullptr;
    spaces_heap_walk(heaps[i - 1], [](void* p, size_t, void* arg) { *static_cast<void**>(arg) = p; return 1; }, &a);
    spaces_heap_walk(heaps[i], [](void* p, size_t, void* arg) { *static_cast<void**>(arg) = p; return 1; }, &b);
    shared += (reinterpret_cast<std::uintptr_t>(a) & ~(kSlab - 1)) == (reinterpret_cast<std::uintptr_t>(b) & ~(kSlab - 1));
  }
  EXPECT_GE(shared, 900u);
  for (spaces_heap_t* h : heaps) EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

TEST(TinyHeapTest, PointersOutsideALiveMiniAreRefused) {
  spaces_heap_t* keep = tiny_heap("keeps-the-host");
  ASSERT_NE(spaces_alloc(keep, 64), nullptr);
  spaces_heap_t* h = tiny_heap("refused");
  void* p = spaces_alloc(h, 64);
  ASSERT_NE(p, nullptr);
  // The host's first mini holds its header: no block lives there.
  char* host_page = reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(p) & ~(kSlab - 1)) + 1024;
  EXPECT_EQ(spaces_usable_size(host_page), 0u);
  EXPECT_EQ(spaces_heap_of(host_page), nullptr);
  errno = 0;
  EXPECT_EQ(spaces_realloc(h, host_page, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  // Inside a block, not at its start: realloc refuses it.
  errno = 0;
  EXPECT_EQ(spaces_realloc(h, static_cast<char*>(p) + 16, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  // A block of another heap.
  errno = 0;
  EXPECT_EQ(spaces_realloc(keep, p, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  // Its mini went back: the pointer names no heap and has no size.
  EXPECT_EQ(spaces_heap_of(p), nullptr);
  EXPECT_EQ(spaces_usable_size(p), 0u);
  EXPECT_EQ(spaces_heap_destroy(keep), SPACES_OK);
}

TEST(TinyHeapDeathTest, FreeIntoAMiniGivenBackIsNamed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        spaces_heap_t* keep = tiny_heap("keeps-the-host");
        if (spaces_alloc(keep, 64) == nullptr) std::abort();
        spaces_heap_t* h = tiny_heap("gone");
        void* p = spaces_alloc(h, 64);
        spaces_heap_destroy(h);
        spaces_free(p);
      },
      "spaces: free of 0x[0-9a-f]+: its slab was already released \\(double free\\?\\)");
}

// Another thread frees every block of a full mini: the first free finds it
// marked full and hands its block over (the shard's delayed list), the
// others go on its remote list. The owner drains the one and collects the
// others, and serves the next allocations from them without a third mini.
TEST(TinyThreadsTest, FreesFromAnotherThreadRefillAFullMini) {
  spaces_heap_t* h = tiny_heap("remote");
  // The 63rd block finds the first mini exhausted: it is marked full and a
  // second mini opens.
  std::vector<void*> blocks = alloc_n(h, kPerMini + 1, 64);
  ASSERT_EQ(blocks.size(), kPerMini + 1);
  EXPECT_EQ(spaces_heap_footprint(h), 2 * kMini);
  std::thread([&] {
    for (std::size_t i = 0; i < kPerMini; ++i) spaces_free(blocks[i]);
  }).join();
  spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.live_blocks, 1u);
  EXPECT_EQ(s.free_count, kPerMini);
  // 61 blocks are left in the second mini, 62 came back to the first.
  std::vector<void*> again = alloc_n(h, 2 * kPerMini - 1, 64);
  EXPECT_EQ(spaces_heap_footprint(h), 2 * kMini);
  s = stats_of(h);
  EXPECT_EQ(s.alloc_count, 3 * kPerMini);
  EXPECT_EQ(s.live_blocks, 2 * kPerMini);
  // Freed concurrently with the owner's allocations: nothing is lost.
  std::thread freer([&] {
    for (void* p : again) spaces_free(p);
  });
  std::vector<void*> third = alloc_n(h, kPerMini, 64);
  freer.join();
  for (void* p : third) spaces_free(p);
  spaces_free(blocks.back());
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  // Everything is free: collect gives back whatever minis the race needed.
  ASSERT_EQ(spaces_heap_collect(h), SPACES_OK);
  EXPECT_EQ(spaces_heap_footprint(h), 0u);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

// Threads create, fill and destroy tiny heaps at once, and free each other's
// blocks: the minis they share hosts for never mix.
TEST(TinyThreadsTest, ThreadsShareHostsAndFreeEachOthersBlocks) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 50;
  std::vector<std::thread> pool;
  std::atomic<int> bad{0};
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        spaces_heap_t* h = tiny_heap("threads");
        std::vector<void*> mine;
        for (int i = 0; i < 40; ++i) {
          auto* p = static_cast<unsigned char*>(spaces_alloc(h, 16 + 16 * static_cast<std::size_t>(i % 8)));
          if (p == nullptr) {
            ++bad;
            continue;
          }
          std::memset(p, t * 16 + r % 16, 16);
          mine.push_back(p);
        }
        for (void* p : mine) {
          const auto* c = static_cast<unsigned char*>(p);
          if (c[0] != t * 16 + r % 16 || c[15] != c[0] || spaces_heap_of(p) != h) ++bad;
        }
        // Half are freed by this thread, half by the next one (or at destroy).
        for (std::size_t i = 0; i < mine.size(); i += 2) spaces_free(mine[i]);
        if (spaces_heap_footprint(h) > 8 * kMini) ++bad;
        std::thread([&] {
          for (std::size_t i = 1; i < mine.size(); i += 4) spaces_free(mine[i]);
        }).join();
        if (spaces_heap_destroy(h) != SPACES_OK) ++bad;
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
