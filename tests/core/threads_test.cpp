// Threads: frees from any thread, shards per thread, thread exit with live
// blocks, caps under concurrency, fork.
//   Workloads: producer/consumer handoff; threads that exit leaving blocks;
//   several threads filling one capped heap while others free; fork child.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

// Blocks allocated by one thread and freed by another are reused, and the counts add up.
TEST(ThreadsTest, ProducerConsumerHandsBlocksAcross) {
  ScopedHeap h("handoff");
  constexpr int kRounds = 20, kBatch = 5000;
  std::vector<void*> batch;
  for (int r = 0; r < kRounds; ++r) {
    std::thread producer([&] {
      for (int i = 0; i < kBatch; ++i) {
        auto* p = static_cast<int*>(spaces_alloc(h, 16 + static_cast<std::size_t>(i % 200)));
        *p = i;
        batch.push_back(p);
      }
    });
    producer.join();
    std::thread consumer([&] {
      for (int i = 0; i < kBatch; ++i) {
        ASSERT_EQ(*static_cast<int*>(batch[static_cast<std::size_t>(i)]), i);
        spaces_free(batch[static_cast<std::size_t>(i)]);
      }
      batch.clear();
    });
    consumer.join();
  }
  const spaces_stats_t s = stats_of(h);
  // Remote frees still waiting in slabs count as live until their owner collects them.
  EXPECT_EQ(s.alloc_count, s.free_count + s.live_blocks);
  EXPECT_EQ(s.alloc_count, static_cast<std::size_t>(kRounds * kBatch));
  EXPECT_LE(s.footprint, 40 * kSlab);  // adopted shards reuse the memory of exited threads
}

// Threads that exit leave their blocks live; the blocks survive and are freed by others.
TEST(ThreadsTest, ThreadExitLosesNoBlock) {
  ScopedHeap h("orphans");
  std::vector<std::vector<char*>> per_thread(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        auto* p = static_cast<char*>(spaces_alloc(h, 100));
        std::memset(p, 'a' + t, 100);
        per_thread[static_cast<std::size_t>(t)].push_back(p);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stats_of(h).live_blocks, 8000u);
  for (int t = 0; t < 8; ++t)
    for (char* p : per_thread[static_cast<std::size_t>(t)]) {
      ASSERT_EQ(p[0], 'a' + t);
      ASSERT_EQ(p[99], 'a' + t);
      spaces_free(p);
    }
  // A new thread adopts an abandoned shard and collects what was freed into it.
  std::thread([&] {
    for (int i = 0; i < 8000; ++i) ASSERT_NE(spaces_alloc(h, 100), nullptr);
  }).join();
  const spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.live_blocks, 8000u);
  EXPECT_LE(s.slabs, 16u);
}

// Several threads fill one capped heap while others free: the footprint never
// crosses the cap and every refused allocation is a cap failure.
TEST(ThreadsTest, CapHoldsUnderConcurrency) {
  constexpr std::size_t kCap = 32 * kSlab;
  ScopedHeap h("contended", kCap);
  std::atomic<bool> crossed{false};
  std::mutex m;
  std::vector<void*> shared;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<void*> mine;
      for (int i = 0; i < 20000; ++i) {
        void* p = spaces_alloc(h, 64 + static_cast<std::size_t>((i * 31 + t) % 4000));
        if (stats_of(h).footprint > kCap) crossed = true;
        if (p == nullptr) {
          std::lock_guard<std::mutex> g(m);
          for (void* q : shared) spaces_free(q);
          shared.clear();
          continue;
        }
        if (i % 2 == 0) {
          std::lock_guard<std::mutex> g(m);
          shared.push_back(p);  // freed later, possibly by another thread
        } else {
          mine.push_back(p);
          if (mine.size() > 64) {
            spaces_free(mine.front());
            mine.erase(mine.begin());
          }
        }
      }
      for (void* q : mine) spaces_free(q);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(crossed.load());
  EXPECT_LE(stats_of(h).peak_footprint, kCap);
  for (void* q : shared) spaces_free(q);
}

// After all threads joined, reset and destroy release everything.
TEST(ThreadsTest, ResetAfterThreadsJoined) {
  spaces_heap_t* h = make_heap("joined");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) ASSERT_NE(spaces_alloc(h, 32), nullptr);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(stats_of(h).live_blocks, 20000u);
  ASSERT_EQ(spaces_heap_reset(h), SPACES_OK);
  EXPECT_EQ(stats_of(h).footprint, 0u);
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  ASSERT_NE(spaces_alloc(h, 32), nullptr);
  EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
}

// Two threads replace spans with no warm memory allowed, so every release
// decommits outside the cache lock while the other thread bins, cuts and
// merges neighbours: every block keeps its bytes, and each heap ends empty.
TEST(ThreadsTest, SpansReplacedWhileTheCacheDecommits) {
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_SLAB_CACHE, 0), SPACES_OK);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  spaces_heap_t* heaps[2] = {make_heap("spans-0"), make_heap("spans-1")};
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      constexpr int kSlots = 6;
      unsigned char* slot[kSlots] = {};
      std::size_t size[kSlots] = {};
      std::uint32_t x = 12345u + static_cast<std::uint32_t>(t);
      for (int i = 0; i < 600; ++i) {
        x = x * 1664525u + 1013904223u;
        const int k = static_cast<int>(x >> 29) % kSlots;
        if (slot[k] != nullptr) {
          if (slot[k][0] != static_cast<unsigned char>(k) || slot[k][size[k] - 1] != static_cast<unsigned char>(t))
            bad.fetch_add(1);
          spaces_free(slot[k]);
        }
        size[k] = (std::size_t{1} + (x >> 24) % 6) * kSlab;  // 1-6 slabs and the header region
        slot[k] = static_cast<unsigned char*>(spaces_alloc(heaps[t], size[k]));
        ASSERT_NE(slot[k], nullptr);
        slot[k][0] = static_cast<unsigned char>(k);
        slot[k][size[k] - 1] = static_cast<unsigned char>(t);
      }
      for (unsigned char* p : slot) spaces_free(p);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  for (spaces_heap_t* h : heaps) {
    EXPECT_EQ(stats_of(h).footprint, 0u);
    EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
  }
}

// A forked child can allocate and free at once, even while another thread was busy.
TEST(ThreadsTest, ForkChildAllocatesImmediately) {
  ScopedHeap h("forked");
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop) spaces_free(spaces_alloc(h, 128));
  });
  for (int i = 0; i < 20; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      alarm(30);  // a child that hangs must not outlive the test
      void* p = spaces_alloc(h, 64);
      void* q = spaces_alloc(spaces_default_heap(), 1000);
      spaces_free(p);
      spaces_free(q);
      spaces_heap_t* fresh = make_heap("child");
      bool ok = fresh != nullptr && spaces_alloc(fresh, 10) != nullptr && spaces_heap_destroy(fresh) == SPACES_OK;
      _exit(p != nullptr && q != nullptr && ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  stop = true;
  busy.join();
}

}  // namespace
