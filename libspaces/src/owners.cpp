// ---------------------------------------------------------------------------
// owners.cpp: which thread owns which shard, and the lock under which
// threads exit.
//
// Each thread keeps the list of shards it owns (ThreadCtx::shards), guarded
// by one process-wide lock. A thread that exits collects and abandons each
// of its shards under that lock, so heap reset and destroy, which take it
// around their shards (ThreadsExclusive), never meet a shard half abandoned.
// The lock order is: this lock, then a heap's lock, then the slab cache's.
// ---------------------------------------------------------------------------
#include <sched.h>

#include "internal/heap.h"

namespace spaces::detail {
namespace {

constinit SpinLock g_owners_lock;  // every ThreadCtx::shards list and Shard::thread

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

/// In a fork child: a shard of a thread that did not survive.
void abandon_after_fork(Shard* sh, std::uintptr_t self) noexcept {
  const std::uintptr_t t = sh->tag.load(std::memory_order_relaxed);
  if (t == 0 || t == self) return;
  sh->thread = nullptr;  // that thread's TLS is gone
  sh->thread_next = sh->thread_prev = nullptr;
  sh->forked = true;
  shard_set_owner(sh, 0);
}

}  // namespace

ThreadsExclusive::ThreadsExclusive() noexcept {
  // A test can stop an exiting thread inside its exit and resume it from
  // here, when a reset is known to wait for it (tests/internal/interleaving_test).
  while (!g_owners_lock.try_lock()) {
    SPACES_TEST_POINT("threads.exclusive_wait", nullptr);
    sched_yield();
  }
}

ThreadsExclusive::~ThreadsExclusive() { g_owners_lock.unlock(); }

void threads_forget_heap(Heap* h) noexcept {
  ThreadsExclusive exclusive;
  for_each_shard(h, [](Shard* sh) { unlink_from_thread(sh); });
  // The TLS caches of other threads may still map h->id to a shard; ids are
  // never reused, so those entries can never match again. This thread's
  // entry is cleared now so the memory is not referenced needlessly.
  ThreadCtx::Entry& e = tls_ctx.cache[h->id % kShardCacheSize];
  if (e.heap_id == h->id) e = ThreadCtx::Entry{0, nullptr};
}

void owners_attach(Shard* sh) noexcept {
  LockGuard guard(g_owners_lock);
  if (sh->thread != nullptr) return;
  ThreadCtx& t = tls_ctx;
  sh->thread = &t;
  sh->thread_prev = nullptr;
  sh->thread_next = t.shards;
  if (t.shards != nullptr) t.shards->thread_prev = sh;
  t.shards = sh;
}

void owners_abandon_thread() noexcept {
  LockGuard guard(g_owners_lock);
  while (Shard* sh = tls_ctx.shards) {
    unlink_from_thread(sh);
    abandon(sh);
  }
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

void owners_fork_prepare() noexcept { g_owners_lock.lock(); }
void owners_fork_parent() noexcept { g_owners_lock.unlock(); }

void owners_fork_child() noexcept {
  g_owners_lock.reset_after_fork();
  std::uintptr_t self = thread_tag();
  heap_registry_for_each(
      [](Heap* h, void* arg) {
        if (h->single) return;
        const std::uintptr_t me = *static_cast<const std::uintptr_t*>(arg);
        for_each_shard(h, [me](Shard* sh) { abandon_after_fork(sh, me); });
      },
      &self);
}

}  // namespace spaces::detail
