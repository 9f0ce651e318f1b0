// ---------------------------------------------------------------------------
// cap.cpp: charging runs to heaps under their caps, what happens at a cap
// (collect, cap handler, retry), and the failure record a NULL leaves for
// spaces_last_failure.
//
// A run is charged before it is taken and uncharged when it goes back. A heap
// without a parent is charged with one CAS loop, so its cap holds exactly
// under any number of threads; nested heaps are charged exactly under their
// root's charge lock (heap_charge explains why). Nothing here runs on a fast
// path: only when a slab or span is acquired.
// ---------------------------------------------------------------------------
#include "internal/heap.h"

namespace spaces::detail {

// ---- Charges ---------------------------------------------------------------------

namespace {

void update_peak(Heap* h, std::size_t now) noexcept {
  std::size_t peak = h->peak.load(std::memory_order_relaxed);
  while (now > peak && !h->peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

/// x's footprint went from `before` up by `bytes`: the peak, and whether
/// that crossed the soft limit (counted here, handled by charge()).
void charged(Heap* x, std::size_t before, std::size_t bytes) noexcept {
  update_peak(x, before + bytes);
  const std::size_t soft = x->soft_limit.load(std::memory_order_relaxed);
  if (SPACES_UNLIKELY(before <= soft && bytes > soft - before)) {
    x->soft_events.fetch_add(1, std::memory_order_relaxed);
    x->soft_pending.store(true, std::memory_order_release);
  }
}

/// Adds `bytes` to x's footprint unless that crosses its cap (a CAS loop, so
/// it holds under any number of threads charging x).
bool charge_level(Heap* x, std::size_t bytes) noexcept {
  const std::size_t cap = x->cap.load(std::memory_order_relaxed);
  std::size_t f = x->footprint.load(std::memory_order_relaxed);
  do {
    if (bytes > cap || f > cap - bytes) return false;
  } while (!x->footprint.compare_exchange_weak(f, f + bytes, std::memory_order_relaxed));
  charged(x, f, bytes);
  return true;
}

bool has_room(const Heap* x, std::size_t bytes) noexcept {
  const std::size_t cap = x->cap.load(std::memory_order_relaxed);
  const std::size_t f = x->footprint.load(std::memory_order_relaxed);
  return bytes <= cap && f <= cap - bytes;
}

bool refuse(Heap* x, Heap** refused) noexcept {
  x->cap_failures.fetch_add(1, std::memory_order_relaxed);
  *refused = x;
  return false;
}

}  // namespace

// A heap without a parent is charged with one CAS. A nested heap must be
// charged at every level or at none, and without ever showing a charge it
// will take back (another allocation seeing it would be refused for nothing):
// under its root's charge lock, which every charge below that root takes,
// the levels below the root only grow, so checking them first, then
// charging the root by CAS (the root's own charges do not take the lock),
// then adding to the levels below is exact.
bool heap_charge(Heap* h, std::size_t bytes, Heap** refused) noexcept {
  SPACES_TEST_POINT("charge", h);
  if (h->parent == nullptr) return charge_level(h, bytes) || refuse(h, refused);
  Heap* root = h->root;
  LockGuard guard(root->charge_lock);
  for (Heap* x = h; x != root; x = x->parent)
    if (!has_room(x, bytes)) return refuse(x, refused);
  SPACES_TEST_POINT("charge.nested", h);
  if (!charge_level(root, bytes)) return refuse(root, refused);
  for (Heap* x = h; x != root; x = x->parent) charged(x, x->footprint.fetch_add(bytes, std::memory_order_relaxed), bytes);
  return true;
}

void heap_uncharge(Heap* h, std::size_t bytes) noexcept {
  if (bytes == 0) return;
  for (Heap* x = h; x != nullptr; x = x->parent) x->footprint.fetch_sub(bytes, std::memory_order_relaxed);
}

// ---- Runs under the cap ---------------------------------------------------------

void record_failure(spaces_status_t status, Heap* refused, std::size_t request, std::size_t charge) noexcept {
  spaces_failure_t& f = tls_ctx.last_failure;
  f.status = status;
  f.heap = refused != nullptr ? to_handle(refused) : nullptr;
  f.request = request;
  f.charge = charge != 0 ? charge : request;
  f.footprint = refused != nullptr ? refused->footprint.load(std::memory_order_relaxed) : 0;
  f.cap = refused != nullptr ? refused->cap.load(std::memory_order_relaxed) : 0;
  errno = status == SPACES_E_INVALID ? EINVAL : ENOMEM;
  if (option(SPACES_OPTION_VERBOSE) != 0) {
    if (status == SPACES_E_CAP)
      message("spaces: heap '%s': cap of %zu bytes reached (footprint %zu, %zu more refused, request %zu)\n",
              refused->name, f.cap, f.footprint, f.charge, request);
    else if (status == SPACES_E_NOMEM)
      message("spaces: the OS refused memory (request %zu)\n", request);
  }
}

namespace {

/// Runs the handlers of the soft limits crossed in h's chain (innermost
/// first); true if one asked for the charge to be made again.
bool run_soft_handlers(Heap* h, std::size_t request) noexcept {
  bool again = false;
  for (Heap* x = h; x != nullptr; x = x->parent) {
    if (SPACES_LIKELY(!x->soft_pending.load(std::memory_order_relaxed))) continue;
    if (!x->soft_pending.exchange(false, std::memory_order_acquire) || x->soft_handler == nullptr) continue;
    if (x->soft_handler(to_handle(x), request, x->soft_handler_arg) != 0) again = true;
  }
  return again;
}

}  // namespace

/// Charges `bytes` to h. At the cap, memory the heap holds and does not need
/// is given back first, as far as this thread may (heap_collect: its own
/// empty slabs, abandoned shards', retained slabs; of h and of the heap that
/// refused), and the heap's other threads are asked to give back theirs on
/// their next slow path (trim_epoch). Then the refusing heap's cap handler
/// runs once and may ask for one retry. False with the failure recorded.
/// A charge that crossed soft limits runs their handlers (no lock held).
bool charge(Heap* h, std::size_t bytes, std::size_t request) noexcept {
  bool collected = false;
  bool handler_ran = false;
  bool soft_ran = false;
  for (;;) {
    Heap* refused = nullptr;
    if (heap_charge(h, bytes, &refused)) {
      // Past a soft limit the charge stands, unless its handler gave memory
      // back and asks for it to be made again (once).
      if (soft_ran || !run_soft_handlers(h, request)) return true;
      soft_ran = true;
      heap_uncharge(h, bytes);
      continue;
    }
    if (!collected) {
      collected = true;
      refused->trim_epoch.fetch_add(1, std::memory_order_relaxed);
      if (refused != h) h->trim_epoch.fetch_add(1, std::memory_order_relaxed);
      std::size_t freed = heap_collect(h);
      if (refused != h) freed += heap_collect(refused);
      if (freed != 0) continue;
    }
    if (!handler_ran && refused->cap_handler != nullptr) {
      handler_ran = true;
      if (refused->cap_handler(to_handle(refused), request, refused->cap_handler_arg) == SPACES_CAP_RETRY) continue;
    }
    record_failure(SPACES_E_CAP, refused, request, bytes);
    return false;
  }
}

namespace {

/// Makes run r h's, in h's epoch.
SlabHeader* owned_by(Heap* h, SlabHeader* r) noexcept {
  r->heap = h;
  r->heap_epoch = h->epoch;
  return r;
}

/// Charges `bytes` to h, then takes the memory from `take(&err)` (the slab
/// cache, the mini pool); an OS refusal gives the charge back. nullptr with
/// the failure recorded.
template <class Take>
SlabHeader* charge_and_take(Heap* h, std::size_t bytes, std::size_t request, Take&& take) noexcept {
  if (!charge(h, bytes, request)) return nullptr;
  int err = 0;
  SlabHeader* r = take(&err);
  if (r == nullptr) {
    heap_uncharge(h, bytes);
    record_failure(SPACES_E_NOMEM, h, request);
    return nullptr;
  }
  return owned_by(h, r);
}

}  // namespace

SlabHeader* acquire_run(Heap* h, std::size_t slabs, std::size_t align, std::size_t offset,
                        std::size_t request) noexcept {
  if (slabs == 1 && align <= kSlabSize) {
    if (SlabHeader* r = heap_pop_retained(h)) return r;
  }
  // A span this thread freed (slab_cache.cpp: the thread's runs), without
  // the cache lock; at the cap it stays kept for the next span.
  if (slabs >= 2 && align <= kSlabSize) {
    if (SlabHeader* r = cache_acquire_local(slabs)) {
      if (charge(h, slabs * kSlabSize, request)) return owned_by(h, r);
      cache_release_local(r);
      return nullptr;
    }
  }
  return charge_and_take(h, slabs * kSlabSize, request,
                         [&](int* err) { return cache_acquire(slabs, align, offset, err); });
}

SlabHeader* acquire_mini(Heap* h, std::size_t request) noexcept {
  return charge_and_take(h, kMiniSize, request, [](int* err) { return mini_acquire(err); });
}

}  // namespace spaces::detail
