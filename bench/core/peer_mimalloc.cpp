// ---------------------------------------------------------------------------
// peer_mimalloc.cpp: mimalloc's heap API as a peer of spaces heaps, in its
// own process because linking mimalloc replaces malloc process-wide. Same
// loops and inputs as alloc_teardown (bench_common.hpp);
// alloc_teardown runs it as a child and prints its numbers.
//   alloc    mi-heap          mi_heap_malloc; between rounds mi_heap_destroy + mi_heap_new
//   teardown mi-heap-destroy  mi_heap_new, fill, time mi_heap_destroy
// ---------------------------------------------------------------------------
#include <mimalloc.h>

#include <string>
#include <utility>

#include "bench_common.hpp"

namespace {

__attribute__((noinline)) std::uint64_t mi_round(mi_heap_t* h, const std::uint8_t* sizes, void** ptrs, std::size_t n) {
  return bench::alloc_loop([h](std::size_t size) { return mi_heap_malloc(h, size); }, sizes, ptrs, n);
}

}  // namespace

int main(int argc, char** argv) {
  bench::ChildArgs a;
  if (!bench::parse_child_args(argc, argv, &a)) bench::die("peer_mimalloc: run by alloc_teardown only");
  bench::MappedArray<std::uint8_t> sizes(a.n);
  bench::fill_sizes(sizes);
  bench::MappedArray<void*> ptrs(a.n);
  if (a.test == "alloc" && a.variant == "mi-heap") {
    mi_heap_t* h = mi_heap_new();
    bench::run_alloc_child(a, [&](int) {
      const std::uint64_t t = mi_round(h, sizes.data, ptrs.data, a.n);
      const std::uint64_t r = bench::time_call([&] {
        mi_heap_destroy(h);
        h = mi_heap_new();
      });
      return std::pair<std::uint64_t, std::uint64_t>{t, r};
    });
    mi_heap_destroy(h);
    return 0;
  }
  if (a.test == "teardown" && a.variant == "mi-heap-destroy") {
    bench::run_teardown_child(a, [&](int) {
      mi_heap_t* h = mi_heap_new();
      mi_round(h, sizes.data, ptrs.data, a.n);
      return bench::time_call([&] { mi_heap_destroy(h); });
    });
    return 0;
  }
  bench::die("peer_mimalloc: unknown configuration");
}
