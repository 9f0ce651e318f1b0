// ---------------------------------------------------------------------------
// free_order.cpp: the cost of free() by the order blocks come back in.
//
// Allocates --blocks blocks of --size bytes (one byte written into each),
// then frees them all in one of three orders: 0 LIFO (the reverse of
// allocation), 1 FIFO (allocation order), 2 random (a fixed permutation made
// before the clock starts). Only the frees are timed. In random order every
// free lands in a different slab from the one before, so whatever per-slab
// metadata free() reads is a cache miss, and with 4 KiB pages a TLB miss,
// once the live set is larger than the caches: this is the cost the seed of
// spaces' design calls "a mandatory L1 miss on every free()".
//
//   wl_free_order [--blocks N] [--size B] [--order 0|1|2] [--rounds R]
// ---------------------------------------------------------------------------
#include "common.hpp"

int main(int argc, char** argv) {
  wl::Flags flags("free_order", "free() of many small blocks in LIFO, FIFO or random order",
                  {{"blocks", 4000000, "blocks allocated, then freed"},
                   {"size", 48, "bytes per block"},
                   {"order", 2, "0: LIFO, 1: FIFO, 2: random"},
                   {"rounds", 3, "allocate-then-free rounds (the times of all are summed)"},
                   {"seed", 42, "random seed"}});
  flags.parse(argc, argv);
  flags.print_settings();
  const std::size_t n = flags["blocks"], size = flags["size"] == 0 ? 1 : flags["size"];
  const std::uint64_t order = flags["order"], rounds = flags["rounds"] == 0 ? 1 : flags["rounds"];
  // The pointer array and the permutation come from the allocator under
  // test too, before any timing; that is fine: they are read in order.
  std::vector<void*> blocks(n);
  std::vector<std::uint32_t> perm(n);
  for (std::size_t i = 0; i < n; ++i) perm[i] = static_cast<std::uint32_t>(order == 0 ? n - 1 - i : i);
  if (order == 2) {
    wl::Rng rng(flags["seed"]);
    for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
  }
  double seconds = 0;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      auto* p = static_cast<unsigned char*>(std::malloc(size));
      if (p == nullptr) {
        std::fprintf(stderr, "free_order: malloc(%zu) failed\n", size);
        return 1;
      }
      p[0] = static_cast<unsigned char>(i);
      blocks[i] = p;
    }
    wl::Stopwatch clock;
    for (std::size_t i = 0; i < n; ++i) {
      std::free(blocks[perm[i]]);
    }
    seconds += clock.seconds();
  }
  // stdout must be the same under every allocator (run.py compares it); the
  // cost per free goes to stderr, and the time line has the frees' time.
  std::printf("frees=%" PRIu64 "\n", rounds * n);
  std::fprintf(stderr, "ns_per_free=%.2f\n", seconds * 1e9 / static_cast<double>(rounds * n));
  wl::report_time(seconds, static_cast<double>(rounds * n));
  return 0;
}
