// ---------------------------------------------------------------------------
// large.cpp: large blocks, in the spirit of mimalloc-bench's malloc-large.
// Each thread keeps a few slots of large blocks; each step frees the block in
// a random slot and allocates a new one of 64 KiB to 16 MiB (log-uniform, so
// every size range gets its share), then touches one byte in every 4 KiB page
// of it. An allocator that returns freed large blocks to the OS at once pays
// a page fault (and the kernel's zeroing) for every page touched here, where
// one that keeps and reuses them does not; that difference is the point.
// ---------------------------------------------------------------------------
#include <cmath>
#include <thread>

#include "common.hpp"

namespace {

constexpr std::size_t kPage = 4096;

}  // namespace

int main(int argc, char** argv) {
  wl::Flags flags("large", "64 KiB-16 MiB blocks allocated, touched and freed, repeatedly",
                  {{"threads", 1, "threads"},
                   {"iterations", 1000, "blocks each thread replaces"},
                   {"slots", 8, "live blocks per thread"},
                   {"min", 64 << 10, "smallest block in bytes"},
                   {"max", 16 << 20, "largest block in bytes"},
                   {"touch", 1, "1: write every 4 KiB page of a block; 0: its first and last byte only"},
                   {"seed", 42, "random seed"}});
  flags.parse(argc, argv);
  flags.print_settings();
  const std::uint64_t threads = flags["threads"] == 0 ? 1 : flags["threads"];
  const std::uint64_t iterations = flags["iterations"], nslots = flags["slots"] == 0 ? 1 : flags["slots"];
  const double lo = std::log(static_cast<double>(flags["min"] < 64 ? 64 : flags["min"]));
  const double hi = std::log(static_cast<double>(flags["max"] < flags["min"] ? flags["min"] : flags["max"]));
  const std::uint64_t seed = flags["seed"];
  // Without touching, what is measured is the allocator's own path: no page
  // faults, no kernel zeroing (mimalloc-bench's malloc-large is dominated
  // by them at these sizes).
  const bool touch = flags["touch"] != 0;

  wl::Stopwatch clock;
  std::vector<std::uint64_t> sums(threads), bytes(threads);
  wl::run_threads(threads, [&](std::uint64_t t) {
    wl::Rng rng(seed, t);
    std::vector<unsigned char*> slot(nslots, nullptr);
    std::vector<std::size_t> slot_size(nslots, 0);
    std::uint64_t sum = 0, total = 0;
    auto release = [&](std::size_t i) {
      if (slot[i] == nullptr) return;
      const std::size_t step = touch ? kPage : slot_size[i];
      for (std::size_t off = 0; off < slot_size[i]; off += step) sum += slot[i][off];
      sum += slot[i][slot_size[i] - 1];
      std::free(slot[i]);
    };
    for (std::uint64_t it = 0; it < iterations; ++it) {
      const std::size_t i = rng.below(nslots);
      // 53 random bits -> [0, 1): the size is exp(lo + u * (hi - lo)).
      const double u = static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
      const auto size = static_cast<std::size_t>(std::exp(lo + u * (hi - lo)));
      release(i);
      auto* p = static_cast<unsigned char*>(std::malloc(size));
      if (p == nullptr) {
        std::fprintf(stderr, "large: malloc(%zu) failed\n", size);
        std::exit(1);
      }
      const std::size_t step = touch ? kPage : size;
      for (std::size_t off = 0; off < size; off += step) p[off] = static_cast<unsigned char>(off / kPage + it);
      p[size - 1] = static_cast<unsigned char>(it);
      slot[i] = p;
      slot_size[i] = size;
      total += size;
    }
    for (std::size_t i = 0; i < nslots; ++i) release(i);
    sums[t] = sum;
    bytes[t] = total;
  });
  const double seconds = clock.seconds();

  std::uint64_t checksum = 0, total = 0;
  for (std::uint64_t t = 0; t < threads; ++t) {
    checksum += sums[t];
    total += bytes[t];
  }
  std::printf("blocks=%" PRIu64 " bytes=%" PRIu64 " checksum=%" PRIu64 "\n", threads * iterations, total,
              checksum);
  wl::report_time(seconds, static_cast<double>(threads * iterations));
  return 0;
}
