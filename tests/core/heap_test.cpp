// General heaps: size classes, large and huge blocks, alignment, realloc,
// calloc, usable sizes and the heap of a pointer.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

class HeapTest : public ::testing::Test {
 protected:
  ScopedHeap heap{"heap-test"};
};

// The documented size classes (docs/design.md), as usable sizes.
constexpr std::size_t kClasses[] = {16,   32,   48,   64,   80,   96,   112,  128,  160,  192,   224,
                                    256,  320,  384,  448,  512,  640,  768,  896,  1024,  1280,  1536,
                                    1792, 2048, 2560, 3072, 3584, 4224, 4608, 4992, 5376,  5888,  6400,
                                    7168, 8064, 9216, 10752, 12928, 16256, 21632, 32512};

// Every request gets the smallest class that holds it: check both edges of every class.
TEST_F(HeapTest, RequestsGetTheSmallestClassThatHoldsThem) {
  std::size_t prev = 0;
  for (std::size_t c : kClasses) {
    for (std::size_t n : {prev + 1, c}) {
      void* p = spaces_alloc(heap, n);
      ASSERT_NE(p, nullptr) << n;
      EXPECT_EQ(spaces_usable_size(p), c) << "request " << n;
      spaces_free(p);
    }
    prev = c;
  }
}

// Size 0 gives a unique 16-byte block, as malloc(0) may.
TEST_F(HeapTest, ZeroSizeGivesDistinctMinimalBlocks) {
  void* a = spaces_alloc(heap, 0);
  void* b = spaces_alloc(heap, 0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(spaces_usable_size(a), 16u);
  spaces_free(a);
  spaces_free(b);
}

// Blocks of one class are distinct, 16-byte aligned and belong to the heap.
TEST_F(HeapTest, BlocksAreDistinctAlignedAndOwned) {
  std::set<void*> seen;
  for (int i = 0; i < 5000; ++i) {
    void* p = spaces_alloc(heap, 40);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(aligned(p, 16));
    EXPECT_TRUE(seen.insert(p).second);
    EXPECT_EQ(spaces_heap_of(p), heap.get());
    EXPECT_TRUE(spaces_owns(p));
    std::memset(p, 0xAB, 40);
  }
  for (void* p : seen) spaces_free(p);
  EXPECT_EQ(stats_of(heap).live_blocks, 0u);
}

// A block just above the largest class takes one slab; its usable size is the
// slab minus the 512-byte header region.
TEST_F(HeapTest, LargeBlocksTakeWholeSlabs) {
  void* p = spaces_alloc(heap, 32513);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(spaces_usable_size(p), kSlab - kHeaderRegion);
  EXPECT_EQ(stats_of(heap).footprint, kSlab);
  void* q = spaces_alloc(heap, kSlab);  // 512 + 64 KiB needs two slabs
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(spaces_usable_size(q), 2 * kSlab - kHeaderRegion);
  EXPECT_EQ(stats_of(heap).footprint, 3 * kSlab);
  std::memset(q, 1, kSlab);
  spaces_free(p);
  spaces_free(q);
  EXPECT_EQ(stats_of(heap).footprint, 0u);
}

// Blocks above the huge threshold get their own mapping, returned on free.
TEST_F(HeapTest, HugeBlocksAreMappedAndUnmapped) {
  long long threshold = 0;
  ASSERT_EQ(spaces_option_get(SPACES_OPTION_HUGE_THRESHOLD, &threshold), SPACES_OK);
  const std::size_t n = static_cast<std::size_t>(threshold) + 1;
  char* p = static_cast<char*>(spaces_alloc(heap, n));
  ASSERT_NE(p, nullptr);
  const std::size_t footprint = (kHeaderRegion + n + kSlab - 1) / kSlab * kSlab;
  EXPECT_EQ(stats_of(heap).footprint, footprint);
  EXPECT_EQ(spaces_usable_size(p), footprint - kHeaderRegion);
  p[0] = 1;
  p[n - 1] = 2;
  EXPECT_EQ(spaces_heap_of(p + 0), heap.get());
  spaces_free(p);
  EXPECT_EQ(stats_of(heap).footprint, 0u);
  EXPECT_EQ(spaces_heap_of(p), nullptr);
}

class AlignmentTest : public ::testing::TestWithParam<int> {};

// Every power-of-two alignment up to 1 MiB, for small, medium and large sizes.
TEST_P(AlignmentTest, AlignedAllocHonoursThePowerOfTwo) {
  ScopedHeap heap("aligned");
  const std::size_t a = std::size_t{1} << GetParam();
  std::set<std::size_t> small_classes;
  for (std::size_t n : {std::size_t{1}, std::size_t{100}, std::size_t{5000}, std::size_t{70000}}) {
    void* p = spaces_aligned_alloc(heap, a, n);
    ASSERT_NE(p, nullptr) << "align " << a << " size " << n;
    EXPECT_TRUE(aligned(p, a)) << "align " << a << " size " << n;
    const std::size_t usable = spaces_usable_size(p);
    EXPECT_GE(usable, n);
    if (usable <= 32512) small_classes.insert(usable);
    EXPECT_EQ(spaces_heap_of(p), heap.get());
    std::memset(p, 0x5C, n);
    spaces_free(p);
  }
  EXPECT_EQ(stats_of(heap).live_blocks, 0u);
  // Spans went back; each small class keeps its (now empty) current slab.
  EXPECT_EQ(stats_of(heap).footprint, small_classes.size() * kSlab);
  // Alignments up to 512 are served from small classes, larger ones from spans.
  EXPECT_EQ(small_classes.size(), a <= 16 ? 3u : a <= 64 ? 3u : a <= 512 ? 2u : 0u);
}
INSTANTIATE_TEST_SUITE_P(PowersOfTwoTo1MiB, AlignmentTest, ::testing::Range(0, 21));

// Alignments beyond 1 MiB work too, up to SPACES_MAX_ALIGNMENT.
TEST_F(HeapTest, AlignmentsBeyondOneMebibyteWork) {
  for (std::size_t a : {std::size_t{1} << 22, std::size_t{1} << 26}) {
    void* p = spaces_aligned_alloc(heap, a, 1000);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(aligned(p, a));
    EXPECT_EQ(spaces_heap_of(p), heap.get());
    spaces_free(p);
  }
}

// realloc stays in place within the block and moves, keeping contents, beyond it.
TEST_F(HeapTest, ReallocStaysInPlaceWhileTheBlockFits) {
  auto* p = static_cast<unsigned char*>(spaces_alloc(heap, 20));  // class 32
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 20; ++i) p[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(spaces_realloc(heap, p, 30), p);
  auto* q = static_cast<unsigned char*>(spaces_realloc(heap, p, 1000));
  ASSERT_NE(q, nullptr);
  EXPECT_NE(q, p);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(q[i], i);
  auto* r = static_cast<unsigned char*>(spaces_realloc(heap, q, 200000));  // to a span
  ASSERT_NE(r, nullptr);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r[i], i);
  EXPECT_EQ(spaces_realloc(heap, r, 150000), r);  // shrink within the span
  auto* s = static_cast<unsigned char*>(spaces_realloc(heap, r, 10));  // far smaller: moves
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(spaces_usable_size(s), 16u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s[i], i);
  spaces_free(s);
  const spaces_stats_t st = stats_of(heap);
  EXPECT_EQ(st.live_blocks, 0u);
  EXPECT_EQ(st.alloc_count, 4u);
  EXPECT_EQ(st.free_count, 4u);
}

// realloc(NULL) allocates; realloc to 0 gives a minimal block.
TEST_F(HeapTest, ReallocOfNullAllocatesAndToZeroShrinks) {
  void* p = spaces_realloc(heap, nullptr, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(spaces_usable_size(p), 112u);
  void* q = spaces_realloc(heap, p, 0);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(spaces_usable_size(q), 16u);
  spaces_free(q);
}

// realloc keeps the alignment it was asked for when it moves.
TEST_F(HeapTest, ReallocAlignedKeepsAlignment) {
  void* p = spaces_aligned_alloc(heap, 4096, 100);
  ASSERT_NE(p, nullptr);
  void* q = spaces_realloc_aligned(heap, p, 4096, 100000);
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(aligned(q, 4096));
  spaces_free(q);
}

// calloc zeroes recycled memory and refuses overflowing products.
TEST_F(HeapTest, CallocZeroesRecycledMemory) {
  void* dirty = spaces_alloc(heap, 256);
  std::memset(dirty, 0xFF, 256);
  spaces_free(dirty);
  auto* p = static_cast<unsigned char*>(spaces_calloc(heap, 16, 16));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(p[i], 0) << i;
  spaces_free(p);
  errno = 0;
  EXPECT_EQ(spaces_calloc(heap, SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

// Freed blocks are reused before new slabs are taken.
TEST_F(HeapTest, FreedBlocksAreReused) {
  std::vector<void*> v;
  for (int i = 0; i < 3000; ++i) v.push_back(spaces_alloc(heap, 64));
  const std::size_t footprint = stats_of(heap).footprint;
  for (std::size_t i = 0; i < v.size(); i += 2) spaces_free(v[i]);
  for (std::size_t i = 0; i < v.size(); i += 2) v[i] = spaces_alloc(heap, 64);
  EXPECT_EQ(stats_of(heap).footprint, footprint);
  for (void* p : v) spaces_free(p);
}

// A slab whose last block is freed goes back: the footprint falls to the current slab.
TEST_F(HeapTest, EmptySlabsAreReleased) {
  std::vector<void*> v;
  for (int i = 0; i < 10 * 1016; ++i) v.push_back(spaces_alloc(heap, 64));  // 65024 / 64 blocks per slab
  EXPECT_EQ(stats_of(heap).slabs, 10u);
  for (void* p : v) spaces_free(p);
  EXPECT_EQ(stats_of(heap).slabs, 1u);  // the class's current slab stays
}

// Blocks freed by another thread come back to the owner and are reused.
TEST_F(HeapTest, BlocksFreedByAnotherThreadAreReused) {
  std::vector<void*> v;
  for (int i = 0; i < 2000; ++i) v.push_back(spaces_alloc(heap, 48));
  std::thread([&] {
    for (void* p : v) spaces_free(p);
  }).join();
  for (int i = 0; i < 2000; ++i) v[static_cast<std::size_t>(i)] = spaces_alloc(heap, 48);
  const spaces_stats_t s = stats_of(heap);
  EXPECT_EQ(s.live_blocks, 2000u);
  EXPECT_EQ(s.free_count, 2000u);
  EXPECT_EQ(s.slabs, 2u);  // 1354 blocks of 48 per slab
  for (void* p : v) spaces_free(p);
}

}  // namespace
