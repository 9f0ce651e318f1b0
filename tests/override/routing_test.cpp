// Routing with the malloc replacement linked in (spaces::override): while a
// heap is the thread's current heap, every allocation function of C and C++
// takes from it and its cap, the standard library's included; frees and
// reallocations follow the block's own heap.
//
// Inside a routed scope with a tight cap nothing here calls GoogleTest (its
// messages allocate): results go to locals and are checked after the scope.
#include <gtest/gtest.h>
#include <malloc.h>
#include <spaces/spaces.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

spaces_stats_t stats_of(const spaces_heap_t* h) {
  spaces_stats_t s{};
  spaces_heap_stats(h, &s);
  return s;
}

/// A general heap with an optional cap and a cap handler that counts its calls.
class CountedHeap {
 public:
  explicit CountedHeap(const char* name, std::size_t cap = SPACES_UNCAPPED) {
    spaces_heap_options_t o;
    spaces_heap_options_init(&o);
    o.name = name;
    o.cap = cap;
    o.cap_handler = [](spaces_heap_t*, std::size_t, void* arg) {
      ++*static_cast<int*>(arg);
      return SPACES_CAP_FAIL;
    };
    o.cap_handler_arg = &handler_calls;
    if (spaces_heap_create(&o, &h_) != SPACES_OK) std::abort();
  }
  ~CountedHeap() { spaces_heap_destroy(h_); }
  CountedHeap(const CountedHeap&) = delete;
  CountedHeap& operator=(const CountedHeap&) = delete;
  spaces_heap_t* get() const { return h_; }
  int handler_calls = 0;

 private:
  spaces_heap_t* h_ = nullptr;
};

TEST(RoutedOverrideTest, EveryAllocationFunctionTakesFromTheCurrentHeap) {
  struct alignas(128) Wide {
    char bytes[200];
  };
  CountedHeap h("routed");
  std::vector<void*> c_blocks;
  c_blocks.reserve(16);  // before the scope, or the vector's own buffer would be the heap's
  int* one = nullptr;
  int* many = nullptr;
  Wide* wide = nullptr;
  int* nothrow = nullptr;
  {
    spaces::ScopedHeap in(h.get());
    c_blocks.push_back(std::malloc(24));
    c_blocks.push_back(std::calloc(3, 40));
    c_blocks.push_back(std::realloc(nullptr, 100));
    c_blocks.push_back(aligned_alloc(64, 128));
    void* pm = nullptr;
    if (posix_memalign(&pm, 256, 300) == 0) c_blocks.push_back(pm);
    c_blocks.push_back(memalign(4096, 10));
    c_blocks.push_back(valloc(100));
    c_blocks.push_back(pvalloc(100));
    c_blocks.push_back(strdup("libc's own malloc"));
    c_blocks.push_back(std::malloc(kMiB));       // a span
    c_blocks.push_back(std::malloc(64 * kMiB));  // a huge block
    one = new int(1);
    many = new int[10];
    wide = new Wide;
    nothrow = new (std::nothrow) int(2);
  }
  ASSERT_EQ(c_blocks.size(), 11u);
  for (void* p : c_blocks) {
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(spaces_heap_of(p), h.get()) << p;
  }
  for (const void* p : {static_cast<const void*>(one), static_cast<const void*>(many),
                        static_cast<const void*>(wide), static_cast<const void*>(nothrow)})
    EXPECT_EQ(spaces_heap_of(p), h.get()) << p;
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(wide) % alignof(Wide), 0u);
  EXPECT_EQ(stats_of(h.get()).live_blocks, 15u);
  EXPECT_GE(stats_of(h.get()).footprint, 65 * kMiB);
  // After the scope everything is the default heap's again.
  void* after = std::malloc(24);
  EXPECT_EQ(spaces_heap_of(after), spaces_default_heap());
  std::free(after);
  for (void* p : c_blocks) std::free(p);
  delete one;
  delete[] many;
  delete wide;
  delete nothrow;
  EXPECT_EQ(stats_of(h.get()).live_blocks, 0u);
  EXPECT_EQ(h.handler_calls, 0);
}

TEST(RoutedOverrideTest, RoutedBlocksAreFreedFromAnyThreadAndAfterTheScope) {
  CountedHeap h("freed-anywhere");
  std::vector<void*> blocks(2000);
  {
    spaces::ScopedHeap in(h.get());
    for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i] = std::malloc(16 + i % 700);
  }
  EXPECT_EQ(stats_of(h.get()).live_blocks, 2000u);
  std::thread([&] {
    for (std::size_t i = 0; i < blocks.size(); i += 2) std::free(blocks[i]);
  }).join();
  for (std::size_t i = 1; i < blocks.size(); i += 2) std::free(blocks[i]);
  const spaces_stats_t s = stats_of(h.get());
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.alloc_count, 2000u);
  EXPECT_EQ(s.free_count, 2000u);
}

TEST(RoutedOverrideTest, ReallocKeepsABlockInItsOwnHeap) {
  CountedHeap h("realloc");
  char* from_default = static_cast<char*>(std::malloc(100));
  std::memset(from_default, 'd', 100);
  char* from_routed = nullptr;
  char* grown_default = nullptr;
  char* grown_large = nullptr;
  {
    spaces::ScopedHeap in(h.get());
    from_routed = static_cast<char*>(std::malloc(100));
    std::memset(from_routed, 'r', 100);
    grown_default = static_cast<char*>(std::realloc(from_default, 10000));
  }
  ASSERT_NE(grown_default, nullptr);
  EXPECT_EQ(spaces_heap_of(grown_default), spaces_default_heap());
  EXPECT_EQ(grown_default[99], 'd');
  grown_large = static_cast<char*>(std::realloc(from_routed, 3 * kMiB));  // outside the scope
  ASSERT_NE(grown_large, nullptr);
  EXPECT_EQ(spaces_heap_of(grown_large), h.get());
  EXPECT_EQ(grown_large[0], 'r');
  EXPECT_EQ(grown_large[99], 'r');
  std::free(grown_default);
  std::free(grown_large);
  EXPECT_EQ(stats_of(h.get()).live_blocks, 0u);
}

TEST(RoutedOverrideTest, AtTheCapMallocFailsWithEnomemAfterTheCapHandler) {
  CountedHeap h("capped", kMiB);
  void* big = reinterpret_cast<void*>(0x1);
  int big_errno = 0;
  std::size_t small_blocks = 0;
  std::vector<void*> keep;
  keep.reserve(20000);
  {
    spaces::ScopedHeap in(h.get());
    errno = 0;
    big = std::malloc(2 * kMiB);
    big_errno = errno;
    while (void* p = std::malloc(1000)) keep.push_back(p);
    small_blocks = keep.size();
  }
  EXPECT_EQ(big, nullptr);
  EXPECT_EQ(big_errno, ENOMEM);
  spaces_failure_t f{};
  ASSERT_EQ(spaces_last_failure(&f), SPACES_OK);
  EXPECT_EQ(f.status, SPACES_E_CAP);
  EXPECT_EQ(f.heap, h.get());
  EXPECT_EQ(f.cap, kMiB);
  EXPECT_EQ(h.handler_calls, 2);  // once per refused call: the big block, the small one that hit the cap
  const spaces_stats_t s = stats_of(h.get());
  EXPECT_LE(s.peak_footprint, kMiB);
  EXPECT_EQ(s.live_blocks, small_blocks);
  EXPECT_GT(small_blocks * 1000, kMiB * 3 / 4);  // the cap was used, not refused early
  for (void* p : keep) std::free(p);
}

TEST(RoutedOverrideTest, NewAtTheCapCallsTheNewHandlerThenThrowsBadAlloc) {
  CountedHeap h("new-capped", kMiB);
  static int new_handler_calls;
  new_handler_calls = 0;
  bool threw = false;
  int* after = nullptr;
  {
    spaces::ScopedHeap in(h.get());
    const std::new_handler old = std::set_new_handler([] {
      if (++new_handler_calls == 2) std::set_new_handler(nullptr);
    });
    try {
      char* volatile p = new char[2 * kMiB];  // volatile: a new/delete pair may be elided
      delete[] p;
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    std::set_new_handler(old);
    after = new int(7);  // the heap still serves what fits
  }
  EXPECT_TRUE(threw);
  EXPECT_EQ(new_handler_calls, 2);
  EXPECT_EQ(h.handler_calls, 3);  // the cap handler ran before each of new's three attempts
  EXPECT_EQ(spaces_heap_of(after), h.get());
  delete after;
}

TEST(RoutedOverrideTest, TheStandardLibraryRunsInsideACappedHeap) {
  { std::ostringstream warm; warm << 1.5 << "x" << 42; }  // the streams' lazily built global state
  CountedHeap h("stl", 8 * kMiB);
  spaces_heap_t* def = spaces_default_heap();
  const std::size_t default_live = stats_of(def).live_blocks;
  std::size_t live_inside = 0, live_after = 0, text_size = 0;
  bool threw = false;
  {
    spaces::ScopedHeap in(h.get());
    {
      std::vector<std::string> strings;
      std::map<int, std::string> map;
      std::ostringstream text;
      for (int i = 0; i < 10000; ++i) {
        strings.emplace_back(40, static_cast<char>('a' + i % 26));
        map.emplace(i, strings.back());
        text << i << ' ' << strings.back() << '\n';
      }
      text_size = text.str().size();
      live_inside = stats_of(h.get()).live_blocks;
    }
    live_after = stats_of(h.get()).live_blocks;
    try {
      std::vector<std::string> grow;
      for (;;) grow.emplace_back(1000, 'g');
    } catch (const std::bad_alloc&) {
      threw = true;
    }
  }
  EXPECT_EQ(stats_of(def).live_blocks, default_live);  // not one block went to the default heap
  EXPECT_EQ(text_size, 458890u);
  EXPECT_GT(live_inside, 20000u);  // 10,000 strings and 10,000 map nodes at least
  EXPECT_EQ(live_after, 0u);
  EXPECT_TRUE(threw);
  const spaces_stats_t s = stats_of(h.get());
  EXPECT_LE(s.peak_footprint, 8 * kMiB);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_GT(s.cap_failures, 0u);
}

TEST(RoutedOverrideTest, AThreadStartedInsideTheScopeAllocatesFromTheDefaultHeap) {
  CountedHeap h("not-inherited");
  spaces_heap_t* in_thread = nullptr;
  spaces_heap_t* in_scope = nullptr;
  {
    spaces::ScopedHeap in(h.get());
    std::thread t([&] {
      void* volatile p = std::malloc(32);  // kept: GCC may drop a malloc it sees freed
      in_thread = spaces_heap_of(p);
      std::free(p);
    });
    t.join();
    void* volatile q = std::malloc(32);
    in_scope = spaces_heap_of(q);
    std::free(q);
  }
  EXPECT_EQ(in_thread, spaces_default_heap());
  EXPECT_EQ(in_scope, h.get());
}

}  // namespace
