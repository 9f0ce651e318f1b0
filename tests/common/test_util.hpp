// Helpers shared by the libspaces test suites.
#ifndef SPACES_TESTS_TEST_UTIL_HPP
#define SPACES_TESTS_TEST_UTIL_HPP

#include <spaces/spaces.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
#define SPACES_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPACES_TEST_ASAN 1
#endif
#endif
#ifdef SPACES_TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace spaces_test {

inline constexpr std::size_t kSlab = 64 * 1024;
/// A mini slab of a SPACES_HEAP_TINY heap: what each of its first slabs costs.
inline constexpr std::size_t kMini = 4 * 1024;
inline constexpr std::size_t kHeaderRegion = 512;

/// Creates a heap with the given options; fails the test on error.
inline spaces_heap_t* make_heap(const char* name, std::size_t cap = SPACES_UNCAPPED,
                                spaces_discipline_t d = SPACES_GENERAL, unsigned flags = 0,
                                spaces_heap_t* parent = nullptr) {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.name = name;
  o.cap = cap;
  o.discipline = d;
  o.flags = flags;
  o.parent = parent;
  spaces_heap_t* h = nullptr;
  if (spaces_heap_create(&o, &h) != SPACES_OK) return nullptr;
  return h;
}

/// Writes n bytes of `byte` at p even where p is freed memory: the deliberate
/// stray write of a use-after-free test. Under AddressSanitizer the bytes are
/// unpoisoned first, so that the allocator's own check is what the test sees
/// (ASan would otherwise report the write itself, which is not what is tested).
inline void stray_write(void* p, int byte, std::size_t n) {
#ifdef SPACES_TEST_ASAN
  __asan_unpoison_memory_region(p, n);
#endif
  std::memset(p, byte, n);
}

inline spaces_stats_t stats_of(const spaces_heap_t* h) {
  spaces_stats_t s{};
  spaces_heap_stats(h, &s);
  return s;
}

/// Owns a heap for the length of a test.
class ScopedHeap {
 public:
  explicit ScopedHeap(const char* name, std::size_t cap = SPACES_UNCAPPED, spaces_discipline_t d = SPACES_GENERAL,
                      unsigned flags = 0, spaces_heap_t* parent = nullptr)
      : h_(make_heap(name, cap, d, flags, parent)) {}
  ~ScopedHeap() {
    if (spaces_heap_id(h_) != 0) spaces_heap_destroy(h_);
  }
  ScopedHeap(const ScopedHeap&) = delete;
  ScopedHeap& operator=(const ScopedHeap&) = delete;
  spaces_heap_t* get() const { return h_; }
  operator spaces_heap_t*() const { return h_; }  // NOLINT: test convenience

 private:
  spaces_heap_t* h_;
};

inline bool aligned(const void* p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

}  // namespace spaces_test

#endif  // SPACES_TESTS_TEST_UTIL_HPP
