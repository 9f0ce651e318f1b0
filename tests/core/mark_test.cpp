// Region marks and rewind (spaces_region_mark, spaces_region_rewind), and
// the reset that keeps some slabs (spaces_heap_reset_keep).
#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

spaces_mark_t mark_of(spaces_heap_t* h) {
  spaces_mark_t m{};
  EXPECT_EQ(spaces_region_mark(h, &m), SPACES_OK);
  return m;
}

void expect_same(const spaces_stats_t& a, const spaces_stats_t& b) {
  EXPECT_EQ(a.live_blocks, b.live_blocks);
  EXPECT_EQ(a.live_bytes, b.live_bytes);
  EXPECT_EQ(a.footprint, b.footprint);
  EXPECT_EQ(a.slabs, b.slabs);
}

class MarkTest : public ::testing::Test {
 protected:
  void TearDown() override { spaces_option_set(SPACES_OPTION_HUGE_THRESHOLD, 64LL << 20); }
  ScopedHeap region{"region", SPACES_UNCAPPED, SPACES_REGION, SPACES_HEAP_SINGLE_THREADED};
};

TEST_F(MarkTest, RewindFreesEverythingSinceTheMark) {
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_HUGE_THRESHOLD, 1 << 20), SPACES_OK);
  auto* kept = static_cast<char*>(spaces_alloc(region, 100));
  std::memcpy(kept, "allocated before the mark", 26);
  const spaces_stats_t at_mark = stats_of(region);
  const spaces_mark_t m = mark_of(region);
  void* first_after = spaces_alloc(region, 100);
  for (int i = 0; i < 10000; ++i) ASSERT_NE(spaces_alloc(region, 100), nullptr);  // ~16 slabs
  ASSERT_NE(spaces_alloc(region, 40000), nullptr);    // a span of its own
  ASSERT_NE(spaces_alloc(region, 2 * kMiB), nullptr);  // a huge mapping
  const spaces_stats_t full = stats_of(region);
  EXPECT_EQ(full.live_blocks, at_mark.live_blocks + 10003);
  EXPECT_GE(full.footprint, at_mark.footprint + 18 * kSlab + 2 * kMiB);

  ASSERT_EQ(spaces_region_rewind(region, m), SPACES_OK);
  expect_same(stats_of(region), at_mark);
  EXPECT_EQ(std::memcmp(kept, "allocated before the mark", 26), 0);
  // The cursor is back where it was: the next block is the first one again.
  EXPECT_EQ(spaces_alloc(region, 100), first_after);
}

TEST_F(MarkTest, MarksNestAndARewindEndsTheLaterOnes) {
  const spaces_mark_t outer = mark_of(region);
  ASSERT_NE(spaces_alloc(region, 50000), nullptr);
  const spaces_stats_t at_inner = stats_of(region);
  const spaces_mark_t inner = mark_of(region);
  for (int i = 0; i < 2000; ++i) ASSERT_NE(spaces_alloc(region, 64), nullptr);
  EXPECT_EQ(spaces_region_rewind(region, inner), SPACES_OK);
  expect_same(stats_of(region), at_inner);
  for (int i = 0; i < 2000; ++i) ASSERT_NE(spaces_alloc(region, 64), nullptr);
  EXPECT_EQ(spaces_region_rewind(region, inner), SPACES_OK);  // again: a mark survives its rewind
  expect_same(stats_of(region), at_inner);
  EXPECT_EQ(spaces_region_mark_live(region, inner), 1);
  EXPECT_EQ(spaces_region_rewind(region, outer), SPACES_OK);
  EXPECT_EQ(stats_of(region).footprint, 0u);
  EXPECT_EQ(stats_of(region).live_blocks, 0u);
  // `inner` ended with the rewind to `outer`: refused, and nothing changes.
  ASSERT_NE(spaces_alloc(region, 64), nullptr);
  const spaces_stats_t before = stats_of(region);
  EXPECT_EQ(spaces_region_mark_live(region, inner), 0);
  EXPECT_EQ(spaces_region_rewind(region, inner), SPACES_E_INVALID);
  expect_same(stats_of(region), before);
  EXPECT_EQ(spaces_region_rewind(region, outer), SPACES_OK);
}

TEST_F(MarkTest, ResetAndDestroyEndEveryMark) {
  const spaces_mark_t m = mark_of(region);
  ASSERT_NE(spaces_alloc(region, 64), nullptr);
  ASSERT_EQ(spaces_heap_reset(region), SPACES_OK);
  EXPECT_EQ(spaces_region_rewind(region, m), SPACES_E_INVALID);
  spaces_heap_t* other = make_heap("gone", SPACES_UNCAPPED, SPACES_REGION);
  const spaces_mark_t gone = mark_of(other);
  ASSERT_EQ(spaces_heap_destroy(other), SPACES_OK);
  EXPECT_EQ(spaces_region_rewind(other, gone), SPACES_E_INVALID);
  spaces_mark_t out{};
  EXPECT_EQ(spaces_region_mark(other, &out), SPACES_E_INVALID);
}

TEST_F(MarkTest, ForeignAndGarbageMarksAreRefused) {
  ScopedHeap other("other", SPACES_UNCAPPED, SPACES_REGION);
  ASSERT_NE(spaces_alloc(region, 64), nullptr);
  const spaces_mark_t mine = mark_of(region);
  const spaces_mark_t theirs = mark_of(other);
  ASSERT_NE(spaces_alloc(region, 64), nullptr);
  const spaces_stats_t before = stats_of(region);
  for (std::uint64_t v : {std::uint64_t{0}, ~std::uint64_t{0}, std::uint64_t{1}, mine.value + 1,
                          mine.value + (std::uint64_t{1} << 16), theirs.value}) {
    EXPECT_EQ(spaces_region_rewind(region, spaces_mark_t{v}), SPACES_E_INVALID) << v;
    EXPECT_EQ(spaces_region_mark_live(region, spaces_mark_t{v}), 0) << v;
  }
  expect_same(stats_of(region), before);
  ScopedHeap general("general");
  spaces_mark_t out{};
  EXPECT_EQ(spaces_region_mark(general, &out), SPACES_E_UNSUPPORTED);
  EXPECT_EQ(spaces_region_rewind(general, mine), SPACES_E_UNSUPPORTED);
  EXPECT_EQ(spaces_region_mark(region, nullptr), SPACES_E_INVALID);
  EXPECT_EQ(spaces_region_mark(nullptr, &out), SPACES_E_INVALID);
  EXPECT_EQ(spaces_region_rewind(reinterpret_cast<spaces_heap_t*>(0x1234), mine), SPACES_E_INVALID);
  EXPECT_EQ(spaces_region_rewind(region, mine), SPACES_OK);
}

using MarkThreadsTest = MarkTest;  // short and threaded: run repeatedly under TSan

TEST_F(MarkThreadsTest, AMarkBelongsToItsThread) {
  ScopedHeap shared("shared-region", SPACES_UNCAPPED, SPACES_REGION);
  const spaces_mark_t m = mark_of(shared);
  ASSERT_NE(spaces_alloc(shared, 64), nullptr);
  spaces_status_t there = SPACES_OK;
  std::thread([&] {
    ASSERT_NE(spaces_alloc(shared, 64), nullptr);
    there = spaces_region_rewind(shared, m);
  }).join();
  EXPECT_EQ(there, SPACES_E_INVALID);
  EXPECT_EQ(spaces_region_rewind(shared, m), SPACES_OK);
  EXPECT_EQ(stats_of(shared).live_blocks, 1u);  // the other thread's block stays
}

TEST_F(MarkTest, SixtyFiveThousandFiveHundredThirtyFiveLiveMarksAtMost) {
  spaces_mark_t first{};
  spaces_mark_t m{};
  for (int i = 0; i < 65535; ++i) {
    ASSERT_EQ(spaces_region_mark(region, &m), SPACES_OK) << i;
    if (i == 0) first = m;
  }
  EXPECT_EQ(spaces_region_mark(region, &m), SPACES_E_NOMEM);
  EXPECT_EQ(spaces_region_rewind(region, first), SPACES_OK);
  EXPECT_EQ(spaces_region_mark(region, &m), SPACES_OK);  // room again
}

TEST_F(MarkTest, RewindGivesTheSlabsBackUnderACap) {
  ScopedHeap capped("capped-region", 8 * kSlab, SPACES_REGION, SPACES_HEAP_SINGLE_THREADED);
  const spaces_mark_t m = mark_of(capped);
  std::size_t n = 0;
  while (spaces_alloc(capped, 1000) != nullptr) ++n;
  EXPECT_GT(n, 400u);
  EXPECT_EQ(stats_of(capped).footprint, 8 * kSlab);
  ASSERT_EQ(spaces_region_rewind(capped, m), SPACES_OK);
  EXPECT_EQ(stats_of(capped).footprint, 0u);
  std::size_t again = 0;
  while (spaces_alloc(capped, 1000) != nullptr) ++again;
  EXPECT_EQ(again, n);  // the whole cap is usable again
}

// ---- reset keeping some slabs ------------------------------------------------------

TEST(ResetKeepTest, KeepsUpToTheLimitAndGivesTheRestBack) {
  ScopedHeap h("kept");
  for (int i = 0; i < 20000; ++i) ASSERT_NE(spaces_alloc(h, 64), nullptr);  // ~20 slabs
  ASSERT_GE(stats_of(h).footprint, 19 * kSlab);
  ASSERT_EQ(spaces_heap_reset_keep(h, 5 * kSlab + 100), SPACES_OK);
  spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.footprint, 5 * kSlab);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.resets, 1u);
  // The kept slabs serve the next round before the footprint grows.
  for (int i = 0; i < 4000; ++i) ASSERT_NE(spaces_alloc(h, 64), nullptr);
  EXPECT_EQ(stats_of(h).footprint, 5 * kSlab);
  ASSERT_EQ(spaces_heap_reset_keep(h, kSlab - 1), SPACES_OK);  // less than a slab keeps none
  EXPECT_EQ(stats_of(h).footprint, 0u);
  EXPECT_EQ(spaces_heap_reset_keep(spaces_default_heap(), kSlab), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_reset_keep(reinterpret_cast<spaces_heap_t*>(0x99), kSlab), SPACES_E_INVALID);
}

TEST(ResetKeepTest, ARegionKeepsSlabsButNotItsSpans) {
  ScopedHeap r("kept-region", SPACES_UNCAPPED, SPACES_REGION);
  for (int i = 0; i < 3000; ++i) ASSERT_NE(spaces_alloc(r, 100), nullptr);  // 6 slabs (112 bytes each, aligned)
  const std::size_t slabs = stats_of(r).footprint;
  EXPECT_EQ(slabs, 6 * kSlab);
  ASSERT_NE(spaces_alloc(r, 100000), nullptr);  // a 2-slab span
  ASSERT_EQ(spaces_heap_reset_keep(r, SIZE_MAX), SPACES_OK);
  EXPECT_EQ(stats_of(r).footprint, slabs);
  EXPECT_EQ(stats_of(r).live_bytes, 0u);
}

}  // namespace
