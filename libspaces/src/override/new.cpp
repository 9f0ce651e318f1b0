// ---------------------------------------------------------------------------
// override/new.cpp: every replaceable operator new and delete, on the default
// heap.
//
// A failed allocation calls the installed std::new_handler and retries, then
// throws std::bad_alloc (the nothrow forms return nullptr), as
// [new.delete.single] requires. Sized and aligned deletes ignore the size and
// alignment: a block's header already knows them.
// ---------------------------------------------------------------------------
#include <new>

#include "override.h"

using namespace spaces::detail;

namespace {

[[gnu::noinline]] void* new_slow(std::size_t size, std::size_t align, bool nothrow) {
  for (;;) {
    void* p = override_alloc(size, align);
    if (p != nullptr) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
    if (nothrow) {
      try {
        handler();
      } catch (...) {
        return nullptr;
      }
    } else {
      handler();
    }
  }
}

SPACES_ALWAYS_INLINE void* new_fast(std::size_t size) {
  Shard* sh = tls_ctx.default_shard;
  if (SPACES_LIKELY(sh != nullptr && size <= kMaxDirectSize)) {
    void* p = alloc_direct(sh, size);
    if (SPACES_LIKELY(p != nullptr)) return p;
  }
  return new_slow(size, kMinAlign, false);
}

SPACES_ALWAYS_INLINE void delete_block(void* p) noexcept {
  if (SPACES_LIKELY(p != nullptr)) {
    if constexpr (SPACES_HARDENED) hardened_check_block(p, "delete");
    free_block(p);
  }
}

std::size_t alignment(std::align_val_t a) noexcept { return static_cast<std::size_t>(a); }

}  // namespace

SPACES_EXPORT void* operator new(std::size_t size) { return new_fast(size); }
SPACES_EXPORT void* operator new[](std::size_t size) { return new_fast(size); }
SPACES_EXPORT void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return new_slow(size, kMinAlign, true);
  } catch (...) {
    return nullptr;
  }
}
SPACES_EXPORT void* operator new[](std::size_t size, const std::nothrow_t& t) noexcept { return operator new(size, t); }

SPACES_EXPORT void* operator new(std::size_t size, std::align_val_t a) { return new_slow(size, alignment(a), false); }
SPACES_EXPORT void* operator new[](std::size_t size, std::align_val_t a) { return new_slow(size, alignment(a), false); }
SPACES_EXPORT void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return new_slow(size, alignment(a), true);
  } catch (...) {
    return nullptr;
  }
}
SPACES_EXPORT void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t& t) noexcept {
  return operator new(size, a, t);
}

SPACES_EXPORT void operator delete(void* p) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete[](void* p) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete(void* p, std::size_t) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete[](void* p, std::size_t) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete(void* p, const std::nothrow_t&) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete[](void* p, const std::nothrow_t&) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete(void* p, std::align_val_t) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete[](void* p, std::align_val_t) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete(void* p, std::size_t, std::align_val_t) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { delete_block(p); }
SPACES_EXPORT void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { delete_block(p); }
