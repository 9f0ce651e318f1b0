// ---------------------------------------------------------------------------
// alloc_teardown.cpp: the first benchmark of the core allocator (issue 2).
//
// Run without arguments it is the driver: it runs every configuration
// (variant x object count) as a child process, several rounds in rotating,
// interleaved order, and prints one table of medians with the ratios the
// issue sets as targets: region/bump <= 1.1 and general/glibc <= 1.0 per
// allocation of 32-64 B objects; glibc free one by one / spaces destroy
// >= 1000 at 1 M objects. A fresh process per configuration keeps the
// allocators apart: peers that replace malloc (jemalloc, mimalloc,
// tcmalloc) run this same executable under LD_PRELOAD, and the heap APIs of
// mimalloc and jemalloc run in their own executables (peer_mimalloc,
// peer_jemalloc), which link them. Run with "--child ..." it measures one
// configuration and prints raw samples (bench_common.hpp).
// ---------------------------------------------------------------------------
#include <sched.h>
#include <spaces/spaces.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bench_common.hpp"

namespace {

using bench::ChildArgs;
using bench::MappedArray;

// ---- Child: spaces, bump and the process malloc ------------------------------

/// Slab cache for the measurements ("slabs retained in the cache"): large
/// enough for 10 M objects, whatever SPACES_SLAB_CACHE says.
constexpr long long kBigSlabCache = 4LL << 30;
/// The library's documented default, for the "default cache" variant.
constexpr long long kDefaultSlabCache = 256LL << 20;

spaces_heap_t* make_heap(spaces_discipline_t d, unsigned flags) {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.discipline = d;
  o.flags = flags;
  o.name = "bench";
  spaces_heap_t* h = nullptr;
  if (spaces_heap_create(&o, &h) != SPACES_OK) bench::die("spaces_heap_create failed");
  return h;
}

void check_ok(spaces_status_t s, const char* what) {
  if (s != SPACES_OK) bench::die(what);
}

/// The hand-written bump allocator over a preallocated buffer: the limit.
/// Its state lives in locals of the loop (registers); the capacity check is
/// kept, as any real bump allocator has one.
__attribute__((noinline)) std::uint64_t bump_round(char* base, std::size_t bytes, const std::uint8_t* sizes, void** ptrs, std::size_t n) {
  char* cur = base;
  char* const end = base + bytes;
  return bench::alloc_loop(
      [&](std::size_t size) -> void* {
        auto p = (reinterpret_cast<std::uintptr_t>(cur) + (bench::kAlign - 1)) & ~(bench::kAlign - 1);
        if (__builtin_expect(p + size > reinterpret_cast<std::uintptr_t>(end), 0)) return nullptr;
        cur = reinterpret_cast<char*>(p + size);
        return reinterpret_cast<void*>(p);
      },
      sizes, ptrs, n);
}

/// The same bump allocator with its state in memory behind a pointer, as a
/// library's cursor is: the compiler must reload and store cur on every
/// allocation because the stores into the objects and the pointer array may
/// alias it. Diagnostic row: it separates that cost from the allocator's.
struct BumpState {
  char* cur;
  char* end;
};

__attribute__((noinline)) std::uint64_t bump_mem_round(BumpState* st, const std::uint8_t* sizes, void** ptrs,
                                                       std::size_t n) {
  return bench::alloc_loop(
      [st](std::size_t size) -> void* {
        auto p = (reinterpret_cast<std::uintptr_t>(st->cur) + (bench::kAlign - 1)) & ~(bench::kAlign - 1);
        if (__builtin_expect(p + size > reinterpret_cast<std::uintptr_t>(st->end), 0)) return nullptr;
        st->cur = reinterpret_cast<char*>(p + size);
        return reinterpret_cast<void*>(p);
      },
      sizes, ptrs, n);
}

/// The same again with the two counters spaces_cursor_alloc keeps per
/// allocation (blocks and requested bytes). Diagnostic row: with
/// bump-mem it splits the region's cost into "cursor in memory" and
/// "statistics on the fast path".
struct CountedBumpState {
  char* cur;
  char* end;
  std::size_t count;
  std::size_t requested;
};

__attribute__((noinline)) std::uint64_t bump_counted_round(CountedBumpState* st, const std::uint8_t* sizes,
                                                           void** ptrs, std::size_t n) {
  return bench::alloc_loop(
      [st](std::size_t size) -> void* {
        auto p = (reinterpret_cast<std::uintptr_t>(st->cur) + (bench::kAlign - 1)) & ~(bench::kAlign - 1);
        if (__builtin_expect(p + size > reinterpret_cast<std::uintptr_t>(st->end), 0)) return nullptr;
        st->cur = reinterpret_cast<char*>(p + size);
        st->count++;
        st->requested += size;
        return reinterpret_cast<void*>(p);
      },
      sizes, ptrs, n);
}

__attribute__((noinline)) std::uint64_t region_round(spaces_heap_t* h, const std::uint8_t* sizes, void** ptrs,
                                                     std::size_t n) {
  spaces_cursor_t* c = spaces_region_cursor(h);
  if (c == nullptr) bench::die("spaces_region_cursor failed");
  return bench::alloc_loop([c](std::size_t size) { return spaces_cursor_alloc(c, size, bench::kAlign); }, sizes,
                           ptrs, n);
}

__attribute__((noinline)) std::uint64_t general_round(spaces_heap_t* h, const std::uint8_t* sizes, void** ptrs,
                                                      std::size_t n) {
  return bench::alloc_loop([h](std::size_t size) { return spaces_alloc(h, size); }, sizes, ptrs, n);
}

__attribute__((noinline)) std::uint64_t malloc_round(const std::uint8_t* sizes, void** ptrs, std::size_t n) {
  return bench::alloc_loop([](std::size_t size) { return std::malloc(size); }, sizes, ptrs, n);
}

/// Untimed sanity check after a fill: every block still holds its index
/// and the heap counts exactly n live blocks (a wrong count or an overlap
/// would be a library bug, not a benchmark result).
void verify_fill(spaces_heap_t* h, void* const* ptrs, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (*static_cast<const std::uint64_t*>(ptrs[i]) != i) bench::die("verify: a block lost its contents");
  if (h == nullptr) return;
  spaces_stats_t st;
  check_ok(spaces_heap_stats(h, &st), "spaces_heap_stats");
  if (st.live_blocks != n || st.alloc_count != n) {
    std::fprintf(stderr, "verify: live_blocks %zu alloc_count %zu, expected %zu\n", st.live_blocks, st.alloc_count, n);
    bench::die("verify: heap stats do not match the fill");
  }
}

int run_alloc(const ChildArgs& a) {
  MappedArray<std::uint8_t> sizes(a.n);
  bench::fill_sizes(sizes);
  MappedArray<void*> ptrs(a.n);
  const std::string& v = a.variant;
  check_ok(spaces_option_set(SPACES_OPTION_SLAB_CACHE, kBigSlabCache), "spaces_option_set");

  if (v == "bump" || v == "bump-mem" || v == "bump-counted") {
    // Untouched until the first (cold) round, like fresh slabs or fresh heap.
    const std::size_t bytes = a.n * (bench::kMaxSize + bench::kAlign);
    char* buf = static_cast<char*>(bench::map_bytes(bytes, false));
    BumpState st{buf, buf + bytes};
    CountedBumpState cst{buf, buf + bytes, 0, 0};
    bench::run_alloc_child(a, [&](int k) {
      std::uint64_t t;
      if (v == "bump") {
        t = bump_round(buf, bytes, sizes.data, ptrs.data, a.n);
      } else if (v == "bump-mem") {
        st.cur = buf;
        t = bump_mem_round(&st, sizes.data, ptrs.data, a.n);
      } else {
        cst = CountedBumpState{buf, buf + bytes, 0, 0};
        t = bump_counted_round(&cst, sizes.data, ptrs.data, a.n);
      }
      if (k == 0) verify_fill(nullptr, ptrs.data, a.n);
      return std::pair<std::uint64_t, std::uint64_t>{t, 0};  // reset: one store
    });
    return 0;
  }
  if (v == "region" || v == "general" || v == "general-st" || v == "general-free") {
    const bool region = v == "region";
    spaces_heap_t* h = make_heap(region ? SPACES_REGION : SPACES_GENERAL,
                                 v == "general-st" ? SPACES_HEAP_SINGLE_THREADED : 0u);
    bench::run_alloc_child(a, [&](int k) {
      const std::uint64_t t = region ? region_round(h, sizes.data, ptrs.data, a.n)
                                     : general_round(h, sizes.data, ptrs.data, a.n);
      if (k == 0) verify_fill(h, ptrs.data, a.n);
      std::uint64_t r;
      if (v == "general-free") r = bench::free_loop([](void* p) { spaces_free(p); }, ptrs.data, a.n);
      else r = bench::time_call([&] { check_ok(spaces_heap_reset(h), "spaces_heap_reset"); });
      return std::pair<std::uint64_t, std::uint64_t>{t, r};
    });
    check_ok(spaces_heap_destroy(h), "spaces_heap_destroy");
    return 0;
  }
  if (v == "malloc") {
    bench::run_alloc_child(a, [&](int k) {
      const std::uint64_t t = malloc_round(sizes.data, ptrs.data, a.n);
      if (k == 0) verify_fill(nullptr, ptrs.data, a.n);
      const std::uint64_t r = bench::free_loop([](void* p) { std::free(p); }, ptrs.data, a.n);
      return std::pair<std::uint64_t, std::uint64_t>{t, r};
    });
    return 0;
  }
  bench::die("unknown alloc variant");
}

int run_teardown(const ChildArgs& a) {
  MappedArray<std::uint8_t> sizes(a.n);
  bench::fill_sizes(sizes);
  MappedArray<void*> ptrs(a.n);
  const std::string& v = a.variant;
  check_ok(spaces_option_set(SPACES_OPTION_SLAB_CACHE, v == "general-destroy-defcache" ? kDefaultSlabCache
                                                                                        : kBigSlabCache),
           "spaces_option_set");

  if (v == "general-destroy" || v == "region-destroy" || v == "general-destroy-defcache" ||
      v == "general-free") {
    const bool region = v == "region-destroy";
    bench::run_teardown_child(a, [&](int k) {
      spaces_heap_t* h = make_heap(region ? SPACES_REGION : SPACES_GENERAL, 0u);
      if (region) region_round(h, sizes.data, ptrs.data, a.n);
      else general_round(h, sizes.data, ptrs.data, a.n);
      if (k == 0) verify_fill(h, ptrs.data, a.n);
      std::uint64_t t;
      if (v == "general-free") {
        t = bench::free_loop([](void* p) { spaces_free(p); }, ptrs.data, a.n);
        check_ok(spaces_heap_destroy(h), "spaces_heap_destroy");
      } else {
        t = bench::time_call([&] { check_ok(spaces_heap_destroy(h), "spaces_heap_destroy"); });
      }
      return t;
    });
    return 0;
  }
  if (v == "malloc-free") {
    bench::run_teardown_child(a, [&](int) {
      malloc_round(sizes.data, ptrs.data, a.n);
      return bench::free_loop([](void* p) { std::free(p); }, ptrs.data, a.n);
    });
    return 0;
  }
  bench::die("unknown teardown variant");
}

// ---- Driver -------------------------------------------------------------------

struct Config {
  std::string test;     // alloc | teardown
  std::string label;    // row label
  std::string exe;      // alloc_teardown | peer_mimalloc | peer_jemalloc
  std::string variant;  // child variant
  std::size_t n;
  int reps;
  std::string preload;  // LD_PRELOAD library or ""
};

struct Result {
  std::vector<double> first;    // alloc: cold round; teardown: rep 0 (one per process)
  std::vector<double> warm;     // all warm samples of all processes
  std::vector<double> release;  // alloc only
  std::vector<double> proc_medians;
  bool failed = false;
  std::string error;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string dir_of_self() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) bench::die("readlink /proc/self/exe failed");
  buf[n] = '\0';
  std::string s(buf);
  return s.substr(0, s.rfind('/'));
}

bool file_exists(const std::string& p) { return access(p.c_str(), R_OK) == 0; }

void run_child(const std::string& dir, const Config& c, Result* r) {
  std::string cmd;
  if (!c.preload.empty()) cmd += "LD_PRELOAD=" + c.preload + " ";
  cmd += dir + "/" + c.exe + " --child " + c.test + " " + c.variant + " " + std::to_string(c.n) + " " +
         std::to_string(c.reps) + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) {
    r->failed = true;
    r->error = "popen failed";
    return;
  }
  std::map<std::string, std::vector<double>> got;
  std::string other;
  char line[1 << 16];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    char* save = nullptr;
    char* key = strtok_r(line, " \n", &save);
    if (key == nullptr) continue;
    if (std::strcmp(key, "cold") && std::strcmp(key, "warm") && std::strcmp(key, "release") &&
        std::strcmp(key, "first")) {
      other += key;
      other += ' ';
      continue;
    }
    std::vector<double>& vals = got[key];
    while (char* t = strtok_r(nullptr, " \n", &save)) vals.push_back(std::strtod(t, nullptr));
  }
  const int status = pclose(f);
  if (status != 0 || got["warm"].empty()) {
    r->failed = true;
    r->error = "child failed (status " + std::to_string(status) + "): " + other;
    return;
  }
  for (double x : got[c.test == "alloc" ? "cold" : "first"]) r->first.push_back(x);
  for (double x : got["release"]) r->release.push_back(x);
  r->proc_medians.push_back(median(got["warm"]));
  for (double x : got["warm"]) r->warm.push_back(x);
}

/// The lowest per-process median: what an undisturbed process measures on a
/// shared machine (printed next to the median, never instead of it).
double best(const Result& r) {
  return r.proc_medians.empty() ? 0.0 : *std::min_element(r.proc_medians.begin(), r.proc_medians.end());
}

std::string spread(const Result& r) {
  const double m = median(r.warm);
  if (r.proc_medians.size() < 2 || m <= 0) return "";
  const auto [lo, hi] = std::minmax_element(r.proc_medians.begin(), r.proc_medians.end());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.0f%%/%+.0f%%", (*lo / m - 1) * 100, (*hi / m - 1) * 100);
  return buf;
}

void usage() {
  std::fprintf(stderr,
               "usage: alloc_teardown [--rounds R] [--quick] [--only alloc|teardown] [--no-peers] [--cpu C]\n"
               "  R rounds (default 5); each runs every configuration once, as a child\n"
               "  process, in rotating order. --quick: fewer repetitions and no 10 M run.\n"
               "  --cpu C: pin every child process to CPU C.\n");
}

}  // namespace

int main(int argc, char** argv) {
  ChildArgs ca;
  if (bench::parse_child_args(argc, argv, &ca)) {
    if (ca.test == "alloc") return run_alloc(ca);
    if (ca.test == "teardown") return run_teardown(ca);
    bench::die("unknown test");
  }
  int rounds = 5, cpu = -1;
  bool quick = false, peers = true;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    if (s == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (s == "--quick") quick = true;
    else if (s == "--no-peers") peers = false;
    else if (s == "--only" && i + 1 < argc) only = argv[++i];
    else if (s == "--cpu" && i + 1 < argc) cpu = std::atoi(argv[++i]);
    else {
      usage();
      return 2;
    }
  }
  if (rounds < 1) rounds = 1;
  if (cpu >= 0) {
    // Children inherit the mask.
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<std::size_t>(cpu), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) bench::die("sched_setaffinity failed (--cpu)");
  }

  const std::string dir = dir_of_self();
  const std::string lib = "/usr/lib/x86_64-linux-gnu/";
  const std::string je = lib + "libjemalloc.so.2", mi = lib + "libmimalloc.so.2",
                    tc = lib + "libtcmalloc_minimal.so.4";
  const bool have_je = peers && file_exists(je), have_mi = peers && file_exists(mi),
             have_tc = peers && file_exists(tc);
  const bool have_peer_mi = peers && file_exists(dir + "/peer_mimalloc");
  const bool have_peer_je = peers && file_exists(dir + "/peer_jemalloc");

  std::vector<Config> cfg;
  const std::string self = "alloc_teardown";
  const std::string hardened = "alloc_teardown_hardened";
  const bool have_hardened = file_exists(dir + "/" + hardened);
  if (only.empty() || only == "alloc") {
    const std::vector<std::pair<std::size_t, int>> ns = {{16384, quick ? 100 : 400}, {1 << 20, quick ? 4 : 12}};
    for (auto [n, reps] : ns) {
      cfg.push_back({"alloc", "bump pointer (limit)", self, "bump", n, reps, ""});
      cfg.push_back({"alloc", "bump, state in memory", self, "bump-mem", n, reps, ""});
      cfg.push_back({"alloc", "bump, in memory + 2 counters", self, "bump-counted", n, reps, ""});
      cfg.push_back({"alloc", "spaces region (cursor)", self, "region", n, reps, ""});
      cfg.push_back({"alloc", "spaces general", self, "general", n, reps, ""});
      cfg.push_back({"alloc", "spaces general, single-thr.", self, "general-st", n, reps, ""});
      cfg.push_back({"alloc", "spaces general, free each", self, "general-free", n, reps, ""});
      if (have_hardened) {
        cfg.push_back({"alloc", "spaces general, hardened", hardened, "general", n, reps, ""});
        cfg.push_back({"alloc", "spaces general, free each, hardened", hardened, "general-free", n, reps, ""});
      }
      cfg.push_back({"alloc", "glibc malloc", self, "malloc", n, reps, ""});
      if (have_je) cfg.push_back({"alloc", "jemalloc malloc", self, "malloc", n, reps, je});
      if (have_mi) cfg.push_back({"alloc", "mimalloc malloc", self, "malloc", n, reps, mi});
      if (have_tc) cfg.push_back({"alloc", "tcmalloc malloc", self, "malloc", n, reps, tc});
      if (have_peer_mi) cfg.push_back({"alloc", "mimalloc mi_heap_malloc", "peer_mimalloc", "mi-heap", n, reps, ""});
    }
  }
  if (only.empty() || only == "teardown") {
    std::vector<std::pair<std::size_t, int>> ns = {{1000000, quick ? 2 : 4}};
    if (!quick) ns.push_back({10000000, 2});
    for (auto [n, reps] : ns) {
      cfg.push_back({"teardown", "spaces general: destroy", self, "general-destroy", n, reps, ""});
      cfg.push_back({"teardown", "spaces region: destroy", self, "region-destroy", n, reps, ""});
      cfg.push_back({"teardown", "spaces general: destroy, 256M cache", self, "general-destroy-defcache", n, reps, ""});
      cfg.push_back({"teardown", "spaces general: spaces_free each", self, "general-free", n, reps, ""});
      cfg.push_back({"teardown", "glibc: free each", self, "malloc-free", n, reps, ""});
      if (have_je) cfg.push_back({"teardown", "jemalloc: free each", self, "malloc-free", n, reps, je});
      if (have_mi) cfg.push_back({"teardown", "mimalloc: free each", self, "malloc-free", n, reps, mi});
      if (have_tc) cfg.push_back({"teardown", "tcmalloc: free each", self, "malloc-free", n, reps, tc});
      if (have_peer_mi) cfg.push_back({"teardown", "mimalloc: mi_heap_destroy", "peer_mimalloc", "mi-heap-destroy", n, reps, ""});
      if (have_peer_je) cfg.push_back({"teardown", "jemalloc: arena destroy", "peer_jemalloc", "arena-destroy", n, reps, ""});
    }
  }

  std::vector<Result> res(cfg.size());
  for (int r = 0; r < rounds; ++r) {
    std::fprintf(stderr, "round %d/%d", r + 1, rounds);
    // Rotate the order each round so no configuration always runs first.
    const std::size_t start = cfg.empty() ? 0 : (static_cast<std::size_t>(r) * 7) % cfg.size();
    for (std::size_t k = 0; k < cfg.size(); ++k) {
      const std::size_t i = (start + k) % cfg.size();
      if (!res[i].failed) run_child(dir, cfg[i], &res[i]);
      std::fprintf(stderr, ".");
    }
    std::fprintf(stderr, "\n");
  }

  std::printf("spaces core allocator benchmark: sizes uniform in [%zu, %zu] B (fixed sequence), align %zu,\n",
              bench::kMinSize, bench::kMaxSize, bench::kAlign);
  std::printf("one store into each object and its pointer kept; %d rounds, each configuration a fresh\n", rounds);
  std::printf("process per round, interleaved; medians over all samples; spread = lowest/highest\n");
  std::printf("per-process median relative to the overall median; best = lowest per-process median.\n");
  std::printf("Slab cache %lld MiB unless noted.\n",
              kBigSlabCache >> 20);
  if (cpu >= 0) std::printf("All processes pinned to CPU %d.\n", cpu);
  else std::printf("Processes not pinned.\n");

  auto find = [&](const std::string& test, const std::string& label, std::size_t n) -> const Result* {
    for (std::size_t i = 0; i < cfg.size(); ++i)
      if (cfg[i].test == test && cfg[i].label == label && cfg[i].n == n && !res[i].failed) return &res[i];
    return nullptr;
  };
  std::vector<std::string> verdicts;
  auto verdict = [&](const char* what, std::size_t n, double ratio, bool met, const char* target) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %-34s n=%-9zu %10.3f   target %s: %s", what, n, ratio, target,
                  met ? "MET" : "MISSED");
    verdicts.push_back(buf);
  };

  std::size_t last_n = 0;
  bool header = false;
  for (std::size_t i = 0; i < cfg.size(); ++i) {
    const Config& c = cfg[i];
    if (c.test != "alloc") continue;
    if (!header) {
      std::printf("\nAllocation: ns per allocation (warm: heap reused, released between rounds;\n"
                  "release: ns/object of that release step, untimed in 'warm'; cold: first round\n"
                  "in a fresh process, page faults included)\n");
      std::printf("%-9s %-36s %8s %9s %7s %8s %8s %8s %9s\n", "objects", "variant", "warm ns", "spread", "best",
                  "release", "cold ns", "vs bump", "vs glibc");
      header = true;
    }
    if (c.n != last_n && last_n != 0) std::printf("\n");
    last_n = c.n;
    const Result& r = res[i];
    if (r.failed) {
      std::printf("%-9zu %-36s FAILED: %s\n", c.n, c.label.c_str(), r.error.c_str());
      continue;
    }
    const double w = median(r.warm);
    const Result* bump = find("alloc", "bump pointer (limit)", c.n);
    const Result* glibc = find("alloc", "glibc malloc", c.n);
    std::printf("%-9zu %-36s %8.2f %9s %7.2f %8.2f %8.2f %8.2f %9.2f\n", c.n, c.label.c_str(), w,
                spread(r).c_str(), best(r), median(r.release), median(r.first), bump ? w / median(bump->warm) : 0.0,
                glibc ? w / median(glibc->warm) : 0.0);
  }
  for (std::size_t n : {std::size_t{16384}, std::size_t{1} << 20}) {
    const Result *bump = find("alloc", "bump pointer (limit)", n), *region = find("alloc", "spaces region (cursor)", n),
                 *gen = find("alloc", "spaces general", n), *glibc = find("alloc", "glibc malloc", n);
    if (bump && region) {
      const double x = median(region->warm) / median(bump->warm);
      char target[96];
      std::snprintf(target, sizeof target, "<= 1.1 (best/best %.2f)", best(*region) / best(*bump));
      verdict("region / bump (alloc, warm)", n, x, x <= 1.1, target);
    }
    if (gen && glibc) {
      const double x = median(gen->warm) / median(glibc->warm);
      char target[96];
      std::snprintf(target, sizeof target, "<= 1.0 (best/best %.2f)", best(*gen) / best(*glibc));
      verdict("general / glibc (alloc, warm)", n, x, x <= 1.0, target);
      const double c = median(gen->first) / median(glibc->first);
      char buf[256];
      std::snprintf(buf, sizeof buf, "  %-34s n=%-9zu %10.2f   no target (first round, page faults)",
                    "general / glibc (alloc, cold)", n, c);
      verdicts.push_back(buf);
    }
    // What the hardened build's checks cost: allocation, and allocation plus
    // a free of every block (where the checks are).
    const Result* hard = find("alloc", "spaces general, hardened", n);
    const Result* free_each = find("alloc", "spaces general, free each", n);
    const Result* hard_free = find("alloc", "spaces general, free each, hardened", n);
    if (gen && hard) {
      const double x = median(hard->warm) / median(gen->warm);
      verdict("hardened / release (alloc, warm)", n, x, x <= 1.3, "<= 1.3");
    }
    if (free_each && hard_free) {
      const double x = (median(hard_free->warm) + median(hard_free->release)) /
                       (median(free_each->warm) + median(free_each->release));
      verdict("hardened / release (alloc + free)", n, x, x <= 1.3, "<= 1.3");
    }
  }

  header = false;
  last_n = 0;
  for (std::size_t i = 0; i < cfg.size(); ++i) {
    const Config& c = cfg[i];
    if (c.test != "teardown") continue;
    if (!header) {
      std::printf("\nTeardown of n objects (fresh heap or fresh objects each repetition; the time of\n"
                  "the destroy call alone, or of the whole one-by-one free loop in allocation order)\n");
      std::printf("%-9s %-36s %11s %9s %9s %11s %14s\n", "objects", "variant", "median ms", "spread", "ns/obj",
                  "first ms", "/ spaces dstr");
      header = true;
    }
    if (c.n != last_n && last_n != 0) std::printf("\n");
    last_n = c.n;
    const Result& r = res[i];
    if (r.failed) {
      std::printf("%-9zu %-36s FAILED: %s\n", c.n, c.label.c_str(), r.error.c_str());
      continue;
    }
    const double w = median(r.warm);
    const Result* d = find("teardown", "spaces general: destroy", c.n);
    std::printf("%-9zu %-36s %11.4f %9s %9.3g %11.4f %14.1f\n", c.n, c.label.c_str(), w / 1e6, spread(r).c_str(),
                w / static_cast<double>(c.n), median(r.first) / 1e6, d ? w / median(d->warm) : 0.0);
  }
  for (std::size_t n : {std::size_t{1000000}, std::size_t{10000000}}) {
    const Result* glibc = find("teardown", "glibc: free each", n);
    for (const char* which : {"spaces general: destroy", "spaces region: destroy"}) {
      const Result* d = find("teardown", which, n);
      if (glibc == nullptr || d == nullptr) continue;
      // Judged on the faster of glibc's two cases: objects laid out in
      // address order in a fresh process ("first") or allocated from a heap
      // aged by the previous repetition ("warm"), which frees far slower.
      const double fresh = median(glibc->first) / median(d->warm), aged = median(glibc->warm) / median(d->warm);
      const double x = std::min(fresh, aged);
      char what[96];
      std::snprintf(what, sizeof what, "glibc free each / %s destroy", which[7] == 'g' ? "general" : "region");
      char target[96];
      std::snprintf(target, sizeof target, ">= 1000 (fresh %.0f, aged %.0f)", fresh, aged);
      if (n == 1000000) {
        verdict(what, n, x, x >= 1000, target);
      } else {
        char buf[256];
        std::snprintf(buf, sizeof buf, "  %-34s n=%-9zu %10.2f   no target at 10 M (fresh %.0f, aged %.0f)", what, n,
                      x, fresh, aged);
        verdicts.push_back(buf);
      }
    }
  }
  std::printf("\nTargets (ratios of medians measured in this run)\n");
  for (const std::string& s : verdicts) std::printf("%s\n", s.c_str());
  return 0;
}
