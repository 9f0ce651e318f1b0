// Misuse the release build promises to report (docs/reliability.md): a
// remote free list that a double free damaged is reported at the next
// collect with a message naming the heap, never followed forever; a free
// into a slab that went back to the cache is reported. The same cases in the
// hardened build abort at the misuse itself (hardened_test.cpp).
//   Workloads: one block freed twice by another thread, with and without
//   frees in between; a block freed after its slab was released.
#include <gtest/gtest.h>

#include <thread>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

using MisuseDeathTest = ::testing::Test;

// A block freed twice by a thread that does not own it used to link to itself
// on the slab's remote list, and the owner's next collect looped forever.
TEST_F(MisuseDeathTest, RemoteDoubleFreeIsReportedAtTheNextCollect) {
  EXPECT_DEATH(
      {
        spaces_heap_t* h = make_heap("twice");
        void* keep = spaces_alloc(h, 64);
        void* p = spaces_alloc(h, 64);
        std::thread([&] {
          spaces_free(p);
          spaces_free(p);
        }).join();
        spaces_heap_collect(h);
        (void)keep;
      },
      "spaces: heap 'twice': the remote free list of slab 0x[0-9a-f]+ is corrupted \\(a block freed twice, or "
      "written after it was freed\\)");
}

// The same with other frees between the two: the list is a cycle through them.
TEST_F(MisuseDeathTest, RemoteDoubleFreeWithFreesBetweenIsReported) {
  EXPECT_DEATH(
      {
        spaces_heap_t* h = make_heap("between");
        void* p = spaces_alloc(h, 64);
        void* q = spaces_alloc(h, 64);
        void* r = spaces_alloc(h, 64);
        std::thread([&] {
          spaces_free(p);
          spaces_free(q);
          spaces_free(r);
          spaces_free(p);
        }).join();
        for (int i = 0; i < 5000; ++i)
          if (spaces_alloc(h, 64) == nullptr) break;  // runs the slab dry: collects
      },
      "spaces: heap 'between': the remote free list of slab 0x[0-9a-f]+ is corrupted");
}

// A block whose slab went back to the cache (all its blocks were freed) is
// reported when freed again, instead of being linked into a free run.
TEST_F(MisuseDeathTest, FreeIntoAReleasedSlabIsReported) {
  EXPECT_DEATH(
      {
        spaces_heap_t* h = make_heap("released");
        void* keep = spaces_alloc(h, 1000);
        void* p = spaces_alloc(h, 64);
        spaces_free(p);
        spaces_heap_collect(h);  // the 64-byte class's empty slab goes back
        spaces_free(p);
        (void)keep;
      },
      "spaces: free of 0x[0-9a-f]+: its slab was already released \\(double free\\?\\)");
}

// Correct cross-thread use after all this is unaffected.
TEST(MisuseTest, CorrectRemoteFreesStayCorrect) {
  ScopedHeap h("fine");
  std::vector<void*> v;
  for (int i = 0; i < 3000; ++i) v.push_back(spaces_alloc(h, 64));
  std::thread([&] {
    for (void* p : v) spaces_free(p);
  }).join();
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  ASSERT_EQ(spaces_heap_collect(h), SPACES_OK);
  EXPECT_EQ(stats_of(h).footprint, 0u);
}

}  // namespace
