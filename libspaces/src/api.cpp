// ---------------------------------------------------------------------------
// api.cpp: the extern "C" entry points of spaces.h.
//
// Thin: validate the handle and the arguments, call into the allocator, turn
// results into status codes and errno. Every function is noexcept; none
// aborts on a detectable caller mistake, except the hardened build's double
// and foreign frees, which abort with a message naming pointer and heap.
// ---------------------------------------------------------------------------
#include <cerrno>
#include <cstring>

#include "internal/alloc.h"
#include "internal/free.h"

using namespace spaces::detail;

namespace {

/// Validates an allocation's heap; sets errno and the failure record if bad.
SPACES_ALWAYS_INLINE Heap* alloc_heap(spaces_heap_t* heap) noexcept {
  Heap* h = heap_checked(heap);
  if (SPACES_UNLIKELY(h == nullptr)) {
    record_failure(SPACES_E_INVALID, nullptr, 0);
    return nullptr;
  }
  return h;
}

/// A byte count of a live heap (cap, soft limit, footprint); 0 for an invalid handle.
std::size_t byte_field(const spaces_heap_t* heap, std::atomic<std::size_t> Heap::*field) noexcept {
  Heap* h = heap_checked(heap);
  return h == nullptr ? 0 : (h->*field).load(std::memory_order_relaxed);
}

spaces_status_t set_byte_field(spaces_heap_t* heap, std::atomic<std::size_t> Heap::*field, std::size_t v) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr) return SPACES_E_INVALID;
  (h->*field).store(v, std::memory_order_relaxed);
  return SPACES_OK;
}

bool valid_alignment(std::size_t a) noexcept { return a != 0 && (a & (a - 1)) == 0 && a <= SPACES_MAX_ALIGNMENT; }


}  // namespace

extern "C" {

const char* spaces_status_str(spaces_status_t status) noexcept {
  // A C caller may pass any integer in an enum: look at it as one.
  int code = 0;
  static_assert(sizeof(code) == sizeof(status));
  std::memcpy(&code, &status, sizeof(code));
  switch (code) {
    case SPACES_OK: return "success";
    case SPACES_E_INVALID: return "invalid argument";
    case SPACES_E_NOMEM: return "out of memory";
    case SPACES_E_CAP: return "heap cap exceeded";
    case SPACES_E_UNSUPPORTED: return "not supported by this heap's discipline";
    case SPACES_E_RANGE: return "value out of range";
    case SPACES_E_IO: return "write failed";
    case SPACES_E_BUSY: return "a thread routes its allocations into the heap";
  }
  return "unknown status";
}

// ---- Heaps -------------------------------------------------------------------

void spaces_heap_options_init(spaces_heap_options_t* o) noexcept {
  if (o != nullptr) default_options(o);
}

spaces_status_t spaces_heap_create(const spaces_heap_options_t* options, spaces_heap_t** out) noexcept {
  if (out == nullptr) return SPACES_E_INVALID;
  threads_init();
  Heap* h = nullptr;
  spaces_status_t s = heap_create(options, &h);
  *out = s == SPACES_OK ? to_handle(h) : nullptr;
  return s;
}

spaces_status_t spaces_heap_destroy(spaces_heap_t* heap) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr || h == default_heap_if_created()) return SPACES_E_INVALID;
  return heap_destroy(h);
}

spaces_status_t spaces_heap_reset(spaces_heap_t* heap) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr || h == default_heap_if_created()) return SPACES_E_INVALID;
  return heap_reset(h, h->retain != 0 ? SIZE_MAX : 0);
}

spaces_status_t spaces_heap_reset_keep(spaces_heap_t* heap, size_t keep) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr || h == default_heap_if_created()) return SPACES_E_INVALID;
  // SIZE_MAX would keep spans too, as SPACES_HEAP_RETAIN_ON_RESET does; a
  // limit keeps single slabs only.
  return heap_reset(h, keep == SIZE_MAX ? SIZE_MAX - 1 : keep);
}

spaces_status_t spaces_heap_collect(spaces_heap_t* heap) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr) return SPACES_E_INVALID;
  heap_collect(h);
  return SPACES_OK;
}

spaces_status_t spaces_heap_set_cap(spaces_heap_t* heap, size_t cap) noexcept {
  return set_byte_field(heap, &Heap::cap, cap);
}

size_t spaces_heap_cap(const spaces_heap_t* heap) noexcept { return byte_field(heap, &Heap::cap); }

spaces_status_t spaces_heap_set_soft_limit(spaces_heap_t* heap, size_t bytes) noexcept {
  return set_byte_field(heap, &Heap::soft_limit, bytes);
}

size_t spaces_heap_soft_limit(const spaces_heap_t* heap) noexcept { return byte_field(heap, &Heap::soft_limit); }

size_t spaces_heap_footprint(const spaces_heap_t* heap) noexcept { return byte_field(heap, &Heap::footprint); }

uint64_t spaces_heap_id(const spaces_heap_t* heap) noexcept {
  Heap* h = heap_checked(heap);
  return h == nullptr ? 0 : h->id;
}

const char* spaces_heap_name(const spaces_heap_t* heap) noexcept {
  Heap* h = heap_checked(heap);
  return h == nullptr ? "" : h->name;
}

spaces_discipline_t spaces_heap_discipline(const spaces_heap_t* heap) noexcept {
  Heap* h = heap_checked(heap);
  return h == nullptr ? SPACES_GENERAL : static_cast<spaces_discipline_t>(h->discipline);
}

spaces_heap_t* spaces_default_heap(void) noexcept {
  Heap* h = default_heap();
  return h != nullptr ? to_handle(h) : nullptr;
}

// ---- Routing ---------------------------------------------------------------------

spaces_status_t spaces_thread_set_heap(spaces_heap_t* heap, spaces_heap_t** previous) noexcept {
  Heap* h = nullptr;
  if (heap != nullptr && (h = heap_checked(heap)) == nullptr) {
    if (previous != nullptr) *previous = spaces_thread_heap();
    return SPACES_E_INVALID;
  }
  threads_init();
  Heap* old = nullptr;
  const spaces_status_t s = thread_route(h, &old);
  if (previous != nullptr) *previous = old != nullptr ? to_handle(old) : nullptr;
  return s;
}

spaces_heap_t* spaces_thread_heap(void) noexcept {
  Heap* h = tls_ctx.route;
  return h != nullptr ? to_handle(h) : nullptr;
}

// ---- Region marks ----------------------------------------------------------------

namespace {

/// The calling thread's shard of a live region heap, or the status why not.
spaces_status_t region_shard(spaces_heap_t* heap, Shard** out) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr) return SPACES_E_INVALID;
  if (h->discipline != SPACES_REGION) return SPACES_E_UNSUPPORTED;
  *out = shard_of(h);
  return *out != nullptr ? SPACES_OK : SPACES_E_NOMEM;
}

}  // namespace

spaces_status_t spaces_region_mark(spaces_heap_t* heap, spaces_mark_t* out) noexcept {
  if (out == nullptr) return SPACES_E_INVALID;
  Shard* sh = nullptr;
  if (const spaces_status_t s = region_shard(heap, &sh); s != SPACES_OK) return s;
  return region_mark(sh, &out->value);
}

int spaces_region_mark_live(spaces_heap_t* heap, spaces_mark_t mark) noexcept {
  Shard* sh = nullptr;
  return region_shard(heap, &sh) == SPACES_OK && region_mark_live(sh, mark.value) ? 1 : 0;
}

spaces_status_t spaces_region_rewind(spaces_heap_t* heap, spaces_mark_t mark) noexcept {
  Shard* sh = nullptr;
  if (const spaces_status_t s = region_shard(heap, &sh); s != SPACES_OK) return s;
  return region_rewind(sh, mark.value);
}

// ---- Allocation -------------------------------------------------------------------

void* spaces_alloc(spaces_heap_t* heap, size_t size) noexcept {
  Heap* h = alloc_heap(heap);
  if (SPACES_UNLIKELY(h == nullptr)) return nullptr;
  if (SPACES_LIKELY(h->discipline == SPACES_GENERAL && size <= kMaxDirectSize)) {
    Shard* sh = shard_of(h);
    if (SPACES_LIKELY(sh != nullptr)) return alloc_direct(sh, size);
    return nullptr;
  }
  return heap_alloc_generic(h, size, kMinAlign);
}

void* spaces_calloc(spaces_heap_t* heap, size_t count, size_t size) noexcept {
  if (SPACES_UNLIKELY(alloc_heap(heap) == nullptr)) return nullptr;  // EINVAL before ENOMEM
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    record_failure(SPACES_E_NOMEM, nullptr, SIZE_MAX);
    return nullptr;
  }
  void* p = spaces_alloc(heap, bytes);
  if (p != nullptr) clear_new_block(p, bytes);
  return p;
}

void* spaces_aligned_alloc(spaces_heap_t* heap, size_t alignment, size_t size) noexcept {
  Heap* h = alloc_heap(heap);
  if (SPACES_UNLIKELY(h == nullptr)) return nullptr;
  if (!valid_alignment(alignment)) {
    record_failure(SPACES_E_INVALID, nullptr, size);
    return nullptr;
  }
  return heap_alloc_generic(h, size, alignment < kMinAlign ? kMinAlign : alignment);
}

void* spaces_realloc_aligned(spaces_heap_t* heap, void* ptr, size_t alignment, size_t size) noexcept {
  Heap* h = alloc_heap(heap);
  if (SPACES_UNLIKELY(h == nullptr)) return nullptr;
  if (!valid_alignment(alignment)) {
    record_failure(SPACES_E_INVALID, nullptr, size);
    return nullptr;
  }
  if (alignment < kMinAlign) alignment = kMinAlign;
  if (ptr == nullptr) return heap_alloc_generic(h, size, alignment);
  return heap_realloc(h, ptr, size, alignment);
}

void* spaces_realloc(spaces_heap_t* heap, void* ptr, size_t size) noexcept {
  return spaces_realloc_aligned(heap, ptr, kMinAlign, size);
}

void spaces_free(void* ptr) noexcept {
  if (ptr == nullptr) return;
  if constexpr (SPACES_HARDENED) hardened_check_block(ptr, "free");
  free_block(ptr);
}

size_t spaces_usable_size(const void* ptr) noexcept {
  if (ptr == nullptr) return 0;
  const SlabHeader* s = slab_checked(ptr);
  return s == nullptr ? 0 : block_usable_size(s, ptr);
}

spaces_heap_t* spaces_heap_of(const void* ptr) noexcept {
  if (ptr == nullptr) return nullptr;
  const SlabHeader* s = slab_checked(ptr);
  if (s == nullptr) return nullptr;
  // The run may outlive its heap (destroy does not touch headers): the heap
  // must be alive and in the epoch the run was handed out in.
  const Heap* h = s->heap;
  if (h == nullptr || h->magic != kHeapMagic || h->epoch != s->heap_epoch) return nullptr;
  return to_handle(h);
}

int spaces_owns(const void* ptr) noexcept {
  const Granule g = map_get(reinterpret_cast<std::uintptr_t>(ptr) & ~kSlabMask);
  return g != Granule::None && g != Granule::Unmapped;
}

spaces_status_t spaces_last_failure(spaces_failure_t* out) noexcept {
  if (out == nullptr) return SPACES_E_INVALID;
  *out = tls_ctx.last_failure;
  return SPACES_OK;
}

// ---- Region fast path ------------------------------------------------------------------

spaces_cursor_t* spaces_region_cursor(spaces_heap_t* heap) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr || h->discipline != SPACES_REGION) return nullptr;
  Shard* sh = shard_of(h);
  return sh == nullptr ? nullptr : &sh->cursor;
}

spaces_window_t spaces_cursor_refill(void* owner, char* cur, char* end, uint64_t tally, size_t size,
                                     size_t alignment) noexcept {
  if (owner == nullptr) {
    record_failure(SPACES_E_INVALID, nullptr, size);
    return spaces_window_t{nullptr, nullptr};
  }
  return region_refill(static_cast<Shard*>(owner), cur, end, tally, size, alignment);
}

void* spaces_cursor_span(void* owner, size_t size, size_t alignment) noexcept {
  if (owner == nullptr) {
    record_failure(SPACES_E_INVALID, nullptr, size);
    return nullptr;
  }
  return region_span(static_cast<Shard*>(owner), size, alignment);
}

// ---- Statistics and walk -------------------------------------------------------------

spaces_status_t spaces_heap_stats(const spaces_heap_t* heap, spaces_stats_t* out) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr || out == nullptr) return SPACES_E_INVALID;
  return heap_stats(h, out);
}

spaces_status_t spaces_heap_print_stats(const spaces_heap_t* heap, FILE* out) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr || out == nullptr) return SPACES_E_INVALID;
  return heap_print_stats(h, out);
}

spaces_status_t spaces_heap_write_stats_json(const spaces_heap_t* heap, FILE* out) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr || out == nullptr) return SPACES_E_INVALID;
  return heap_write_stats_json(h, out);
}

spaces_status_t spaces_heap_walk(spaces_heap_t* heap, spaces_walk_fn fn, void* arg) noexcept {
  Heap* h = heap_checked(heap);
  if (h == nullptr || fn == nullptr) return SPACES_E_INVALID;
  return heap_walk(h, fn, arg);
}

// ---- Options ------------------------------------------------------------------------------

namespace {

/// A new SPACES_OPTION_DEFAULT_CAP applies to the default heap at once.
spaces_status_t applied(spaces_status_t s) noexcept {
  if (s != SPACES_OK) return s;
  if (Heap* h = default_heap_if_created()) {
    const long long cap = option(SPACES_OPTION_DEFAULT_CAP);
    h->cap.store(cap > 0 ? static_cast<std::size_t>(cap) : SPACES_UNCAPPED, std::memory_order_relaxed);
  }
  return s;
}

}  // namespace

spaces_status_t spaces_option_set(spaces_option_t option, long long value) noexcept {
  return applied(option_set(option, value));
}

spaces_status_t spaces_option_get(spaces_option_t o, long long* out) noexcept {
  unsigned i = 0;
  if (out == nullptr || !option_index(o, &i)) return SPACES_E_INVALID;
  *out = option(static_cast<spaces_option_t>(i));
  return SPACES_OK;
}

spaces_status_t spaces_option_set_str(const char* name, const char* value) noexcept {
  return applied(option_set_str(name, value));
}

const char* spaces_option_name(spaces_option_t option) noexcept { return option_name(option); }

void spaces_collect(void) noexcept {
  cache_flush_local();
  cache_collect(true);
}

}  // extern "C"
