// ---------------------------------------------------------------------------
// span_teardown.cpp: destroy and reset of a heap that holds many large spans.
//
// A heap gets --spans blocks of --size bytes (each a span of whole slabs from
// the slab cache; one byte of each is written, as a real owner would), then
// is destroyed, or reset, or its blocks are freed one by one. The time of the
// teardown is reported (and of the allocations before it, where work a
// teardown defers would show), median of --rounds rounds in one process,
// so from the second round on the spans come from the warm cache, as they do
// in a program that builds and drops one heap per unit of work. The slab
// cache is sized to hold them all (--cache), as a program doing this would
// configure it, and the default cache is a second configuration: there the
// teardown leaves more warm memory than the bound, which goes back to the OS
// later and must not be paid inside the destroy.
//
//   span_teardown [--spans N] [--size BYTES] [--rounds R] [--cache BYTES]
// ---------------------------------------------------------------------------
#include <spaces/spaces.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

struct Settings {
  std::size_t spans = 20000;
  std::size_t size = 100 << 10;
  int rounds = 9;
  long long cache = -1;  // -1: large enough for all spans
};

spaces_heap_t* make_heap() {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.name = "spans";
  spaces_heap_t* h = nullptr;
  if (spaces_heap_create(&o, &h) != SPACES_OK) bench::die("spaces_heap_create failed");
  return h;
}

void fill(spaces_heap_t* h, std::vector<void*>& blocks, std::size_t size) {
  for (void*& p : blocks) {
    p = spaces_alloc(h, size);
    if (p == nullptr) bench::die("spaces_alloc failed");
    static_cast<char*>(p)[0] = 1;
  }
}

enum class Teardown { Destroy, Reset, FreeEach };

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Times {
  std::vector<double> fill_ms;      // allocating the spans (after the first round, from the warm cache)
  std::vector<double> teardown_ms;
};

Times measure(const Settings& s, Teardown how) {
  std::vector<void*> blocks(s.spans);
  Times t;
  spaces_heap_t* h = make_heap();
  for (int r = 0; r < s.rounds; ++r) {
    const std::uint64_t f0 = bench::now_ns();
    fill(h, blocks, s.size);
    const std::uint64_t t0 = bench::now_ns();
    t.fill_ms.push_back(static_cast<double>(t0 - f0) / 1e6);
    switch (how) {
      case Teardown::Destroy:
        if (spaces_heap_destroy(h) != SPACES_OK) bench::die("spaces_heap_destroy failed");
        break;
      case Teardown::Reset:
        if (spaces_heap_reset(h) != SPACES_OK) bench::die("spaces_heap_reset failed");
        break;
      case Teardown::FreeEach:
        for (void* p : blocks) spaces_free(p);
        break;
    }
    t.teardown_ms.push_back(static_cast<double>(bench::now_ns() - t0) / 1e6);
    if (how == Teardown::Destroy) h = make_heap();
  }
  if (spaces_heap_destroy(h) != SPACES_OK) bench::die("spaces_heap_destroy failed");
  return t;
}

std::size_t parse_size(const char* s) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s) bench::die("bad number");
  switch (*end) {
    case 'K': case 'k': v <<= 10; break;
    case 'M': case 'm': v <<= 20; break;
    case 'G': case 'g': v <<= 30; break;
    default: break;
  }
  return static_cast<std::size_t>(v);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--spans") s.spans = parse_size(argv[i + 1]);
    else if (flag == "--size") s.size = parse_size(argv[i + 1]);
    else if (flag == "--rounds") s.rounds = static_cast<int>(parse_size(argv[i + 1]));
    else if (flag == "--cache") s.cache = static_cast<long long>(parse_size(argv[i + 1]));
    else bench::die("usage: span_teardown [--spans N] [--size BYTES] [--rounds R] [--cache BYTES]");
  }
  if (s.spans == 0 || s.rounds <= 0) bench::die("--spans and --rounds must be positive");
  const std::size_t slabs = (s.size + (64 << 10)) / (64 << 10);
  const long long all = static_cast<long long>(slabs * s.spans * (64 << 10)) * 2;
  std::printf("%zu spans of %zu bytes (%zu slabs each), median of %d rounds\n", s.spans, s.size, slabs,
              s.rounds);
  std::printf("%-10s %-12s %12s %12s %12s %12s\n", "teardown", "slab cache", "teardown ms", "max ms", "ns per span",
              "fill ms");
  const struct {
    const char* name;
    Teardown how;
  } kinds[] = {{"destroy", Teardown::Destroy}, {"reset", Teardown::Reset}, {"free each", Teardown::FreeEach}};
  for (long long cache : {s.cache >= 0 ? s.cache : all, 256LL << 20}) {
    if (spaces_option_set(SPACES_OPTION_SLAB_CACHE, cache) != SPACES_OK) bench::die("SLAB_CACHE refused");
    for (const auto& k : kinds) {
      const Times t = measure(s, k.how);
      const double med = median(t.teardown_ms);
      char label[32];
      std::snprintf(label, sizeof label, "%lld MiB", cache >> 20);
      std::printf("%-10s %-12s %12.3f %12.3f %12.1f %12.3f\n", k.name, label, med,
                  *std::max_element(t.teardown_ms.begin(), t.teardown_ms.end()),
                  med * 1e6 / static_cast<double>(s.spans), median(t.fill_ms));
    }
    spaces_collect();
  }
  return 0;
}
