// The option table: defaults, ranges, names, parsing, and the environment.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

struct Row {
  spaces_option_t option;
  const char* name;
  long long def;
};

// The defaults docs/tuning.md documents.
constexpr Row kRows[] = {
    {SPACES_OPTION_SLAB_CACHE, "slab_cache", 256LL << 20},
    {SPACES_OPTION_DECOMMIT, "decommit", 2},
    {SPACES_OPTION_DECOMMIT_DELAY, "decommit_delay", 500},
    {SPACES_OPTION_RESERVE_SIZE, "reserve_size", 32LL << 20},
    {SPACES_OPTION_HUGE_THRESHOLD, "huge_threshold", 64LL << 20},
    {SPACES_OPTION_HUGE_PAGES, "huge_pages", 0},
    {SPACES_OPTION_JUNK, "junk", 0},
    {SPACES_OPTION_STATS_AT_EXIT, "stats_at_exit", 0},
    {SPACES_OPTION_DEFAULT_CAP, "default_cap", 0},
    {SPACES_OPTION_VERBOSE, "verbose", 0},
    {SPACES_OPTION_LEAK_REPORT, "leak_report", 0},
    {SPACES_OPTION_LEAK_BLOCKS, "leak_blocks", 8},
};

/// An option number no option has (the C test also passes 1000).
spaces_option_t bad_option() { return static_cast<spaces_option_t>(15); }

// Every option has its documented name and default.
TEST(OptionsTest, NamesAndDefaultsMatchTheDocumentation) {
  static_assert(sizeof(kRows) / sizeof(kRows[0]) == SPACES_OPTION_COUNT);
  for (const Row& r : kRows) {
    EXPECT_STREQ(spaces_option_name(r.option), r.name);
    long long v = -1;
    ASSERT_EQ(spaces_option_get(r.option, &v), SPACES_OK);
    EXPECT_EQ(v, r.def) << r.name;
  }
}

// set/get round-trips; out-of-range values are refused and change nothing.
TEST(OptionsTest, SetChecksTheRange) {
  EXPECT_EQ(spaces_option_set(SPACES_OPTION_DECOMMIT_DELAY, 1000), SPACES_OK);
  long long v = 0;
  spaces_option_get(SPACES_OPTION_DECOMMIT_DELAY, &v);
  EXPECT_EQ(v, 1000);
  EXPECT_EQ(spaces_option_set(SPACES_OPTION_DECOMMIT, 4), SPACES_E_RANGE);
  EXPECT_EQ(spaces_option_set(SPACES_OPTION_DECOMMIT, -1), SPACES_E_RANGE);
  EXPECT_EQ(spaces_option_set(SPACES_OPTION_RESERVE_SIZE, 4096), SPACES_E_RANGE);
  spaces_option_get(SPACES_OPTION_DECOMMIT, &v);
  EXPECT_EQ(v, 2);
}

// Unknown options and NULL out-parameters are refused.
TEST(OptionsTest, UnknownOptionsAreInvalid) {
  long long v = 0;
  EXPECT_EQ(spaces_option_get(SPACES_OPTION_COUNT, &v), SPACES_E_INVALID);
  EXPECT_EQ(spaces_option_get(bad_option(), &v), SPACES_E_INVALID);
  EXPECT_EQ(spaces_option_get(SPACES_OPTION_JUNK, nullptr), SPACES_E_INVALID);
  EXPECT_EQ(spaces_option_set(SPACES_OPTION_COUNT, 0), SPACES_E_INVALID);
  EXPECT_EQ(spaces_option_name(SPACES_OPTION_COUNT), nullptr);
  EXPECT_EQ(spaces_option_set_str("no_such_option", "1"), SPACES_E_INVALID);
  EXPECT_EQ(spaces_option_set_str(nullptr, "1"), SPACES_E_INVALID);
  EXPECT_EQ(spaces_option_set_str("junk", nullptr), SPACES_E_INVALID);
}

// Values by name take K/M/G/T suffixes, keywords and booleans; garbage is refused.
TEST(OptionsTest, SetByNameParsesSizesAndKeywords) {
  long long v = 0;
  EXPECT_EQ(spaces_option_set_str("SLAB_CACHE", "12M"), SPACES_OK);
  spaces_option_get(SPACES_OPTION_SLAB_CACHE, &v);
  EXPECT_EQ(v, 12LL << 20);
  EXPECT_EQ(spaces_option_set_str("slab_cache", "3GiB"), SPACES_OK);
  spaces_option_get(SPACES_OPTION_SLAB_CACHE, &v);
  EXPECT_EQ(v, 3LL << 30);
  EXPECT_EQ(spaces_option_set_str("slab_cache", "100"), SPACES_OK);
  spaces_option_get(SPACES_OPTION_SLAB_CACHE, &v);
  EXPECT_EQ(v, 100);
  EXPECT_EQ(spaces_option_set_str("decommit", "unmap"), SPACES_OK);
  spaces_option_get(SPACES_OPTION_DECOMMIT, &v);
  EXPECT_EQ(v, 3);
  EXPECT_EQ(spaces_option_set_str("junk", "yes"), SPACES_OK);
  spaces_option_get(SPACES_OPTION_JUNK, &v);
  EXPECT_EQ(v, 1);
  for (const char* bad : {"", "12Q", "-5", "M", "1.5G", "99999999999999999999", "16E"})
    EXPECT_EQ(spaces_option_set_str("slab_cache", bad), SPACES_E_INVALID) << bad;
  EXPECT_EQ(spaces_option_set_str("decommit", "sometimes"), SPACES_E_INVALID);
  EXPECT_EQ(spaces_option_set_str("huge_pages", "2"), SPACES_E_RANGE);
}

// A good value in the environment is read on first use.
TEST(OptionsEnvDeathTest, EnvironmentSetsTheValue) {
  EXPECT_EXIT(
      {
        setenv("SPACES_SLAB_CACHE", "12M", 1);
        setenv("SPACES_DECOMMIT", "free", 1);
        long long cache = 0;
        long long decommit = 0;
        spaces_option_get(SPACES_OPTION_SLAB_CACHE, &cache);
        spaces_option_get(SPACES_OPTION_DECOMMIT, &decommit);
        std::exit(cache == (12LL << 20) && decommit == 1 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// A bad value in the environment is reported once on stderr and the default is used.
TEST(OptionsEnvDeathTest, BadEnvironmentValueIsReportedAndIgnored) {
  EXPECT_EXIT(
      {
        setenv("SPACES_SLAB_CACHE", "lots", 1);
        setenv("SPACES_JUNK", "7", 1);
        long long cache = 0;
        long long junk = 1;
        spaces_option_get(SPACES_OPTION_SLAB_CACHE, &cache);
        spaces_option_get(SPACES_OPTION_JUNK, &junk);
        spaces_option_get(SPACES_OPTION_SLAB_CACHE, &cache);
        std::exit(cache == (256LL << 20) && junk == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0),
      "spaces: ignoring SPACES_SLAB_CACHE=lots: not a valid value; using the default\n"
      "spaces: ignoring SPACES_JUNK=7: out of range; using the default\n$");
}

// Junk mode fills new blocks with 0xA5 and freed ones with 0x5A.
TEST(OptionsTest, JunkFillsBlocks) {
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_JUNK, 1), SPACES_OK);
  ScopedHeap h("junk", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED);
  auto* p = static_cast<unsigned char*>(spaces_alloc(h, 64));
  auto* q = static_cast<unsigned char*>(spaces_alloc(h, 64));
  for (int i = 0; i < 64; ++i) ASSERT_EQ(p[i], 0xA5);
  spaces_free(p);
#if !defined(__SANITIZE_ADDRESS__) && !defined(SPACES_ASAN)  // g++ defines the first; with clang only the build defines the second
  for (int i = 8; i < 64; ++i) ASSERT_EQ(p[i], 0x5A);  // the first word links the free list
#endif
  spaces_free(q);
  spaces_option_set(SPACES_OPTION_JUNK, 0);
}

// Setting default_cap applies to the default heap at once.
TEST(OptionsTest, DefaultCapAppliesToTheDefaultHeap) {
  spaces_heap_t* d = spaces_default_heap();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(spaces_heap_cap(d), SPACES_UNCAPPED);
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_DEFAULT_CAP, 1LL << 30), SPACES_OK);
  EXPECT_EQ(spaces_heap_cap(d), std::size_t{1} << 30);
  spaces_option_set(SPACES_OPTION_DEFAULT_CAP, 0);
  EXPECT_EQ(spaces_heap_cap(d), SPACES_UNCAPPED);
}

// Collect returns the cache's warm slabs; allocation keeps working afterwards.
TEST(OptionsTest, CollectKeepsTheAllocatorWorking) {
  for (long long policy = 0; policy <= 3; ++policy) {
    ASSERT_EQ(spaces_option_set(SPACES_OPTION_DECOMMIT, policy), SPACES_OK);
    spaces_heap_t* h = make_heap("collected");
    for (int i = 0; i < 20000; ++i) ASSERT_NE(spaces_alloc(h, 100), nullptr);
    ASSERT_NE(spaces_alloc(h, 1 << 20), nullptr);
    spaces_heap_destroy(h);
    spaces_collect();
    spaces_heap_t* g = make_heap("after");
    auto* p = static_cast<char*>(spaces_alloc(g, 100));
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, 100);
    void* big = spaces_alloc(g, 1 << 20);
    ASSERT_NE(big, nullptr);
    spaces_heap_destroy(g);
  }
  spaces_option_set(SPACES_OPTION_DECOMMIT, 2);
}

}  // namespace
