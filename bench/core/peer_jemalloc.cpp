// ---------------------------------------------------------------------------
// peer_jemalloc.cpp: a jemalloc arena as a peer of spaces heaps, in its own
// process because linking jemalloc replaces malloc process-wide (and with
// several such libraries the link order would decide). Same loops and inputs as alloc_teardown (bench_common.hpp).
//   teardown arena-destroy  arenas.create, fill with mallocx(MALLOCX_ARENA |
//                           MALLOCX_TCACHE_NONE), time arena.<i>.destroy
// ---------------------------------------------------------------------------
#include <jemalloc/jemalloc.h>

#include <string>

#include "bench_common.hpp"

namespace {

__attribute__((noinline)) std::uint64_t arena_round(unsigned arena, const std::uint8_t* sizes, void** ptrs,
                                                    std::size_t n) {
  const int flags = MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE;
  return bench::alloc_loop([flags](std::size_t size) { return mallocx(size, flags); }, sizes, ptrs, n);
}

}  // namespace

int main(int argc, char** argv) {
  bench::ChildArgs a;
  if (!bench::parse_child_args(argc, argv, &a)) bench::die("peer_jemalloc: run by alloc_teardown only");
  bench::MappedArray<std::uint8_t> sizes(a.n);
  bench::fill_sizes(sizes);
  bench::MappedArray<void*> ptrs(a.n);
  if (a.test == "teardown" && a.variant == "arena-destroy") {
    bench::run_teardown_child(a, [&](int) {
      unsigned arena = 0;
      std::size_t len = sizeof(arena);
      if (mallctl("arenas.create", &arena, &len, nullptr, 0) != 0) bench::die("arenas.create failed");
      arena_round(arena, sizes.data, ptrs.data, a.n);
      const std::string cmd = "arena." + std::to_string(arena) + ".destroy";
      return bench::time_call([&] {
        if (mallctl(cmd.c_str(), nullptr, nullptr, nullptr, 0) != 0) bench::die("arena destroy failed");
      });
    });
    return 0;
  }
  bench::die("peer_jemalloc: unknown configuration");
}
