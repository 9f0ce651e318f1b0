// Out of memory: with every OS mapping refused (the "os.map" test point of
// spaces_testhooks) and with RLIMIT_AS, every allocation path returns NULL
// with ENOMEM (or throws std::bad_alloc, not cap_exceeded), the statistics
// stay exact, nothing allocated is damaged, and the heap works again once
// memory is back.
//   Workloads: small blocks until the reservation runs out; spans larger
//   than any cached run; huge blocks; aligned blocks; realloc growth; region
//   cursors and arenas; heap creation; under RLIMIT_AS, a forked child
//   allocating until refused at every size.
#include <gtest/gtest.h>

#include <spaces/spaces.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "interleaving.hpp"
#include "internal/alloc.h"
#include "internal/free.h"
#include "test_util.hpp"

using namespace spaces::detail;
using spaces_test::make_heap;
using spaces_test::stats_of;

namespace {

/// While alive, every OS mapping the allocator asks for is refused: the
/// test points whose names start with `points` ("os.map" by default;
/// "os.remap" refuses mremap, "os." both).
class RefuseMappings {
 public:
  explicit RefuseMappings(const char* points = "os.map") : points_(points) { spaces_test_set_hook(&hook, this); }
  ~RefuseMappings() { spaces_test_set_hook(nullptr, nullptr); }
  RefuseMappings(const RefuseMappings&) = delete;
  RefuseMappings& operator=(const RefuseMappings&) = delete;
  std::size_t refused() const { return refused_.load(); }

 private:
  static void hook(const char* point, const void* object, void* arg) {
    auto* self = static_cast<RefuseMappings*>(arg);
    if (std::strncmp(point, self->points_, std::strlen(self->points_)) != 0) return;
    *static_cast<bool*>(const_cast<void*>(object)) = true;
    self->refused_.fetch_add(1);
  }
  const char* points_;
  std::atomic<std::size_t> refused_{0};
};

void expect_os_failure(std::size_t request) {
  EXPECT_EQ(errno, ENOMEM);
  spaces_failure_t f{};
  spaces_last_failure(&f);
  EXPECT_EQ(f.status, SPACES_E_NOMEM);
  EXPECT_EQ(f.request, request);
}

void expect_consistent(spaces_heap_t* h, std::size_t live) {
  const spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.live_blocks, live);
  EXPECT_EQ(s.alloc_count, s.free_count + s.live_blocks);
  EXPECT_EQ(s.cap_failures, 0u);
  EXPECT_TRUE(heap_is_valid(heap_checked(h)));
}

// Small blocks until the slab cache and the reservation are used up: then
// NULL with ENOMEM, every block intact, and allocation works again after.
TEST(OutOfMemoryTest, SmallBlocksFailCleanlyAndRecover) {
  spaces_heap_t* h = make_heap("small");
  spaces_free(spaces_alloc(h, std::size_t{4} << 20));  // 4 MiB in the slab cache to use up
  std::vector<unsigned char*> v;
  {
    RefuseMappings refuse;
    for (;;) {
      errno = 0;
      auto* p = static_cast<unsigned char*>(spaces_alloc(h, 3000));
      if (p == nullptr) break;
      std::memset(p, static_cast<int>(v.size() & 0xFF), 3000);
      v.push_back(p);
      ASSERT_LT(v.size(), 100000u) << "the cache and the reservation should run out";
    }
    expect_os_failure(3000);
    ASSERT_GE(v.size(), 64u * 21);  // the cached 4 MiB at least: 64 slabs of 21 blocks
    EXPECT_GE(refuse.refused(), 1u);
    expect_consistent(h, v.size());
    // Every other path refuses too, and leaves the heap as it was.
    errno = 0;
    EXPECT_EQ(spaces_alloc(h, std::size_t{80} << 20), nullptr);  // huge: its own mapping
    expect_os_failure(std::size_t{80} << 20);
    errno = 0;
    EXPECT_EQ(spaces_alloc(h, std::size_t{40} << 20), nullptr);  // a span longer than the reservation
    expect_os_failure(std::size_t{40} << 20);
    errno = 0;
    EXPECT_EQ(spaces_aligned_alloc(h, std::size_t{1} << 20, 100), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    errno = 0;
    EXPECT_EQ(spaces_realloc(h, v.front(), std::size_t{40} << 20), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    expect_consistent(h, v.size());
  }
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t j = 0; j < 3000; j += 499) ASSERT_EQ(v[i][j], i & 0xFF);
  // Memory is back.
  void* big = spaces_alloc(h, std::size_t{40} << 20);
  EXPECT_NE(big, nullptr);
  void* more = spaces_alloc(h, 3000);
  EXPECT_NE(more, nullptr);
  expect_consistent(h, v.size() + 2);
  spaces_free(big);
  spaces_free(more);
  for (unsigned char* p : v) spaces_free(p);
  expect_consistent(h, 0);
  spaces_heap_destroy(h);
}

// realloc of a huge block when the kernel refuses mremap: it copies into a
// new mapping instead; when mappings are refused too, NULL and ENOMEM with
// the block untouched and its charge unchanged.
TEST(OutOfMemoryTest, HugeReallocWithoutRemapCopiesOrFails) {
  constexpr std::size_t kMiB = std::size_t{1} << 20;
  spaces_heap_t* h = make_heap("remap");
  auto* p = static_cast<unsigned char*>(spaces_alloc(h, 100 * kMiB));
  ASSERT_NE(p, nullptr);
  p[0] = 0x11;
  p[100 * kMiB - 1] = 0x22;
  const std::size_t footprint = stats_of(h).footprint;
  {
    RefuseMappings refuse("os.");
    errno = 0;
    EXPECT_EQ(spaces_realloc(h, p, 200 * kMiB), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    EXPECT_GE(refuse.refused(), 2u);  // the remap in place, then a new mapping
    EXPECT_EQ(stats_of(h).footprint, footprint);
    EXPECT_EQ(spaces_usable_size(p), footprint - kHeaderRegion);
  }
  unsigned char* q;
  {
    RefuseMappings refuse("os.remap");
    q = static_cast<unsigned char*>(spaces_realloc(h, p, 200 * kMiB));
    ASSERT_NE(q, nullptr);
    EXPECT_GE(refuse.refused(), 1u);
  }
  EXPECT_NE(q, p);  // copied
  EXPECT_EQ(q[0], 0x11);
  EXPECT_EQ(q[100 * kMiB - 1], 0x22);
  EXPECT_FALSE(spaces_owns(p));
  expect_consistent(h, 1);
  EXPECT_EQ(stats_of(h).footprint, (200 * kMiB + kHeaderRegion + kSlabSize - 1) / kSlabSize * kSlabSize);
  spaces_free(q);
  expect_consistent(h, 0);
  spaces_heap_destroy(h);
}

// Region heaps: the cursor's refill fails with ENOMEM, the facade throws
// plain std::bad_alloc (an OS failure, not a cap).
TEST(OutOfMemoryTest, RegionsAndArenasFailCleanly) {
  spaces::TrivialArena arena(spaces::HeapOptions().name("nodes"));
  std::size_t made = 0;
  {
    RefuseMappings refuse;
    try {
      for (;;) {
        arena.make_array<char>(30000);
        ++made;
        ASSERT_LT(made, 100000u);
      }
    } catch (const spaces::cap_exceeded&) {
      FAIL() << "an OS failure is not a cap";
    } catch (const std::bad_alloc&) {
    }
    EXPECT_EQ(arena.try_allocate(30000), nullptr);
    EXPECT_EQ(errno, ENOMEM);
  }
  EXPECT_EQ(arena.stats().live_blocks, made);
  EXPECT_NE(arena.try_allocate(30000), nullptr);
}

// A heap cannot be created when the allocator's own metadata cannot grow;
// creation fails with SPACES_E_NOMEM and works again afterwards.
TEST(OutOfMemoryTest, HeapCreationFailsCleanly) {
  std::vector<spaces_heap_t*> heaps;
  spaces_status_t status = SPACES_OK;
  {
    RefuseMappings refuse;
    for (int i = 0; i < 100000 && status == SPACES_OK; ++i) {
      spaces_heap_t* h = nullptr;
      status = spaces_heap_create(nullptr, &h);
      if (status == SPACES_OK) heaps.push_back(h);
      else EXPECT_EQ(h, nullptr);
    }
  }
  EXPECT_EQ(status, SPACES_E_NOMEM);
  spaces_heap_t* h = nullptr;
  EXPECT_EQ(spaces_heap_create(nullptr, &h), SPACES_OK);
  heaps.push_back(h);
  for (spaces_heap_t* x : heaps) EXPECT_EQ(spaces_heap_destroy(x), SPACES_OK);
}

// Under RLIMIT_AS the kernel refuses the mappings itself: a forked child
// allocates at every size until refused, frees the older half, and allocates
// again.
// The exit code says which step went wrong.
[[noreturn]] void allocate_under_an_address_space_limit() {
  spaces_heap_t* h = make_heap("limited");
  std::vector<void*> v;
  v.reserve(std::size_t{8} << 20);  // before the limit: glibc's malloc is under it too
  rlimit lim{};
  getrlimit(RLIMIT_AS, &lim);
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (f == nullptr || std::fscanf(f, "%lu", &pages) != 1) _exit(10);
  std::fclose(f);
  lim.rlim_cur = pages * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (rlim_t{256} << 20);
  if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(11);
  const std::size_t sizes[] = {64, 5000, 100000, std::size_t{3} << 20, std::size_t{100} << 20};
  for (std::size_t size : sizes) {
    for (;;) {
      errno = 0;
      void* p = spaces_alloc(h, size);
      if (p == nullptr || v.size() == v.capacity()) break;
      std::memset(p, 1, size < 4096 ? size : 4096);
      v.push_back(p);
    }
    if (errno != ENOMEM) _exit(12);
  }
  spaces_stats_t s = stats_of(h);
  if (s.live_blocks != v.size() || s.alloc_count != s.free_count + s.live_blocks) _exit(13);
  // The first half, allocated first: whole slabs go back, and once the
  // cache coalesces them a span fits again.
  const std::size_t half = v.size() / 2;
  for (std::size_t i = 0; i < half; ++i) spaces_free(v[i]);
  spaces_collect();
  if (spaces_alloc(h, 100000) == nullptr) _exit(14);
  s = stats_of(h);
  if (s.live_blocks != v.size() - half + 1) _exit(15);
  _exit(0);
}

TEST(OutOfMemoryTest, AddressSpaceLimitIsAnOrdinaryFailure) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizer runtimes need address space beyond any limit set here";
#endif
  EXPECT_EXIT(allocate_under_an_address_space_limit(), ::testing::ExitedWithCode(0), "");
}

// A decommit the OS refuses (madvise fails on mlock'ed pages) leaves the
// bytes in place: the run must not be taken as zero, and calloc of it clears
// everything.
TEST(OutOfMemoryTest, RefusedDecommitIsNotTakenAsZero) {
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_SLAB_CACHE, 0), SPACES_OK);  // a freed span is decommitted at once
  ASSERT_EQ(spaces_option_set_str("decommit", "dontneed"), SPACES_OK);
  constexpr std::size_t kSize = 16 * kSlabSize - kHeaderRegion;
  spaces_heap_t* h = make_heap("refused-decommit");
  RefuseMappings refuse("os.decommit");
  void* dirty = spaces_alloc(h, kSize);
  ASSERT_NE(dirty, nullptr);
  std::memset(dirty, 0xC5, kSize);
  spaces_free(dirty);
  EXPECT_EQ(refuse.refused(), 1u);
  auto* p = static_cast<unsigned char*>(spaces_calloc(h, 1, kSize));
  ASSERT_EQ(p, dirty);  // the same run, from the cold bins
  for (std::size_t i = 0; i < kSize; ++i) ASSERT_EQ(p[i], 0) << "at " << i;
  spaces_free(p);
  spaces_heap_destroy(h);
}

}  // namespace
