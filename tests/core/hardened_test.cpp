// The hardened build (SPACES_HARDENED) aborts on double and foreign frees with
// a message that names the pointer and the heap.
#include <gtest/gtest.h>

#include <cstdlib>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

using HardenedDeathTest = ::testing::Test;

// Freeing the same small block twice is reported as a double free in its heap.
TEST_F(HardenedDeathTest, DoubleFreeNamesPointerAndHeap) {
  EXPECT_DEATH(
      {
        spaces_heap_t* h = make_heap("twice");
        void* keep = spaces_alloc(h, 32);
        void* p = spaces_alloc(h, 32);
        (void)keep;
        spaces_free(p);
        spaces_free(p);
      },
      "spaces: double free of 0x[0-9a-f]+ in heap 'twice'");
}

// A pointer from another allocator is refused before anything is read through it.
TEST_F(HardenedDeathTest, ForeignPointerIsRefused) {
  EXPECT_DEATH(
      {
        void* p = std::malloc(64);
        spaces_free(p);
      },
      "spaces: free of 0x[0-9a-f]+, which is not a block spaces handed out");
}

// A pointer to the middle of a block is refused.
TEST_F(HardenedDeathTest, InteriorPointerIsRefused) {
  EXPECT_DEATH(
      {
        spaces_heap_t* h = make_heap("interior");
        char* p = static_cast<char*>(spaces_alloc(h, 64));
        spaces_free(p + 16);
      },
      "spaces: free of 0x[0-9a-f]+ in heap 'interior': not the start of a block");
}

// A block of a destroyed heap is refused.
TEST_F(HardenedDeathTest, FreeAfterDestroyIsRefused) {
  EXPECT_DEATH(
      {
        spaces_heap_t* h = make_heap("gone");
        void* p = spaces_alloc(h, 64);
        spaces_heap_destroy(h);
        spaces_free(p);
      },
      "spaces: free of 0x[0-9a-f]+, a block of a heap that was destroyed or reset");
}

// A large block freed twice: its span went back to the cache.
TEST_F(HardenedDeathTest, DoubleFreeOfLargeBlockIsRefused) {
  EXPECT_DEATH(
      {
        spaces_heap_t* h = make_heap("large");
        void* p = spaces_alloc(h, 200000);
        spaces_free(p);
        spaces_free(p);
      },
      "spaces: double free of 0x[0-9a-f]+");
}

// Correct use is unaffected by the checks.
TEST(HardenedTest, CorrectUsePasses) {
  ScopedHeap h("fine");
  void* a = spaces_alloc(h, 10);
  void* b = spaces_alloc(h, 100000);
  spaces_free(a);
  spaces_free(b);
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
}

}  // namespace
