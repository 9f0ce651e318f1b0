// Leak reports: a heap created with SPACES_HEAP_REPORT_LEAKS tells, when it
// is destroyed or reset, what was still live: blocks and bytes per size
// class and the first blocks with their first bytes, to its on_leak callback
// or on stderr; the default heap does the same at exit with
// SPACES_OPTION_LEAK_REPORT.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

struct Seen {
  spaces_heap_t* heap;
  std::string name;
  int destroyed;
  std::size_t blocks, bytes;
  std::vector<spaces_leak_class_t> classes;
  std::vector<spaces_leak_block_t> first;
  spaces_status_t teardown_from_inside;
};

std::vector<Seen>* g_seen = nullptr;
void* volatile g_escaped = nullptr;

void record(spaces_heap_t* heap, const spaces_leak_report_t* r, void* arg) {
  Seen s{heap, spaces_heap_name(heap), r->destroyed, r->blocks, r->bytes,
         std::vector<spaces_leak_class_t>(r->classes, r->classes + r->class_count),
         std::vector<spaces_leak_block_t>(r->first, r->first + r->first_count), SPACES_OK};
  if (arg != nullptr) s.teardown_from_inside = spaces_heap_destroy(static_cast<spaces_heap_t*>(arg));
  g_seen->push_back(s);
}

spaces_heap_t* leaky(const char* name, spaces_discipline_t d = SPACES_GENERAL, spaces_leak_fn fn = &record,
                     void* arg = nullptr, spaces_heap_t* parent = nullptr) {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.name = name;
  o.discipline = d;
  o.flags = SPACES_HEAP_REPORT_LEAKS;
  o.on_leak = fn;
  o.on_leak_arg = arg;
  o.parent = parent;
  spaces_heap_t* h = nullptr;
  return spaces_heap_create(&o, &h) == SPACES_OK ? h : nullptr;
}

class LeakTest : public ::testing::Test {
 protected:
  void SetUp() override { g_seen = &seen; }
  void TearDown() override {
    g_seen = nullptr;
    spaces_option_set(SPACES_OPTION_LEAK_BLOCKS, 8);
  }
  std::vector<Seen> seen;
};

TEST_F(LeakTest, DestroyReportsClassesAndTheFirstBlocks) {
  spaces_heap_t* h = leaky("leaky");
  auto* a = static_cast<char*>(spaces_alloc(h, 40));  // the 48-byte class
  std::memcpy(a, "first block, 40 bytes", 22);
  auto* b = static_cast<char*>(spaces_alloc(h, 48));
  std::memset(b, 0xAB, 48);
  void* c = spaces_alloc(h, 100);  // the 112-byte class
  auto* d = static_cast<char*>(spaces_alloc(h, 100000));
  std::memset(d, 'L', 100000);
  spaces_free(spaces_alloc(h, 64));  // freed: not reported
  const std::size_t d_usable = spaces_usable_size(d);
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);

  ASSERT_EQ(seen.size(), 1u);
  const Seen& r = seen[0];
  EXPECT_EQ(r.name, "leaky");
  EXPECT_EQ(r.destroyed, 1);
  EXPECT_EQ(r.blocks, 4u);
  EXPECT_EQ(d_usable, 2 * kSlab - kHeaderRegion);  // a two-slab span's room
  EXPECT_EQ(r.bytes, 48u + 48u + 112u + d_usable);
  ASSERT_EQ(r.classes.size(), 3u);
  EXPECT_EQ(r.classes[0].block_size, 48u);
  EXPECT_EQ(r.classes[0].blocks, 2u);
  EXPECT_EQ(r.classes[0].bytes, 96u);
  EXPECT_EQ(r.classes[1].block_size, 112u);
  EXPECT_EQ(r.classes[1].blocks, 1u);
  EXPECT_EQ(r.classes[2].block_size, 0u);  // the larger blocks, last
  EXPECT_EQ(r.classes[2].blocks, 1u);
  EXPECT_EQ(r.classes[2].bytes, d_usable);
  ASSERT_EQ(r.first.size(), 4u);
  std::set<const void*> where;
  for (const spaces_leak_block_t& blk : r.first) {
    where.insert(blk.block);
    EXPECT_EQ(blk.head_len, 16u);
    if (blk.block == a) {
      EXPECT_EQ(std::memcmp(blk.head, "first block, 40 ", 16), 0);
    }
    if (blk.block == b) {
      EXPECT_EQ(blk.head[15], 0xAB);
    }
    if (blk.block == d) {
      EXPECT_EQ(blk.size, d_usable);
      EXPECT_EQ(blk.head[0], 'L');
    }
  }
  EXPECT_EQ(where, (std::set<const void*>{a, b, c, d}));
}

TEST_F(LeakTest, ResetReportsAndTheHeapLivesOn) {
  spaces_heap_t* h = leaky("reset-leaky");
  ASSERT_NE(spaces_alloc(h, 8), nullptr);
  ASSERT_EQ(spaces_heap_reset(h), SPACES_OK);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].destroyed, 0);
  EXPECT_EQ(seen[0].blocks, 1u);
  EXPECT_EQ(seen[0].bytes, 16u);
  EXPECT_EQ(seen[0].first[0].head_len, 16u);
  // Nothing live: nothing to report.
  ASSERT_EQ(spaces_heap_reset(h), SPACES_OK);
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(LeakTest, WithoutTheFlagNothingIsReported) {
  ::testing::internal::CaptureStderr();
  spaces_heap_t* h = make_heap("quiet");
  ASSERT_NE(spaces_alloc(h, 100), nullptr);
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_TRUE(seen.empty());
}

TEST_F(LeakTest, ARegionReportsItsTotals) {
  spaces_heap_t* r = leaky("region-leaky", SPACES_REGION);
  ASSERT_NE(spaces_alloc(r, 10), nullptr);
  ASSERT_NE(spaces_alloc(r, 30), nullptr);
  ASSERT_EQ(spaces_heap_destroy(r), SPACES_OK);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].blocks, 2u);
  EXPECT_EQ(seen[0].bytes, 40u);
  EXPECT_TRUE(seen[0].classes.empty());
  EXPECT_TRUE(seen[0].first.empty());
}

TEST_F(LeakTest, ChildrenReportFirstAndTheReportCannotTearDownTheTree) {
  spaces_heap_t* parent = leaky("parent");
  spaces_heap_t* child = leaky("child", SPACES_GENERAL, &record, parent, parent);
  ASSERT_NE(spaces_alloc(child, 24), nullptr);
  ASSERT_NE(spaces_alloc(parent, 24), nullptr);
  ASSERT_EQ(spaces_heap_destroy(parent), SPACES_OK);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].name, "child");
  EXPECT_EQ(seen[0].teardown_from_inside, SPACES_E_INVALID);  // its callback tried to destroy the parent
  EXPECT_EQ(seen[1].name, "parent");
  EXPECT_EQ(seen[1].blocks, 1u);
}

TEST_F(LeakTest, LeakBlocksBoundsTheListedBlocks) {
  EXPECT_EQ(spaces_option_set(SPACES_OPTION_LEAK_BLOCKS, 65), SPACES_E_RANGE);
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_LEAK_BLOCKS, 2), SPACES_OK);
  spaces_heap_t* h = leaky("many");
  for (int i = 0; i < 100; ++i) ASSERT_NE(spaces_alloc(h, 16), nullptr);
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].blocks, 100u);
  EXPECT_EQ(seen[0].first.size(), 2u);
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_LEAK_BLOCKS, 0), SPACES_OK);
  h = leaky("none-listed");
  ASSERT_NE(spaces_alloc(h, 16), nullptr);
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[1].first.empty());
}

TEST_F(LeakTest, WithoutACallbackTheReportGoesToStderr) {
  spaces_heap_t* h = leaky("printed", SPACES_GENERAL, nullptr);
  auto* p = static_cast<char*>(spaces_alloc(h, 20));  // the 32-byte class
  std::memcpy(p, "leak\x01\x7f", 6);
  std::memset(p + 6, 0, 10);
  ::testing::internal::CaptureStderr();
  ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  char expected[512];
  std::snprintf(expected, sizeof(expected),
                "spaces: heap 'printed' destroyed with 1 live block (32 bytes)\n"
                "  32-byte blocks: 1 (32 bytes)\n"
                "  %p: 32 bytes: 6c 65 61 6b 01 7f 00 00 00 00 00 00 00 00 00 00 |leak............|\n",
                static_cast<void*>(p));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), expected);
}

TEST_F(LeakTest, BadFlagsAreStillRefused) {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.flags = 0x10u;  // the first flag bit no option uses
  spaces_heap_t* h = nullptr;
  EXPECT_EQ(spaces_heap_create(&o, &h), SPACES_E_INVALID);
  EXPECT_EQ(h, nullptr);
}

using LeakDeathTest = LeakTest;

TEST_F(LeakDeathTest, TheDefaultHeapReportsAtExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: the default heap is created below
  EXPECT_EXIT(
      {
        spaces_option_set(SPACES_OPTION_LEAK_REPORT, 1);
        auto* p = static_cast<char*>(spaces_alloc(spaces_default_heap(), 5000));
        g_escaped = p;  // or the compiler drops the copy as dead before exit
        std::memcpy(p, "still here at exit", 18);
        std::exit(0);
      },
      ::testing::ExitedWithCode(0),
      "spaces: heap 'default' at exit with [0-9]+ live blocks? \\([0-9]+ bytes\\)\n(.*\n)*  0x[0-9a-f]+: 5376 bytes: "
      "73 74 69 6c 6c 20 68 65 72 65 20 61 74 20 65 78 \\|still here at ex\\|\n");
}

}  // namespace
