// Forcing interleavings: drives the test points of the spaces_testhooks
// library (SPACES_TEST_POINT in libspaces/src). A test arms a stop at a named
// point; the first thread that reaches it (optionally: only a given thread)
// blocks there until the test resumes it, so the test can run other threads
// through the window the point opens, deterministically. `when` runs a
// function on the thread that reaches a point instead.
//
// The hook runs inside the allocator, possibly with its locks held: what a
// test does from a `when` function or while a thread is stopped must not
// need the same lock (each test says why its steps do not).
#ifndef SPACES_TESTS_INTERLEAVING_HPP
#define SPACES_TESTS_INTERLEAVING_HPP

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <vector>
#include <string>
#include <thread>

extern "C" {
typedef void (*spaces_test_hook_fn)(const char* point, const void* object, void* arg);
void spaces_test_set_hook(spaces_test_hook_fn fn, void* arg) noexcept;
}

namespace spaces_test {

class Interleaving {
 public:
  Interleaving() { spaces_test_set_hook(&hook, this); }
  ~Interleaving() {
    spaces_test_set_hook(nullptr, nullptr);
    std::lock_guard<std::mutex> g(m_);
    for (Stop& s : stops_) s.resumed = true;
    cv_.notify_all();
  }
  Interleaving(const Interleaving&) = delete;
  Interleaving& operator=(const Interleaving&) = delete;

  /// The next thread to reach `point` (only `only`, if given) stops there.
  void stop_at(const char* point, std::thread::id only = {}) {
    std::lock_guard<std::mutex> g(m_);
    stops_.push_back(Stop{point, only});
    active_.store(true, std::memory_order_release);
  }
  /// Waits until a thread is stopped at `point`; returns the point's object.
  /// Fails the test after `timeout` (a stop the code never reached).
  const void* wait_stopped(const char* point, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lk(m_);
    Stop* s = nullptr;
    const bool reached = cv_.wait_for(lk, timeout, [&] { return (s = find(point, true)) != nullptr; });
    if (!reached) {
      ADD_FAILURE() << "no thread reached the test point '" << point << "'";
      return nullptr;
    }
    return s->object;
  }
  /// Whether a thread is stopped at `point` now.
  bool is_stopped(const char* point) {
    std::lock_guard<std::mutex> g(m_);
    return find(point, true) != nullptr;
  }
  /// Lets the thread stopped at `point` go on.
  void resume(const char* point) {
    std::lock_guard<std::mutex> g(m_);
    if (Stop* s = find(point, true)) s->resumed = true;
    cv_.notify_all();
  }
  /// Runs `fn` on the first thread to reach `point` (once).
  void when(const char* point, std::function<void()> fn) {
    std::lock_guard<std::mutex> g(m_);
    actions_.push_back(Action{point, std::move(fn)});
    active_.store(true, std::memory_order_release);
  }
  /// How often `point` was reached since the first count() of it.
  std::size_t count(const char* point) {
    std::lock_guard<std::mutex> g(m_);
    active_.store(true, std::memory_order_release);
    return counts_[point];
  }

 private:
  struct Stop {
    std::string point;
    std::thread::id only;
    bool stopped = false;
    bool resumed = false;
    const void* object = nullptr;
  };
  struct Action {
    std::string point;
    std::function<void()> fn;
  };

  Stop* find(const char* point, bool stopped) {
    for (Stop& s : stops_)
      if (s.point == point && s.stopped == stopped && !s.resumed) return &s;
    return nullptr;
  }

  static void hook(const char* point, const void* object, void* arg) {
    auto* self = static_cast<Interleaving*>(arg);
    if (!self->active_.load(std::memory_order_acquire)) return;
    self->reach(point, object);
  }

  void reach(const char* point, const void* object) {
    std::function<void()> action;
    std::unique_lock<std::mutex> lk(m_);
    auto c = counts_.find(point);
    if (c != counts_.end()) ++c->second;
    else counts_.emplace(point, 1);
    for (auto it = actions_.begin(); it != actions_.end(); ++it) {
      if (it->point == point) {
        action = std::move(it->fn);
        actions_.erase(it);
        break;
      }
    }
    if (action) {
      lk.unlock();
      action();
      return;
    }
    const std::thread::id me = std::this_thread::get_id();
    for (Stop& s : stops_) {
      if (s.point != point || s.stopped || (s.only != std::thread::id{} && s.only != me)) continue;
      s.stopped = true;
      s.object = object;
      cv_.notify_all();
      cv_.wait(lk, [&] { return s.resumed; });
      return;
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::atomic<bool> active_{false};
  std::list<Stop> stops_;  // a list: stopped threads hold references into it
  std::vector<Action> actions_;
  std::map<std::string, std::size_t> counts_;
};

}  // namespace spaces_test

#endif  // SPACES_TESTS_INTERLEAVING_HPP
