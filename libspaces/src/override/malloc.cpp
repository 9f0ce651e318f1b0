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
#include <cerrno>
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
  if (SPACES_LIKELY(p != nullptr)) free_block(p);
}

SPACES_EXPORT void* calloc(std::size_t count, std::size_t size) noexcept {
  std::size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* p = override_malloc(bytes);
  if (p != nullptr) std::memset(p, 0, bytes);
  return p;
}

SPACES_EXPORT void* realloc(void* p, std::size_t size) noexcept {
  if (p == nullptr) return override_malloc(size);
  if (size == 0) {  // glibc frees and returns NULL
    free_block(p);
    return nullptr;
  }
  return heap_realloc(slab_of(p)->heap, p, size, kMinAlign);
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
  return p == nullptr ? 0 : block_usable_size(slab_of(p), p);
}

}  // extern "C"
