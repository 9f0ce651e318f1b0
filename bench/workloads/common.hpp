// ---------------------------------------------------------------------------
// common.hpp: what every allocator workload in bench/workloads/ shares.
// Flag parsing (--name=value), a seeded generator, a compiler barrier that
// keeps malloc/free pairs from being optimised away, and the report format.
// The workloads call only plain malloc/free/realloc/new/delete so that any
// allocator can be put under them with LD_PRELOAD; nothing here links one.
//
// Output contract (run.py relies on it): every line on stdout is the same
// under every allocator, except the single last line, which starts with
// "time:" and carries the elapsed time, the throughput and the peak RSS.
// ---------------------------------------------------------------------------
#pragma once

#include <dlfcn.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace wl {

/// The shared object that serves malloc in this process (the file that
/// defines the "malloc" symbol the dynamic linker resolved), so that run.py
/// can check that LD_PRELOAD took effect: libc.so.6 means glibc.
inline const char* which_malloc() {
  Dl_info info{};
  void* sym = dlsym(RTLD_DEFAULT, "malloc");
  if (sym == nullptr || dladdr(sym, &info) == 0 || info.dli_fname == nullptr) return "unknown";
  return info.dli_fname;
}

// ---- Flags ----

struct Flag {
  const char* name;
  std::uint64_t value;
  const char* help;
};

/// Parses "--name=value" and "--name value" for the flags declared by a
/// workload; "--help" lists them. Values accept the suffixes K, M and G
/// (powers of 1024). An unknown flag or a bad number exits with status 2.
class Flags {
 public:
  Flags(const char* program, const char* about, std::initializer_list<Flag> flags)
      : program_(program), about_(about), flags_(flags) {}

  void parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (arg == "--help" || arg == "-h") usage(0);
      if (arg == "--which-malloc") {
        std::printf("%s\n", which_malloc());
        std::exit(0);
      }
      if (arg.substr(0, 2) != "--") fail("unexpected argument", arg);
      arg.remove_prefix(2);
      std::string_view value;
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        fail("missing value for", arg);
      }
      Flag* flag = find(arg);
      if (flag == nullptr) fail("unknown flag", arg);
      flag->value = parse_number(value);
    }
  }

  [[nodiscard]] std::uint64_t operator[](std::string_view name) const {
    for (const Flag& f : flags_)
      if (name == f.name) return f.value;
    std::fprintf(stderr, "%s: internal error: no flag %.*s\n", program_, static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }

  /// The settings line every workload prints first, e.g. "larson threads=2 ...".
  void print_settings() const {
    std::printf("%s", program_);
    for (const Flag& f : flags_) std::printf(" %s=%" PRIu64, f.name, f.value);
    std::printf("\n");
  }

 private:
  Flag* find(std::string_view name) {
    for (Flag& f : flags_)
      if (name == f.name) return &f;
    return nullptr;
  }

  std::uint64_t parse_number(std::string_view text) {
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
      v = v * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (i == 0) fail("not a number:", text);
    std::string_view suffix = text.substr(i);
    if (suffix == "K" || suffix == "k")
      v <<= 10;
    else if (suffix == "M" || suffix == "m")
      v <<= 20;
    else if (suffix == "G" || suffix == "g")
      v <<= 30;
    else if (!suffix.empty())
      fail("bad number suffix in", text);
    return v;
  }

  [[noreturn]] void fail(const char* what, std::string_view arg) const {
    std::fprintf(stderr, "%s: %s %.*s\n", program_, what, static_cast<int>(arg.size()), arg.data());
    usage(2);
  }

  [[noreturn]] void usage(int status) const {
    std::FILE* out = status == 0 ? stdout : stderr;
    std::fprintf(out, "%s: %s\nflags (--name=value; K/M/G suffixes):\n", program_, about_);
    for (const Flag& f : flags_)
      std::fprintf(out, "  --%-12s %s (default %" PRIu64 ")\n", f.name, f.help, f.value);
    std::fprintf(out, "  --which-malloc print which allocator serves malloc, then exit\n");
    std::exit(status);
  }

  const char* program_;
  const char* about_;
  std::vector<Flag> flags_;
};

// ---- Randomness ----

/// splitmix64: small, fast and good enough to pick sizes and slots. Every
/// thread owns one, seeded from (seed, round, thread), so the sequence of
/// requests a thread makes never depends on scheduling or on the allocator.
class Rng {
 public:
  explicit Rng(std::uint64_t seed, std::uint64_t a = 0, std::uint64_t b = 0)
      : state_(seed * 0x9E3779B97F4A7C15ull ^ (a + 1) * 0xBF58476D1CE4E5B9ull ^
               (b + 1) * 0x94D049BB133111EBull) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  /// Uniform in [lo, hi].
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  /// True with probability percent/100.
  bool chance(std::uint64_t percent) { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

// ---- Keeping the work honest ----

/// Makes the compiler assume p escapes and memory changed: GCC may otherwise
/// delete a malloc/free or new/delete pair whose block is never observed.
inline void escape(const void* p) { asm volatile("" : : "g"(p) : "memory"); }

/// A tag written into a block and checked before it is freed, so that a block
/// handed out twice or overwritten shows up as an error count, not as speed.
inline std::uint64_t tag_of(std::uint64_t size) {
  return (size * 0x9E3779B97F4A7C15ull) ^ 0x5A5A5A5A5A5A5A5Aull;
}

// ---- Threads ----

/// Runs body(t) for t in [0, n) on n threads and joins them. With n == 1 the
/// body runs on the main thread instead: a single-threaded workload must look
/// single-threaded to the allocator (glibc, for one, serves a second thread
/// from another arena with other trimming rules).
template <class Body>
void run_threads(std::uint64_t n, Body body) {
  if (n <= 1) {
    body(std::uint64_t{0});
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(n);
  for (std::uint64_t t = 0; t < n; ++t) workers.emplace_back(body, t);
  for (auto& w : workers) w.join();
}

// ---- Timing and reporting ----

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

/// Peak resident set of this process image, in KiB (VmHWM). getrusage() and
/// wait4() are no use here: Linux folds the RSS high-water mark of the process
/// that forked us (the Python runner) into ru_maxrss across exec.
inline long peak_rss_kib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::strncmp(line, "VmHWM:", 6) == 0) kib = std::strtol(line + 6, nullptr, 10);
  std::fclose(f);
  return kib;
}

/// The last line of every workload; run.py strips it before comparing outputs.
inline void report_time(double seconds, double ops) {
  std::printf("time: elapsed_s=%.6f ops_per_s=%.6g peak_rss_kib=%ld\n", seconds,
              seconds > 0 ? ops / seconds : 0.0, peak_rss_kib());
}

}  // namespace wl
