// ---------------------------------------------------------------------------
// thread.cpp: per-thread state, shard lookup, thread exit and fork.
//
// A thread finds its shard of a multi-threaded heap through an 8-entry TLS
// cache keyed by heap id (internal.h:shard_of); on a miss it takes the heap's
// lock and finds, adopts or creates one. When a thread exits, its shards are
// abandoned: their slabs' owner words lose the thread's tag, so every later
// free takes the remote path, and the next thread that needs a shard of that
// heap adopts one, collecting what was freed meanwhile. Nothing leaks and no
// block is lost, whatever other threads still hold.
// ---------------------------------------------------------------------------
#include <pthread.h>

#include "internal/internal.h"

namespace spaces::detail {

constinit thread_local ThreadCtx tls_ctx SPACES_TLS_INITIAL_EXEC{};

namespace {

constinit SpinLock g_threads_lock;  // every ThreadCtx::shards list and Shard::thread
constinit std::atomic<int> g_threads_state{0};  // 0 new, 1 initialising, 2 ready
pthread_key_t g_exit_key;

void unlink_from_thread(Shard* sh) noexcept {
  ThreadCtx* t = sh->thread;
  if (t == nullptr) return;
  if (sh->thread_prev != nullptr) sh->thread_prev->thread_next = sh->thread_next;
  else t->shards = sh->thread_next;
  if (sh->thread_next != nullptr) sh->thread_next->thread_prev = sh->thread_prev;
  sh->thread = nullptr;
  sh->thread_next = sh->thread_prev = nullptr;
}

void abandon(Shard* sh) noexcept {
  Heap* h = sh->heap;
  SPACES_TEST_POINT("thread.abandon", sh);
  // Settle what other threads freed into the shard while this thread still
  // owns it, and give back the slabs that are empty: the shard's next owner
  // (or a reclaim) then finds them in order, and nothing waits on a thread
  // that is gone.
  shard_collect(sh);
  LockGuard guard(h->lock);
  shard_set_owner(sh, 0);
  if (!sh->runs.empty()) h->reclaimable.store(true, std::memory_order_release);
}

void on_thread_exit(void*) noexcept {
  ThreadCtx& t = tls_ctx;
  {
    LockGuard guard(g_threads_lock);
    while (Shard* sh = t.shards) {
      unlink_from_thread(sh);
      abandon(sh);
    }
  }
  for (ThreadCtx::Entry& e : t.cache) e = ThreadCtx::Entry{0, nullptr};
  t.default_shard = nullptr;
  t.registered = false;
}

void fork_prepare() noexcept {
  g_threads_lock.lock();
  heap_registry_fork_prepare();
  cache_fork_prepare();
  meta_fork_prepare();
}

void fork_parent() noexcept {
  meta_fork_parent();
  cache_fork_parent();
  heap_registry_fork_parent();
  g_threads_lock.unlock();
}

/// In the child only the forking thread exists: abandon every other
/// thread's shards so that the child's threads can adopt them.
void fork_child() noexcept {
  meta_fork_child();
  cache_fork_child();
  heap_registry_fork_child();
  g_threads_lock.reset_after_fork();
  std::uintptr_t me = thread_tag();
  heap_registry_for_each(
      [](Heap* h, void* arg) {
        const std::uintptr_t self = *static_cast<const std::uintptr_t*>(arg);
        auto visit = [self](Shard* sh) {
          const std::uintptr_t t = sh->tag.load(std::memory_order_relaxed);
          if (t != 0 && t != self) {
            if (sh->thread != nullptr) sh->thread = nullptr;  // that thread's TLS is gone
            sh->thread_next = sh->thread_prev = nullptr;
            sh->forked = true;
            shard_set_owner(sh, 0);
          }
        };
        if (h->single) return;
        visit(&h->shard0);
        for (Shard* sh = h->shards; sh != nullptr; sh = sh->heap_next) visit(sh);
      },
      &me);
}

}  // namespace

void threads_init() noexcept {
  int state = g_threads_state.load(std::memory_order_acquire);
  if (SPACES_LIKELY(state == 2)) return;
  if (state == 0 && g_threads_state.compare_exchange_strong(state, 1, std::memory_order_acq_rel)) {
    // As the process's malloc, this runs on its first allocation; libc may
    // allocate inside pthread_atfork. Such a nested call sees state 1 from
    // this thread and goes on without waiting for itself.
    tls_ctx.initializing = true;
    options_init();
    pthread_key_create(&g_exit_key, [](void* arg) { on_thread_exit(arg); });
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    tls_ctx.initializing = false;
    g_threads_state.store(2, std::memory_order_release);
    return;
  }
  if (tls_ctx.initializing) return;
  while (g_threads_state.load(std::memory_order_acquire) != 2) sched_yield();
}

namespace {

[[maybe_unused]] bool shard_is_valid_locked(Shard* sh) noexcept {
  LockGuard guard(sh->heap->lock);
  return shard_is_valid(sh);
}

}  // namespace

Shard* shard_lookup_slow(Heap* h) noexcept {
  const std::uintptr_t tag = thread_tag();
  Shard* found = nullptr;
  bool adopted = false;
  {
    LockGuard guard(h->lock);
    Shard* idle = nullptr;
    auto consider = [&](Shard* sh) {
      const std::uintptr_t t = sh->tag.load(std::memory_order_relaxed);
      if (t == tag) found = sh;
      else if (t == 0 && idle == nullptr) idle = sh;
    };
    consider(&h->shard0);
    for (Shard* sh = h->shards; sh != nullptr && found == nullptr; sh = sh->heap_next) consider(sh);
    if (found == nullptr && idle != nullptr) {
      // Adopt: the shard of a thread that exited (or the unused shard0).
      found = idle;
      if (found->forked) shard_repair_after_fork(found);
      shard_set_owner(found, tag);
      adopted = true;
    }
    if (found == nullptr) {
      void* mem = meta_alloc(sizeof(Shard));
      if (mem == nullptr) {
        record_failure(SPACES_E_NOMEM, h, 0);
        return nullptr;
      }
      found = ::new (mem) Shard{};
      shard_init(found, h);
      found->tag.store(tag, std::memory_order_relaxed);
      found->heap_next = h->shards;
      h->shards = found;
    }
  }
  if (adopted || found->thread == nullptr) {
    LockGuard guard(g_threads_lock);
    if (found->thread == nullptr) {
      ThreadCtx& t = tls_ctx;
      found->thread = &t;
      found->thread_prev = nullptr;
      found->thread_next = t.shards;
      if (t.shards != nullptr) t.shards->thread_prev = found;
      t.shards = found;
    }
  }
  // Arm the exit hook once (not while threads_init is still creating the key:
  // only the initialising thread can get here then, and it is the main thread).
  if (!tls_ctx.registered && g_threads_state.load(std::memory_order_acquire) == 2) {
    tls_ctx.registered = true;
    pthread_setspecific(g_exit_key, &tls_ctx);
  }
  tls_ctx.cache[h->id % kShardCacheSize] = ThreadCtx::Entry{h->id, found};
  SPACES_ASSERT_EXPENSIVE(!adopted || shard_is_valid_locked(found));
  return found;
}

Shard* shard_find(Heap* h) noexcept {
  if (h->single) return &h->shard0;
  const ThreadCtx::Entry& e = tls_ctx.cache[h->id % kShardCacheSize];
  if (e.heap_id == h->id) return e.shard;
  const std::uintptr_t tag = thread_tag();
  LockGuard guard(h->lock);
  Shard* found = nullptr;
  for_each_shard(h, [&](Shard* sh) {
    if (sh->tag.load(std::memory_order_relaxed) == tag) found = sh;
  });
  return found;
}

Shard* default_shard_slow() noexcept {
  Heap* h = default_heap();
  if (h == nullptr) return nullptr;
  Shard* sh = shard_of(h);
  tls_ctx.default_shard = sh;
  return sh;
}

ThreadsExclusive::ThreadsExclusive() noexcept {
  // A test can stop an exiting thread inside on_thread_exit and resume it
  // from here, when a reset is known to wait for it (tests/core/interleaving_test).
  while (!g_threads_lock.try_lock()) {
    SPACES_TEST_POINT("threads.exclusive_wait", nullptr);
    sched_yield();
  }
}

ThreadsExclusive::~ThreadsExclusive() { g_threads_lock.unlock(); }

void threads_forget_heap(Heap* h) noexcept {
  ThreadsExclusive exclusive;
  unlink_from_thread(&h->shard0);
  for (Shard* sh = h->shards; sh != nullptr; sh = sh->heap_next) unlink_from_thread(sh);
  // The TLS caches of other threads may still map h->id to a shard; ids are
  // never reused, so those entries can never match again. This thread's
  // entry is cleared now so the memory is not referenced needlessly.
  ThreadCtx::Entry& e = tls_ctx.cache[h->id % kShardCacheSize];
  if (e.heap_id == h->id) e = ThreadCtx::Entry{0, nullptr};
}

}  // namespace spaces::detail
