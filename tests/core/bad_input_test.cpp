// Garbage at every entry point: each gets a defined answer (NULL with errno,
// a status code, 0) and nothing already allocated is lost.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

class BadInputTest : public ::testing::Test {
 protected:
  ScopedHeap heap{"victim"};
  void SetUp() override {
    keep = static_cast<char*>(spaces_alloc(heap, 100));
    std::memset(keep, 'k', 100);
  }
  void TearDown() override {
    for (int i = 0; i < 100; ++i) ASSERT_EQ(keep[i], 'k') << "a bad call damaged a live block";
    EXPECT_EQ(stats_of(heap).live_blocks, 1u);
  }
  char* keep = nullptr;
};

spaces_heap_t* dead_heap() {
  spaces_heap_t* h = make_heap("dead");
  spaces_heap_destroy(h);
  return h;
}

// free(NULL) is a no-op.
TEST_F(BadInputTest, FreeOfNullIsANoOp) {
  spaces_free(nullptr);
}

/// Handle values no heap ever had: small numbers, the addresses of real
/// memory, all bits set, a slot number with a generation that never was.
std::vector<spaces_heap_t*> garbage_handles() {
  static int on_stack_like = 0;
  std::vector<spaces_heap_t*> v;
  for (std::uintptr_t x : {std::uintptr_t{0x10}, std::uintptr_t{0xdeadbeef}, UINTPTR_MAX, UINTPTR_MAX - 63,
                           (std::uintptr_t{0x7fff} << 32) | 1, (std::uintptr_t{1} << 32) | 0xFFFFF,
                           reinterpret_cast<std::uintptr_t>(&on_stack_like),
                           reinterpret_cast<std::uintptr_t>(&garbage_handles)})
    v.push_back(reinterpret_cast<spaces_heap_t*>(x));
  return v;
}

/// Every entry point that takes a heap, given h: each must refuse it.
void expect_refused(spaces_heap_t* h) {
  errno = 0;
  EXPECT_EQ(spaces_alloc(h, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(spaces_calloc(h, 1, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(spaces_aligned_alloc(h, 64, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(spaces_realloc(h, nullptr, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(spaces_realloc_aligned(h, nullptr, 64, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(spaces_region_cursor(h), nullptr);
  EXPECT_EQ(spaces_heap_cap(h), 0u);
  EXPECT_EQ(spaces_heap_id(h), 0u);
  EXPECT_STREQ(spaces_heap_name(h), "");
  EXPECT_EQ(spaces_heap_discipline(h), SPACES_GENERAL);
  EXPECT_EQ(spaces_heap_set_cap(h, 100), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_collect(h), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_reset(h), SPACES_E_INVALID);
  spaces_stats_t s;
  EXPECT_EQ(spaces_heap_stats(h, &s), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_print_stats(h, stderr), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_write_stats_json(h, stderr), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_walk(h, [](void*, size_t, void*) { return 0; }, nullptr), SPACES_E_INVALID);
  if (h == nullptr) return;  // a NULL parent means "no parent"
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.parent = h;
  spaces_heap_t* child = reinterpret_cast<spaces_heap_t*>(1);
  EXPECT_EQ(spaces_heap_create(&o, &child), SPACES_E_INVALID);
  EXPECT_EQ(child, nullptr);
}

// Allocating from NULL or a destroyed heap fails with EINVAL, and so does
// every other entry point that takes a heap.
TEST_F(BadInputTest, InvalidHeapsGiveEinval) {
  expect_refused(nullptr);
  expect_refused(dead_heap());
  spaces_failure_t f{};
  spaces_last_failure(&f);
  EXPECT_EQ(f.status, SPACES_E_INVALID);
}

// A handle that is no heap's (garbage of every kind) is refused by every
// entry point, without a read through it.
TEST_F(BadInputTest, GarbageHandlesAreRefusedWithoutAFault) {
  for (spaces_heap_t* h : garbage_handles()) {
    SCOPED_TRACE(testing::Message() << "handle " << static_cast<const void*>(h));
    expect_refused(h);
  }
}

// A destroyed heap's handle never reaches a heap created later, however many
// heaps reuse the memory and the table slots of the dead ones (the review
// found the next create handed out the same struct, so the stale handle
// allocated from, named and destroyed the new heap).
TEST_F(BadInputTest, StaleHandlesNeverReachALaterHeap) {
  std::vector<spaces_heap_t*> dead;
  for (int i = 0; i < 1500; ++i) dead.push_back(make_heap("dead"));
  for (spaces_heap_t* h : dead) ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
  std::vector<spaces_heap_t*> later;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1500; ++i) later.push_back(make_heap("later"));
    for (spaces_heap_t* h : dead) {
      ASSERT_EQ(spaces_heap_id(h), 0u);
      ASSERT_EQ(spaces_heap_destroy(h), SPACES_E_INVALID);
      ASSERT_EQ(spaces_alloc(h, 8), nullptr);
    }
    for (spaces_heap_t* h : later) {
      ASSERT_NE(spaces_heap_id(h), 0u);
      ASSERT_STREQ(spaces_heap_name(h), "later");
      ASSERT_EQ(spaces_heap_destroy(h), SPACES_OK);
    }
    dead.insert(dead.end(), later.begin(), later.end());
    later.clear();
  }
  expect_refused(dead.front());
  expect_refused(dead.back());
}

// realloc of a pointer spaces never handed out fails with EINVAL (no header
// is read) and leaves the heap as it was.
TEST_F(BadInputTest, ReallocOfAForeignPointerIsEinval) {
  int on_stack = 0;
  void* from_malloc = std::malloc(100);
  for (void* p : {static_cast<void*>(&on_stack), from_malloc, reinterpret_cast<void*>(0x10000),
                  static_cast<void*>(keep + 16)}) {
    errno = 0;
    EXPECT_EQ(spaces_realloc(heap, p, 200), nullptr) << p;
    EXPECT_EQ(errno, EINVAL) << p;
  }
  std::free(from_malloc);
}

// The cursor slow paths refuse a cursor without an owner (NULL, or a dead
// arena's cursor) with EINVAL.
TEST_F(BadInputTest, CursorSlowPathsRefuseAMissingOwner) {
  errno = 0;
  const spaces_window_t w = spaces_cursor_refill(nullptr, nullptr, nullptr, 0, 16, 16);
  EXPECT_EQ(w.cur, nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(spaces_cursor_span(nullptr, 1 << 20, 16), nullptr);
  EXPECT_EQ(errno, EINVAL);
}

// Sizes near SIZE_MAX fail with ENOMEM and leave the heap as it was.
TEST_F(BadInputTest, HugeSizesFailWithEnomem) {
  for (std::size_t n : {SIZE_MAX, SIZE_MAX - 4096, SIZE_MAX / 2, std::size_t{1} << 62}) {
    errno = 0;
    EXPECT_EQ(spaces_alloc(heap, n), nullptr) << n;
    EXPECT_EQ(errno, ENOMEM);
    errno = 0;
    EXPECT_EQ(spaces_aligned_alloc(heap, 1 << 20, n), nullptr);
    EXPECT_EQ(errno, ENOMEM);
  }
  errno = 0;
  EXPECT_EQ(spaces_calloc(heap, SIZE_MAX, 2), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(spaces_realloc(heap, keep, SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(stats_of(heap).footprint, kSlab);
}

// Alignments that are zero, not powers of two or too large fail with EINVAL.
TEST_F(BadInputTest, BadAlignmentsGiveEinval) {
  for (std::size_t a : {std::size_t{0}, std::size_t{3}, std::size_t{24}, std::size_t{1000},
                        SPACES_MAX_ALIGNMENT * 2, SIZE_MAX}) {
    errno = 0;
    EXPECT_EQ(spaces_aligned_alloc(heap, a, 10), nullptr) << a;
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(spaces_realloc_aligned(heap, nullptr, a, 10), nullptr);
    EXPECT_EQ(errno, EINVAL);
  }
}

// realloc of a block that belongs to another heap fails and keeps the block.
TEST_F(BadInputTest, ReallocAcrossHeapsIsRefused) {
  ScopedHeap other("other");
  errno = 0;
  EXPECT_EQ(spaces_realloc(other, keep, 200), nullptr);
  EXPECT_EQ(errno, EINVAL);
}

// Creation rejects bad options and NULL out-parameters.
TEST_F(BadInputTest, HeapCreateRejectsBadOptions) {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  EXPECT_EQ(spaces_heap_create(&o, nullptr), SPACES_E_INVALID);
  const int bad_discipline = 7;  // what a C caller could pass
  std::memcpy(&o.discipline, &bad_discipline, sizeof(o.discipline));
  spaces_heap_t* h = nullptr;
  EXPECT_EQ(spaces_heap_create(&o, &h), SPACES_E_INVALID);
  EXPECT_EQ(h, nullptr);
  spaces_heap_options_init(&o);
  o.flags = 0x80;
  EXPECT_EQ(spaces_heap_create(&o, &h), SPACES_E_INVALID);
  // NULL options mean the defaults.
  ASSERT_EQ(spaces_heap_create(nullptr, &h), SPACES_OK);
  EXPECT_EQ(std::strncmp(spaces_heap_name(h), "heap-", 5), 0);
  spaces_heap_destroy(h);
  spaces_heap_options_init(nullptr);  // no crash
}

// Long names are cut to 63 bytes.
TEST_F(BadInputTest, LongNamesAreTruncated) {
  std::string name(200, 'x');
  spaces_heap_t* h = make_heap(name.c_str());
  EXPECT_EQ(std::strlen(spaces_heap_name(h)), 63u);
  spaces_heap_destroy(h);
}

// NULL out-parameters and callbacks are refused.
TEST_F(BadInputTest, NullOutParametersAreRefused) {
  EXPECT_EQ(spaces_heap_stats(heap, nullptr), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_print_stats(heap, nullptr), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_walk(heap, nullptr, nullptr), SPACES_E_INVALID);
  EXPECT_EQ(spaces_last_failure(nullptr), SPACES_E_INVALID);
  EXPECT_EQ(spaces_cursor_refill(nullptr, nullptr, nullptr, 0, 10, 8).cur, nullptr);
  EXPECT_EQ(spaces_cursor_span(nullptr, 100000, 8), nullptr);
}

// Pointers spaces never handed out are recognised as foreign.
TEST_F(BadInputTest, ForeignPointersAreRecognised) {
  int on_stack = 0;
  void* from_malloc = std::malloc(100);
  for (const void* p : {static_cast<const void*>(&on_stack), static_cast<const void*>(from_malloc),
                        reinterpret_cast<const void*>(0x10), reinterpret_cast<const void*>(UINTPTR_MAX - 7),
                        reinterpret_cast<const void*>(std::uintptr_t{1} << 60)}) {
    EXPECT_EQ(spaces_heap_of(p), nullptr) << p;
    EXPECT_EQ(spaces_usable_size(p), 0u) << p;
    EXPECT_FALSE(spaces_owns(p)) << p;
  }
  std::free(from_malloc);
  EXPECT_EQ(spaces_heap_of(nullptr), nullptr);
  EXPECT_EQ(spaces_usable_size(nullptr), 0u);
}

// The default heap cannot be destroyed or reset through the API.
TEST_F(BadInputTest, DefaultHeapCannotBeDestroyed) {
  spaces_heap_t* d = spaces_default_heap();
  EXPECT_EQ(spaces_heap_destroy(d), SPACES_E_INVALID);
  EXPECT_EQ(spaces_heap_reset(d), SPACES_E_INVALID);
  void* p = spaces_alloc(d, 10);
  EXPECT_NE(p, nullptr);
  spaces_free(p);
}

// Status codes have readable descriptions.
TEST(StatusTest, StatusStringsAreReadable) {
  EXPECT_STREQ(spaces_status_str(SPACES_OK), "success");
  EXPECT_STREQ(spaces_status_str(SPACES_E_INVALID), "invalid argument");
  EXPECT_STREQ(spaces_status_str(SPACES_E_NOMEM), "out of memory");
  EXPECT_STREQ(spaces_status_str(SPACES_E_CAP), "heap cap exceeded");
  EXPECT_STREQ(spaces_status_str(SPACES_E_UNSUPPORTED), "not supported by this heap's discipline");
  EXPECT_STREQ(spaces_status_str(SPACES_E_RANGE), "value out of range");
  EXPECT_STREQ(spaces_status_str(SPACES_E_IO), "write failed");
  EXPECT_STREQ(spaces_status_str(SPACES_E_BUSY), "a thread routes its allocations into the heap");
  EXPECT_STREQ(spaces_status_str(static_cast<spaces_status_t>(8)), "unknown status");  // C: c_api_test
}

}  // namespace
