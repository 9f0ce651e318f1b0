// ---------------------------------------------------------------------------
// mstress.cpp: a mixed stress load in the spirit of mimalloc's test-stress
// (Leijen et al., "Mimalloc: free list sharding in action", 2019): rounds of
// threads that allocate objects of random size (mostly 8-128 bytes, 1% of
// them 100x larger and a few 1000x or 10000x), free a random earlier object
// two times in three, keep some objects until the thread ends (long-lived),
// and one time in four swap an object of theirs with a slot of a shared
// transfer array, so that objects outlive their thread and are freed by
// threads of later rounds. Each thread's pointer array grows with realloc.
// Every object is filled with a pattern that is checked before it is freed.
// ---------------------------------------------------------------------------
#include <atomic>
#include <thread>

#include "common.hpp"

namespace {

constexpr std::size_t kTransferSlots = 1000;

struct Counters {
  std::atomic<std::uint64_t> objects{0}, words{0}, freed_words{0}, errors{0};
};

// An object of n words: word i holds tag_of(n) ^ i. Word 0 therefore encodes
// n, which free_object() recovers before checking the rest.
std::uint64_t* new_object(std::uint64_t n) {
  auto* p = static_cast<std::uint64_t*>(std::malloc(n * sizeof(std::uint64_t)));
  if (p == nullptr) {
    std::fprintf(stderr, "mstress: malloc of %" PRIu64 " words failed\n", n);
    std::exit(1);
  }
  const std::uint64_t tag = wl::tag_of(n);
  p[0] = n;
  for (std::uint64_t i = 1; i < n; ++i) p[i] = tag ^ i;
  return p;
}

std::uint64_t free_object(std::uint64_t* p, std::uint64_t& errors) {
  if (p == nullptr) return 0;
  const std::uint64_t n = p[0];
  const std::uint64_t tag = wl::tag_of(n);
  for (std::uint64_t i = 1; i < n; ++i)
    if (p[i] != (tag ^ i)) {
      ++errors;
      break;
    }
  std::free(p);
  return n;
}

// Mostly 1-16 words; 1% are 100x, and of those one in ten 1000x and one in a
// hundred 10000x (up to 1.25 MiB) when `large` is set.
std::uint64_t pick_words(wl::Rng& rng, unsigned max_shift, bool large) {
  std::uint64_t n = std::uint64_t{1} << rng.below(max_shift);
  if (rng.chance(1)) {
    if (large && rng.chance(1))
      n *= 10000;
    else if (large && rng.chance(10))
      n *= 1000;
    else
      n *= 100;
  }
  return n;
}

struct Local {
  std::uint64_t objects = 0, words = 0, freed = 0, errors = 0;
  std::uint64_t* make(wl::Rng& rng, unsigned max_shift, bool large) {
    const std::uint64_t n = pick_words(rng, max_shift, large);
    ++objects;
    words += n;
    return new_object(n);
  }
};

void stress(std::uint64_t tid, std::uint64_t round, std::uint64_t scale, std::uint64_t seed, bool large,
            std::vector<std::atomic<std::uint64_t*>>& transfer, Counters& counters) {
  wl::Rng rng(seed, round, tid);
  Local local;
  std::uint64_t to_make = 100 * scale * (tid % 8 + 1);  // some threads do more than others
  std::uint64_t to_keep = to_make / 2;
  const std::uint64_t keep_capacity = to_keep;

  auto** kept = static_cast<std::uint64_t**>(std::calloc(keep_capacity + 1, sizeof(std::uint64_t*)));
  std::uint64_t** live = nullptr;
  std::size_t live_count = 0, live_capacity = 0, kept_count = 0;
  if (kept == nullptr) std::exit(1);

  while (to_make > 0 || to_keep > 0) {
    if (to_keep == 0 || (to_make > 0 && rng.chance(50))) {
      if (live_count == live_capacity) {
        live_capacity += 1000;
        live = static_cast<std::uint64_t**>(std::realloc(live, live_capacity * sizeof(std::uint64_t*)));
        if (live == nullptr) std::exit(1);
      }
      live[live_count++] = local.make(rng, 5, large);
      --to_make;
    } else {
      kept[kept_count++] = local.make(rng, 7, large);
      --to_keep;
    }
    if (live_count > 0 && rng.chance(66)) {
      const std::uint64_t i = rng.below(live_count);
      local.freed += free_object(live[i], local.errors);
      live[i] = nullptr;
    }
    if (live_count > 0 && rng.chance(25)) {
      const std::uint64_t i = rng.below(live_count);
      live[i] = transfer[rng.below(kTransferSlots)].exchange(live[i], std::memory_order_acq_rel);
    }
  }
  for (std::size_t i = 0; i < kept_count; ++i) local.freed += free_object(kept[i], local.errors);
  for (std::size_t i = 0; i < live_count; ++i) local.freed += free_object(live[i], local.errors);
  std::free(kept);
  std::free(live);

  counters.objects += local.objects;
  counters.words += local.words;
  counters.freed_words += local.freed;
  counters.errors += local.errors;
}

}  // namespace

int main(int argc, char** argv) {
  wl::Flags flags(
      "mstress", "mixed sizes, long-lived objects and cross-thread transfer, in rounds",
      {{"threads", 2, "threads per round"},
       {"scale", 50, "work per thread (thread t makes 100*scale*(t%8+1) objects + half as many kept)"},
       {"iterations", 20, "rounds of fresh threads"},
       {"large", 1, "1: a few objects of 1000x and 10000x words; 0: none"},
       {"seed", 43, "random seed"}});
  flags.parse(argc, argv);
  flags.print_settings();
  const std::uint64_t threads = flags["threads"] == 0 ? 1 : flags["threads"];
  const std::uint64_t scale = flags["scale"], rounds = flags["iterations"], seed = flags["seed"];
  const bool large = flags["large"] != 0;

  wl::Stopwatch clock;
  std::vector<std::atomic<std::uint64_t*>> transfer(kTransferSlots);
  Counters counters;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    std::vector<std::thread> workers;
    for (std::uint64_t t = 0; t < threads; ++t)
      workers.emplace_back(stress, t, round, scale, seed, large, std::ref(transfer), std::ref(counters));
    for (auto& w : workers) w.join();
  }
  std::uint64_t errors = 0, freed = counters.freed_words;
  for (auto& slot : transfer) freed += free_object(slot.load(), errors);
  errors += counters.errors;
  const double seconds = clock.seconds();

  std::printf("objects=%" PRIu64 " words=%" PRIu64 " balanced=%s errors=%" PRIu64 "\n",
              counters.objects.load(), counters.words.load(), freed == counters.words ? "yes" : "NO", errors);
  wl::report_time(seconds, static_cast<double>(counters.objects));
  return errors == 0 && freed == counters.words ? 0 : 1;
}
