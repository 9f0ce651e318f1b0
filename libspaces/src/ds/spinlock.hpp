// ---------------------------------------------------------------------------
// ds/spinlock.hpp: the lock of the allocator's slow paths.
//
// A test-and-test-and-set lock that yields the CPU after a short spin. It
// never allocates (pthread mutexes don't either, but this one also resets
// trivially in a fork child) and it is only taken off the fast paths:
// slab acquisition and release, heap control, shard creation.
// ---------------------------------------------------------------------------
#ifndef SPACES_DS_SPINLOCK_HPP
#define SPACES_DS_SPINLOCK_HPP

#include <atomic>
#include <sched.h>

namespace spaces::detail {

class SpinLock {
 public:
  void lock() noexcept {
    for (unsigned spins = 0;; ++spins) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) {
        if (spins < 64) {
          __builtin_ia32_pause();
          ++spins;
        } else {
          ::sched_yield();
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }
  /// In a fork child: the parent's holder does not exist there.
  void reset_after_fork() noexcept { locked_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> locked_{false};
};

class LockGuard {
 public:
  explicit LockGuard(SpinLock& l) noexcept : l_(l) { l_.lock(); }
  ~LockGuard() { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  SpinLock& l_;
};

}  // namespace spaces::detail

#endif  // SPACES_DS_SPINLOCK_HPP
