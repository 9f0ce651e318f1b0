// The randomized model test: a million mixed operations on several heaps
// checked against a simple model, single-threaded and with 2-8 threads.
//   Workload: alloc, calloc, aligned alloc (8 B to 1 MiB), realloc (a third
//   of them growing the block by half), free, sizes
//   1 B to 4 MiB; heaps: general multi-threaded, general single-threaded with a
//   cap, region; occasional reset, destroy-and-recreate (the dead handle must
//   reach nothing), collect, routing the thread into a heap (a routed
//   heap's destroy is refused), and region marks and rewinds. Fixed seeds.
//   Checked: no two live blocks overlap; contents survive (fill patterns);
//   alignment; usable_size >= requested; stats equal the model exactly; walk
//   visits exactly the model's live set; the footprint stays under the cap
//   and spaces_heap_footprint agrees with the stats.
// SPACES_MODEL_OPS overrides the operation count (for quick local runs).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace spaces_test;

namespace {

struct LiveBlock {
  std::size_t size;
  std::size_t usable;  // general heaps
  std::uint32_t seed;
};

struct ModelHeap {
  ModelHeap(const char* n, std::size_t c, spaces_discipline_t d, unsigned f)
      : name(n), cap(c), discipline(d), flags(f) {}
  const char* name;
  std::size_t cap;
  spaces_discipline_t discipline;
  unsigned flags;
  spaces_heap_t* heap = nullptr;
  std::map<std::uintptr_t, LiveBlock> live;
  std::size_t allocs = 0;
  std::size_t frees = 0;
  std::size_t region_bytes = 0;  // requested bytes of region blocks
  struct Mark {
    spaces_mark_t mark;
    std::map<std::uintptr_t, LiveBlock> live;
    std::size_t allocs, region_bytes, footprint;
  };
  std::vector<Mark> marks;  // region: live marks, oldest first, with the model then

  void create() { heap = make_heap(name, cap, discipline, flags); }
  bool region() const { return discipline == SPACES_REGION; }
};

unsigned char pattern(std::uint32_t seed, std::size_t i) { return static_cast<unsigned char>((seed * 131u + i) & 0xFF); }

/// Positions that carry the fill pattern: both ends and the middle.
template <class F>
void for_pattern_positions(std::size_t size, F&& f) {
  const std::size_t edge = size < 64 ? size : 64;
  for (std::size_t i = 0; i < edge; ++i) f(i);
  for (std::size_t i = size - edge; i < size; ++i) f(i);
  if (size > 0) f(size / 2);
}

/// Every live block of every model in the process, to check that no two
/// overlap, across threads too.
class Registry {
 public:
  /// False if [a, a + n) overlaps a block already registered.
  bool add(std::uintptr_t a, std::size_t n) {
    std::lock_guard<std::mutex> g(m_);
    auto next = blocks_.lower_bound(a);
    if (next != blocks_.end() && next->first < a + n) return report(a, n, *next);
    if (next != blocks_.begin() && std::prev(next)->second > a) return report(a, n, *std::prev(next));
    blocks_[a] = a + n;
    return true;
  }
  void remove(std::uintptr_t a) {
    std::lock_guard<std::mutex> g(m_);
    blocks_.erase(a);
  }

 private:
  static bool report(std::uintptr_t a, std::size_t n, std::pair<const std::uintptr_t, std::uintptr_t> other) {
    ADD_FAILURE() << "[" << reinterpret_cast<void*>(a) << ", +" << n << ") overlaps ["
                  << reinterpret_cast<void*>(other.first) << ", +" << other.second - other.first << ") of heap '"
                  << spaces_heap_name(spaces_heap_of(reinterpret_cast<void*>(other.first))) << "'";
    return false;
  }
  std::mutex m_;
  std::map<std::uintptr_t, std::uintptr_t> blocks_;
};

/// Blocks of one multi-threaded heap traded between threads: allocated by
/// one model, verified and freed by another.
struct SharedHeap {
  struct Traded {
    void* p;
    std::size_t size;
    std::uint32_t seed;
  };
  spaces_heap_t* heap = nullptr;
  std::mutex m;
  std::vector<Traded> blocks;
  std::atomic<std::size_t> allocs{0};
  std::atomic<std::size_t> frees{0};
};

class Model {
 public:
  explicit Model(std::uint64_t seed, Registry* registry = nullptr, SharedHeap* shared = nullptr)
      : rng_(seed), registry_(registry != nullptr ? registry : &own_registry_), shared_(shared) {
    heaps_.push_back(ModelHeap{"general", SPACES_UNCAPPED, SPACES_GENERAL, 0});
    heaps_.push_back(ModelHeap{"capped", 24u << 20, SPACES_GENERAL, SPACES_HEAP_SINGLE_THREADED});
    heaps_.push_back(ModelHeap{"region", SPACES_UNCAPPED, SPACES_REGION, SPACES_HEAP_SINGLE_THREADED});
    // Mini slabs first, whole slabs past 32 KiB; resets and destroys make it tiny again.
    heaps_.push_back(ModelHeap{"tiny", 4u << 20, SPACES_GENERAL, SPACES_HEAP_TINY});
    for (ModelHeap& h : heaps_) h.create();
  }
  ~Model() {
    spaces_thread_set_heap(nullptr, nullptr);
    for (ModelHeap& h : heaps_) {
      for (auto& [a, b] : h.live) registry_->remove(a);
      spaces_heap_destroy(h.heap);
    }
  }

  void run(std::size_t ops) {
    for (std::size_t op = 0; op < ops && !::testing::Test::HasFatalFailure(); ++op) {
      step();
      if (op % 1000 == 999) check_all();
      if (op % 50000 == 49999) walk_all();
    }
    check_all();
    walk_all();
  }

 private:
  std::size_t random_size() {
    const double r = unit_(rng_);
    auto in = [&](std::size_t lo, std::size_t hi) { return std::uniform_int_distribution<std::size_t>(lo, hi)(rng_); };
    if (r < 0.02) return 0;
    if (r < 0.77) return in(1, 512);
    if (r < 0.975) return in(513, 65536);
    if (r < 0.998) return in(65537, 1 << 20);
    return in((1 << 20) + 1, 4 << 20);
  }

  void fill(void* p, std::size_t size, std::uint32_t seed) {
    auto* c = static_cast<unsigned char*>(p);
    for_pattern_positions(size, [&](std::size_t i) { c[i] = pattern(seed, i); });
  }

  void verify(std::uintptr_t addr, const LiveBlock& b) {
    const auto* c = reinterpret_cast<const unsigned char*>(addr);
    bool ok = true;
    for_pattern_positions(b.size, [&](std::size_t i) { ok = ok && c[i] == pattern(b.seed, i); });
    ASSERT_TRUE(ok) << "contents of block " << reinterpret_cast<void*>(addr) << " (" << b.size << " bytes) changed";
  }

  /// Adds a block to the model after checking it overlaps no live block.
  void add(ModelHeap& h, void* p, std::size_t size, std::size_t align) {
    ASSERT_NE(p, nullptr);
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    ASSERT_EQ(a % align, 0u) << "alignment " << align;
    const std::size_t extent = size == 0 ? 1 : size;
    ASSERT_TRUE(registry_->add(a, extent)) << "block " << p << " overlaps a live block";
    LiveBlock b{size, 0, static_cast<std::uint32_t>(rng_())};
    if (h.region()) {
      EXPECT_EQ(spaces_usable_size(p), 0u);
      h.region_bytes += extent;
    } else {
      b.usable = spaces_usable_size(p);
      ASSERT_GE(b.usable, size);
      ASSERT_EQ(spaces_heap_of(p), h.heap);
    }
    fill(p, size, b.seed);
    h.live[a] = b;
    h.allocs++;
  }

  void remove(ModelHeap& h, std::uintptr_t a) {
    registry_->remove(a);
    h.live.erase(a);
    if (!h.region()) h.frees++;
  }

  /// Accepts a failed allocation only from the capped heap, as a cap failure.
  void expect_failure_allowed(ModelHeap& h) {
    ASSERT_EQ(h.cap == SPACES_UNCAPPED ? 1 : 0, 0) << "allocation failed in an uncapped heap, errno " << errno;
    spaces_failure_t f{};
    spaces_last_failure(&f);
    ASSERT_EQ(f.status, SPACES_E_CAP);
    ASSERT_EQ(errno, ENOMEM);
  }

  std::uintptr_t pick_live(ModelHeap& h) {
    auto it = h.live.begin();
    std::advance(it, static_cast<long>(std::uniform_int_distribution<std::size_t>(0, h.live.size() - 1)(rng_)));
    return it->first;
  }

  void step() {
    if (shared_ != nullptr && unit_(rng_) < 0.1) return trade();
    ModelHeap& h = heaps_[std::uniform_int_distribution<std::size_t>(0, heaps_.size() - 1)(rng_)];
    const double r = unit_(rng_);
    const bool crowded = h.live.size() > 1500;
    if (r < 0.00005 || (h.region() && crowded)) {
      reset(h);  // region blocks only go away here
    } else if (r < 0.0001) {
      destroy_and_recreate(h);
    } else if (r < 0.0002) {
      collect(h);
    } else if (r < 0.0003) {
      route(h);
    } else if (r < 0.0006 && h.region()) {
      mark_or_rewind(h);
    } else if (!h.live.empty() && (r < 0.30 || crowded)) {
      const std::uintptr_t a = pick_live(h);
      verify(a, h.live[a]);
      // Out of the model first: once freed, another thread may get the memory.
      if (!h.region()) remove(h, a);
      spaces_free(reinterpret_cast<void*>(a));  // a no-op for region blocks: they stay live until reset
    } else if (!h.live.empty() && r < 0.42) {
      realloc_one(h);
    } else if (r < 0.50) {
      const std::size_t align = std::size_t{1} << std::uniform_int_distribution<int>(3, 20)(rng_);
      const std::size_t size = random_size();
      void* p = spaces_aligned_alloc(h.heap, align, size);
      if (p == nullptr) return expect_failure_allowed(h);
      add(h, p, size, align);
    } else if (r < 0.55) {
      const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 64)(rng_);
      const std::size_t size = std::uniform_int_distribution<std::size_t>(1, 512)(rng_);
      auto* p = static_cast<unsigned char*>(spaces_calloc(h.heap, n, size));
      if (p == nullptr) return expect_failure_allowed(h);
      for (std::size_t i = 0; i < n * size; i += 61) ASSERT_EQ(p[i], 0) << "calloc memory not zeroed";
      add(h, p, n * size, 16);
    } else if (h.region() && r < 0.75) {
      spaces_cursor_t* c = spaces_region_cursor(h.heap);
      const std::size_t align = std::size_t{1} << std::uniform_int_distribution<int>(0, 6)(rng_);
      const std::size_t size = std::uniform_int_distribution<std::size_t>(0, 300)(rng_);
      void* p = spaces_cursor_alloc(c, size, align);
      ASSERT_NE(p, nullptr);
      add(h, p, size, align);
    } else {
      const std::size_t size = random_size();
      void* p = spaces_alloc(h.heap, size);
      if (p == nullptr) return expect_failure_allowed(h);
      add(h, p, size, 16);
    }
  }

  void realloc_one(ModelHeap& h) {
    const std::uintptr_t a = pick_live(h);
    const LiveBlock old = h.live[a];
    verify(a, old);
    // A third of the reallocs grow the block by up to half again, as a
    // growing buffer does (spans grow in place, huge blocks remap).
    const std::size_t size = unit_(rng_) < 0.33 ? old.size + 1 + old.size / 2 : random_size();
    // Out of the registry first: once moved, another thread may get the memory.
    if (!h.region()) registry_->remove(a);
    void* q = spaces_realloc(h.heap, reinterpret_cast<void*>(a), size);
    if (q == nullptr) {
      expect_failure_allowed(h);
      verify(a, old);  // a failed realloc leaves the block untouched
      if (!h.region()) {
        ASSERT_TRUE(registry_->add(a, old.size == 0 ? 1 : old.size));
      }
      return;
    }
    // The common prefix must have been carried over (check the head bytes).
    const std::size_t keep = std::min({size, old.size, std::size_t{64}});
    for (std::size_t i = 0; i < keep; ++i)
      ASSERT_EQ(static_cast<unsigned char*>(q)[i], pattern(old.seed, i)) << "realloc lost byte " << i;
    if (h.region()) {
      add(h, q, size, 16);  // the old block stays until reset
      return;
    }
    h.live.erase(a);
    if (reinterpret_cast<std::uintptr_t>(q) == a) {
      h.allocs--;  // in place: the same block, resized
    } else {
      h.frees++;
    }
    add(h, q, size, 16);
  }

  void reset(ModelHeap& h) {
    h.marks.clear();
    for (auto& [a, b] : h.live) registry_->remove(a);
    ASSERT_EQ(spaces_heap_reset(h.heap), SPACES_OK);
    h.live.clear();
    h.allocs = h.frees = h.region_bytes = 0;
  }

  /// Makes h (or, half the time, the default heap) the thread's current
  /// heap; a region heap is refused and the route stays.
  void route(ModelHeap& h) {
    spaces_heap_t* prev = nullptr;
    if (unit_(rng_) < 0.5) {
      ASSERT_EQ(spaces_thread_set_heap(nullptr, &prev), SPACES_OK);
      ASSERT_EQ(prev, routed_handle());
      routed_ = nullptr;
      return;
    }
    const spaces_status_t s = spaces_thread_set_heap(h.heap, &prev);
    ASSERT_EQ(prev, routed_handle());
    if (h.region()) {
      ASSERT_EQ(s, SPACES_E_UNSUPPORTED);
      return;
    }
    ASSERT_EQ(s, SPACES_OK);
    routed_ = &h;
    const std::size_t live = stats_of(h.heap).live_blocks;
    ASSERT_EQ(spaces_heap_destroy(h.heap), SPACES_E_BUSY);  // and nothing is lost
    ASSERT_EQ(stats_of(h.heap).live_blocks, live);
  }
  /// Takes a region mark or rewinds to a live one: the blocks allocated
  /// since leave the model, and the statistics and the footprint are the
  /// mark's again.
  void mark_or_rewind(ModelHeap& h) {
    if (h.marks.empty() || unit_(rng_) < 0.5) {
      spaces_mark_t m{};
      ASSERT_EQ(spaces_region_mark(h.heap, &m), SPACES_OK);
      h.marks.push_back({m, h.live, h.allocs, h.region_bytes, stats_of(h.heap).footprint});
      return;
    }
    const std::size_t k = std::uniform_int_distribution<std::size_t>(0, h.marks.size() - 1)(rng_);
    // Out of the registry first: once rewound, another thread may get the memory.
    for (auto& [a, b] : h.live)
      if (h.marks[k].live.count(a) == 0) registry_->remove(a);
    ASSERT_EQ(spaces_region_rewind(h.heap, h.marks[k].mark), SPACES_OK);
    h.live = h.marks[k].live;
    h.allocs = h.marks[k].allocs;
    h.region_bytes = h.marks[k].region_bytes;
    const spaces_stats_t s = stats_of(h.heap);
    ASSERT_EQ(s.live_blocks, h.live.size());
    ASSERT_EQ(s.live_bytes, h.region_bytes);
    ASSERT_EQ(s.footprint, h.marks[k].footprint);  // exactly the runs it held then
    const spaces_mark_t newest = h.marks.back().mark;
    h.marks.resize(k + 1);
    ASSERT_EQ(spaces_region_mark_live(h.heap, h.marks[k].mark), 1);  // a mark survives its rewind...
    if (newest.value != h.marks[k].mark.value) {
      ASSERT_EQ(spaces_region_mark_live(h.heap, newest), 0);  // ...the later ones end
      ASSERT_EQ(spaces_region_rewind(h.heap, newest), SPACES_E_INVALID);
    }
  }
  spaces_heap_t* routed_handle() const { return routed_ != nullptr ? routed_->heap : nullptr; }

  void destroy_and_recreate(ModelHeap& h) {
    h.marks.clear();
    if (routed_ == &h) {
      // Refused while routed, with nothing lost; then the route ends.
      const std::size_t live = stats_of(h.heap).live_blocks;
      ASSERT_EQ(spaces_heap_destroy(h.heap), SPACES_E_BUSY);
      ASSERT_EQ(stats_of(h.heap).live_blocks, live);
      ASSERT_EQ(spaces_thread_set_heap(nullptr, nullptr), SPACES_OK);
      routed_ = nullptr;
    }
    for (auto& [a, b] : h.live) registry_->remove(a);
    ASSERT_EQ(spaces_heap_destroy(h.heap), SPACES_OK);
    spaces_heap_t* dead = h.heap;
    h.live.clear();
    h.allocs = h.frees = h.region_bytes = 0;
    h.create();
    // The old handle reaches nothing, the new heap least of all.
    ASSERT_EQ(spaces_heap_id(dead), 0u);
    ASSERT_EQ(spaces_alloc(dead, 8), nullptr);
    ASSERT_EQ(spaces_heap_destroy(dead), SPACES_E_INVALID);
    ASSERT_NE(spaces_heap_id(h.heap), 0u);
  }

  /// Gives back the calling thread's empty slabs: the footprint can only go
  /// down, and the blocks and counts stay as they were.
  void collect(ModelHeap& h) {
    const spaces_stats_t before = stats_of(h.heap);
    ASSERT_EQ(spaces_heap_collect(h.heap), SPACES_OK);
    const spaces_stats_t after = stats_of(h.heap);
    ASSERT_LE(after.footprint, before.footprint) << h.name;
    ASSERT_EQ(after.live_blocks, before.live_blocks) << h.name;
    ASSERT_EQ(after.alloc_count, before.alloc_count) << h.name;
  }

  void check_all() {
    ASSERT_EQ(spaces_thread_heap(), routed_handle());
    for (ModelHeap& h : heaps_) {
      const spaces_stats_t s = stats_of(h.heap);
      ASSERT_EQ(spaces_heap_footprint(h.heap), s.footprint) << h.name;
      ASSERT_EQ(s.live_blocks, h.live.size()) << h.name;
      ASSERT_EQ(s.alloc_count, h.allocs) << h.name;
      ASSERT_EQ(s.free_count, h.frees) << h.name;
      if (h.region()) {
        ASSERT_EQ(s.live_bytes, h.region_bytes) << h.name;
      } else {
        std::size_t usable = 0;
        for (auto& [a, b] : h.live) usable += b.usable;
        ASSERT_EQ(s.live_bytes, usable) << h.name;
      }
      ASSERT_LE(s.footprint, h.cap) << h.name;
      ASSERT_LE(s.peak_footprint, h.cap) << h.name;
      ASSERT_EQ(s.footprint % ((h.flags & SPACES_HEAP_TINY) != 0 ? kMini : kSlab), 0u) << h.name;
      // Spot-check some contents.
      int n = 0;
      for (auto& [a, b] : h.live) {
        if (++n > 20) break;
        verify(a, b);
      }
    }
  }

  void walk_all() {
    for (ModelHeap& h : heaps_) {
      if (h.region()) continue;
      std::map<std::uintptr_t, std::size_t> seen;
      bool duplicate = false;
      struct Ctx {
        std::map<std::uintptr_t, std::size_t>* seen;
        bool* duplicate;
      } ctx{&seen, &duplicate};
      ASSERT_EQ(spaces_heap_walk(
                    h.heap,
                    [](void* block, size_t usable, void* arg) {
                      auto* c = static_cast<Ctx*>(arg);
                      if (!c->seen->emplace(reinterpret_cast<std::uintptr_t>(block), usable).second)
                        *c->duplicate = true;
                      return 0;
                    },
                    &ctx),
                SPACES_OK);
      ASSERT_FALSE(duplicate) << h.name;
      ASSERT_EQ(seen.size(), h.live.size()) << h.name;
      for (auto& [a, b] : h.live) {
        auto it = seen.find(a);
        ASSERT_NE(it, seen.end()) << h.name << ": walk missed a live block";
        ASSERT_EQ(it->second, b.usable) << h.name;
      }
    }
  }

  /// Allocates a block of the shared heap for another thread, or verifies and
  /// frees one that another thread allocated.
  void trade() {
    if (unit_(rng_) < 0.5) {
      const std::size_t size = std::uniform_int_distribution<std::size_t>(1, 2000)(rng_);
      void* p = spaces_alloc(shared_->heap, size);
      ASSERT_NE(p, nullptr);
      ASSERT_TRUE(registry_->add(reinterpret_cast<std::uintptr_t>(p), size)) << "overlap in the shared heap";
      const auto seed = static_cast<std::uint32_t>(rng_());
      fill(p, size, seed);
      shared_->allocs++;
      std::lock_guard<std::mutex> g(shared_->m);
      shared_->blocks.push_back({p, size, seed});
      return;
    }
    SharedHeap::Traded t{};
    {
      std::lock_guard<std::mutex> g(shared_->m);
      if (shared_->blocks.empty()) return;
      const std::size_t i = std::uniform_int_distribution<std::size_t>(0, shared_->blocks.size() - 1)(rng_);
      t = shared_->blocks[i];
      shared_->blocks[i] = shared_->blocks.back();
      shared_->blocks.pop_back();
    }
    verify(reinterpret_cast<std::uintptr_t>(t.p), LiveBlock{t.size, 0, t.seed});
    registry_->remove(reinterpret_cast<std::uintptr_t>(t.p));
    spaces_free(t.p);
    shared_->frees++;
  }

  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  std::vector<ModelHeap> heaps_;
  ModelHeap* routed_ = nullptr;  // the thread's current heap (nullptr: the default)
  Registry own_registry_;
  Registry* registry_;
  SharedHeap* shared_;
};

std::size_t ops_from_env(std::size_t fallback) {
  const char* v = std::getenv("SPACES_MODEL_OPS");
  return v != nullptr ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

class ModelTest : public ::testing::TestWithParam<std::uint64_t> {};

// A million operations per seed against the model.
TEST_P(ModelTest, MillionOperationsMatchTheModel) {
  Model m(GetParam());
  m.run(ops_from_env(1000000));
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelTest, ::testing::Values(1u, 20261124u));

// With the huge threshold at 1 MiB, so that blocks
// of 1-4 MiB are huge mappings: realloc then remaps them (grows in place,
// moves, shrinks) and spans grow into huge blocks.
TEST(ModelHugeTest, HugeBlocksFromOneMiBMatchTheModel) {
  long long threshold = 0;
  ASSERT_EQ(spaces_option_get(SPACES_OPTION_HUGE_THRESHOLD, &threshold), SPACES_OK);
  ASSERT_EQ(spaces_option_set(SPACES_OPTION_HUGE_THRESHOLD, 1 << 20), SPACES_OK);
  Model m(77u);
  m.run(ops_from_env(1000000) / 2);
  EXPECT_EQ(spaces_option_set(SPACES_OPTION_HUGE_THRESHOLD, threshold), SPACES_OK);
}

class ThreadedModelTest : public ::testing::TestWithParam<int> {};

// 2 to 8 threads each run the model on heaps of their own while trading blocks
// of one shared multi-threaded heap (allocated by one thread, freed by another).
// No block overlaps any other, across threads; the shared heap's walk and
// counts match the blocks still traded at the end.
TEST_P(ThreadedModelTest, ThreadsRunTheModelAndTradeBlocks) {
  const int threads = GetParam();
  const std::size_t ops = ops_from_env(400000) / static_cast<std::size_t>(threads);
  Registry registry;
  SharedHeap shared;
  shared.heap = make_heap("shared", SPACES_UNCAPPED, SPACES_GENERAL, SPACES_HEAP_TINY);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Model m(1000u + static_cast<std::uint64_t>(t), &registry, &shared);
      m.run(ops);
    });
  }
  for (auto& th : pool) th.join();
  const spaces_stats_t s = stats_of(shared.heap);
  EXPECT_EQ(s.alloc_count, shared.allocs.load());
  // Frees from other threads count at once, collected or not.
  EXPECT_EQ(s.free_count, shared.frees.load());
  EXPECT_EQ(s.live_blocks, shared.blocks.size());
  std::map<void*, std::size_t> walked;
  spaces_heap_walk(
      shared.heap,
      [](void* block, size_t usable, void* arg) {
        static_cast<std::map<void*, std::size_t>*>(arg)->emplace(block, usable);
        return 0;
      },
      &walked);
  ASSERT_EQ(walked.size(), shared.blocks.size());
  for (const auto& b : shared.blocks) {
    ASSERT_EQ(walked.count(b.p), 1u);
    EXPECT_GE(walked[b.p], b.size);
  }
  for (const auto& b : shared.blocks) spaces_free(b.p);
  EXPECT_EQ(spaces_heap_destroy(shared.heap), SPACES_OK);
}

INSTANTIATE_TEST_SUITE_P(Threads, ThreadedModelTest, ::testing::Values(2, 4, 8));

}  // namespace
