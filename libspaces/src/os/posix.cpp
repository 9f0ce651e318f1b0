// ---------------------------------------------------------------------------
// os/posix.cpp: the OS contract (os/os.h) on Linux: mmap, madvise, clocks.
//
// Aligned mappings over-map by the alignment and trim both ends, so they
// cost two extra munmap calls but no retry loop. Memory that will hold
// blocks is charged to the commit limit when mapped, so that the kernel's
// overcommit check refuses a size the system cannot back (malloc(16 TiB)
// returns NULL instead of waking the OOM killer later); only sparse
// metadata tables use MAP_NORESERVE.
// ---------------------------------------------------------------------------
#include "os.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <sys/mman.h>
#include <unistd.h>

namespace spaces::os {

// No function-local static here: its guard would make C programs that link
// the static library need libstdc++.
namespace {
constinit std::atomic<std::size_t> g_page_size{0};
}  // namespace

std::size_t page_size() noexcept {
  std::size_t size = g_page_size.load(std::memory_order_relaxed);
  if (SPACES_UNLIKELY(size == 0)) {
    const long s = ::sysconf(_SC_PAGESIZE);
    size = s > 0 ? static_cast<std::size_t>(s) : std::size_t{4096};
    g_page_size.store(size, std::memory_order_relaxed);
  }
  return size;
}

int map_aligned(std::size_t size, std::size_t align, void** out, Commit commit) noexcept {
  if (size == 0 || (align & (align - 1)) != 0) return EINVAL;
  // Out-of-memory tests (tests/internal/oom_test.cpp) make mappings fail here.
  bool refuse = false;
  SPACES_TEST_POINT("os.map", &refuse);
  if (refuse) return ENOMEM;
  if (align < page_size()) align = page_size();
  const std::size_t extra = align > page_size() ? align - page_size() : 0;
  if (size + extra < size) return ENOMEM;
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (commit == Commit::Lazy ? MAP_NORESERVE : 0);
  void* p = ::mmap(nullptr, size + extra, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) return errno != 0 ? errno : ENOMEM;
  auto base = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t aligned = (base + align - 1) & ~(static_cast<std::uintptr_t>(align) - 1);
  const std::size_t head = aligned - base;
  const std::size_t tail = extra - head;
  if (head != 0) ::munmap(p, head);
  if (tail != 0) ::munmap(reinterpret_cast<void*>(aligned + size), tail);
  *out = reinterpret_cast<void*>(aligned);
  return 0;
}

int unmap(void* p, std::size_t size) noexcept {
  return ::munmap(p, size) == 0 ? 0 : errno;
}

int map_fixed(void* p, std::size_t size) noexcept {
  void* q = ::mmap(p, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  return q == MAP_FAILED ? (errno != 0 ? errno : ENOMEM) : 0;
}

int remap(void* p, std::size_t old_size, std::size_t new_size, void* to) noexcept {
  bool refuse = false;
  SPACES_TEST_POINT("os.remap", &refuse);
  if (refuse) return ENOMEM;
  void* q = to == nullptr ? ::mremap(p, old_size, new_size, 0)
                          : ::mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, to);
  if (q == MAP_FAILED) return errno != 0 ? errno : ENOMEM;
  return 0;
}

int decommit(void* p, std::size_t size, Decommit how) noexcept {
  if (size == 0) return 0;
  bool refuse = false;
  SPACES_TEST_POINT("os.decommit", &refuse);
  if (refuse) return EINVAL;  // as madvise answers for mlock'ed pages
#ifdef MADV_FREE
  if (how == Decommit::Free) {
    if (::madvise(p, size, MADV_FREE) == 0) return 0;
    // Kernels before 4.5 lack MADV_FREE: fall back to DONTNEED.
  }
#endif
  return ::madvise(p, size, MADV_DONTNEED) == 0 ? 0 : errno;
}

int advise_huge_pages(void* p, std::size_t size) noexcept {
#ifdef MADV_HUGEPAGE
  return ::madvise(p, size, MADV_HUGEPAGE) == 0 ? 0 : errno;
#else
  (void)p;
  (void)size;
  return 0;
#endif
}

std::uint64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t now_ms() noexcept { return now_ns() / 1000000u; }

void write_stderr(const char* s, std::size_t n) noexcept {
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

const char* getenv(const char* name) noexcept {
  // secure_getenv ignores the environment in setuid programs, as an
  // allocator that may be preloaded into one should.
  return ::secure_getenv(name);
}

}  // namespace spaces::os
