// ---------------------------------------------------------------------------
// xmalloc.cpp: producer/consumer in the spirit of Lever and Boreham's
// xmalloc-test ("malloc() performance in a multithreaded Linux environment",
// USENIX 2000). Producer threads allocate random-sized blocks and hand them,
// in batches, through a bounded queue to consumer threads, which check and
// free them: every free of a block is a cross-thread free, and so is the free
// of the batch record itself. Half the threads produce, half consume.
//
// The queue is a mutex and two condition variables; batches keep its cost
// small next to the allocator's. The work is fixed (blocks per producer).
// ---------------------------------------------------------------------------
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common.hpp"

namespace {

// A batch record is malloc'ed with room for `count` block pointers after it.
struct Batch {
  std::size_t count;
  void** blocks() { return reinterpret_cast<void**>(this + 1); }
};

class BatchQueue {
 public:
  explicit BatchQueue(std::size_t capacity) : capacity_(capacity) {}

  void push(Batch* b) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < capacity_; });
    q_.push_back(b);
    not_empty_.notify_one();
  }
  /// Returns nullptr once every producer has finished and the queue is empty.
  Batch* pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || producers_left_ == 0; });
    if (q_.empty()) return nullptr;
    Batch* b = q_.front();
    q_.pop_front();
    not_full_.notify_one();
    return b;
  }
  void set_producers(std::size_t n) { producers_left_ = n; }
  void producer_done() {
    std::lock_guard lock(mu_);
    if (--producers_left_ == 0) not_empty_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Batch*> q_;
  std::size_t capacity_;
  std::size_t producers_left_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  wl::Flags flags("xmalloc", "producers allocate, consumers free (cross-thread frees through a queue)",
                  {{"threads", 2, "threads in all: half produce, half consume (at least one each)"},
                   {"blocks", 2000000, "blocks each producer allocates"},
                   {"batch", 100, "blocks per queue entry"},
                   {"queue", 64, "queue capacity in batches (bounds the live memory)"},
                   {"min", 16, "smallest block in bytes (>= 16)"},
                   {"max", 512, "largest block in bytes"},
                   {"seed", 42, "random seed"}});
  flags.parse(argc, argv);
  flags.print_settings();
  const std::uint64_t threads = flags["threads"] < 2 ? 2 : flags["threads"];
  const std::uint64_t producers = threads / 2, consumers = threads - producers;
  const std::uint64_t blocks = flags["blocks"], batch = flags["batch"] == 0 ? 1 : flags["batch"];
  const std::uint64_t min_size = flags["min"] < 16 ? 16 : flags["min"];
  const std::uint64_t max_size = flags["max"] < min_size ? min_size : flags["max"];
  const std::uint64_t seed = flags["seed"];

  wl::Stopwatch clock;
  BatchQueue queue(flags["queue"] == 0 ? 1 : flags["queue"]);
  queue.set_producers(producers);
  std::atomic<std::uint64_t> allocated_bytes{0}, freed_bytes{0}, freed_blocks{0}, errors{0};

  std::vector<std::thread> workers;
  for (std::uint64_t t = 0; t < producers; ++t) {
    workers.emplace_back([&, t] {
      wl::Rng rng(seed, t);
      std::uint64_t bytes = 0;
      for (std::uint64_t done = 0; done < blocks;) {
        const std::uint64_t n = blocks - done < batch ? blocks - done : batch;
        auto* b = static_cast<Batch*>(std::malloc(sizeof(Batch) + n * sizeof(void*)));
        if (b == nullptr) std::exit(1);
        b->count = n;
        for (std::uint64_t i = 0; i < n; ++i) {
          const std::uint64_t size = rng.between(min_size, max_size);
          auto* p = static_cast<std::uint64_t*>(std::malloc(size));
          if (p == nullptr) std::exit(1);
          p[0] = size;
          p[1] = wl::tag_of(size);
          b->blocks()[i] = p;
          bytes += size;
        }
        queue.push(b);
        done += n;
      }
      allocated_bytes += bytes;
      queue.producer_done();
    });
  }
  for (std::uint64_t t = 0; t < consumers; ++t) {
    workers.emplace_back([&] {
      std::uint64_t bytes = 0, count = 0, bad = 0;
      while (Batch* b = queue.pop()) {
        for (std::size_t i = 0; i < b->count; ++i) {
          auto* p = static_cast<std::uint64_t*>(b->blocks()[i]);
          if (p[1] != wl::tag_of(p[0])) ++bad;
          bytes += p[0];
          std::free(p);
        }
        count += b->count;
        std::free(b);
      }
      freed_bytes += bytes;
      freed_blocks += count;
      errors += bad;
    });
  }
  for (auto& w : workers) w.join();
  const double seconds = clock.seconds();

  const std::uint64_t total = producers * blocks;
  std::printf("blocks=%" PRIu64 " freed=%" PRIu64 " allocated_bytes=%" PRIu64 " balanced=%s errors=%" PRIu64
              "\n",
              total, freed_blocks.load(), allocated_bytes.load(),
              freed_bytes == allocated_bytes ? "yes" : "NO", errors.load());
  wl::report_time(seconds, static_cast<double>(total));
  return errors == 0 && freed_bytes == allocated_bytes && freed_blocks == total ? 0 : 1;
}
