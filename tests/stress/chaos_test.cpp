// Chaos stress: the workloads below run with every protocol point of the
// allocator yielding or sleeping at random (chaos.hpp), to shake out
// interleavings no fixed schedule reaches. Each runs for SPACES_CHAOS_SECONDS.
//   ProducerConsumer   4 producers hand blocks to 4 consumers through queues:
//                      every block is freed by a thread that did not allocate it
//   ThreadChurn        rounds of short-lived threads that allocate, trade and
//                      exit with blocks live; between rounds the heaps are
//                      reset, destroyed and created again
//   CapChanges         threads fill a capped heap and free each other's blocks
//                      while a controller raises and lowers the cap
// Checked: contents survive (fill patterns), no block is handed out twice,
// stats and walk agree exactly with what the test holds after every join,
// the footprint never crosses the largest cap set, and nothing is lost.
#include <gtest/gtest.h>

#include <spaces/spaces.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "chaos.hpp"
#include "test_util.hpp"

using namespace spaces_test;
using Clock = std::chrono::steady_clock;

namespace {

struct Block {
  unsigned char* p;
  std::size_t size;
  unsigned char tag;
};

Block make_block(spaces_heap_t* h, std::size_t size, unsigned char tag) {
  auto* p = static_cast<unsigned char*>(spaces_alloc(h, size));
  if (p != nullptr) {
    p[0] = tag;
    p[size - 1] = tag;
    p[size / 2] = tag;
  }
  return Block{p, size, tag};
}

bool intact(const Block& b) { return b.p[0] == b.tag && b.p[b.size - 1] == b.tag && b.p[b.size / 2] == b.tag; }

/// The blocks the walk visits, to compare with what the test holds.
std::set<void*> walked(spaces_heap_t* h) {
  std::set<void*> seen;
  spaces_heap_walk(
      h,
      [](void* b, size_t, void* arg) {
        static_cast<std::set<void*>*>(arg)->insert(b);
        return 0;
      },
      &seen);
  return seen;
}

/// A queue of blocks between threads.
class Channel {
 public:
  void push(Block b) {
    std::lock_guard<std::mutex> g(m_);
    q_.push_back(b);
  }
  bool pop(Block* b) {
    std::lock_guard<std::mutex> g(m_);
    if (q_.empty()) return false;
    *b = q_.front();
    q_.pop_front();
    return true;
  }
  std::size_t size() {
    std::lock_guard<std::mutex> g(m_);
    return q_.size();
  }
  std::vector<Block> drain() {
    std::lock_guard<std::mutex> g(m_);
    std::vector<Block> v(q_.begin(), q_.end());
    q_.clear();
    return v;
  }

 private:
  std::mutex m_;
  std::deque<Block> q_;
};

// Every block is freed by a thread that did not allocate it.
TEST(ChaosTest, ProducerConsumer) {
  chaos::Scope chaos;
  ScopedHeap h("handoff");
  constexpr int kPairs = 4;
  std::vector<Channel> channels(kPairs);
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> produced{0}, consumed{0}, damaged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kPairs; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(chaos::seed()) + static_cast<unsigned>(t));
      while (!stop.load()) {
        if (channels[static_cast<std::size_t>(t)].size() > 2000) {  // let the consumer catch up
          std::this_thread::yield();
          continue;
        }
        const std::size_t size = 1 + rng() % (rng() % 8 == 0 ? 40000 : 600);
        Block b = make_block(h, size, static_cast<unsigned char>(rng()));
        ASSERT_NE(b.p, nullptr);
        channels[static_cast<std::size_t>(t)].push(b);
        produced.fetch_add(1);
      }
    });
    threads.emplace_back([&, t] {
      Block b{};
      while (!stop.load()) {
        if (!channels[static_cast<std::size_t>((t + 1) % kPairs)].pop(&b)) {
          std::this_thread::yield();
          continue;
        }
        if (!intact(b)) damaged.fetch_add(1);
        spaces_free(b.p);
        consumed.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(chaos::duration());
  stop.store(true);
  for (auto& t : threads) t.join();
  std::vector<Block> left;
  for (Channel& c : channels)
    for (const Block& b : c.drain()) left.push_back(b);
  EXPECT_EQ(damaged.load(), 0u);
  const spaces_stats_t s = stats_of(h);
  EXPECT_EQ(s.alloc_count, produced.load());
  EXPECT_EQ(s.free_count, consumed.load());
  EXPECT_EQ(s.live_blocks, left.size());
  std::set<void*> seen = walked(h);
  EXPECT_EQ(seen.size(), left.size());
  for (const Block& b : left) {
    EXPECT_EQ(seen.count(b.p), 1u);
    EXPECT_TRUE(intact(b));
    spaces_free(b.p);
  }
  EXPECT_EQ(stats_of(h).live_blocks, 0u);
  std::fprintf(stderr, "chaos: %zu blocks handed across threads\n", consumed.load());
}

// Short-lived threads, and heaps reset, destroyed and created between rounds.
TEST(ChaosTest, ThreadChurn) {
  chaos::Scope chaos;
  std::mt19937 rng(static_cast<unsigned>(chaos::seed()));
  spaces_heap_t* heaps[2] = {make_heap("churn-a"), make_heap("churn-b")};
  std::vector<Block> held;  // blocks outliving the threads that allocated them
  std::size_t rounds = 0, recreated = 0;
  const auto end = Clock::now() + chaos::duration();
  while (Clock::now() < end) {
    ++rounds;
    Channel trade;
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 local(static_cast<unsigned>(rounds * 7 + static_cast<std::size_t>(t)));
        std::vector<Block> mine;
        for (int i = 0; i < 400; ++i) {
          Block b = make_block(heaps[local() % 2], 1 + local() % 3000, static_cast<unsigned char>(local()));
          ASSERT_NE(b.p, nullptr);
          if (local() % 3 == 0) trade.push(b);
          else mine.push_back(b);
          Block other{};
          if (local() % 2 == 0 && trade.pop(&other)) {
            ASSERT_TRUE(intact(other));
            spaces_free(other.p);
          }
        }
        for (std::size_t i = 0; i < mine.size(); i += 2) spaces_free(mine[i].p);
        for (std::size_t i = 1; i < mine.size(); i += 2) trade.push(mine[i]);  // live after the thread exits
      });
    }
    for (auto& t : threads) t.join();
    for (const Block& b : trade.drain()) held.push_back(b);
    // Each heap's live blocks are exactly the held ones of that heap.
    for (spaces_heap_t* h : heaps) {
      std::size_t mine = 0;
      for (const Block& b : held)
        if (spaces_heap_of(b.p) == h) ++mine;
      const spaces_stats_t s = stats_of(h);
      ASSERT_EQ(s.live_blocks, mine);
      ASSERT_EQ(s.alloc_count, s.free_count + s.live_blocks);
      ASSERT_EQ(walked(h).size(), mine);
    }
    for (const Block& b : held) ASSERT_TRUE(intact(b));
    // Between rounds: free some, then reset one heap or destroy and recreate it.
    std::shuffle(held.begin(), held.end(), rng);
    const std::size_t keep = held.size() / 2;
    for (std::size_t i = keep; i < held.size(); ++i) spaces_free(held[i].p);
    held.resize(keep);
    spaces_heap_t*& victim = heaps[rng() % 2];
    held.erase(std::remove_if(held.begin(), held.end(), [&](const Block& b) { return spaces_heap_of(b.p) == victim; }),
               held.end());
    if (rng() % 2 == 0) {
      ASSERT_EQ(spaces_heap_reset(victim), SPACES_OK);
      ASSERT_EQ(stats_of(victim).footprint, 0u);
    } else {
      spaces_heap_t* dead = victim;
      ASSERT_EQ(spaces_heap_destroy(victim), SPACES_OK);
      victim = make_heap(rng() % 2 == 0 ? "churn-a" : "churn-b");
      ASSERT_EQ(spaces_alloc(dead, 10), nullptr);
      ++recreated;
    }
  }
  for (const Block& b : held) spaces_free(b.p);
  for (spaces_heap_t* h : heaps) {
    EXPECT_EQ(stats_of(h).live_blocks, 0u);
    EXPECT_EQ(spaces_heap_destroy(h), SPACES_OK);
  }
  std::fprintf(stderr, "chaos: %zu rounds, %zu heaps recreated\n", rounds, recreated);
}

// A capped heap whose cap moves while threads fill it.
TEST(ChaosTest, CapChanges) {
  chaos::Scope chaos;
  constexpr std::size_t kHigh = 64 * kSlab, kLow = 8 * kSlab;
  ScopedHeap h("moving-cap", kHigh);
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> over{0}, refused{0};
  Channel shared;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(chaos::seed()) * 3 + static_cast<unsigned>(t));
      std::vector<Block> mine;
      while (!stop.load()) {
        Block b = make_block(h, 16 + rng() % 5000, static_cast<unsigned char>(rng()));
        if (stats_of(h).footprint > kHigh) over.fetch_add(1);
        if (b.p == nullptr) {
          refused.fetch_add(1);
          for (const Block& m : mine) spaces_free(m.p);
          mine.clear();
          Block o{};
          while (shared.pop(&o)) spaces_free(o.p);
          continue;
        }
        if (rng() % 2 == 0) shared.push(b);
        else mine.push_back(b);
        if (mine.size() > 200) {
          spaces_free(mine.front().p);
          mine.erase(mine.begin());
        }
      }
      for (const Block& m : mine) spaces_free(m.p);
    });
  }
  std::thread controller([&] {
    std::mt19937 rng(static_cast<unsigned>(chaos::seed()) + 99);
    while (!stop.load()) {
      spaces_heap_set_cap(h, rng() % 2 == 0 ? kLow : kHigh);
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + rng() % 20));
    }
    spaces_heap_set_cap(h, kHigh);
  });
  std::this_thread::sleep_for(chaos::duration());
  stop.store(true);
  for (auto& t : threads) t.join();
  controller.join();
  for (const Block& b : shared.drain()) spaces_free(b.p);
  EXPECT_EQ(over.load(), 0u);
  const spaces_stats_t s = stats_of(h);
  EXPECT_LE(s.peak_footprint, kHigh);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.alloc_count, s.free_count);
  std::fprintf(stderr, "chaos: %zu allocations refused by a cap\n", refused.load());
}

}  // namespace
