// Region heaps: bump allocation through the inline cursor and spaces_alloc,
// dedicated spans, no-op frees, reset and destroy.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

class RegionTest : public ::testing::Test {
 protected:
  ScopedHeap heap{"region", SPACES_UNCAPPED, SPACES_REGION, SPACES_HEAP_SINGLE_THREADED};
  spaces_cursor_t* cursor = spaces_region_cursor(heap);
};

// Consecutive allocations are adjacent: allocation order is memory order.
TEST_F(RegionTest, ConsecutiveAllocationsAreAdjacent) {
  ASSERT_NE(cursor, nullptr);
  auto* a = static_cast<char*>(spaces_cursor_alloc(cursor, 24, 8));
  auto* b = static_cast<char*>(spaces_cursor_alloc(cursor, 24, 8));
  auto* c = static_cast<char*>(spaces_cursor_alloc(cursor, 8, 8));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(b, a + 24);
  EXPECT_EQ(c, b + 24);
  // The first block of a slab sits right after the 512-byte header region.
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % kSlab, kHeaderRegion);
}

// The cursor honours alignment by padding, and spaces_alloc aligns to 16.
TEST_F(RegionTest, AlignmentIsHonouredByPadding) {
  auto* a = static_cast<char*>(spaces_cursor_alloc(cursor, 1, 1));
  auto* b = static_cast<char*>(spaces_cursor_alloc(cursor, 8, 64));
  EXPECT_TRUE(aligned(b, 64));
  const std::uintptr_t after_a = reinterpret_cast<std::uintptr_t>(a) + 1;
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b), (after_a + 63) & ~std::uintptr_t{63});
  void* c = spaces_alloc(heap, 3);
  EXPECT_TRUE(aligned(c, 16));
  void* d = spaces_aligned_alloc(heap, 4096, 10);
  EXPECT_TRUE(aligned(d, 4096));
}

// Stats count requested bytes and blocks exactly; frees change nothing.
TEST_F(RegionTest, StatsCountRequestedBytesAndFreeIsANoOp) {
  for (int i = 0; i < 1000; ++i) ASSERT_NE(spaces_cursor_alloc(cursor, 40, 8), nullptr);
  void* p = spaces_alloc(heap, 100);
  spaces_free(p);
  const spaces_stats_t s = stats_of(heap);
  EXPECT_EQ(s.live_blocks, 1001u);
  EXPECT_EQ(s.live_bytes, 40100u);
  EXPECT_EQ(s.alloc_count, 1001u);
  EXPECT_EQ(s.free_count, 0u);
  EXPECT_EQ(s.slabs, 1u);
  EXPECT_EQ(spaces_usable_size(p), 0u);  // region blocks keep no size
  EXPECT_EQ(spaces_heap_of(p), heap.get());
}

// When a slab is full the cursor moves to a new one; the rest is left unused.
TEST_F(RegionTest, FullSlabOpensTheNext) {
  const std::size_t per_slab = (kSlab - kHeaderRegion) / 1000;  // 65 blocks of 1000 bytes
  for (std::size_t i = 0; i < per_slab; ++i) ASSERT_NE(spaces_cursor_alloc(cursor, 1000, 8), nullptr);
  EXPECT_EQ(stats_of(heap).slabs, 1u);
  auto* next = static_cast<char*>(spaces_cursor_alloc(cursor, 1000, 8));
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(stats_of(heap).slabs, 2u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(next) % kSlab, kHeaderRegion);
}

// A request above half a slab gets a dedicated span and leaves the cursor's slab alone.
TEST_F(RegionTest, BigRequestsGetADedicatedSpan) {
  auto* a = static_cast<char*>(spaces_cursor_alloc(cursor, 16, 8));
  auto* big = static_cast<char*>(spaces_cursor_alloc(cursor, 100000, 8));
  ASSERT_NE(big, nullptr);
  std::memset(big, 7, 100000);
  auto* b = static_cast<char*>(spaces_cursor_alloc(cursor, 16, 8));
  EXPECT_EQ(b, a + 16);
  const spaces_stats_t s = stats_of(heap);
  EXPECT_EQ(s.slabs, 3u);  // the cursor's slab + a 2-slab span
  EXPECT_EQ(s.live_bytes, 100032u);
}

// Zero-byte requests get distinct addresses.
TEST_F(RegionTest, ZeroSizeRequestsAreDistinct) {
  void* a = spaces_cursor_alloc(cursor, 0, 1);
  void* b = spaces_cursor_alloc(cursor, 0, 1);
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a, b);
}

// Reset frees everything and the next allocations reuse the same slab.
TEST_F(RegionTest, ResetReusesMemory) {
  for (int i = 0; i < 5001; ++i) spaces_cursor_alloc(cursor, 64, 8);  // 1016 per slab: 5 slabs
  ASSERT_EQ(spaces_heap_reset(heap), SPACES_OK);
  spaces_stats_t s = stats_of(heap);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.footprint, 0u);
  EXPECT_EQ(s.resets, 1u);
  EXPECT_EQ(s.peak_footprint, 5 * kSlab);
  ASSERT_NE(spaces_cursor_alloc(cursor, 64, 8), nullptr);
  EXPECT_EQ(stats_of(heap).slabs, 1u);
}

// realloc on a region moves the block and copies what the region had after it.
TEST_F(RegionTest, ReallocMovesAndCopies) {
  auto* p = static_cast<char*>(spaces_alloc(heap, 10));
  std::memcpy(p, "abcdefghij", 10);
  auto* q = static_cast<char*>(spaces_realloc(heap, p, 100));
  ASSERT_NE(q, nullptr);
  EXPECT_NE(q, p);
  EXPECT_EQ(std::memcmp(q, "abcdefghij", 10), 0);
}

// A region heap has no block boundaries to walk.
TEST_F(RegionTest, WalkIsUnsupported) {
  EXPECT_EQ(spaces_heap_walk(heap, [](void*, size_t, void*) { return 0; }, nullptr), SPACES_E_UNSUPPORTED);
}

// The cursor rejects alignments that are not powers of two through the slow path.
TEST_F(RegionTest, BadAlignmentFailsWithEinval) {
  errno = 0;
  EXPECT_EQ(spaces_aligned_alloc(heap, 3, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
}

// Each thread of a multi-threaded region heap bumps its own cursor.
TEST(RegionThreadsTest, EachThreadHasItsOwnCursor) {
  ScopedHeap mt("mt-region", SPACES_UNCAPPED, SPACES_REGION);
  spaces_cursor_t* mine = spaces_region_cursor(mt);
  spaces_cursor_t* theirs = nullptr;
  std::thread([&] { theirs = spaces_region_cursor(mt); spaces_cursor_alloc(theirs, 8, 8); }).join();
  EXPECT_NE(mine, theirs);
  spaces_cursor_alloc(mine, 8, 8);
  EXPECT_EQ(stats_of(mt).live_blocks, 2u);
}

}  // namespace
