// ---------------------------------------------------------------------------
// bench_common.hpp: the workload shared by every executable of the core
// allocator benchmark (alloc_teardown and its peer processes).
//
// Every variant runs the same loops on the same inputs: a fixed
// pseudo-random sequence of sizes in [32, 64], one 8-byte store into each
// new object and its pointer stored in an array, so the compiler cannot drop
// the work and every allocator's memory is touched the same way. Only the
// call that allocates (or frees, or destroys) differs. Inputs and outputs
// (sizes, pointer array, bump buffer) come from mmap, never from the
// allocator under test, and are faulted in before any timing.
//
// A child process reports its samples on stdout as lines
// "<key> <value> <value> ..."; alloc_teardown.cpp collects them.
// ---------------------------------------------------------------------------
#ifndef SPACES_BENCH_CORE_BENCH_COMMON_HPP
#define SPACES_BENCH_CORE_BENCH_COMMON_HPP

#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace bench {

inline constexpr std::size_t kMinSize = 32;
inline constexpr std::size_t kMaxSize = 64;
/// Alignment of every block: what malloc and spaces_alloc guarantee
/// (alignof(std::max_align_t)); the bump loop and the region use it too, so
/// all variants lay out the same bytes.
inline constexpr std::size_t kAlign = 16;
inline constexpr std::uint64_t kSeed = 0x5EED5EED2026ULL;

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "bench: %s\n", what);
  std::fflush(stderr);
  std::_Exit(2);
}

/// Monotonic clock in nanoseconds.
inline std::uint64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

/// `bytes` of anonymous memory, faulted in (touch = true) or left untouched.
inline void* map_bytes(std::size_t bytes, bool touch) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap failed");
  if (touch) std::memset(p, 0, bytes);
  return p;
}

/// An mmap'ed array of T, outside every allocator under test.
template <class T>
struct MappedArray {
  T* data = nullptr;
  std::size_t count = 0;
  explicit MappedArray(std::size_t n) : data(static_cast<T*>(map_bytes(n * sizeof(T), true))), count(n) {}
  ~MappedArray() { munmap(data, count * sizeof(T)); }
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  T& operator[](std::size_t i) noexcept { return data[i]; }
};

/// The size sequence: n sizes uniform in [kMinSize, kMaxSize] from a fixed
/// xorshift64* stream, identical in every process and for every variant.
inline void fill_sizes(MappedArray<std::uint8_t>& sizes) {
  std::uint64_t x = kSeed;
  for (std::size_t i = 0; i < sizes.count; ++i) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    const std::uint64_t r = x * 0x2545F4914F6CDD1DULL;
    sizes[i] = static_cast<std::uint8_t>(kMinSize + (r >> 32) % (kMaxSize - kMinSize + 1));
  }
}

/// The common allocation loop: allocate sizes[i], store i into the block,
/// keep the pointer. `alloc(size)` is the only thing that varies. Returns
/// the elapsed nanoseconds of the loop.
template <class Alloc>
inline std::uint64_t alloc_loop(Alloc&& alloc, const std::uint8_t* sizes, void** ptrs, std::size_t n) {
  const std::uint64_t t0 = now_ns();
  for (std::size_t i = 0; i < n; ++i) {
    void* p = alloc(static_cast<std::size_t>(sizes[i]));
    if (__builtin_expect(p == nullptr, 0)) die("allocation failed");
    *static_cast<std::uint64_t*>(p) = i;
    ptrs[i] = p;
  }
  benchmark::ClobberMemory();
  const std::uint64_t t1 = now_ns();
  benchmark::DoNotOptimize(ptrs);
  return t1 - t0;
}

/// The common one-by-one release loop, in allocation order.
template <class Free>
inline std::uint64_t free_loop(Free&& release, void** ptrs, std::size_t n) {
  const std::uint64_t t0 = now_ns();
  for (std::size_t i = 0; i < n; ++i) release(ptrs[i]);
  benchmark::ClobberMemory();
  return now_ns() - t0;
}

/// Times one call.
template <class F>
inline std::uint64_t time_call(F&& f) {
  benchmark::ClobberMemory();
  const std::uint64_t t0 = now_ns();
  f();
  benchmark::ClobberMemory();
  return now_ns() - t0;
}

// ---- Child protocol -------------------------------------------------------

/// Arguments of a child run: "--child <test> <variant> <n> <reps>".
struct ChildArgs {
  std::string test;     // "alloc" or "teardown"
  std::string variant;  // see the variant tables in alloc_teardown.cpp
  std::size_t n = 0;    // objects per round
  int reps = 0;         // measured rounds (alloc: after one cold round)
};

inline bool parse_child_args(int argc, char** argv, ChildArgs* out) {
  if (argc != 6 || std::strcmp(argv[1], "--child") != 0) return false;
  out->test = argv[2];
  out->variant = argv[3];
  out->n = std::strtoull(argv[4], nullptr, 10);
  out->reps = std::atoi(argv[5]);
  return out->n > 0 && out->reps > 0;
}

inline void emit(const char* key, const std::vector<double>& values) {
  std::printf("%s", key);
  for (double v : values) std::printf(" %.6g", v);
  std::printf("\n");
}

/// What an alloc child reports: the first round in the fresh process
/// ("cold", page faults included), then `reps` warm rounds; per round the
/// ns per allocation of the timed loop and ns per object of the untimed
/// release step (free each / reset / destroy) that prepares the next round.
struct AllocSamples {
  double cold_alloc = 0;
  std::vector<double> warm_alloc, warm_release;
  void print() const {
    emit("cold", {cold_alloc});
    emit("warm", warm_alloc);
    emit("release", warm_release);
  }
};

/// Runs an alloc child: round(k) returns {alloc ns, release ns} of round k.
template <class Round>
inline void run_alloc_child(const ChildArgs& a, Round&& round) {
  AllocSamples s;
  for (int k = 0; k <= a.reps; ++k) {
    const auto [ta, tr] = round(k);
    const double n = static_cast<double>(a.n);
    if (k == 0) {
      s.cold_alloc = static_cast<double>(ta) / n;
    } else {
      s.warm_alloc.push_back(static_cast<double>(ta) / n);
      s.warm_release.push_back(static_cast<double>(tr) / n);
    }
  }
  s.print();
}

/// Runs a teardown child: rep(k) fills a fresh container with n objects and
/// returns the ns of the timed teardown. Reports "first" (rep 0 in the fresh
/// process) and the rest as "warm".
template <class Rep>
inline void run_teardown_child(const ChildArgs& a, Rep&& rep) {
  std::vector<double> warm;
  double first = 0;
  for (int k = 0; k <= a.reps; ++k) {
    const double t = static_cast<double>(rep(k));
    if (k == 0) first = t;
    else warm.push_back(t);
  }
  emit("first", {first});
  emit("warm", warm);
}

}  // namespace bench

#endif  // SPACES_BENCH_CORE_BENCH_COMMON_HPP
