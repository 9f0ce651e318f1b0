// ---------------------------------------------------------------------------
// cache.hpp: the shared body of cache-scratch and cache-thrash, in the spirit
// of Hoard's tests of allocator-induced false sharing (Berger et al., ASPLOS
// 2000). Each thread, many times over, allocates a small object, writes and
// reads every byte of it many times through a volatile pointer, and frees it.
// If the allocator hands two threads objects in one cache line, the line
// ping-pongs between cores and the loop runs many times slower.
//   cache-thrash:  nothing else; an allocator that carves one line for two
//                  threads *actively* induces false sharing.
//   cache-scratch: main() first allocates one object per thread, adjacent in
//                  memory, and each thread starts by freeing its object; an
//                  allocator that reuses that block locally *passively*
//                  induces false sharing.
// ---------------------------------------------------------------------------
#pragma once

#include <thread>

#include "common.hpp"

namespace wl {

inline int run_cache_test(int argc, char** argv, const char* name, bool scratch) {
  Flags flags(
      name,
      scratch ? "threads free an object main() allocated, then write small objects (passive false sharing)"
              : "threads write small objects of their own (active false sharing)",
      {{"threads", 2, "threads"},
       {"iterations", 1000, "objects each thread allocates, writes and frees"},
       {"size", 8, "object size in bytes"},
       {"repetitions", 20000, "passes of writes and reads over each object"}});
  flags.parse(argc, argv);
  flags.print_settings();
  const std::uint64_t threads = flags["threads"] == 0 ? 1 : flags["threads"];
  const std::uint64_t iterations = flags["iterations"], reps = flags["repetitions"];
  const std::size_t size = flags["size"] == 0 ? 1 : flags["size"];

  Stopwatch clock;
  std::vector<char*> given(threads, nullptr);
  if (scratch)
    for (auto& p : given) {
      p = static_cast<char*>(std::malloc(size));
      escape(p);
    }
  std::vector<std::uint64_t> sums(threads);
  run_threads(threads, [&](std::uint64_t t) {
    std::free(given[t]);
    std::uint64_t sum = 0;
    for (std::uint64_t it = 0; it < iterations; ++it) {
      volatile char* obj = static_cast<char*>(std::malloc(size));
      if (obj == nullptr) std::exit(1);
      for (std::uint64_t r = 0; r < reps; ++r) {
        for (std::size_t k = 0; k < size; ++k) {
          obj[k] = static_cast<char>(k + r);
          sum += static_cast<unsigned char>(obj[k]);
        }
      }
      std::free(const_cast<char*>(obj));
    }
    sums[t] = sum;
  });
  const double seconds = clock.seconds();

  std::uint64_t checksum = 0;
  for (std::uint64_t s : sums) checksum += s;
  const std::uint64_t writes = threads * iterations * reps * size;
  std::printf("objects=%" PRIu64 " writes=%" PRIu64 " checksum=%" PRIu64 "\n", threads * iterations, writes,
              checksum);
  report_time(seconds, static_cast<double>(writes));
  return 0;
}

}  // namespace wl
