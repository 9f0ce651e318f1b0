// ---------------------------------------------------------------------------
// override/new.cpp: every replaceable operator new and delete, on the default
// heap.
//
// A failed allocation calls the installed std::new_handler and retries, then
// throws std::bad_alloc; the nothrow forms return nullptr where the others
// throw, as [new.delete.single] requires. Sized and aligned deletes ignore
// the size and alignment: a block's header already knows them.
//
// libspaces_malloc.so (SPACES_PRELOAD) does not depend on the C++ runtime:
// preloaded into a C program (bc, sqlite3, sort) it would otherwise map
// libstdc++, libm and libgcc_s, 1.3 MiB of resident memory before the first
// malloc. A C++ program has the runtime loaded; the new handler and the throw
// are looked up in it when an allocation fails, and the nothrow forms are
// the runtime's own, which call the operator new defined here and catch.
// ---------------------------------------------------------------------------
#include <new>

#include "override.h"

#if SPACES_PRELOAD
#include <dlfcn.h>
#endif

using namespace spaces::detail;

namespace {

#if SPACES_PRELOAD
/// A function of the C++ runtime, if the process has loaded it.
template <class F>
F cxx_runtime(const char* symbol) noexcept {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, symbol));
}

std::new_handler current_new_handler() noexcept {
  const auto get = cxx_runtime<std::new_handler (*)() noexcept>("_ZSt15get_new_handlerv");  // std::get_new_handler
  return get != nullptr ? get() : nullptr;
}

[[noreturn]] void throw_bad_alloc(std::size_t size) {
  const auto raise = cxx_runtime<void (*)()>("_ZSt17__throw_bad_allocv");  // std::__throw_bad_alloc
  if (raise == nullptr)
    fatal("spaces: operator new(%zu) failed, and std::bad_alloc cannot be thrown: the process has no C++ runtime\n",
          size);
  raise();
  __builtin_unreachable();
}
#else
std::new_handler current_new_handler() noexcept { return std::get_new_handler(); }

[[noreturn]] void throw_bad_alloc(std::size_t) { throw std::bad_alloc(); }
#endif

[[gnu::noinline]] void* new_slow(std::size_t size, std::size_t align) {
  for (;;) {
    void* p = override_alloc(size, align);
    if (p != nullptr) return p;
    std::new_handler handler = current_new_handler();
    if (handler == nullptr) throw_bad_alloc(size);
    handler();
  }
}

#if !SPACES_PRELOAD
void* new_nothrow(std::size_t size, std::size_t align) noexcept {
  try {
    return new_slow(size, align);
  } catch (...) {
    return nullptr;
  }
}
#endif

SPACES_ALWAYS_INLINE void* new_fast(std::size_t size) {
  Shard* sh = tls_ctx.default_shard;
  if (SPACES_LIKELY(sh != nullptr && size <= kMaxDirectSize)) {
    void* p = alloc_direct(sh, size);
    if (SPACES_LIKELY(p != nullptr)) return p;
  }
  return new_slow(size, kMinAlign);
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
SPACES_EXPORT void* operator new(std::size_t size, std::align_val_t a) { return new_slow(size, alignment(a)); }
SPACES_EXPORT void* operator new[](std::size_t size, std::align_val_t a) { return new_slow(size, alignment(a)); }
#if !SPACES_PRELOAD
SPACES_EXPORT void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return new_nothrow(size, kMinAlign);
}
SPACES_EXPORT void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return new_nothrow(size, kMinAlign);
}
SPACES_EXPORT void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return new_nothrow(size, alignment(a));
}
SPACES_EXPORT void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return new_nothrow(size, alignment(a));
}
#endif

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
