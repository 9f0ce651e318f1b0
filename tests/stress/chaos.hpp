// Chaos: a test hook (spaces_testhooks) that, at every protocol point, yields
// or sleeps at random. The decisions come from a per-thread generator seeded
// by SPACES_CHAOS_SEED and the thread's start order, so a seed names a run's
// choices (the OS still picks the schedule around them). SPACES_CHAOS_SECONDS
// bounds each workload; CI runs them briefly, and by hand they run as long as
// you like.
#ifndef SPACES_TESTS_CHAOS_HPP
#define SPACES_TESTS_CHAOS_HPP

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

extern "C" {
typedef void (*spaces_test_hook_fn)(const char* point, const void* object, void* arg);
void spaces_test_set_hook(spaces_test_hook_fn fn, void* arg) noexcept;
}

namespace spaces_test::chaos {

inline std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

inline std::uint64_t seed() {
  static const std::uint64_t s = env_u64("SPACES_CHAOS_SEED", 20261201);
  return s;
}

/// How long each workload runs.
inline std::chrono::milliseconds duration() {
  return std::chrono::milliseconds(env_u64("SPACES_CHAOS_SECONDS", 5) * 1000);
}

inline std::atomic<std::uint64_t> g_thread_ordinal{0};
inline std::atomic<std::uint64_t> g_points{0};
inline std::atomic<std::uint64_t> g_sleeps{0};

inline std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// At each point: 1 in 16 sleeps up to 50 microseconds, 4 in 16 yield.
inline void hook(const char*, const void*, void*) {
  thread_local std::uint64_t state = 0;
  if (state == 0) state = splitmix(seed() ^ (g_thread_ordinal.fetch_add(1) + 1) * 0x2545F4914F6CDD1Dull) | 1;
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  g_points.fetch_add(1, std::memory_order_relaxed);
  const unsigned pick = static_cast<unsigned>(state % 16);
  if (pick == 0) {
    g_sleeps.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::sleep_for(std::chrono::microseconds(1 + (state >> 40) % 50));
  } else if (pick <= 4) {
    std::this_thread::yield();
  }
}

/// Installs the hook for a scope and reports what it did.
class Scope {
 public:
  Scope() {
    std::fprintf(stderr, "chaos: SPACES_CHAOS_SEED=%llu\n", static_cast<unsigned long long>(seed()));
    spaces_test_set_hook(&hook, nullptr);
  }
  ~Scope() {
    spaces_test_set_hook(nullptr, nullptr);
    std::fprintf(stderr, "chaos: %llu protocol points reached, %llu sleeps\n",
                 static_cast<unsigned long long>(g_points.load()), static_cast<unsigned long long>(g_sleeps.load()));
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
};

}  // namespace spaces_test::chaos

#endif  // SPACES_TESTS_CHAOS_HPP
