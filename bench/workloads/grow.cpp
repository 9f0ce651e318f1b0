// ---------------------------------------------------------------------------
// grow.cpp: buffers grown by realloc and big blocks from calloc, the patterns
// of string builders, vectors of bytes and file readers that a malloc
// replacement meets in real programs (python3 and perl grow their buffers
// this way).
//   --mode 0  grow one buffer from 64 KiB to --max in --step increments,
//             writing the new part each time; --rounds times
//   --mode 1  grow a block of --max bytes --steps times by a quarter
//   --mode 2  calloc(--max) and read one byte per 64 KiB; --rounds times
//   --mode 3  the same calloc of memory recycled after malloc_trim(0): a block
//             of --max bytes is written and freed, malloc_trim gives the
//             memory back to the OS, then the calloc; --rounds times
// An allocator that copies on every growth pays O(n^2) bytes moved here, one
// that grows in place (or remaps) pays only the bytes written; a calloc that
// clears memory fresh from the OS pays for pages it never needed to touch.
// ---------------------------------------------------------------------------
#include <malloc.h>

#include <cstring>

#include "common.hpp"

namespace {

[[noreturn]] void fail(const char* what, std::size_t size) {
  std::fprintf(stderr, "grow: %s(%zu) failed\n", what, size);
  std::exit(1);
}

unsigned char* realloc_or_fail(unsigned char* p, std::size_t size) {
  auto* q = static_cast<unsigned char*>(std::realloc(p, size));
  if (q == nullptr) fail("realloc", size);
  return q;
}

/// The sum of the first byte of every page of [p, p + size), then frees p.
std::uint64_t sum_pages_and_free(unsigned char* p, std::size_t size) {
  std::uint64_t sum = 0;
  for (std::size_t off = 0; off < size; off += 4096) sum += p[off];
  std::free(p);
  return sum;
}

/// Grows one buffer step by step, writing each new part; a checksum of the
/// bytes that must have survived every move.
std::uint64_t grow_in_steps(std::size_t step, std::size_t max, std::uint64_t round) {
  std::size_t size = 64 << 10;
  auto* p = static_cast<unsigned char*>(std::malloc(size));
  if (p == nullptr) fail("malloc", size);
  std::memset(p, static_cast<int>(round & 0xFF), size);
  while (size < max) {
    const std::size_t next = size + step;
    p = realloc_or_fail(p, next);
    std::memset(p + size, static_cast<int>((next / step) & 0xFF), step);
    size = next;
  }
  return sum_pages_and_free(p, size);
}

/// Grows a big block by a quarter, `steps` times, touching one byte per page
/// of each new part.
std::uint64_t grow_by_quarters(std::size_t max, std::uint64_t steps) {
  std::size_t size = max;
  auto* p = static_cast<unsigned char*>(std::malloc(size));
  if (p == nullptr) fail("malloc", size);
  for (std::size_t off = 0; off < size; off += 4096) p[off] = static_cast<unsigned char>(off >> 12);
  for (std::uint64_t i = 0; i < steps; ++i) {
    const std::size_t next = size + size / 4;
    p = realloc_or_fail(p, next);
    for (std::size_t off = size; off < next; off += 4096) p[off] = static_cast<unsigned char>(off >> 12);
    size = next;
  }
  return sum_pages_and_free(p, size);
}

/// calloc of a big block, read sparsely (it must read back as zero).
std::uint64_t calloc_sparse(std::size_t max) {
  auto* p = static_cast<unsigned char*>(std::calloc(1, max));
  if (p == nullptr) fail("calloc", max);
  std::uint64_t nonzero = 0;
  for (std::size_t off = 0; off < max; off += 64 << 10) nonzero += p[off] != 0;
  p[max / 2] = 1;
  std::free(p);
  return nonzero;
}

/// A block of `max` bytes dirtied and freed, the memory trimmed back to the
/// OS; the calloc that may reuse it is the part timed (the rest is not).
std::uint64_t calloc_recycled(std::size_t max, double* seconds) {
  void* dirty = std::malloc(max);
  if (dirty == nullptr) fail("malloc", max);
  std::memset(dirty, 0x5A, max);
  std::free(dirty);
  malloc_trim(0);
  wl::Stopwatch clock;
  const std::uint64_t nonzero = calloc_sparse(max);
  *seconds += clock.seconds();
  return nonzero;
}

}  // namespace

int main(int argc, char** argv) {
  wl::Flags flags("grow", "buffers grown by realloc, big blocks from calloc",
                  {{"mode", 0, "0: steps, 1: double, 2: calloc, 3: calloc after malloc_trim"},
                   {"max", 64 << 20, "final (steps) or first (double) size, or calloc size, in bytes"},
                   {"step", 64 << 10, "growth step in bytes (steps)"},
                   {"steps", 16, "growth steps (double)"},
                   {"rounds", 4, "repetitions (steps, calloc)"}});
  flags.parse(argc, argv);
  flags.print_settings();
  const std::uint64_t mode = flags["mode"], rounds = flags["rounds"];
  const std::size_t max = flags["max"], step = flags["step"] == 0 ? 4096 : flags["step"];

  wl::Stopwatch clock;
  std::uint64_t checksum = 0, ops = 0;
  if (mode == 0) {
    for (std::uint64_t r = 0; r < rounds; ++r) checksum += grow_in_steps(step, max, r);
    ops = rounds * (max / step);
  } else if (mode == 1) {
    checksum = grow_by_quarters(max, flags["steps"]);
    ops = flags["steps"];
  } else if (mode == 2) {
    for (std::uint64_t r = 0; r < rounds; ++r) checksum += calloc_sparse(max);
    ops = rounds;
  }
  double seconds = clock.seconds();
  if (mode == 3) {
    seconds = 0;  // only the callocs
    for (std::uint64_t r = 0; r < rounds; ++r) checksum += calloc_recycled(max, &seconds);
    ops = rounds;
  }
  std::printf("mode=%" PRIu64 " checksum=%" PRIu64 "\n", mode, checksum);
  wl::report_time(seconds, static_cast<double>(ops));
  return 0;
}
