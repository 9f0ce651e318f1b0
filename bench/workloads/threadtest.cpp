// ---------------------------------------------------------------------------
// threadtest.cpp: in the spirit of Hoard's threadtest (Berger et al., "Hoard:
// a scalable memory allocator for multithreaded applications", ASPLOS 2000).
// Each thread, many times over, allocates its share of N small objects with
// operator new, writes each one, then deletes them all in allocation order.
// No block crosses threads: this measures how well per-thread caches scale
// and whether threads contend on shared allocator state.
// ---------------------------------------------------------------------------
#include <thread>

#include "common.hpp"

int main(int argc, char** argv) {
  wl::Flags flags("threadtest", "each thread allocates N objects and frees them, repeatedly",
                  {{"threads", 2, "threads"},
                   {"iterations", 400, "allocate-all/free-all cycles per thread"},
                   {"objects", 20000, "objects per cycle, split evenly across threads"},
                   {"size", 8, "object size in bytes (>= 8)"},
                   {"work", 0, "busy-loop steps between allocations (Hoard's 'work')"}});
  flags.parse(argc, argv);
  flags.print_settings();
  const std::uint64_t threads = flags["threads"] == 0 ? 1 : flags["threads"];
  const std::uint64_t iterations = flags["iterations"], work = flags["work"];
  const std::uint64_t per_thread = flags["objects"] / threads;
  const std::size_t size = flags["size"] < 8 ? 8 : flags["size"];

  wl::Stopwatch clock;
  std::vector<std::uint64_t> sums(threads);
  wl::run_threads(threads, [&](std::uint64_t t) {
    std::vector<char*> objects(per_thread);
    std::uint64_t sum = 0;
    for (std::uint64_t it = 0; it < iterations; ++it) {
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        char* p = new char[size];
        wl::escape(p);
        const std::uint64_t v = it ^ i;
        std::memcpy(p, &v, sizeof v);
        for (std::uint64_t w = 0; w < work; ++w) wl::escape(p);
        objects[i] = p;
      }
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        std::uint64_t v;
        std::memcpy(&v, objects[i], sizeof v);
        sum += v;
        delete[] objects[i];
      }
    }
    sums[t] = sum;
  });
  const double seconds = clock.seconds();

  std::uint64_t checksum = 0;
  for (std::uint64_t s : sums) checksum += s;
  const std::uint64_t total = threads * iterations * per_thread;
  std::printf("objects=%" PRIu64 " checksum=%" PRIu64 "\n", total, checksum);
  wl::report_time(seconds, static_cast<double>(total));
  return 0;
}
