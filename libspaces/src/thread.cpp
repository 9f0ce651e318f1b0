// ---------------------------------------------------------------------------
// thread.cpp: the calling thread's view of heaps: shard lookup, the default
// heap, the thread's current heap, and what happens when a thread exits and
// around fork.
//
// The current heap costs malloc nothing: its fast path allocates from
// tls_ctx.default_shard, and routing a thread only points that at the
// thread's shard of another heap (thread_route). Each heap counts the
// threads routed into it, so that it cannot be destroyed under them.
//
// A thread finds its shard of a multi-threaded heap through an 8-entry TLS
// cache keyed by heap id (thread.h:shard_of); on a miss it takes the heap's
// lock and finds, adopts or creates one. When a thread exits, its shards are
// abandoned (owners.cpp): their slabs' owner words lose the thread's tag, so
// every later free takes the remote path, and the next thread that needs a
// shard of that heap adopts one, collecting what was freed meanwhile.
// Nothing leaks and no block is lost, whatever other threads still hold.
// ---------------------------------------------------------------------------
#include <cstdlib>
#include <new>

#include "internal/thread.h"

namespace spaces::detail {
namespace {

constinit SpinLock g_default_lock;  // creation of the default heap

void on_thread_exit() noexcept {
  owners_abandon_thread();
  cache_flush_local();
  ThreadCtx& t = tls_ctx;
  for (ThreadCtx::Entry& e : t.cache) e = ThreadCtx::Entry{0, nullptr};
  // The route ends with the thread; what later TLS destructors allocate
  // goes to the default heap.
  if (t.route != nullptr) t.route->routes.fetch_sub(1, std::memory_order_acq_rel);
  t.route = nullptr;
  t.default_shard = nullptr;
  t.registered = false;
}

// fork(): every lock is taken before, in lock order, and released after (or
// reset in the child, where only the forking thread exists).
void fork_prepare() noexcept {
  g_default_lock.lock();
  owners_fork_prepare();
  heap_registry_fork_prepare();
  mini_fork_prepare();
  cache_fork_prepare();
  meta_fork_prepare();
}

void fork_parent() noexcept {
  meta_fork_parent();
  cache_fork_parent();
  mini_fork_parent();
  heap_registry_fork_parent();
  owners_fork_parent();
  g_default_lock.unlock();
}

void fork_child() noexcept {
  meta_fork_child();
  cache_fork_child();
  mini_fork_child();
  heap_registry_fork_child();
  owners_fork_child();
  g_default_lock.reset_after_fork();
  // Only the forking thread exists here: the other threads' routes are gone.
  heap_registry_for_each([](Heap* h, void*) { h->routes.store(0, std::memory_order_relaxed); }, nullptr);
  if (Heap* h = tls_ctx.route) h->routes.store(1, std::memory_order_relaxed);
}

[[maybe_unused]] bool shard_is_valid_locked(Shard* sh) noexcept {
  LockGuard guard(sh->heap->lock);
  return shard_is_valid(sh);
}

/// The calling thread's shard among h's (heap lock held): its own, else an
/// abandoned one it adopts, else nullptr.
Shard* own_or_adopt_locked(Heap* h, std::uintptr_t tag, bool* adopted) noexcept {
  Shard* idle = nullptr;
  Shard* found = nullptr;
  for_each_shard(h, [&](Shard* sh) {
    const std::uintptr_t t = sh->tag.load(std::memory_order_relaxed);
    if (t == tag) found = sh;
    else if (t == 0 && idle == nullptr) idle = sh;
  });
  if (found != nullptr || idle == nullptr) return found;
  // Adopt: the shard of a thread that exited (or the unused shard0).
  if (idle->forked) shard_repair_after_fork(idle);
  shard_set_owner(idle, tag);
  *adopted = true;
  return idle;
}

/// A new shard of h for the calling thread (heap lock held).
Shard* new_shard_locked(Heap* h, std::uintptr_t tag) noexcept {
  void* mem = meta_alloc(sizeof(Shard));
  if (mem == nullptr) return nullptr;
  Shard* sh = ::new (mem) Shard{};
  shard_init(sh, h);
  sh->tag.store(tag, std::memory_order_relaxed);
  sh->heap_next = h->shards;
  h->shards = sh;
  return sh;
}

}  // namespace

void threads_init() noexcept {
  process_init(ProcessHooks{&on_thread_exit, &fork_prepare, &fork_parent, &fork_child});
}

Shard* shard_lookup_slow(Heap* h) noexcept {
  const std::uintptr_t tag = thread_tag();
  bool adopted = false;
  Shard* found;
  {
    LockGuard guard(h->lock);
    found = own_or_adopt_locked(h, tag, &adopted);
    if (found == nullptr) found = new_shard_locked(h, tag);
  }
  if (found == nullptr) {
    record_failure(SPACES_E_NOMEM, h, 0);
    return nullptr;
  }
  if (adopted || found->thread == nullptr) owners_attach(found);
  arm_thread_exit();
  tls_ctx.cache[h->id % kShardCacheSize] = ThreadCtx::Entry{h->id, found};
  SPACES_ASSERT_EXPENSIVE(!adopted || shard_is_valid_locked(found));
  return found;
}

Shard* default_shard_slow() noexcept {
  Heap* h = tls_ctx.route != nullptr ? tls_ctx.route : default_heap();
  if (h == nullptr) return nullptr;
  Shard* sh = shard_of(h);
  tls_ctx.default_shard = sh;
  return sh;
}

Heap* default_heap() noexcept {
  Heap* h = g_default_heap.load(std::memory_order_acquire);
  if (SPACES_LIKELY(h != nullptr)) return h;
  // Initialise before taking the lock: libc may call malloc from inside it,
  // and that nested call must be able to create the heap itself.
  threads_init();
  LockGuard guard(g_default_lock);
  h = g_default_heap.load(std::memory_order_relaxed);
  if (h != nullptr) return h;
  spaces_heap_options_t o;
  default_options(&o);
  o.name = "default";
  const long long cap = option(SPACES_OPTION_DEFAULT_CAP);
  o.cap = cap > 0 ? static_cast<std::size_t>(cap) : SPACES_UNCAPPED;
  if (heap_create(&o, &h) != SPACES_OK) return nullptr;
  g_default_heap.store(h, std::memory_order_release);
  if (option(SPACES_OPTION_STATS_AT_EXIT) != 0) {
    std::atexit([] { heap_print_stats(g_default_heap.load(std::memory_order_acquire), stderr); });
  }
  if (option(SPACES_OPTION_LEAK_REPORT) != 0) std::atexit(&default_heap_report_leaks);
  return h;
}

spaces_status_t thread_route(Heap* h, Heap** previous) noexcept {
  ThreadCtx& t = tls_ctx;
  if (h == default_heap_if_created()) h = nullptr;
  Heap* const old = t.route;
  if (previous != nullptr) *previous = old;
  if (h == old) return SPACES_OK;
  Shard* sh = nullptr;
  if (h != nullptr) {
    if (h->discipline != SPACES_GENERAL) return SPACES_E_UNSUPPORTED;
    // A single-threaded heap has one shard: two threads allocating from it
    // at once would corrupt it.
    std::uint32_t none = 0;
    if (h->single && !h->routes.compare_exchange_strong(none, 1, std::memory_order_acq_rel)) return SPACES_E_BUSY;
    if (!h->single) h->routes.fetch_add(1, std::memory_order_acq_rel);
    sh = shard_of(h);
    if (sh == nullptr) {
      h->routes.fetch_sub(1, std::memory_order_acq_rel);
      return SPACES_E_NOMEM;
    }
    arm_thread_exit();  // the route ends at exit (a single-threaded heap's shard arms nothing)
  }
  if (old != nullptr) old->routes.fetch_sub(1, std::memory_order_acq_rel);
  t.route = h;
  // The default heap's shard is found again on the next malloc.
  t.default_shard = sh;
  return SPACES_OK;
}

}  // namespace spaces::detail
