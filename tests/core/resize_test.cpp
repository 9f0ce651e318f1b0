// realloc of spans and huge blocks without a copy, and calloc without a
// memset: a span grows over the free slabs after it and shrinks by giving
// its last slabs back; a huge block is remapped (in place, or moved by the
// kernel when the address space after it is taken); only the difference is
// charged to the cap; calloc skips memory fresh from the OS and still
// clears recycled memory.
// The tests expect where blocks land (right after another, in a hole just
// given back, in untouched memory), so each expects the slab cache of a new
// process: CTest runs every test in a process of its own. Run one at a time
// by hand (--gtest_filter); run together, later tests see earlier ones' runs.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

constexpr std::size_t kMiB = 1024 * 1024;

/// Slabs a span or huge block of `size` bytes holds (the block starts 512
/// bytes into its first slab).
constexpr std::size_t slabs_for(std::size_t size) { return (kHeaderRegion + size + kSlab - 1) / kSlab; }

/// Fills a byte at the start of every page of [p, p + n) with its page
/// number, so a block's whole extent can be checked after a move cheaply.
void mark_pages(void* p, std::size_t n) {
  auto* c = static_cast<unsigned char*>(p);
  for (std::size_t off = 0; off < n; off += 4096) c[off] = static_cast<unsigned char>(off / 4096 * 7 + 1);
}
void expect_pages(const void* p, std::size_t n) {
  const auto* c = static_cast<const unsigned char*>(p);
  for (std::size_t off = 0; off < n; off += 4096)
    ASSERT_EQ(c[off], static_cast<unsigned char>(off / 4096 * 7 + 1)) << "page " << off / 4096;
}

/// Resident pages of [p, p + n) (mincore: the block's own pages, not a
/// sanitizer's shadow of them).
std::size_t resident_pages(const void* p, std::size_t n) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const auto a = reinterpret_cast<std::uintptr_t>(p) & ~(page - 1);
  const std::size_t len = reinterpret_cast<std::uintptr_t>(p) + n - a;
  std::vector<unsigned char> in((len + page - 1) / page);
  if (::mincore(reinterpret_cast<void*>(a), len, in.data()) != 0) return SIZE_MAX;
  std::size_t resident = 0;
  for (unsigned char c : in) resident += c & 1;
  return resident;
}

class ResizeTest : public ::testing::Test {
 protected:
  void SetUp() override { heap = make_heap("resize"); }
  void TearDown() override { spaces_heap_destroy(heap); }
  spaces_heap_t* heap = nullptr;
};

// A span grows in place over free slabs after it: here the rest of a freed
// 2 MiB span, which the small span was cut from.
TEST_F(ResizeTest, SpanGrowsInPlaceOverTheFreeSlabsAfterIt) {
  spaces_free(spaces_alloc(heap, 2 * kMiB - kHeaderRegion));  // 32 free slabs, binned warm
  void* p = spaces_alloc(heap, 200000);
  ASSERT_NE(p, nullptr);
  mark_pages(p, 200000);
  EXPECT_EQ(stats_of(heap).footprint, slabs_for(200000) * kSlab);
  void* q = spaces_realloc(heap, p, 1500000);
  ASSERT_EQ(q, p);
  expect_pages(q, 200000);
  EXPECT_EQ(spaces_usable_size(q), slabs_for(1500000) * kSlab - kHeaderRegion);
  const spaces_stats_t s = stats_of(heap);
  EXPECT_EQ(s.footprint, slabs_for(1500000) * kSlab);
  EXPECT_EQ(s.slabs, slabs_for(1500000));
  EXPECT_EQ(s.live_blocks, 1u);
  EXPECT_EQ(s.alloc_count, 2u);  // the 2 MiB block and p: growing in place is no allocation
  spaces_free(q);
  EXPECT_EQ(stats_of(heap).footprint, 0u);
}

// A buffer grown 64 KiB at a time stays where it is: every step takes the
// next slab of the reservation.
TEST_F(ResizeTest, BufferGrownInSlabStepsNeverMoves) {
  void* p = spaces_alloc(heap, 64 * 1024);
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x5A, 64 * 1024);
  for (std::size_t size = 128 * 1024; size <= 8 * kMiB; size += 64 * 1024) {
    void* q = spaces_realloc(heap, p, size);
    ASSERT_EQ(q, p) << "moved at " << size;
  }
  const auto* c = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < 64 * 1024; ++i) ASSERT_EQ(c[i], 0x5A) << i;
  EXPECT_EQ(stats_of(heap).footprint, slabs_for(8 * kMiB) * kSlab);
  spaces_free(p);
}

// A span shrinks in place and gives its last slabs back: the footprint
// drops by exactly those slabs.
TEST_F(ResizeTest, SpanShrinksInPlaceAndGivesBackItsLastSlabs) {
  void* p = spaces_alloc(heap, 1000000);
  ASSERT_NE(p, nullptr);
  mark_pages(p, 100000);
  EXPECT_EQ(stats_of(heap).footprint, slabs_for(1000000) * kSlab);
  ASSERT_EQ(spaces_realloc(heap, p, 100000), p);
  expect_pages(p, 100000);
  EXPECT_EQ(spaces_usable_size(p), slabs_for(100000) * kSlab - kHeaderRegion);
  EXPECT_EQ(stats_of(heap).footprint, slabs_for(100000) * kSlab);
  // The slabs given back are free memory again: a span is cut from them.
  void* other = spaces_alloc(heap, 500000);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(other) - kHeaderRegion,
            reinterpret_cast<std::uintptr_t>(p) - kHeaderRegion + slabs_for(100000) * kSlab);
  spaces_free(other);
  spaces_free(p);
}

// A span of 8 MiB or more that cannot grow in place (another block follows
// it) moves by remapping: its pages go to a mapping of their own, and its old
// range goes back to the cache, where the next span of its size is cut.
TEST_F(ResizeTest, BlockedBigSpanMovesItsPagesNotItsBytes) {
  auto* p = static_cast<char*>(spaces_alloc(heap, 10 * kMiB));
  ASSERT_NE(p, nullptr);
  mark_pages(p, 10 * kMiB);
  auto* wall = static_cast<char*>(spaces_alloc(heap, 100000));
  ASSERT_EQ(wall, p + slabs_for(10 * kMiB) * kSlab);  // cut from the reservation right after p
  auto* q = static_cast<char*>(spaces_realloc(heap, p, 12 * kMiB));
  ASSERT_NE(q, nullptr);
  ASSERT_NE(q, p);
  expect_pages(q, 10 * kMiB);
  EXPECT_TRUE(spaces_owns(p));  // memory of the slab cache now
  EXPECT_EQ(spaces_heap_of(p), nullptr);
  EXPECT_EQ(spaces_heap_of(q), heap);
  EXPECT_EQ(spaces_usable_size(q), slabs_for(12 * kMiB) * kSlab - kHeaderRegion);
  spaces_stats_t s = stats_of(heap);
  EXPECT_EQ(s.footprint, (slabs_for(12 * kMiB) + slabs_for(100000)) * kSlab);
  EXPECT_EQ(s.live_blocks, 2u);
  EXPECT_EQ(s.alloc_count, 3u);  // a moved block counts as a new one
  EXPECT_EQ(s.free_count, 1u);
  // The old range is free memory, fresh from the OS (calloc would not clear it).
  auto* again = static_cast<char*>(spaces_alloc(heap, 10 * kMiB));
  EXPECT_EQ(again, p);
  EXPECT_EQ(again[0], 0);
  spaces_free(again);
  spaces_free(wall);
  spaces_free(q);
  EXPECT_EQ(stats_of(heap).footprint, 0u);
}

// Under a cap, a block grows by the difference only: a 640 KiB span grows
// to the whole 1 MiB cap (a copy would need 1.6 MiB).
TEST_F(ResizeTest, SpanGrowthIsChargedByTheDifference) {
  spaces_heap_t* capped = make_heap("capped", kMiB);
  ASSERT_NE(capped, nullptr);
  void* p = spaces_alloc(capped, 600000);
  ASSERT_NE(p, nullptr);
  void* q = spaces_realloc(capped, p, kMiB - kHeaderRegion);
  EXPECT_EQ(q, p);
  EXPECT_EQ(stats_of(capped).footprint, kMiB);
  EXPECT_EQ(stats_of(capped).cap_failures, 0u);
  // One byte more does not fit: NULL, the block untouched.
  errno = 0;
  EXPECT_EQ(spaces_realloc(capped, q, kMiB), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(stats_of(capped).footprint, kMiB);
  EXPECT_EQ(stats_of(capped).cap_failures, 1u);
  EXPECT_EQ(spaces_usable_size(q), kMiB - kHeaderRegion);
  spaces_heap_destroy(capped);
}

// A span that grows past the huge threshold moves into a mapping of its own
// (its pages move, no copy); then it grows and shrinks in place (mremap),
// keeping every byte.
TEST_F(ResizeTest, HugeBlockGrowsAndShrinksInPlace) {
  void* p = spaces_alloc(heap, 32 * kMiB);
  ASSERT_NE(p, nullptr);
  mark_pages(p, 32 * kMiB);
  void* h = spaces_realloc(heap, p, 200 * kMiB);  // span -> huge: its pages move
  ASSERT_NE(h, nullptr);
  expect_pages(h, 32 * kMiB);
  ASSERT_EQ(spaces_realloc(heap, h, 100 * kMiB), h);  // shrinks in place, unmapping the tail
  EXPECT_EQ(stats_of(heap).footprint, slabs_for(100 * kMiB) * kSlab);
  EXPECT_EQ(spaces_usable_size(h), slabs_for(100 * kMiB) * kSlab - kHeaderRegion);
  // The tail's address range is free again (nothing else mapped since): the
  // block grows back into it without moving.
  ASSERT_EQ(spaces_realloc(heap, h, 150 * kMiB), h);
  expect_pages(h, 32 * kMiB);
  EXPECT_EQ(stats_of(heap).footprint, slabs_for(150 * kMiB) * kSlab);
  EXPECT_TRUE(spaces_owns(static_cast<char*>(h) + 150 * kMiB - 1));
  EXPECT_FALSE(spaces_owns(static_cast<char*>(h) + slabs_for(150 * kMiB) * kSlab));
  spaces_free(h);
  EXPECT_EQ(stats_of(heap).footprint, 0u);
}

// When the address space after a huge block is taken, it moves: the kernel
// moves its pages to a new 64 KiB-aligned mapping; the header moves with it
// (maybe to another color slot) and the old address is no longer ours.
TEST_F(ResizeTest, HugeBlockMovesWithoutACopyWhenBlocked) {
  auto* p = static_cast<char*>(spaces_alloc(heap, 100 * kMiB));
  ASSERT_NE(p, nullptr);
  mark_pages(p, 100 * kMiB);
  char* end = p - kHeaderRegion + slabs_for(100 * kMiB) * kSlab;
  // Take the page after the mapping (if something holds it already, the
  // block cannot grow in place either).
  void* blocker = ::mmap(end, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  auto* q = static_cast<char*>(spaces_realloc(heap, p, 300 * kMiB));
  if (blocker != MAP_FAILED) ::munmap(blocker, 4096);
  ASSERT_NE(q, nullptr);
  ASSERT_NE(q, p);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(q) % kSlab, kHeaderRegion);
  expect_pages(q, 100 * kMiB);
  EXPECT_FALSE(spaces_owns(p));
  EXPECT_TRUE(spaces_owns(q));
  EXPECT_EQ(spaces_heap_of(q), heap);
  EXPECT_EQ(spaces_usable_size(q), slabs_for(300 * kMiB) * kSlab - kHeaderRegion);
  const spaces_stats_t s = stats_of(heap);
  EXPECT_EQ(s.footprint, slabs_for(300 * kMiB) * kSlab);
  EXPECT_EQ(s.live_blocks, 1u);
  std::size_t visited = 0;
  spaces_heap_walk(
      heap,
      [](void* block, size_t usable, void* arg) {
        EXPECT_EQ(usable, slabs_for(300 * kMiB) * kSlab - kHeaderRegion);
        *static_cast<std::size_t*>(arg) += block != nullptr ? 1 : 0;
        return 0;
      },
      &visited);
  EXPECT_EQ(visited, 1u);
  spaces_free(q);
  EXPECT_EQ(stats_of(heap).footprint, 0u);
}

// Huge growth under a cap is charged by the difference too.
TEST_F(ResizeTest, HugeGrowthIsChargedByTheDifference) {
  spaces_heap_t* capped = make_heap("capped-huge", 160 * kMiB);
  ASSERT_NE(capped, nullptr);
  void* p = spaces_alloc(capped, 100 * kMiB);
  ASSERT_NE(p, nullptr);
  void* q = spaces_realloc(capped, p, 150 * kMiB);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(stats_of(capped).footprint, slabs_for(150 * kMiB) * kSlab);
  EXPECT_EQ(spaces_realloc(capped, q, 170 * kMiB), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(stats_of(capped).footprint, slabs_for(150 * kMiB) * kSlab);
  spaces_heap_destroy(capped);
}

// calloc of fresh memory does not touch it: of 1 GiB only the page holding
// the header is resident, and the block reads back as zero.
TEST_F(ResizeTest, CallocOfFreshMemoryLeavesItUntouched) {
  auto* p = static_cast<unsigned char*>(spaces_calloc(heap, 1024, kMiB));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(resident_pages(p, 1024 * kMiB), 1u);
  // A span cut from the untouched reservation is not cleared either.
  auto* q = static_cast<unsigned char*>(spaces_calloc(heap, 1, 4 * kMiB));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(resident_pages(q, 4 * kMiB), 1u);
  for (std::size_t off = 0; off < 4 * kMiB; off += 4096) ASSERT_EQ(q[off], 0) << off;
  spaces_free(q);
  for (std::size_t off = 0; off < 1024 * kMiB; off += 1024 * 1024 + 4096) ASSERT_EQ(p[off], 0) << off;
  spaces_free(p);
}

// calloc still clears recycled memory: a dirtied span, freed and handed out
// again, a fresh span next to recycled slabs, and a huge block after a span.
TEST_F(ResizeTest, CallocClearsRecycledSpans) {
  for (std::size_t size : {std::size_t{40000}, std::size_t{300000}, 3 * kMiB}) {
    void* dirty = spaces_alloc(heap, size);
    ASSERT_NE(dirty, nullptr);
    std::memset(dirty, 0xFF, size);
    spaces_free(dirty);
    auto* p = static_cast<unsigned char*>(spaces_calloc(heap, 1, size));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p, dirty);  // the same memory, warm
    for (std::size_t i = 0; i < size; ++i) ASSERT_EQ(p[i], 0) << size << " at " << i;
    spaces_free(p);
  }
  // A span grown in place over dirty slabs, then freed: calloc of it clears.
  void* a = spaces_alloc(heap, 100000);
  void* b = spaces_realloc(heap, a, 900000);
  ASSERT_NE(b, nullptr);
  std::memset(b, 0xEE, 900000);
  spaces_free(b);
  auto* c = static_cast<unsigned char*>(spaces_calloc(heap, 900000, 1));
  ASSERT_NE(c, nullptr);
  for (std::size_t i = 0; i < 900000; ++i) ASSERT_EQ(c[i], 0) << i;
  spaces_free(c);
}

// Memory the slab cache gave back with MADV_DONTNEED reads as zero but for
// the first page of each slab (free-run headers, tail tags, the page a
// decommit keeps): calloc of a span cut from it clears those pages only.
// Under MADV_FREE the bytes are unknown, so calloc clears everything.
TEST_F(ResizeTest, CallocOfDecommittedMemoryClearsOnlyTheFirstPageOfEachSlab) {
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_SLAB_CACHE, 0), SPACES_OK);  // a freed span is decommitted at once
  constexpr std::size_t kSize = 16 * kSlab - kHeaderRegion;              // exactly 16 slabs
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  for (const char* policy : {"dontneed", "free"}) {
    ASSERT_EQ(spaces_option_set_str("decommit", policy), SPACES_OK);
    void* dirty = spaces_alloc(heap, kSize);
    ASSERT_NE(dirty, nullptr);
    std::memset(dirty, 0xC5, kSize);
    spaces_free(dirty);
    auto* p = static_cast<unsigned char*>(spaces_calloc(heap, 1, kSize));
    ASSERT_EQ(p, dirty) << policy;  // the same run, from the cold bins
    if (std::strcmp(policy, "dontneed") == 0) {
      // The first page of each of the 16 slabs, no more.
      EXPECT_EQ(resident_pages(p, kSize), 16u);
    } else {
      EXPECT_EQ(resident_pages(p, kSize), (kSize + kHeaderRegion) / page);  // all of it, cleared
    }
    for (std::size_t i = 0; i < kSize; ++i) ASSERT_EQ(p[i], 0) << policy << " at " << i;
    spaces_free(p);
  }
}

}  // namespace
