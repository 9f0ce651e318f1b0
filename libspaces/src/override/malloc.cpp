// ---------------------------------------------------------------------------
// override/malloc.cpp: malloc and friends on the process default heap.
//
// Built into libspaces_malloc.so (LD_PRELOAD) and into the spaces::override
// object library (link-time). Works from the first allocation of the process:
// nothing here needs a constructor, the TLS is initial-exec and zero-filled,
// and initialisation tolerates libc calling back into malloc. Semantics follow
// glibc where the standards leave room (realloc(p, 0) frees and returns NULL;
// memalign rounds a non-power-of-two alignment up), so programs behave alike.
// ---------------------------------------------------------------------------
#include <malloc.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "override.h"

using namespace spaces::detail;

namespace spaces::detail {

void* override_alloc(std::size_t size, std::size_t align) noexcept {
  Shard* sh = default_shard();
  if (SPACES_UNLIKELY(sh == nullptr)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (align <= kMinAlign && size <= kMaxSmallSize) return alloc_small(sh, size);
  return heap_alloc_generic(sh->heap, size, align);
}

}  // namespace spaces::detail

namespace {

bool power_of_two(std::size_t a) noexcept { return a != 0 && (a & (a - 1)) == 0; }

void* aligned(std::size_t align, std::size_t size) noexcept {
  if (align <= kMinAlign) return override_malloc(size);
  return override_alloc(size, align);
}

}  // namespace

extern "C" {

SPACES_EXPORT void* malloc(std::size_t size) noexcept { return override_malloc(size); }

SPACES_EXPORT void free(void* p) noexcept {
  if (SPACES_LIKELY(p != nullptr)) {
    if constexpr (SPACES_HARDENED) hardened_check_block(p, "free");
    free_block(p);
  }
}

SPACES_EXPORT void* calloc(std::size_t count, std::size_t size) noexcept {
  std::size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* p = override_malloc(bytes);
  if (p != nullptr) clear_new_block(p, bytes);
  return p;
}

SPACES_EXPORT void* realloc(void* p, std::size_t size) noexcept {
  if (p == nullptr) return override_malloc(size);
  // Any pointer value may arrive here (spaces.h promises EINVAL for one
  // spaces did not hand out): look it up before reading its header.
  SlabHeader* s = slab_checked(p);
  if (s == nullptr) {
    if constexpr (SPACES_HARDENED) hardened_check_block(p, "realloc");  // names it, then aborts
    errno = EINVAL;
    return nullptr;
  }
  if (size == 0) {  // glibc frees and returns NULL
    free(p);
    return nullptr;
  }
  return heap_realloc(s->heap, p, size, kMinAlign);
}

SPACES_EXPORT void* reallocarray(void* p, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(p, bytes);
}

SPACES_EXPORT void* aligned_alloc(std::size_t align, std::size_t size) noexcept {
  if (!power_of_two(align)) {
    errno = EINVAL;
    return nullptr;
  }
  return aligned(align, size);
}

SPACES_EXPORT void* memalign(std::size_t align, std::size_t size) noexcept {
  if (align > SPACES_MAX_ALIGNMENT) {
    errno = EINVAL;
    return nullptr;
  }
  if (!power_of_two(align)) align = align == 0 ? 1 : std::size_t{1} << (64 - __builtin_clzll(align));
  return aligned(align, size);
}

SPACES_EXPORT int posix_memalign(void** out, std::size_t align, std::size_t size) noexcept {
  if (!power_of_two(align) || align % sizeof(void*) != 0 || align > SPACES_MAX_ALIGNMENT)
    return EINVAL;
  const int saved = errno;  // POSIX: report through the result, leave errno alone
  void* p = aligned(align, size);
  errno = saved;
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

SPACES_EXPORT void* valloc(std::size_t size) noexcept { return aligned(spaces::os::page_size(), size); }

SPACES_EXPORT void* pvalloc(std::size_t size) noexcept {
  const std::size_t page = spaces::os::page_size();
  if (size > SIZE_MAX - page) {
    errno = ENOMEM;
    return nullptr;
  }
  return aligned(page, size == 0 ? page : (size + page - 1) & ~(page - 1));
}

SPACES_EXPORT std::size_t malloc_usable_size(void* p) noexcept {
  if (p == nullptr) return 0;
  if constexpr (SPACES_HARDENED) hardened_check_block(p, "malloc_usable_size");
  const SlabHeader* s = slab_checked(p);
  return s == nullptr ? 0 : block_usable_size(s, p);
}

// ---- glibc's extensions ----------------------------------------------------------
//
// glibc exports its allocator a second time under __libc_* names, and some
// programs and libraries call those directly (free(__libc_malloc(n)) must
// work); they are the same functions here. mallinfo2, malloc_trim and
// malloc_stats describe the default heap.

SPACES_EXPORT void* __libc_malloc(std::size_t size) noexcept { return malloc(size); }
SPACES_EXPORT void __libc_free(void* p) noexcept { free(p); }
SPACES_EXPORT void* __libc_calloc(std::size_t count, std::size_t size) noexcept { return calloc(count, size); }
SPACES_EXPORT void* __libc_realloc(void* p, std::size_t size) noexcept { return realloc(p, size); }
SPACES_EXPORT void* __libc_memalign(std::size_t align, std::size_t size) noexcept { return memalign(align, size); }
SPACES_EXPORT void* __libc_valloc(std::size_t size) noexcept { return valloc(size); }
SPACES_EXPORT void* __libc_pvalloc(std::size_t size) noexcept { return pvalloc(size); }

/// glibc's fields, filled from the default heap's statistics: `arena` and
/// `hblkhd` split the footprint between slabs and huge mappings, `uordblks`
/// is the bytes in live blocks and `fordblks` the rest of the footprint.
SPACES_EXPORT struct mallinfo2 mallinfo2() noexcept {
  struct mallinfo2 m{};
  const DefaultHeapInfo d = default_heap_info();
  m.arena = d.footprint - d.huge_bytes;
  m.hblks = d.huge_blocks;
  m.hblkhd = d.huge_bytes;
  m.uordblks = d.live_bytes;
  m.fordblks = d.footprint > d.live_bytes ? d.footprint - d.live_bytes : 0;
  m.usmblks = d.peak_footprint;
  return m;
}

/// The same in int fields (glibc's older interface), saturated at INT_MAX.
SPACES_EXPORT struct mallinfo mallinfo() noexcept {
  const struct mallinfo2 m2 = mallinfo2();
  auto clamp = [](std::size_t v) { return v > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(v); };
  struct mallinfo m{};
  m.arena = clamp(m2.arena);
  m.hblks = clamp(m2.hblks);
  m.hblkhd = clamp(m2.hblkhd);
  m.uordblks = clamp(m2.uordblks);
  m.fordblks = clamp(m2.fordblks);
  m.usmblks = clamp(m2.usmblks);
  return m;
}

/// Gives back what the calling thread's part of the default heap does not
/// need, then the process slab cache's memory. 1 if anything went back to
/// the OS or the cache, as glibc's answer.
SPACES_EXPORT int malloc_trim(std::size_t) noexcept { return default_heap_trim() ? 1 : 0; }

SPACES_EXPORT void malloc_stats() noexcept {
  if (Heap* h = default_heap_if_created()) spaces_heap_print_stats(to_handle(h), stderr);
}

}  // extern "C"
