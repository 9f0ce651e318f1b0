// ---------------------------------------------------------------------------
// many_heaps.cpp: what one small heap costs (issue 11, "tiny heaps").
//
// N heaps are created and each gets one 64-byte block (written), all live at
// once; then all are destroyed. Reported per heap: the time of create +
// allocate, the time of destroy, the resident memory the N live heaps added
// (/proc/self/statm, first round of a fresh process: later rounds reuse the
// memory of the first) and, for spaces, the footprint its cap counts.
//
// One source, one executable per strategy, because mimalloc and jemalloc
// replace malloc for their whole process (the macro MANY_HEAPS_PEER picks):
//   spaces        spaces_heap_create / spaces_alloc / spaces_heap_destroy
//   spaces-tiny   the same with SPACES_HEAP_TINY (a 4 KiB mini slab per heap)
//   pmr           a std::pmr::monotonic_buffer_resource per heap (glibc malloc
//                 upstream), new'ed and deleted
//   mimalloc      mi_heap_new / mi_heap_malloc / mi_heap_destroy
//   jemalloc      arenas.create / mallocx(MALLOCX_ARENA | MALLOCX_TCACHE_NONE)
//                 / arena.<i>.destroy (jemalloc allows at most 4095 arenas)
// Usage: many_heaps <heaps> <rounds> [tiny]. Output, one line per round: "<strategy> <round> <create_ns> <destroy_ns>
// <rss_bytes> <footprint_bytes>" (per heap; rss and footprint only in round
// 0, else -1). bench/core/many_heaps.py runs them and prints the table.
// ---------------------------------------------------------------------------
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory_resource>
#include <string>
#include <vector>

#ifndef MANY_HEAPS_PEER
#define MANY_HEAPS_PEER 0
#endif
#ifndef MANY_HEAPS_PMR
#define MANY_HEAPS_PMR 0
#endif

#if MANY_HEAPS_PEER == 1
#include <mimalloc.h>
#elif MANY_HEAPS_PEER == 2
#include <jemalloc/jemalloc.h>
#elif !MANY_HEAPS_PMR
#include <spaces/spaces.h>
#endif

namespace {

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

long resident_bytes() {
  long pages = 0, resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr || std::fscanf(f, "%ld %ld", &pages, &resident) != 2) std::abort();
  std::fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "many_heaps: %s\n", what);
  std::exit(2);
}

/// One strategy: create(i) makes heap i and allocates its block; destroy(i)
/// tears heap i down; footprint() is what the heaps' caps count (-1: none).
struct Heaps {
  Heaps(std::size_t n, bool tiny_heaps);
  void create(std::size_t i);
  void destroy(std::size_t i);
  long footprint() const;
  const char* name() const;
#if MANY_HEAPS_PEER == 1
  std::vector<mi_heap_t*> heaps;
#elif MANY_HEAPS_PEER == 2
  std::vector<unsigned> arenas;
#elif MANY_HEAPS_PMR
  std::vector<std::pmr::monotonic_buffer_resource*> resources;
#else
  std::vector<spaces_heap_t*> heaps;
#endif
  std::vector<void*> blocks;
  bool tiny = false;
};

void use(void* p, std::size_t i) {
  if (p == nullptr) die("allocation failed");
  std::memset(p, static_cast<int>(i), 64);
}

#if MANY_HEAPS_PEER == 1
Heaps::Heaps(std::size_t n, bool) : heaps(n), blocks(n) {}
const char* Heaps::name() const { return "mimalloc"; }
void Heaps::create(std::size_t i) {
  heaps[i] = mi_heap_new();
  if (heaps[i] == nullptr) die("mi_heap_new failed");
  use(blocks[i] = mi_heap_malloc(heaps[i], 64), i);
}
void Heaps::destroy(std::size_t i) { mi_heap_destroy(heaps[i]); }
long Heaps::footprint() const { return -1; }
#elif MANY_HEAPS_PEER == 2
Heaps::Heaps(std::size_t n, bool) : arenas(n), blocks(n) {}
const char* Heaps::name() const { return "jemalloc"; }
void Heaps::create(std::size_t i) {
  std::size_t len = sizeof(unsigned);
  if (mallctl("arenas.create", &arenas[i], &len, nullptr, 0) != 0) die("arenas.create failed");
  use(blocks[i] = mallocx(64, MALLOCX_ARENA(arenas[i]) | MALLOCX_TCACHE_NONE), i);
}
void Heaps::destroy(std::size_t i) {
  char cmd[48];
  std::snprintf(cmd, sizeof(cmd), "arena.%u.destroy", arenas[i]);
  if (mallctl(cmd, nullptr, nullptr, nullptr, 0) != 0) die("arena.<i>.destroy failed");
}
long Heaps::footprint() const { return -1; }
#elif MANY_HEAPS_PMR
Heaps::Heaps(std::size_t n, bool) : resources(n), blocks(n) {}
const char* Heaps::name() const { return "pmr-monotonic"; }
void Heaps::create(std::size_t i) {
  resources[i] = new std::pmr::monotonic_buffer_resource();
  use(blocks[i] = resources[i]->allocate(64, 16), i);
}
void Heaps::destroy(std::size_t i) { delete resources[i]; }
long Heaps::footprint() const { return -1; }
#else
Heaps::Heaps(std::size_t n, bool tiny_heaps) : heaps(n), blocks(n), tiny(tiny_heaps) {}
const char* Heaps::name() const { return tiny ? "spaces-tiny" : "spaces"; }
void Heaps::create(std::size_t i) {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  if (tiny) o.flags |= SPACES_HEAP_TINY;
  if (spaces_heap_create(&o, &heaps[i]) != SPACES_OK) die("spaces_heap_create failed");
  use(blocks[i] = spaces_alloc(heaps[i], 64), i);
}
void Heaps::destroy(std::size_t i) {
  if (spaces_heap_destroy(heaps[i]) != SPACES_OK) die("spaces_heap_destroy failed");
}
long Heaps::footprint() const {
  std::size_t total = 0;
  for (spaces_heap_t* h : heaps) total += spaces_heap_footprint(h);
  return static_cast<long>(total);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) die("usage: many_heaps <heaps> <rounds> [tiny]");
  const std::size_t n = std::strtoul(argv[1], nullptr, 10);
  const int rounds = std::atoi(argv[2]);
  if (n == 0 || rounds <= 0) die("usage: many_heaps <heaps> <rounds>");
  Heaps heaps(n, argc == 4 && std::strcmp(argv[3], "tiny") == 0);
  for (int round = 0; round < rounds; ++round) {
    const long rss_before = resident_bytes();
    const std::uint64_t t0 = now_ns();
    for (std::size_t i = 0; i < n; ++i) heaps.create(i);
    const std::uint64_t t1 = now_ns();
    const long rss = resident_bytes() - rss_before;
    const long footprint = round == 0 ? heaps.footprint() : -1;
    const std::uint64_t t2 = now_ns();
    for (std::size_t i = 0; i < n; ++i) heaps.destroy(i);
    const std::uint64_t t3 = now_ns();
    const double per = static_cast<double>(n);
    std::printf("%s %d %.1f %.1f %.0f %.0f\n", heaps.name(), round, static_cast<double>(t1 - t0) / per,
                static_cast<double>(t3 - t2) / per, round == 0 ? static_cast<double>(rss) / per : -1.0,
                footprint < 0 ? -1.0 : static_cast<double>(footprint) / per);
  }
  return 0;
}
