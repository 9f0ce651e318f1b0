// ---------------------------------------------------------------------------
// larson.cpp: a server simulation in the spirit of Larson and Krishnan's
// benchmark ("Memory allocation for long-running server applications",
// ISMM 1998). A shared array of slots holds live blocks of random size. Each
// thread repeatedly replaces the block in a random slot: it allocates a new
// block, swaps it into the slot and frees the block it took out. Threads work
// mostly in their own slice of the array, but --share percent of the swaps
// pick any slot, so live threads free each other's blocks. After each round
// the threads exit and fresh threads take over the slices, shifted by one, so
// every round starts by freeing what a dead thread allocated (the original
// benchmark's thread replacement). The initial blocks come from main().
//
// Unlike the original, the work is fixed (rounds x ops), not the time, so the
// printed totals are the same under every allocator and the time is the score.
// ---------------------------------------------------------------------------
#include <atomic>
#include <thread>

#include "common.hpp"

namespace {

struct Totals {
  std::atomic<std::uint64_t> freed_bytes{0};
  std::atomic<std::uint64_t> errors{0};
};

// Every block starts with its size and a tag; freeing checks both.
void* make_block(std::uint64_t size) {
  auto* p = static_cast<std::uint64_t*>(std::malloc(size));
  if (p == nullptr) {
    std::fprintf(stderr, "larson: malloc(%" PRIu64 ") failed\n", size);
    std::exit(1);
  }
  p[0] = size;
  p[1] = wl::tag_of(size);
  return p;
}

std::uint64_t drop_block(void* block, Totals& totals) {
  auto* p = static_cast<std::uint64_t*>(block);
  const std::uint64_t size = p[0];
  if (p[1] != wl::tag_of(size)) totals.errors.fetch_add(1, std::memory_order_relaxed);
  std::free(p);
  return size;
}

}  // namespace

int main(int argc, char** argv) {
  wl::Flags flags("larson", "threads replace random-sized blocks in a shared slot array",
                  {{"threads", 2, "threads per round"},
                   {"rounds", 20, "rounds; each starts fresh threads on shifted slices"},
                   {"ops", 100000, "block replacements per thread per round"},
                   {"slots", 5000, "slots per thread"},
                   {"min", 16, "smallest block in bytes (>= 16)"},
                   {"max", 1000, "largest block in bytes"},
                   {"share", 10, "percent of replacements that pick any slot, not an own one"},
                   {"seed", 4141, "random seed"}});
  flags.parse(argc, argv);
  flags.print_settings();
  const std::uint64_t threads = flags["threads"] == 0 ? 1 : flags["threads"];
  const std::uint64_t rounds = flags["rounds"], ops = flags["ops"];
  const std::uint64_t slots_per_thread = flags["slots"], share = flags["share"], seed = flags["seed"];
  const std::uint64_t min_size = flags["min"] < 16 ? 16 : flags["min"];
  const std::uint64_t max_size = flags["max"] < min_size ? min_size : flags["max"];
  const std::uint64_t nslots = threads * slots_per_thread;

  wl::Stopwatch clock;
  Totals totals;
  std::vector<std::atomic<void*>> slots(nslots);
  std::uint64_t allocated_bytes = 0;
  wl::Rng init_rng(seed);
  for (auto& s : slots) {
    const std::uint64_t size = init_rng.between(min_size, max_size);
    allocated_bytes += size;
    s.store(make_block(size), std::memory_order_relaxed);
  }

  std::vector<std::uint64_t> thread_bytes(threads);
  for (std::uint64_t round = 0; round < rounds; ++round) {
    std::vector<std::thread> workers;
    for (std::uint64_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t, round] {
        wl::Rng rng(seed, round + 1, t);
        const std::uint64_t base = ((t + round) % threads) * slots_per_thread;
        std::uint64_t bytes = 0, freed = 0;
        for (std::uint64_t i = 0; i < ops; ++i) {
          const std::uint64_t size = rng.between(min_size, max_size);
          const std::uint64_t slot =
              rng.chance(share) ? rng.below(nslots) : base + rng.below(slots_per_thread);
          bytes += size;
          void* old = slots[slot].exchange(make_block(size), std::memory_order_acq_rel);
          freed += drop_block(old, totals);
        }
        thread_bytes[t] += bytes;
        totals.freed_bytes.fetch_add(freed, std::memory_order_relaxed);
      });
    }
    for (auto& w : workers) w.join();
  }
  for (auto& s : slots) totals.freed_bytes += drop_block(s.load(std::memory_order_relaxed), totals);
  const double seconds = clock.seconds();

  for (std::uint64_t b : thread_bytes) allocated_bytes += b;
  const std::uint64_t replacements = threads * rounds * ops;
  std::printf("replacements=%" PRIu64 " allocated_bytes=%" PRIu64 " balanced=%s errors=%" PRIu64 "\n",
              replacements, allocated_bytes, totals.freed_bytes == allocated_bytes ? "yes" : "NO",
              totals.errors.load());
  wl::report_time(seconds, static_cast<double>(replacements));
  return totals.errors == 0 && totals.freed_bytes == allocated_bytes ? 0 : 1;
}
