// ---------------------------------------------------------------------------
// routed_frontend_test.cpp: third-party code in a memory domain. spacesc's
// front end is ANTLR's C++ runtime driving the generated Toy parser; with
// the malloc replacement linked in and the thread routed into a heap, every
// allocation the runtime and the standard library make while a unit
// compiles lands in that heap and nothing in the default heap.
// ---------------------------------------------------------------------------
#include <spacesc/driver.hpp>

#include <spaces/spaces.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

spaces_stats_t stats_of(const spaces_heap_t* h) {
  spaces_stats_t s{};
  spaces_heap_stats(h, &s);
  return s;
}

TEST(RoutedFrontendTest, AntlrAndTheStandardLibraryAllocateFromTheRoutedHeap) {
  const std::string path = std::string(SPACESC_EXAMPLES_DIR) + "/nested_struct.toy";
  spacesc::Options options;
  options.emit = spacesc::Emit::Run;
  // A first compile outside the scope builds what the runtime keeps for the
  // process (its DFA caches), so that the routed one leaves nothing behind.
  const spacesc::UnitResult warm = spacesc::run_unit(path, options);
  ASSERT_EQ(warm.status, spacesc::ExitStatus::Ok) << warm.err;

  spaces::Heap domain(spaces::HeapOptions().name("frontend-domain"));
  spaces_heap_t* def = spaces_default_heap();
  const spaces_stats_t def_before = stats_of(def);
  spaces_stats_t inside{};
  std::string out;
  spacesc::ExitStatus status{};
  {
    spaces::ScopedHeap in(domain);
    {
      const spacesc::UnitResult r = spacesc::run_unit(path, options);
      status = r.status;
      inside = stats_of(domain.get());
      out.assign(r.out.begin(), r.out.end());  // a copy in the default heap would show below
    }
  }
  const spaces_stats_t def_after = stats_of(def);
  const spaces_stats_t after = stats_of(domain.get());
  EXPECT_EQ(status, spacesc::ExitStatus::Ok);
  EXPECT_EQ(out, warm.out);
  // The runtime's contexts' children vectors, prediction state, the
  // standard library's strings and the unit's output all came from the
  // domain (565 allocations today); while the result lived, its output was
  // the one block left...
  EXPECT_GT(inside.alloc_count, 100u);
  EXPECT_EQ(inside.live_blocks, 1u);
  // ...every one of them was freed there (out's buffer is the one left)...
  EXPECT_EQ(after.live_blocks, 1u);
  EXPECT_EQ(after.alloc_count, after.free_count + 1);
  // ...and the default heap saw no allocation at all.
  EXPECT_EQ(def_after.alloc_count, def_before.alloc_count);
  EXPECT_EQ(def_after.live_blocks, def_before.live_blocks);
}

}  // namespace
