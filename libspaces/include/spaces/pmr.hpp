// ---------------------------------------------------------------------------
// pmr.hpp: standard-library adapters over a spaces heap.
//
// MemoryResource is a std::pmr::memory_resource over a heap (not owning it):
// std::pmr::vector, std::pmr::string and friends live in the heap and count
// against its cap. Allocator<T> is a plain STL allocator over a heap: it
// propagates on move assignment and swap, and two allocators compare equal
// only when they draw from the same heap. Both throw cap_exceeded at the cap.
// ---------------------------------------------------------------------------
#ifndef SPACES_PMR_HPP
#define SPACES_PMR_HPP

#include <spaces/heap.hpp>

#include <limits>
#include <memory_resource>
#include <new>
#include <type_traits>

namespace spaces {

/// A std::pmr::memory_resource over a heap, which must outlive it. Blocks
/// are freed individually in general heaps and at reset in region heaps.
class MemoryResource final : public std::pmr::memory_resource {
 public:
  explicit MemoryResource(Heap& heap) noexcept : heap_(heap.get()) {}
  explicit MemoryResource(spaces_heap_t* heap) noexcept : heap_(heap) {}

  spaces_heap_t* heap() const noexcept { return heap_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    void* p = alignment <= kDefaultAlignment ? spaces_alloc(heap_, bytes)
                                             : spaces_aligned_alloc(heap_, alignment, bytes);
    if (p == nullptr) detail::throw_alloc_failure(bytes);
    return p;
  }
  void do_deallocate(void* p, std::size_t, std::size_t) override { spaces_free(p); }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    auto* o = dynamic_cast<const MemoryResource*>(&other);
    return o != nullptr && o->heap_ == heap_;
  }

  spaces_heap_t* heap_;
};

/// An STL allocator drawing from a heap, which must outlive the container.
template <class T>
class Allocator {
 public:
  using value_type = T;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using propagate_on_container_copy_assignment = std::false_type;
  using is_always_equal = std::false_type;

  explicit Allocator(Heap& heap) noexcept : heap_(heap.get()) {}
  explicit Allocator(spaces_heap_t* heap) noexcept : heap_(heap) {}
  template <class U>
  Allocator(const Allocator<U>& other) noexcept : heap_(other.heap()) {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    void* p = alignof(T) <= kDefaultAlignment ? spaces_alloc(heap_, n * sizeof(T))
                                              : spaces_aligned_alloc(heap_, alignof(T), n * sizeof(T));
    if (p == nullptr) detail::throw_alloc_failure(n * sizeof(T));
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { spaces_free(p); }

  spaces_heap_t* heap() const noexcept { return heap_; }

  template <class U>
  friend bool operator==(const Allocator& a, const Allocator<U>& b) noexcept {
    return a.heap() == b.heap();
  }

 private:
  spaces_heap_t* heap_;
};

}  // namespace spaces

#endif  // SPACES_PMR_HPP
