// ---------------------------------------------------------------------------
// heap_ops_fuzzer.cpp: libFuzzer target. The input is a stream of operations
// on up to four live heaps, checked after every step against a model.
//
//   Heaps: general and region, capped or not, single- or multi-threaded,
//   retaining slabs on reset or not, nested (a parent is any live heap), each
//   with a teardown hook, optionally a leak report, and optionally a cap
//   handler (fail, raise the cap, free a block, reset a child); the thread
//   routed into one of them or the default heap. Operations: alloc, calloc, aligned alloc,
//   realloc, realloc_aligned, free, region cursor alloc, usable_size /
//   heap_of / owns, reset, destroy, create, set_cap (raise, lower, remove),
//   spaces_heap_collect, stats (and their text and JSON forms), walk (whole
//   and stopped early), process options (junk, huge threshold, decommit,
//   slab cache, reserve size) with spaces_collect, bad arguments, and every
//   entry point on stale handles (destroyed heaps, children taken by an
//   ancestor's teardown) and on garbage handles.
//   Checked: no two live blocks overlap; every block keeps the pattern
//   written into it; alignment; usable_size >= the request; heap_of; stats
//   equal the model exactly (one thread, so spaces.h says they are exact):
//   blocks, bytes, counts, cap, resets; the footprint is a multiple of a slab,
//   holds at least the model's slabs, is exactly them where no empty slab may
//   linger (region heaps; general heaps right after collect), is 0 after a
//   reset without retain, never grows while above a lowered cap, and drops in
//   every ancestor by what a teardown gave back; every allocation failure is
//   a real cap refusal (errno, spaces_last_failure, no room at the refusing
//   heap); teardown hooks run once per heap, children first, while the
//   heap's blocks are intact; a leak report lists exactly the live blocks;
//   a teardown that would destroy the routed heap is refused and changes
//   nothing; soft-limit crossings are counted; walk visits exactly the
//   model's live set.
// Sizes are bounded (4 MiB per block, 48 MiB live) and every heap is
// destroyed at the end of each input, so inputs are independent.
// ---------------------------------------------------------------------------
#include <spaces/spaces.h>

#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

// ---- Constants of the allocator the model relies on ------------------------
// Copies of values in libspaces/src (tests see only spaces.h); a change there
// shows up here as a failed footprint check, not as silence.

constexpr std::size_t kSlab = SPACES_SLAB_SIZE;
constexpr std::size_t kHeaderRegion = 512;      // types.h: kHeaderRegion
constexpr std::size_t kMini = 4096;             // types.h: kMiniSize (SPACES_HEAP_TINY)
constexpr std::size_t kMaxSmallSize = 32512;    // ds/size_class.hpp: the largest class
constexpr std::size_t kSpanThreshold = SPACES_REGION_SPAN_THRESHOLD;

/// Linked against spaces::hardened (SPACES_FUZZ_HARDENED, tests/fuzz/CMakeLists.txt).
#ifdef SPACES_FUZZ_HARDENED
constexpr bool kHardened = true;
#else
constexpr bool kHardened = false;
#endif

constexpr int kSlots = 4;
constexpr std::size_t kMaxBlocksPerHeap = 256;
constexpr std::size_t kMaxBlockSize = std::size_t{4} << 20;
constexpr std::size_t kMaxLiveBytes = std::size_t{48} << 20;
constexpr std::size_t kMaxOps = 3000;
constexpr std::size_t kMaxStale = 32;

// ---- Failure reporting -------------------------------------------------------

[[noreturn]] __attribute__((format(printf, 4, 5))) void check_failed(const char* file, int line, const char* cond,
                                                                     const char* fmt, ...) {
  std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", file, line, cond);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::abort();
}

#define CHECK(cond, ...)                                                \
  do {                                                                  \
    if (!(cond)) check_failed(__FILE__, __LINE__, #cond, __VA_ARGS__); \
  } while (0)

// ---- Input -----------------------------------------------------------------------

/// Reads the input as little-endian integers; past its end every read is 0.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() {
    const unsigned lo = u8();
    return static_cast<std::uint16_t>(lo | static_cast<unsigned>(u8()) << 8);
  }
  std::uint32_t u32() {
    const std::uint32_t lo = u16();
    return lo | static_cast<std::uint32_t>(u16()) << 16;
  }
  std::uint64_t u64() {
    const std::uint64_t lo = u32();
    return lo | static_cast<std::uint64_t>(u32()) << 32;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// Sizes around every edge the allocator has: direct sizes, classes, the
/// largest class, the region span threshold, slabs, spans.
constexpr std::size_t kEdgeSizes[] = {1,      15,     16,     17,     1023,   1024,   1025,       32511,
                                      32512,  32513,  32768,  64511,  65024,  65025,  65535,      65536,
                                      65537,  130560, 131072, 262144, 1 << 20, (1 << 20) + 1, 4 << 20};

std::size_t pick_size(Reader& in) {
  const std::uint8_t kind = in.u8();
  const std::size_t v = in.u16();
  switch (kind % 16) {
    case 0: return 0;
    case 1: case 2: case 3: case 4: case 5: return 1 + v % 256;
    case 6: case 7: return 1 + v % 4096;
    case 8: return 1 + v % 32768;
    case 9: case 10: {
      const std::size_t e = kEdgeSizes[v % (sizeof(kEdgeSizes) / sizeof(kEdgeSizes[0]))];
      const std::size_t d = in.u8() % 3;
      return d == 0 ? e - 1 : e + d - 1;
    }
    case 11: case 12: return kMaxSmallSize + 1 + v * 8;             // large spans up to ~540 KiB
    case 13: return (1 + v % 64) * kSlab - kHeaderRegion;            // exactly fills n slabs
    case 14: return 1 + (v * 64) % kMaxBlockSize;                    // up to 4 MiB
    default: return 1 + v % 1024;
  }
}

std::size_t pick_alignment(Reader& in) {
  const std::uint8_t k = in.u8();
  if (k < 128) return std::size_t{1} << (k % 10);   // up to 512: small classes
  if (k < 232) return std::size_t{1} << (k % 17);   // up to 64 KiB
  return std::size_t{1} << (k % 31);                // up to 1 GiB (SPACES_MAX_ALIGNMENT)
}

// ---- Model -------------------------------------------------------------------

std::uint8_t pattern_byte(std::uint32_t seed, std::size_t i) {
  return static_cast<std::uint8_t>((i * 131u + seed) ^ (i >> 9) ^ (seed >> 11));
}

struct Block {
  std::size_t size;        ///< requested bytes
  std::size_t usable;      ///< spaces_usable_size (general heaps); 0 for region blocks
  std::uint32_t seed;      ///< of the fill pattern
  bool span;               ///< a run of its own: a large/huge general block, a region span
  bool huge;               ///< a region span in its own OS mapping (released by reset)
  std::size_t span_bytes;  ///< the run's slab bytes
};

enum class Handler : std::uint8_t { None, Fail, RaiseCap, FreeBlock, ResetChild };

struct HeapModel {
  bool alive = false;
  spaces_heap_t* handle = nullptr;
  std::uint64_t id = 0;
  int parent = -1;
  spaces_discipline_t discipline = SPACES_GENERAL;
  unsigned flags = 0;
  std::size_t cap = SPACES_UNCAPPED;
  std::size_t max_cap = SPACES_UNCAPPED;  ///< highest cap it ever had: bounds the peak
  Handler handler = Handler::None;
  std::size_t raise_by = 0;
  bool probe_self = false;       ///< its hook tries to reset and destroy it
  bool probe_ancestors = false;  ///< its hook tries to reset and destroy its ancestors
  std::string name;              ///< as spaces_heap_name must give it back
  std::map<std::uintptr_t, Block> live;
  std::size_t allocs = 0;
  std::size_t frees = 0;
  std::size_t resets = 0;
  std::size_t last_footprint = 0;
  std::size_t last_peak = 0;
  std::size_t last_cap_failures = 0;
  std::size_t soft = SPACES_UNCAPPED;  ///< the soft limit
  std::size_t last_soft_events = 0;
  /// Region marks, oldest first, with the model as it was when each was taken.
  struct Mark {
    spaces_mark_t mark;
    std::map<std::uintptr_t, Block> live;
    std::size_t allocs;
  };
  std::vector<Mark> marks;
  std::vector<spaces_mark_t> ended;  ///< marks a rewind or teardown ended (a few)
  bool report_leaks = false;  ///< created with SPACES_HEAP_REPORT_LEAKS
  int leak_reports = 0;       ///< reports received since its last teardown began
  bool retained_pending = false;  ///< slabs kept by a retaining reset may still be held
  bool exact = false;             ///< general: nothing changed since a collect
  spaces_cursor_t* cursor = nullptr;

  bool region() const { return discipline == SPACES_REGION; }
  bool retains() const { return (flags & SPACES_HEAP_RETAIN_ON_RESET) != 0; }
};

struct HookEvent {
  std::uint64_t id;
  int destroyed;
};

struct WalkEntry {
  std::uintptr_t block;
  std::size_t usable;
};

spaces_cap_action_t on_cap(spaces_heap_t* heap, size_t request, void* arg);
void on_teardown(spaces_heap_t* heap, int destroyed, void* arg);
void on_leak(spaces_heap_t* heap, const spaces_leak_report_t* report, void* arg);

class Fuzzer {
 public:
  void run(const std::uint8_t* data, std::size_t size);

  // Called back by the allocator.
  spaces_cap_action_t cap_handler(HeapModel& m, spaces_heap_t* heap, std::size_t request);
  void teardown_hook(HeapModel& m, spaces_heap_t* heap, int destroyed);
  void leak_report(HeapModel& m, spaces_heap_t* heap, const spaces_leak_report_t& r);

 private:
  // ---- helpers
  int slot_of(const HeapModel& m) const { return static_cast<int>(&m - slots_); }
  int slot_of_handle(const spaces_heap_t* h) const {
    for (int i = 0; i < kSlots; ++i)
      if (slots_[i].alive && slots_[i].handle == h) return i;
    return -1;
  }
  bool is_ancestor_or_self(int a, int x) const {
    for (; x >= 0; x = slots_[x].parent)
      if (x == a) return true;
    return false;
  }
  int pick_live_slot(Reader& in) const {
    int live[kSlots];
    int n = 0;
    for (int i = 0; i < kSlots; ++i)
      if (slots_[i].alive) live[n++] = i;
    return n == 0 ? -1 : live[in.u8() % n];
  }
  std::uintptr_t pick_block(HeapModel& m, Reader& in) const {
    if (m.live.empty()) return 0;
    auto it = m.live.begin();
    std::advance(it, static_cast<long>(in.u16() % m.live.size()));
    return it->first;
  }
  bool room_for(std::size_t size) const { return live_bytes_ + size <= kMaxLiveBytes; }

  static spaces_stats_t stats_of(const HeapModel& m) {
    spaces_stats_t s;
    std::memset(&s, 0xEE, sizeof(s));
    CHECK(spaces_heap_stats(m.handle, &s) == SPACES_OK, "stats of live heap '%s'", m.name.c_str());
    return s;
  }

  void fill(std::uintptr_t a, const Block& b);
  void verify(std::uintptr_t a, const Block& b, bool full) const;
  void add_block(HeapModel& m, void* p, std::size_t size, std::size_t align, const char* what);
  void forget_block(HeapModel& m, std::uintptr_t a);
  void check_failure(HeapModel& m, std::size_t request, std::size_t size, std::size_t align, const char* what);
  void begin_alloc(HeapModel& m, std::size_t request, std::uintptr_t in_flight);
  void end_alloc();
  void forget_window();

  // ---- checks
  void check_stats(HeapModel& m);
  void check_walk(HeapModel& m, std::size_t stop_after);
  void check_texts(HeapModel& m);
  void check_all(bool contents);
  void check_refused(spaces_heap_t* h, const char* what);

  // ---- operations
  void op_create(Reader& in);
  void op_alloc(Reader& in, int kind);
  void op_realloc(Reader& in, bool aligned);
  void op_free(Reader& in);
  void op_cursor(Reader& in);
  void op_query(Reader& in);
  void op_route(Reader& in);
  void op_mark(Reader& in);
  spaces_heap_t* routed_handle() const { return routed_ >= 0 ? slots_[routed_].handle : nullptr; }
  void op_set_cap(Reader& in);
  void op_collect(Reader& in);
  void op_options(Reader& in);
  void op_bad_arguments(Reader& in);
  void op_stale(Reader& in);
  void op_garbage_handle(Reader& in);
  void teardown(int slot, bool destroy);
  void finish();

  HeapModel slots_[kSlots];
  std::map<std::uintptr_t, std::uintptr_t> extents_;  ///< every live block of every heap: start -> end
  std::size_t live_bytes_ = 0;
  std::vector<spaces_heap_t*> stale_;
  std::vector<std::uintptr_t> dead_blocks_;  ///< addresses of blocks freed by a teardown

  // The allocation in progress (for the cap handler).
  int op_slot_ = -1;
  int routed_ = -1;  ///< the slot the thread routes into (-1: the default heap)
  std::size_t op_request_ = 0;
  std::uintptr_t op_in_flight_ = 0;
  int handler_calls_ = 0;
  std::uintptr_t window_cur_ = 0;
  std::uintptr_t window_end_ = 0;

  // The teardown in progress (for the hooks).
  bool in_teardown_ = false;
  int teardown_target_ = -1;  ///< the heap whose reset or destroy is running
  std::vector<HookEvent> hook_log_;

  long long huge_threshold_ = 0;
  long long option_defaults_[SPACES_OPTION_COUNT] = {};
  bool options_saved_ = false;
  bool trace_ = std::getenv("SPACES_FUZZ_TRACE") != nullptr;  ///< print each operation on stderr
  /// SPACES_FUZZ_SKIP_KNOWN=1: steer around the failures already reported in
  /// tests/fuzz/regressions (each place says which), to look for new ones.
  bool skip_known_ = std::getenv("SPACES_FUZZ_SKIP_KNOWN") != nullptr;
};

Fuzzer g_fuzzer;

spaces_cap_action_t on_cap(spaces_heap_t* heap, size_t request, void* arg) {
  return g_fuzzer.cap_handler(*static_cast<HeapModel*>(arg), heap, request);
}

void on_teardown(spaces_heap_t* heap, int destroyed, void* arg) {
  g_fuzzer.teardown_hook(*static_cast<HeapModel*>(arg), heap, destroyed);
}

void on_leak(spaces_heap_t* heap, const spaces_leak_report_t* report, void* arg) {
  g_fuzzer.leak_report(*static_cast<HeapModel*>(arg), heap, *report);
}

// ---- Blocks ----------------------------------------------------------------------

void Fuzzer::fill(std::uintptr_t a, const Block& b) {
  auto* c = reinterpret_cast<std::uint8_t*>(a);
  for (std::size_t i = 0; i < b.size; ++i) c[i] = pattern_byte(b.seed, i);
}

/// The whole block, or its first and last 256 bytes and every 251st byte.
void Fuzzer::verify(std::uintptr_t a, const Block& b, bool full) const {
  const auto* c = reinterpret_cast<const std::uint8_t*>(a);
  auto at = [&](std::size_t i) {
    CHECK(c[i] == pattern_byte(b.seed, i), "block %p (%zu bytes) of heap '%s': byte %zu is 0x%02x, wrote 0x%02x",
          reinterpret_cast<void*>(a), b.size, spaces_heap_name(spaces_heap_of(c)), i, c[i], pattern_byte(b.seed, i));
  };
  if (full || b.size <= 1024) {
    for (std::size_t i = 0; i < b.size; ++i) at(i);
    return;
  }
  for (std::size_t i = 0; i < 256; ++i) at(i);
  for (std::size_t i = b.size - 256; i < b.size; ++i) at(i);
  for (std::size_t i = 256; i < b.size - 256; i += 251) at(i);
}

/// The offset of a run's block from the run's start, given the block's address.
std::size_t run_offset(std::uintptr_t p) {
  const std::size_t off = p % kSlab;
  return off == 0 ? kSlab : off;
}

std::size_t round_to_slabs(std::size_t bytes) { return (bytes + kSlab - 1) / kSlab * kSlab; }

void Fuzzer::add_block(HeapModel& m, void* p, std::size_t size, std::size_t align, const char* what) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  CHECK(p != nullptr, "%s", what);
  CHECK(a % align == 0, "%s(%zu) in '%s' gave %p, not aligned to %zu", what, size, m.name.c_str(), p, align);
  const std::size_t extent = size == 0 ? 1 : size;
  auto next = extents_.lower_bound(a);
  CHECK(next == extents_.end() || next->first >= a + extent, "%s gave [%p, +%zu) overlapping the live block %p",
        what, p, extent, reinterpret_cast<void*>(next->first));
  CHECK(next == extents_.begin() || std::prev(next)->second <= a,
        "%s gave [%p, +%zu) overlapping the live block %p", what, p, extent,
        reinterpret_cast<void*>(std::prev(next)->first));
  // A 0-byte block aligned to a slab or more is placed one past the end of
  // its one-slab run, where spaces_owns looks at the next slab's granule
  // (regressions/heap_ops_fuzzer/zero-byte-64k-aligned-block-not-owned).
  if (!(skip_known_ && size == 0 && a % kSlab == 0 && !m.region()))
    CHECK(spaces_owns(p) == 1, "%s(%zu, align %zu): spaces_owns(%p) is 0", what, size, align, p);
  CHECK(spaces_heap_of(p) == m.handle, "%s: heap_of(%p) is %p, not '%s'", what, p,
        static_cast<void*>(spaces_heap_of(p)), m.name.c_str());
  Block b{size, 0, static_cast<std::uint32_t>(a * 2654435761u ^ m.allocs), false, false, 0};
  const std::size_t usable = spaces_usable_size(p);
  if (m.region()) {
    CHECK(usable == 0, "%s: usable_size of region block %p is %zu", what, p, usable);
    const std::size_t a16 = align < 16 ? 16 : align;
    // The inline path bumps the cursor whenever the block fits its window,
    // whatever its size; otherwise requests above the span threshold (with
    // their alignment) get a span of their own.
    const bool in_window = a >= window_cur_ && a < window_end_;
    b.span = !in_window && (size > kSpanThreshold || align > kSpanThreshold - size);
    if (b.span) {
      const std::size_t offset = a16 <= kHeaderRegion ? kHeaderRegion : (a16 <= kSlab ? a16 : kSlab);
      b.span_bytes = round_to_slabs(offset + extent);
      b.huge = offset + extent > static_cast<std::size_t>(huge_threshold_);
    }
  } else {
    CHECK(usable >= size, "%s(%zu): usable_size %zu", what, size, usable);
    b.usable = usable;
    // Small blocks have at least 16 usable bytes; 0 is a 0-byte block at the
    // end of a run of its own (aligned to a slab or more).
    b.span = usable > kMaxSmallSize || usable == 0;
    if (b.span) {
      b.span_bytes = usable + run_offset(a);
      CHECK(b.span_bytes % kSlab == 0, "%s(%zu) at %p: usable %zu + offset is not whole slabs", what, size, p, usable);
    }
  }
  if (trace_) std::fprintf(stderr, "  %s(%zu, align %zu) in '%s': %p usable %zu span %d (%zu bytes)\n", what, size, align,
                          m.name.c_str(), p, usable, b.span ? 1 : 0, b.span_bytes);
  fill(a, b);
  extents_[a] = a + extent;
  live_bytes_ += extent;
  m.live[a] = b;
  m.allocs++;
  m.exact = false;
}

void Fuzzer::forget_block(HeapModel& m, std::uintptr_t a) {
  auto it = m.live.find(a);
  live_bytes_ -= it->second.size == 0 ? 1 : it->second.size;
  extents_.erase(a);
  m.live.erase(it);
}

/// Slab bytes an allocation may need at most: one slab, or a run for the
/// request behind its header region or its alignment (up to one slab).
std::size_t most_needed(std::size_t size, std::size_t align) {
  const std::size_t offset = align <= kHeaderRegion ? kHeaderRegion : (align <= kSlab ? align : kSlab);
  const std::size_t run = round_to_slabs(offset + (size == 0 ? 1 : size));
  return run < kSlab ? kSlab : run;
}

/// An allocation of `size` bytes from m returned NULL: that must be a cap
/// refusal by m or an ancestor that really had no room for it.
void Fuzzer::check_failure(HeapModel& m, std::size_t request, std::size_t size, std::size_t align,
                           const char* what) {
  const int err = errno;
  spaces_failure_t f;
  CHECK(spaces_last_failure(&f) == SPACES_OK, "last_failure");
  CHECK(err == ENOMEM, "%s(%zu) in '%s' failed with errno %d", what, size, m.name.c_str(), err);
  CHECK(f.status == SPACES_E_CAP, "%s(%zu) in '%s' failed with status %d (%s), not a cap refusal", what, size,
        m.name.c_str(), f.status, spaces_status_str(f.status));
  const int x = slot_of_handle(f.heap);
  CHECK(x >= 0 && is_ancestor_or_self(x, slot_of(m)), "%s in '%s': refused by %p, not the heap or an ancestor", what,
        m.name.c_str(), static_cast<void*>(f.heap));
  HeapModel& r = slots_[x];
  const spaces_stats_t s = stats_of(r);
  if (trace_) std::fprintf(stderr, "  %s(%zu) in '%s' refused by '%s'%s\n", what, size, m.name.c_str(), r.name.c_str(), x == slot_of(m) ? "" : " (an ancestor)");
  CHECK(f.cap == r.cap, "%s: failure record's cap %zu, heap '%s' has %zu", what, f.cap, r.name.c_str(), r.cap);
  CHECK(f.footprint == s.footprint, "%s: failure record's footprint %zu, heap '%s' holds %zu", what, f.footprint,
        r.name.c_str(), s.footprint);
  CHECK(f.request == request, "%s: failure record's request %zu, asked for %zu", what, f.request, request);
  const std::size_t need = most_needed(size, align);
  CHECK(need > f.cap || f.footprint > f.cap - need,
        "%s(%zu, align %zu) in '%s' refused by '%s' with room: footprint %zu + at most %zu <= cap %zu", what, size,
        align, m.name.c_str(), r.name.c_str(), f.footprint, need, f.cap);
  CHECK(f.charge <= need && f.charge > f.cap - std::min(f.cap, f.footprint),
        "%s(%zu, align %zu) in '%s': failure record's charge %zu (at most %zu) does not explain the refusal at "
        "footprint %zu, cap %zu", what, size, align, m.name.c_str(), f.charge, need, f.footprint, f.cap);
  CHECK(s.cap_failures > r.last_cap_failures, "%s: '%s' refused but cap_failures stayed %zu", what, r.name.c_str(),
        s.cap_failures);
  if (r.handler != Handler::None)
    CHECK(handler_calls_ == 1, "%s: '%s' has a cap handler but it ran %d times", what, r.name.c_str(), handler_calls_);
}

void Fuzzer::begin_alloc(HeapModel& m, std::size_t request, std::uintptr_t in_flight) {
  op_slot_ = slot_of(m);
  op_request_ = request;
  op_in_flight_ = in_flight;
  handler_calls_ = 0;
  // The region cursor's window before the call (the model reads the
  // allocator's fields here, and only here, to know where a block went).
  window_cur_ = m.cursor != nullptr ? reinterpret_cast<std::uintptr_t>(m.cursor->cur) : 0;
  window_end_ = m.cursor != nullptr ? reinterpret_cast<std::uintptr_t>(m.cursor->end) : 0;
  errno = 0;
}

void Fuzzer::end_alloc() {
  CHECK(handler_calls_ <= 1, "a cap handler ran %d times for one allocation (retried once)", handler_calls_);
  op_slot_ = -1;
  op_in_flight_ = 0;
}

void Fuzzer::forget_window() { window_cur_ = window_end_ = 0; }

// ---- Callbacks ----------------------------------------------------------------------

spaces_cap_action_t Fuzzer::cap_handler(HeapModel& m, spaces_heap_t* heap, std::size_t request) {
  CHECK(m.alive && m.handle == heap, "cap handler of '%s' called for %p", m.name.c_str(), static_cast<void*>(heap));
  CHECK(op_slot_ >= 0 && is_ancestor_or_self(slot_of(m), op_slot_),
        "cap handler of '%s' ran outside an allocation from it or a descendant", m.name.c_str());
  CHECK(request == op_request_, "cap handler of '%s': request %zu, the caller asked for %zu", m.name.c_str(), request,
        op_request_);
  ++handler_calls_;
  if (trace_) std::fprintf(stderr, "  cap handler %d of '%s' (request %zu)\n", static_cast<int>(m.handler), m.name.c_str(), request);
  // No allocator lock is held: statistics work.
  (void)stats_of(m);
  switch (m.handler) {
    case Handler::None:
    case Handler::Fail:
      return SPACES_CAP_FAIL;
    case Handler::RaiseCap:
      m.cap = m.cap > SPACES_UNCAPPED - m.raise_by ? SPACES_UNCAPPED : m.cap + m.raise_by;
      if (m.cap > m.max_cap) m.max_cap = m.cap;
      CHECK(spaces_heap_set_cap(heap, m.cap) == SPACES_OK, "set_cap from the cap handler");
      return SPACES_CAP_RETRY;
    case Handler::FreeBlock: {
      if (m.region()) return SPACES_CAP_FAIL;
      std::uintptr_t best = 0;
      std::size_t best_size = 0;
      for (auto& [a, b] : m.live)
        if (a != op_in_flight_ && (best == 0 || b.usable > best_size)) best = a, best_size = b.usable;
      if (best == 0) return SPACES_CAP_FAIL;
      verify(best, m.live[best], false);
      forget_block(m, best);
      m.frees++;
      m.exact = false;
      spaces_free(reinterpret_cast<void*>(best));
      return SPACES_CAP_RETRY;
    }
    case Handler::ResetChild: {
      // A child whose reset takes neither the allocating heap nor the block
      // being reallocated (those are the caller's to keep).
      for (int c = 0; c < kSlots; ++c) {
        if (!slots_[c].alive || slots_[c].parent != slot_of(m)) continue;
        if (is_ancestor_or_self(c, op_slot_) && (c != op_slot_ || op_in_flight_ != 0)) continue;
        teardown(c, false);
        return SPACES_CAP_RETRY;
      }
      return SPACES_CAP_FAIL;
    }
  }
  return SPACES_CAP_FAIL;
}

/// A leak report: exactly the model's live blocks, after the heap's hook.
void Fuzzer::leak_report(HeapModel& m, spaces_heap_t* heap, const spaces_leak_report_t& r) {
  const char* n = m.name.c_str();
  CHECK(in_teardown_ && m.report_leaks && m.alive && m.handle == heap, "leak report of '%s' out of place", n);
  m.leak_reports++;
  CHECK(r.blocks == m.live.size(), "leak report of '%s': %zu blocks, the model %zu", n, r.blocks, m.live.size());
  if (m.region()) {
    CHECK(r.class_count == 0 && r.first_count == 0, "leak report of region '%s' lists blocks", n);
    return;
  }
  std::size_t bytes = 0, class_blocks = 0, class_bytes = 0;
  for (auto& [a, b] : m.live) bytes += b.usable;
  for (std::size_t i = 0; i < r.class_count; ++i) {
    class_blocks += r.classes[i].blocks;
    class_bytes += r.classes[i].bytes;
  }
  CHECK(r.bytes == bytes && class_bytes == bytes && class_blocks == r.blocks,
        "leak report of '%s': %zu bytes (classes: %zu blocks, %zu bytes), the model %zu bytes", n, r.bytes,
        class_blocks, class_bytes, bytes);
  CHECK(r.first_count == (r.blocks < 8 ? r.blocks : 8), "leak report of '%s' lists %zu of %zu blocks", n,
        r.first_count, r.blocks);
  for (std::size_t i = 0; i < r.first_count; ++i) {
    const spaces_leak_block_t& lb = r.first[i];
    auto it = m.live.find(reinterpret_cast<std::uintptr_t>(lb.block));
    CHECK(it != m.live.end() && lb.size == it->second.usable, "leak report of '%s' lists %p, not live", n, lb.block);
    const std::size_t written = it->second.size < lb.head_len ? it->second.size : lb.head_len;  // slack is poisoned
    CHECK(lb.head_len == (lb.size < 16 ? lb.size : 16) && std::memcmp(lb.head, lb.block, written) == 0,
          "leak report of '%s': the first bytes of %p", n, lb.block);
  }
}

void Fuzzer::teardown_hook(HeapModel& m, spaces_heap_t* heap, int destroyed) {
  CHECK(in_teardown_, "teardown hook of '%s' ran outside a reset or destroy", m.name.c_str());
  CHECK(m.alive && m.handle == heap, "teardown hook of '%s' called for %p", m.name.c_str(),
        static_cast<void*>(heap));
  CHECK(destroyed == 0 || destroyed == 1, "teardown hook: destroyed is %d", destroyed);
  CHECK(spaces_heap_id(heap) == m.id, "in its hook, '%s' has id %llu, not %llu", m.name.c_str(),
        static_cast<unsigned long long>(spaces_heap_id(heap)), static_cast<unsigned long long>(m.id));
  hook_log_.push_back({m.id, destroyed});
  // Before any of its memory is released: its blocks are intact and its.
  // statistics still count them.
  for (auto& [a, b] : m.live) {
    verify(a, b, false);
    CHECK(spaces_heap_of(reinterpret_cast<void*>(a)) == heap, "in its hook, heap_of a block of '%s'", m.name.c_str());
  }
  const spaces_stats_t s = stats_of(m);
  CHECK(s.live_blocks == m.live.size(), "in its hook, '%s' counts %zu live blocks, the model %zu", m.name.c_str(),
        s.live_blocks, m.live.size());
  // spaces.h: a destroy or reset of the heap or an ancestor from its hook
  // returns SPACES_E_INVALID.
  if (m.probe_self) {
    CHECK(spaces_heap_reset(heap) == SPACES_E_INVALID, "reset of '%s' from its own hook", m.name.c_str());
    CHECK(spaces_heap_destroy(heap) == SPACES_E_INVALID, "destroy of '%s' from its own hook", m.name.c_str());
  }
  if (m.probe_ancestors) {
    for (int p = m.parent; p >= 0; p = slots_[p].parent) {
      // An ancestor above the heap being reset or destroyed is not being torn
      // down itself; its destroy or reset from the hook never returns
      // (regressions/heap_ops_fuzzer/hook-resets-ancestor-hangs).
      if (skip_known_ && !is_ancestor_or_self(teardown_target_, p)) break;
      CHECK(spaces_heap_reset(slots_[p].handle) == SPACES_E_INVALID, "reset of ancestor '%s' from the hook of '%s'",
            slots_[p].name.c_str(), m.name.c_str());
      CHECK(spaces_heap_destroy(slots_[p].handle) == SPACES_E_INVALID,
            "destroy of ancestor '%s' from the hook of '%s'", slots_[p].name.c_str(), m.name.c_str());
    }
  }
}

// ---- Checks --------------------------------------------------------------------------

void Fuzzer::check_stats(HeapModel& m) {
  const spaces_stats_t s = stats_of(m);
  const char* n = m.name.c_str();
  std::size_t bytes = 0;
  // A tiny heap's small blocks are in 4 KiB minis or in slabs, which the
  // model cannot tell apart: it counts the 4 KiB pages they start in, a lower
  // bound either way.
  const bool tiny = (m.flags & SPACES_HEAP_TINY) != 0 && !m.region();
  const std::size_t unit = tiny ? kMini : kSlab;
  std::set<std::uintptr_t> small_slabs;
  std::size_t held = 0;
  for (auto& [a, b] : m.live) {
    bytes += m.region() ? (b.size == 0 ? 1 : b.size) : b.usable;
    if (b.span) held += b.span_bytes;
    else small_slabs.insert(a & ~(unit - 1));
  }
  held += small_slabs.size() * unit;
  std::size_t children = 0;
  for (int c = 0; c < kSlots; ++c)
    if (slots_[c].alive && slots_[c].parent == slot_of(m)) children += stats_of(slots_[c]).footprint;
  held += children;

  CHECK(s.live_blocks == m.live.size(), "'%s': live_blocks %zu, model %zu", n, s.live_blocks, m.live.size());
  CHECK(s.live_bytes == bytes, "'%s': live_bytes %zu, model %zu", n, s.live_bytes, bytes);
  CHECK(s.alloc_count == m.allocs, "'%s': alloc_count %zu, model %zu", n, s.alloc_count, m.allocs);
  CHECK(s.free_count == m.frees, "'%s': free_count %zu, model %zu", n, s.free_count, m.frees);
  CHECK(s.cap == m.cap && spaces_heap_cap(m.handle) == m.cap, "'%s': cap %zu, model %zu", n, s.cap, m.cap);
  CHECK(s.resets == m.resets, "'%s': resets %zu, model %zu", n, s.resets, m.resets);
  // Whole minis at least: a heap of whole slabs may have tiny children.
  CHECK(s.footprint % kMini == 0 && s.slabs == s.footprint / kSlab, "'%s': footprint %zu, slabs %zu", n, s.footprint,
        s.slabs);
  CHECK(s.peak_footprint >= s.footprint && s.peak_footprint >= m.last_peak, "'%s': peak %zu, footprint %zu, was %zu",
        n, s.peak_footprint, s.footprint, m.last_peak);
  CHECK(s.peak_footprint <= m.max_cap, "'%s': peak %zu above every cap it had (at most %zu)", n, s.peak_footprint,
        m.max_cap);
  CHECK(s.cap_failures >= m.last_cap_failures, "'%s': cap_failures went from %zu to %zu", n, m.last_cap_failures,
        s.cap_failures);
  CHECK(s.soft_limit == m.soft && spaces_heap_soft_limit(m.handle) == m.soft, "'%s': soft limit %zu, model %zu", n,
        s.soft_limit, m.soft);
  CHECK(s.soft_limit_events >= m.last_soft_events, "'%s': soft_limit_events went from %zu to %zu", n,
        m.last_soft_events, s.soft_limit_events);
  // Only charges raise a footprint, so going from at most the soft limit to
  // above it took one that crossed it.
  CHECK(!(m.last_footprint <= m.soft && s.footprint > m.soft) || s.soft_limit_events > m.last_soft_events,
        "'%s': footprint went from %zu past the soft limit %zu to %zu and no event was counted", n, m.last_footprint,
        m.soft, s.footprint);
  CHECK(spaces_heap_footprint(m.handle) == s.footprint, "'%s': spaces_heap_footprint %zu, stats %zu", n,
        spaces_heap_footprint(m.handle), s.footprint);
  CHECK(s.footprint <= m.cap || s.footprint <= m.last_footprint,
        "'%s': footprint grew from %zu to %zu while above its cap %zu", n, m.last_footprint, s.footprint, m.cap);
  CHECK(s.footprint >= held, "'%s': footprint %zu below the %zu bytes its blocks and children hold", n, s.footprint,
        held);
  if ((m.region() && !m.retained_pending) || (!m.region() && m.exact && !tiny))
    CHECK(s.footprint == held, "'%s' (%s): footprint %zu, its blocks and children hold exactly %zu", n,
          m.region() ? "region" : "general, just collected", s.footprint, held);
  m.last_footprint = s.footprint;
  m.last_peak = s.peak_footprint;
  m.last_cap_failures = s.cap_failures;
  m.last_soft_events = s.soft_limit_events;
}

void Fuzzer::check_walk(HeapModel& m, std::size_t stop_after) {
  struct Ctx {
    std::vector<WalkEntry>* seen;
    std::size_t stop_after;
  };
  static std::vector<WalkEntry> seen;
  seen.clear();
  seen.reserve(kMaxBlocksPerHeap + 1);
  Ctx ctx{&seen, stop_after};
  const spaces_status_t st = spaces_heap_walk(
      m.handle,
      [](void* block, size_t usable, void* arg) {
        auto* c = static_cast<Ctx*>(arg);
        if (c->seen->size() < kMaxBlocksPerHeap + 1) c->seen->push_back({reinterpret_cast<std::uintptr_t>(block), usable});
        return c->seen->size() >= c->stop_after ? 1 : 0;
      },
      &ctx);
  if (m.region()) {
    CHECK(st == SPACES_E_UNSUPPORTED && seen.empty(), "walk of region heap '%s': %d", m.name.c_str(), st);
    return;
  }
  CHECK(st == SPACES_OK, "walk of '%s': %d", m.name.c_str(), st);
  const std::size_t expect = m.live.size() < stop_after ? m.live.size() : stop_after;
  CHECK(seen.size() == expect, "walk of '%s' (stop after %zu) visited %zu blocks, %zu are live", m.name.c_str(),
        stop_after, seen.size(), m.live.size());
  std::set<std::uintptr_t> unique;
  for (const WalkEntry& e : seen) {
    auto it = m.live.find(e.block);
    CHECK(it != m.live.end(), "walk of '%s' visited %p, not a live block", m.name.c_str(),
          reinterpret_cast<void*>(e.block));
    CHECK(e.usable == it->second.usable, "walk of '%s': %p has usable %zu, usable_size said %zu", m.name.c_str(),
          reinterpret_cast<void*>(e.block), e.usable, it->second.usable);
    CHECK(unique.insert(e.block).second, "walk of '%s' visited %p twice", m.name.c_str(),
          reinterpret_cast<void*>(e.block));
  }
}

/// print_stats and write_stats_json say what stats says, under the heap's
/// name (JSON-escaped).
void Fuzzer::check_texts(HeapModel& m) {
  static char text[8192];
  const spaces_stats_t s = stats_of(m);
  const char* kind = m.region() ? "region" : "general";
  {
    std::memset(text, 0, sizeof(text));
    FILE* f = fmemopen(text, sizeof(text) - 1, "w");
    CHECK(f != nullptr, "fmemopen");
    CHECK(spaces_heap_print_stats(m.handle, f) == SPACES_OK, "print_stats");
    std::fclose(f);
    std::string head = "heap '" + m.name + "' (" + kind + ")\n";
    CHECK(std::strncmp(text, head.c_str(), head.size()) == 0, "print_stats of '%s' starts with: %.80s", m.name.c_str(),
          text);
    char line[64];
    std::snprintf(line, sizeof(line), "  live blocks     %zu\n", s.live_blocks);
    CHECK(std::strstr(text, line) != nullptr, "print_stats of '%s' lacks '%s'", m.name.c_str(), line);
  }
  {
    std::memset(text, 0, sizeof(text));
    FILE* f = fmemopen(text, sizeof(text) - 1, "w");
    CHECK(f != nullptr, "fmemopen");
    CHECK(spaces_heap_write_stats_json(m.handle, f) == SPACES_OK, "write_stats_json");
    std::fclose(f);
    std::string expect = "{\"name\":\"";
    for (const char ch : m.name) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        expect += '\\';
        expect += static_cast<char>(c);
      } else if (c < 0x20) {
        char esc[8];
        std::snprintf(esc, sizeof(esc), "\\u%04x", c);
        expect += esc;
      } else {
        expect += static_cast<char>(c);
      }
    }
    char tail[512];
    char cap[32] = "null";
    if (s.cap != SPACES_UNCAPPED) std::snprintf(cap, sizeof(cap), "%zu", s.cap);
    char soft[32] = "null";
    if (s.soft_limit != SPACES_UNCAPPED) std::snprintf(soft, sizeof(soft), "%zu", s.soft_limit);
    std::snprintf(tail, sizeof(tail),
                  "\",\"discipline\":\"%s\",\"live_bytes\":%zu,\"live_blocks\":%zu,\"footprint\":%zu,"
                  "\"peak_footprint\":%zu,\"cap\":%s,\"slabs\":%zu,\"alloc_count\":%zu,\"free_count\":%zu,"
                  "\"cap_failures\":%zu,\"soft_limit\":%s,\"soft_limit_events\":%zu,\"resets\":%zu}\n",
                  kind, s.live_bytes, s.live_blocks, s.footprint, s.peak_footprint, cap, s.slabs, s.alloc_count,
                  s.free_count, s.cap_failures, soft, s.soft_limit_events, s.resets);
    expect += tail;
    CHECK(expect == text, "JSON of '%s':\n  got  %s\n  want %s", m.name.c_str(), text, expect.c_str());
  }
}

void Fuzzer::check_all(bool contents) {
  CHECK(spaces_thread_heap() == routed_handle(), "the thread's current heap is %p, model %p",
        static_cast<void*>(spaces_thread_heap()), static_cast<void*>(routed_handle()));
  for (HeapModel& m : slots_) {
    if (!m.alive) continue;
    check_stats(m);
    if (contents) {
      for (auto& [a, b] : m.live) verify(a, b, false);
      check_walk(m, SIZE_MAX);
    }
  }
}

/// Every entry point refuses a handle that is not a live heap.
void Fuzzer::check_refused(spaces_heap_t* h, const char* what) {
  auto refused_alloc = [&](void* p, const char* call) {
    const int err = errno;
    CHECK(p == nullptr, "%s on %s handle %p returned %p", call, what, static_cast<void*>(h), p);
    CHECK(err == EINVAL, "%s on %s handle: errno %d, not EINVAL", call, what, err);
    spaces_failure_t f;
    spaces_last_failure(&f);
    CHECK(f.status == SPACES_E_INVALID, "%s on %s handle: failure status %d", call, what, f.status);
  };
  errno = 0;
  refused_alloc(spaces_alloc(h, 16), "alloc");
  errno = 0;
  refused_alloc(spaces_calloc(h, 2, 8), "calloc");
  errno = 0;
  refused_alloc(spaces_aligned_alloc(h, 64, 16), "aligned_alloc");
  errno = 0;
  refused_alloc(spaces_realloc(h, nullptr, 16), "realloc(NULL)");
  errno = 0;
  refused_alloc(spaces_realloc_aligned(h, nullptr, 32, 16), "realloc_aligned(NULL)");
  // A live block handed to a dead heap's realloc stays untouched.
  for (HeapModel& m : slots_) {
    if (!m.alive || m.live.empty()) continue;
    auto& [a, b] = *m.live.begin();
    errno = 0;
    refused_alloc(spaces_realloc(h, reinterpret_cast<void*>(a), 100), "realloc(live block)");
    verify(a, b, false);
    break;
  }
  spaces_stats_t s;
  CHECK(spaces_heap_stats(h, &s) == SPACES_E_INVALID, "stats on %s handle", what);
  CHECK(spaces_heap_print_stats(h, stderr) == SPACES_E_INVALID, "print_stats on %s handle", what);
  CHECK(spaces_heap_write_stats_json(h, stderr) == SPACES_E_INVALID, "write_stats_json on %s handle", what);
  CHECK(spaces_heap_walk(h, [](void*, size_t, void*) { return 0; }, nullptr) == SPACES_E_INVALID, "walk on %s", what);
  CHECK(spaces_heap_collect(h) == SPACES_E_INVALID, "collect on %s handle", what);
  CHECK(spaces_heap_set_cap(h, 1 << 20) == SPACES_E_INVALID, "set_cap on %s handle", what);
  CHECK(spaces_heap_cap(h) == 0, "cap of %s handle", what);
  CHECK(spaces_heap_id(h) == 0, "id of %s handle", what);
  CHECK(std::strcmp(spaces_heap_name(h), "") == 0, "name of %s handle is '%s'", what, spaces_heap_name(h));
  CHECK(spaces_heap_discipline(h) == SPACES_GENERAL, "discipline of %s handle", what);
  CHECK(spaces_region_cursor(h) == nullptr, "region cursor of %s handle", what);
  CHECK(spaces_heap_reset(h) == SPACES_E_INVALID, "reset on %s handle", what);
  CHECK(spaces_heap_set_soft_limit(h, 1) == SPACES_E_INVALID, "set_soft_limit on %s handle", what);
  CHECK(spaces_heap_soft_limit(h) == 0 && spaces_heap_footprint(h) == 0, "soft limit or footprint of %s handle", what);
  if (h != nullptr) {  // NULL routes to the default heap: a valid request
    spaces_heap_t* prev = nullptr;
    CHECK(spaces_thread_set_heap(h, &prev) == SPACES_E_INVALID, "thread_set_heap on %s handle", what);
    CHECK(prev == routed_handle() && spaces_thread_heap() == routed_handle(),
          "thread_set_heap on %s handle moved the route", what);
  }
  spaces_mark_t mark{};
  CHECK(spaces_region_mark(h, &mark) == SPACES_E_INVALID && spaces_region_rewind(h, mark) == SPACES_E_INVALID &&
            spaces_region_mark_live(h, mark) == 0,
        "region mark or rewind on %s handle", what);
  CHECK(spaces_heap_reset_keep(h, 1 << 20) == SPACES_E_INVALID, "reset_keep on %s handle", what);
  CHECK(spaces_heap_destroy(h) == SPACES_E_INVALID, "destroy on %s handle", what);
  if (h == nullptr) return;  // a NULL parent is no parent
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.parent = h;
  spaces_heap_t* child = reinterpret_cast<spaces_heap_t*>(std::uintptr_t{1});
  CHECK(spaces_heap_create(&o, &child) == SPACES_E_INVALID && child == nullptr, "create with %s parent", what);
}

// ---- Operations --------------------------------------------------------------------

void Fuzzer::op_create(Reader& in) {
  int slot = -1;
  for (int i = 0; i < kSlots && slot < 0; ++i)
    if (!slots_[i].alive) slot = i;
  const std::uint8_t cfg = in.u8();
  const std::uint8_t more = in.u8();
  if (slot < 0) return;
  HeapModel& m = slots_[slot];
  m = HeapModel{};
  m.discipline = (cfg & 1) != 0 ? SPACES_REGION : SPACES_GENERAL;
  m.flags = ((cfg & 2) != 0 ? SPACES_HEAP_SINGLE_THREADED : 0u) | ((cfg & 4) != 0 ? SPACES_HEAP_RETAIN_ON_RESET : 0u);
  if ((cfg & 8) != 0) {
    // Caps from none at all to 4 MiB, on and off slab boundaries.
    m.cap = (in.u8() % 65) * kSlab + ((more & 0x80) != 0 ? in.u16() : 0);
  }
  m.max_cap = m.cap;
  if ((cfg & 16) != 0) m.parent = pick_live_slot(in);
  static constexpr Handler kHandlers[] = {Handler::None, Handler::Fail, Handler::RaiseCap, Handler::FreeBlock,
                                          Handler::ResetChild};
  m.handler = kHandlers[(more & 0x7F) % 5];
  if (((more & 0x7F) / 5) % 2 != 0) m.flags |= SPACES_HEAP_TINY;  // a region ignores it
  m.raise_by = (1 + in.u8() % 8) * kSlab;
  m.probe_self = (cfg & 32) != 0;
  m.probe_ancestors = (cfg & 64) != 0;
  m.report_leaks = (in.u8() & 1) != 0;
  char name[80];
  const bool named = (cfg & 128) != 0;
  if (named) {
    const std::size_t len = in.u8() % 72;
    std::size_t n = 0;
    for (std::size_t i = 0; i < len; ++i) {
      const char c = static_cast<char>(in.u8());
      if (c != '\0') name[n++] = c;
    }
    name[n] = '\0';
  }

  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.name = named ? name : nullptr;
  o.cap = m.cap;
  o.discipline = m.discipline;
  o.flags = m.flags | (m.report_leaks ? SPACES_HEAP_REPORT_LEAKS : 0u);
  o.parent = m.parent >= 0 ? slots_[m.parent].handle : nullptr;
  o.on_leak = on_leak;
  o.on_leak_arg = &m;
  if (m.handler != Handler::None) {
    o.cap_handler = on_cap;
    o.cap_handler_arg = &m;
  }
  o.on_teardown = on_teardown;
  o.on_teardown_arg = &m;
  spaces_heap_t* h = nullptr;
  const spaces_status_t st = spaces_heap_create(&o, &h);
  CHECK(st == SPACES_OK && h != nullptr, "create: %d", st);
  m.alive = true;
  m.handle = h;
  m.id = spaces_heap_id(h);
  CHECK(m.id != 0, "a new heap has id 0");
  for (int i = 0; i < kSlots; ++i)
    CHECK(i == slot || !slots_[i].alive || slots_[i].id != m.id, "two live heaps share id %llu",
          static_cast<unsigned long long>(m.id));
  for (spaces_heap_t* s : stale_) CHECK(s != h, "a new heap got the handle %p of a destroyed one", static_cast<void*>(h));
  m.name = named ? std::string(name, std::strlen(name) < 63 ? std::strlen(name) : 63)
                 : "heap-" + std::to_string(m.id);
  CHECK(m.name == spaces_heap_name(h), "name '%s', asked for '%s'", spaces_heap_name(h), m.name.c_str());
  CHECK(spaces_heap_discipline(h) == m.discipline, "discipline");
  m.cursor = spaces_region_cursor(h);
  CHECK((m.cursor != nullptr) == m.region(), "region cursor of a %s heap", m.region() ? "region" : "general");
  m.exact = true;
  if (trace_)
    std::fprintf(stderr, "  create slot %d '%s': %s flags %u cap %zu parent %d handler %d probes %d%d\n", slot,
                 m.name.c_str(), m.region() ? "region" : "general", m.flags, m.cap, m.parent,
                 static_cast<int>(m.handler), m.probe_self ? 1 : 0, m.probe_ancestors ? 1 : 0);
  check_stats(m);
  CHECK(m.last_footprint == 0, "a new heap holds %zu bytes", m.last_footprint);
}

/// kind 0: alloc, 1: calloc, 2: aligned_alloc.
void Fuzzer::op_alloc(Reader& in, int kind) {
  const int slot = pick_live_slot(in);
  std::size_t size = pick_size(in);
  std::size_t align = 16;
  std::size_t count = 1;
  if (kind == 1) {
    count = in.u8() % 17;
    size = 1 + size % 4096;
  } else if (kind == 2) {
    align = pick_alignment(in);
    if (align > (std::size_t{4} << 20) && size > kSlab) size %= kSlab;  // keep huge alignments cheap
  }
  if (slot < 0) return;
  HeapModel& m = slots_[slot];
  const std::size_t bytes = count * size;
  if (m.live.size() >= kMaxBlocksPerHeap || !room_for(bytes)) return;
  // A region heap counts a 0-byte request as one byte, in the failure record too.
  const std::size_t request = m.region() && bytes == 0 ? 1 : bytes;
  if (trace_) std::fprintf(stderr, "  call kind %d (%zu x %zu, align %zu) in '%s'\n", kind, count, size, align, m.name.c_str());
  begin_alloc(m, request, 0);
  void* p = kind == 0 ? spaces_alloc(m.handle, size)
            : kind == 1 ? spaces_calloc(m.handle, count, size)
                        : spaces_aligned_alloc(m.handle, align, size);
  end_alloc();
  static const char* const kNames[] = {"alloc", "calloc", "aligned_alloc"};
  if (!m.alive) return;  // cannot happen: no handler destroys the allocating heap
  if (p == nullptr) return check_failure(m, request, bytes, align, kNames[kind]);
  if (kind == 1) {
    const auto* c = static_cast<const std::uint8_t*>(p);
    for (std::size_t i = 0; i < bytes; ++i) CHECK(c[i] == 0, "calloc(%zu, %zu): byte %zu is 0x%02x", count, size, i, c[i]);
  }
  add_block(m, p, bytes, align, kNames[kind]);
}

void Fuzzer::op_realloc(Reader& in, bool aligned) {
  const int slot = pick_live_slot(in);
  const std::uint16_t which = in.u16();
  std::size_t size = pick_size(in);
  std::size_t align = aligned ? pick_alignment(in) : 16;
  if (align > (std::size_t{4} << 20) && size > kSlab) size %= kSlab;
  const bool null_ptr = (which & 0x8000) != 0;
  if (slot < 0) return;
  HeapModel& m = slots_[slot];
  if (m.live.size() >= kMaxBlocksPerHeap || !room_for(size)) return;
  std::uintptr_t a = 0;
  if (!null_ptr && !m.live.empty()) {
    auto it = m.live.begin();
    std::advance(it, static_cast<long>(which % m.live.size()));
    a = it->first;
  }
  const char* what = aligned ? "realloc_aligned" : "realloc";
  const Block old = a != 0 ? m.live[a] : Block{};
  if (a != 0) verify(a, old, true);
  const std::size_t request = m.region() && size == 0 ? 1 : size;
  begin_alloc(m, request, a);
  void* q = aligned ? spaces_realloc_aligned(m.handle, reinterpret_cast<void*>(a), align, size)
                    : spaces_realloc(m.handle, reinterpret_cast<void*>(a), size);
  end_alloc();
  if (q == nullptr) {
    check_failure(m, request, size, align, what);
    if (a != 0) verify(a, old, true);  // a failed realloc leaves the block untouched
    return;
  }
  const auto qa = reinterpret_cast<std::uintptr_t>(q);
  if (a == 0) return add_block(m, q, size, align, what);
  // The common prefix moved with the block.
  const std::size_t keep = size < old.size ? size : old.size;
  const auto* c = static_cast<const std::uint8_t*>(q);
  for (std::size_t i = 0; i < keep; ++i)
    CHECK(c[i] == pattern_byte(old.seed, i), "%s(%p, %zu -> %zu) lost byte %zu", what, reinterpret_cast<void*>(a),
          old.size, size, i);
  if (m.region()) {
    CHECK(qa != a, "region realloc stayed in place (spaces.h: region heaps always move the block)");
    return add_block(m, q, size, align, what);  // the old block stays until reset
  }
  forget_block(m, a);
  if (qa == a) {
    m.allocs--;  // in place: the same block, resized
  } else {
    m.frees++;
  }
  add_block(m, q, size, align, what);
}

void Fuzzer::op_free(Reader& in) {
  const int slot = pick_live_slot(in);
  const std::uint16_t which = in.u16();
  if (slot < 0) {
    spaces_free(nullptr);
    return;
  }
  HeapModel& m = slots_[slot];
  if (m.live.empty()) {
    spaces_free(nullptr);
    return;
  }
  auto it = m.live.begin();
  std::advance(it, static_cast<long>(which % m.live.size()));
  const std::uintptr_t a = it->first;
  verify(a, it->second, true);
  if (m.region()) {
    spaces_free(reinterpret_cast<void*>(a));  // ignored: the block stays live until reset
    verify(a, m.live[a], true);
    return;
  }
  forget_block(m, a);
  m.frees++;
  m.exact = false;
  spaces_free(reinterpret_cast<void*>(a));
}

void Fuzzer::op_cursor(Reader& in) {
  const int slot = pick_live_slot(in);
  const std::size_t size = pick_size(in) % (kSpanThreshold * 2);
  const std::size_t align = std::size_t{1} << (in.u8() % 17);
  if (slot < 0) return;
  HeapModel& m = slots_[slot];
  CHECK(spaces_region_cursor(m.handle) == m.cursor, "'%s': region cursor moved", m.name.c_str());
  if (!m.region() || m.live.size() >= kMaxBlocksPerHeap || !room_for(size)) return;
  begin_alloc(m, size == 0 ? 1 : size, 0);
  void* p = spaces_cursor_alloc(m.cursor, size, align);
  end_alloc();
  if (p == nullptr) return check_failure(m, size == 0 ? 1 : size, size, align, "cursor_alloc");
  add_block(m, p, size, align, "cursor_alloc");
}

/// usable_size, heap_of and owns on live blocks, near them, and on memory
/// spaces does not own; heap_of on blocks of torn-down heaps.
void Fuzzer::op_query(Reader& in) {
  const int slot = pick_live_slot(in);
  const std::uint16_t which = in.u16();
  const std::uint8_t how = in.u8();
  if (slot >= 0 && !slots_[slot].live.empty()) {
    HeapModel& m = slots_[slot];
    auto it = m.live.begin();
    std::advance(it, static_cast<long>(which % m.live.size()));
    void* p = reinterpret_cast<void*>(it->first);
    CHECK(spaces_usable_size(p) == it->second.usable, "usable_size(%p) changed", p);
    CHECK(spaces_heap_of(p) == m.handle, "heap_of(%p)", p);
    // Inside or just past a block: heap_of is safe on any pointer and names
    // a live heap or none.
    const auto* q = static_cast<const char*>(p) + (how % 64) * 8;
    spaces_heap_t* h = spaces_heap_of(q);
    CHECK(h == nullptr || slot_of_handle(h) >= 0, "heap_of(%p) is %p, not a live heap", static_cast<const void*>(q),
          static_cast<void*>(h));
  }
  int local = 0;
  CHECK(spaces_owns(&local) == 0 && spaces_heap_of(&local) == nullptr && spaces_usable_size(&local) == 0,
        "a stack address is not spaces memory");
  CHECK(spaces_heap_of(nullptr) == nullptr && spaces_usable_size(nullptr) == 0 && spaces_owns(nullptr) == 0, "NULL");
  if (!dead_blocks_.empty()) {
    const std::uintptr_t a = dead_blocks_[which % dead_blocks_.size()];
    spaces_heap_t* h = spaces_heap_of(reinterpret_cast<void*>(a));
    CHECK(h == nullptr || slot_of_handle(h) >= 0, "heap_of(%p), a block of a torn-down heap, is %p: not a live heap",
          reinterpret_cast<void*>(a), static_cast<void*>(h));
  }
}

/// Takes a region mark, rewinds to a live one (the model forgets what was
/// allocated since), or tries an ended one (refused, nothing changes).
void Fuzzer::op_mark(Reader& in) {
  const int slot = pick_live_slot(in);
  const std::uint8_t how = in.u8();
  if (slot < 0) return;
  HeapModel& m = slots_[slot];
  const char* n = m.name.c_str();
  spaces_mark_t mark{};
  if (!m.region()) {
    CHECK(spaces_region_mark(m.handle, &mark) == SPACES_E_UNSUPPORTED, "mark of general heap '%s'", n);
    return;
  }
  if (how % 3 == 0 || m.marks.empty()) {
    CHECK(spaces_region_mark(m.handle, &mark) == SPACES_OK, "mark of '%s'", n);
    m.marks.push_back({mark, m.live, m.allocs});
    return;
  }
  if (how % 3 == 1 && !m.ended.empty()) {
    const spaces_stats_t before = stats_of(m);
    const spaces_mark_t stale = m.ended[how % m.ended.size()];
    CHECK(spaces_region_mark_live(m.handle, stale) == 0 && spaces_region_rewind(m.handle, stale) == SPACES_E_INVALID,
          "'%s' took an ended mark", n);
    const spaces_stats_t after = stats_of(m);
    CHECK(after.live_blocks == before.live_blocks && after.footprint == before.footprint,
          "a refused rewind changed '%s'", n);
    return;
  }
  const std::size_t k = (how / 3) % m.marks.size();
  if (trace_) std::fprintf(stderr, "  rewind '%s' to mark %zu of %zu\n", n, k, m.marks.size());
  CHECK(spaces_region_rewind(m.handle, m.marks[k].mark) == SPACES_OK, "rewind of '%s' to a live mark", n);
  for (auto& [a, b] : m.live) {
    if (m.marks[k].live.count(a) != 0) continue;
    extents_.erase(a);
    live_bytes_ -= b.size == 0 ? 1 : b.size;
    if (dead_blocks_.size() < 64) dead_blocks_.push_back(a);
  }
  m.live = m.marks[k].live;
  m.allocs = m.marks[k].allocs;
  for (std::size_t i = k + 1; i < m.marks.size(); ++i)
    if (m.ended.size() < 8) m.ended.push_back(m.marks[i].mark);
  m.marks.resize(k + 1);
  forget_window();
}

/// Makes a live heap (or the default heap) the thread's current heap.
void Fuzzer::op_route(Reader& in) {
  const int slot = (in.u8() % 4) == 0 ? -1 : pick_live_slot(in);
  spaces_heap_t* prev = nullptr;
  const spaces_status_t st = spaces_thread_set_heap(slot >= 0 ? slots_[slot].handle : nullptr, &prev);
  CHECK(prev == routed_handle(), "thread_set_heap: previous %p, model %p", static_cast<void*>(prev),
        static_cast<void*>(routed_handle()));
  if (trace_) std::fprintf(stderr, "  route to slot %d: %d\n", slot, st);
  if (slot >= 0 && slots_[slot].region()) {
    CHECK(st == SPACES_E_UNSUPPORTED, "routing into region heap '%s': %d", slots_[slot].name.c_str(), st);
    return;
  }
  CHECK(st == SPACES_OK, "routing into '%s': %d", slot >= 0 ? slots_[slot].name.c_str() : "default", st);
  routed_ = slot;
}

void Fuzzer::op_set_cap(Reader& in) {
  const int slot = pick_live_slot(in);
  const std::uint8_t how = in.u8();
  const std::uint16_t v = in.u16();
  if (slot < 0) return;
  HeapModel& m = slots_[slot];
  const spaces_stats_t s = stats_of(m);
  std::size_t cap;
  switch (how % 4) {
    case 0: cap = SPACES_UNCAPPED; break;
    case 1: cap = s.footprint + (v % 64) * kSlab; break;                                 // raise (or keep)
    case 2: cap = s.footprint > (v % 8) * kSlab ? s.footprint - (v % 8) * kSlab : 0; break;  // lower below it
    default: cap = static_cast<std::size_t>(v) * 1024; break;                              // anything
  }
  CHECK(spaces_heap_set_cap(m.handle, cap) == SPACES_OK, "set_cap");
  m.cap = cap;
  if ((how & 4) != 0) {  // and a soft limit, or none
    m.soft = (how & 8) != 0 ? SPACES_UNCAPPED : (v % 32) * kSlab;
    CHECK(spaces_heap_set_soft_limit(m.handle, m.soft) == SPACES_OK, "set_soft_limit");
  }
  if (cap > m.max_cap) m.max_cap = cap;
  // Nothing allocated is touched.
  for (auto& [a, b] : m.live) verify(a, b, false);
}

void Fuzzer::op_collect(Reader& in) {
  const int slot = pick_live_slot(in);
  if (slot < 0) return;
  HeapModel& m = slots_[slot];
  CHECK(spaces_heap_collect(m.handle) == SPACES_OK, "collect");
  m.retained_pending = false;
  m.exact = true;
}

void Fuzzer::op_options(Reader& in) {
  const std::uint8_t which = in.u8();
  const std::uint8_t v = in.u8();
  static constexpr long long kThresholds[] = {64 << 10, 200 << 10, 1 << 20, 64 << 20};
  static constexpr long long kCaches[] = {0, 1 << 20, 256 << 20};
  static constexpr long long kReserves[] = {64 << 10, 1 << 20, 32 << 20};
  spaces_option_t o;
  long long value;
  switch (which % 7) {
    case 0: o = SPACES_OPTION_JUNK; value = v % 2; break;
    case 1: o = SPACES_OPTION_HUGE_THRESHOLD; value = kThresholds[v % 4]; break;
    case 2: o = SPACES_OPTION_DECOMMIT; value = v % 4; break;
    case 3: o = SPACES_OPTION_SLAB_CACHE; value = kCaches[v % 3]; break;
    case 4: o = SPACES_OPTION_DECOMMIT_DELAY; value = (v % 2) * 500; break;
    case 5: o = SPACES_OPTION_RESERVE_SIZE; value = kReserves[v % 3]; break;
    default: spaces_collect(); return;
  }
  CHECK(spaces_option_set(o, value) == SPACES_OK, "option %s = %lld", spaces_option_name(o), value);
  long long got = -1;
  CHECK(spaces_option_get(o, &got) == SPACES_OK && got == value, "option %s reads %lld after set %lld",
        spaces_option_name(o), got, value);
  if (o == SPACES_OPTION_HUGE_THRESHOLD) huge_threshold_ = value;
}

/// Arguments that can never succeed, on live heaps: refused without a trace.
void Fuzzer::op_bad_arguments(Reader& in) {
  const int slot = pick_live_slot(in);
  const std::uint8_t how = in.u8();
  const std::uint16_t which = in.u16();
  static constexpr std::size_t kBadAlignments[] = {0, 3, 24, 48, std::size_t{1} << 31, SIZE_MAX};
  const std::size_t bad = kBadAlignments[how % 6];
  if (slot < 0) {
    check_refused(nullptr, "NULL");
    return;
  }
  HeapModel& m = slots_[slot];
  errno = 0;
  CHECK(spaces_aligned_alloc(m.handle, bad, 16) == nullptr && errno == EINVAL, "aligned_alloc(align %zu)", bad);
  errno = 0;
  CHECK(spaces_realloc_aligned(m.handle, nullptr, bad, 16) == nullptr && errno == EINVAL, "realloc_aligned(align %zu)",
        bad);
  errno = 0;
  CHECK(spaces_calloc(m.handle, SIZE_MAX / 2, 3) == nullptr && errno == ENOMEM, "calloc overflow");
  int local = 0;
  errno = 0;
  CHECK(spaces_realloc(m.handle, &local, 16) == nullptr && errno == EINVAL, "realloc of a stack address");
  // A block of another heap, or the inside of a general block: EINVAL, untouched.
  for (HeapModel& o : slots_) {
    if (!o.alive || o.live.empty()) continue;
    auto it = o.live.begin();
    std::advance(it, static_cast<long>(which % o.live.size()));
    void* p = reinterpret_cast<void*>(it->first);
    if (&o != &m) {
      errno = 0;
      CHECK(spaces_realloc(m.handle, p, 64) == nullptr && errno == EINVAL, "realloc in '%s' of a block of '%s'",
            m.name.c_str(), o.name.c_str());
    } else if (!kHardened && !o.region() && it->second.usable >= 32) {
      // (The hardened build aborts here by design: an interior pointer.)
      errno = 0;
      CHECK(spaces_realloc(m.handle, static_cast<char*>(p) + 16, 64) == nullptr && errno == EINVAL,
            "realloc of the inside of a block");
    }
    verify(it->first, it->second, false);
  }
  spaces_stats_t s;
  CHECK(spaces_heap_stats(m.handle, nullptr) == SPACES_E_INVALID, "stats(NULL out)");
  CHECK(spaces_heap_walk(m.handle, nullptr, nullptr) == SPACES_E_INVALID, "walk(NULL fn)");
  CHECK(spaces_heap_print_stats(m.handle, nullptr) == SPACES_E_INVALID, "print_stats(NULL)");
  (void)s;
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.flags = 0x100u << (how % 8);
  spaces_heap_t* h = nullptr;
  CHECK(spaces_heap_create(&o, &h) == SPACES_E_INVALID && h == nullptr, "create with unknown flag %#x", o.flags);
  spaces_heap_options_init(&o);
  const unsigned bad_discipline = 2u + how;
  std::memcpy(&o.discipline, &bad_discipline, sizeof(bad_discipline));
  CHECK(spaces_heap_create(&o, &h) == SPACES_E_INVALID && h == nullptr, "create with discipline %u", bad_discipline);
  CHECK(spaces_heap_create(&o, nullptr) == SPACES_E_INVALID, "create(NULL out)");
  CHECK(spaces_heap_destroy(nullptr) == SPACES_E_INVALID && spaces_heap_reset(nullptr) == SPACES_E_INVALID, "NULL");
}

void Fuzzer::op_stale(Reader& in) {
  const std::uint8_t which = in.u8();
  if (stale_.empty()) return;
  check_refused(stale_[which % stale_.size()], "stale");
}

void Fuzzer::op_garbage_handle(Reader& in) {
  auto* h = reinterpret_cast<spaces_heap_t*>(static_cast<std::uintptr_t>(in.u64()));
  if (slot_of_handle(h) >= 0) return;  // the input spelled a live handle
  check_refused(h, "garbage");
}

/// Resets or destroys the heap in `slot`, checking hooks and footprints.
void Fuzzer::teardown(int slot, bool destroy) {
  HeapModel& m = slots_[slot];
  // Its subtree, and what each part holds before.
  std::vector<int> subtree;
  for (int i = 0; i < kSlots; ++i)
    if (slots_[i].alive && is_ancestor_or_self(slot, i)) subtree.push_back(i);
  const spaces_stats_t before = stats_of(m);
  std::size_t children = 0;
  std::size_t released_spans = 0;
  for (int i = 0; i < kSlots; ++i)
    if (slots_[i].alive && slots_[i].parent == slot) children += stats_of(slots_[i]).footprint;
  for (auto& [a, b] : m.live)
    if (b.span && (!m.region() || b.huge)) released_spans += b.span_bytes;
  std::vector<std::size_t> ancestors_before;
  for (int p = m.parent; p >= 0; p = slots_[p].parent) ancestors_before.push_back(stats_of(slots_[p]).footprint);

  if (trace_) std::fprintf(stderr, "  %s slot %d '%s'\n", destroy ? "destroy" : "reset", slot, m.name.c_str());
  if (routed_ >= 0 && is_ancestor_or_self(slot, routed_) && (destroy || routed_ != slot)) {
    // A heap the thread routes into would die: refused, nothing changed.
    const std::size_t hooks = hook_log_.size();
    const spaces_status_t busy = destroy ? spaces_heap_destroy(m.handle) : spaces_heap_reset(m.handle);
    CHECK(busy == SPACES_E_BUSY, "%s of '%s' with '%s' routed: %d", destroy ? "destroy" : "reset", m.name.c_str(),
          slots_[routed_].name.c_str(), busy);
    const spaces_stats_t still = stats_of(m);
    CHECK(still.live_blocks == before.live_blocks && still.footprint == before.footprint && hook_log_.size() == hooks,
          "a refused %s of '%s' changed it", destroy ? "destroy" : "reset", m.name.c_str());
    CHECK(spaces_thread_set_heap(nullptr, nullptr) == SPACES_OK, "unroute");
    routed_ = -1;
  }
  if (op_slot_ >= 0 && is_ancestor_or_self(slot, op_slot_)) forget_window();
  std::vector<bool> leaks_expected;
  for (int i : subtree) {
    leaks_expected.push_back(slots_[i].report_leaks && !slots_[i].live.empty());
    slots_[i].leak_reports = 0;
  }
  const bool nested = in_teardown_;
  const int outer_target = teardown_target_;
  std::vector<HookEvent> outer_log;
  outer_log.swap(hook_log_);
  in_teardown_ = true;
  teardown_target_ = slot;
  const spaces_status_t st = destroy ? spaces_heap_destroy(m.handle) : spaces_heap_reset(m.handle);
  in_teardown_ = nested;
  teardown_target_ = outer_target;
  CHECK(st == SPACES_OK, "%s of '%s': %d", destroy ? "destroy" : "reset", m.name.c_str(), st);

  // One hook per heap of the subtree, each after its descendants'.
  CHECK(hook_log_.size() == subtree.size(), "%s of '%s': %zu teardown hooks ran for %zu heaps",
        destroy ? "destroy" : "reset", m.name.c_str(), hook_log_.size(), subtree.size());
  for (int i : subtree) {
    std::size_t pos = hook_log_.size();
    for (std::size_t k = 0; k < hook_log_.size(); ++k)
      if (hook_log_[k].id == slots_[i].id) pos = k;
    CHECK(pos < hook_log_.size(), "no teardown hook for '%s'", slots_[i].name.c_str());
    const int want = i == slot ? (destroy ? 1 : 0) : 1;
    CHECK(hook_log_[pos].destroyed == want, "hook of '%s': destroyed %d", slots_[i].name.c_str(),
          hook_log_[pos].destroyed);
    for (int p = slots_[i].parent; p >= 0 && is_ancestor_or_self(slot, p); p = slots_[p].parent)
      for (std::size_t k = 0; k < pos; ++k)
        CHECK(hook_log_[k].id != slots_[p].id, "hook of '%s' ran before its descendant '%s''s", slots_[p].name.c_str(),
              slots_[i].name.c_str());
  }
  hook_log_.swap(outer_log);
  for (std::size_t k = 0; k < subtree.size(); ++k)
    CHECK(slots_[subtree[k]].leak_reports == (leaks_expected[k] ? 1 : 0), "'%s' got %d leak reports, %d expected",
          slots_[subtree[k]].name.c_str(), slots_[subtree[k]].leak_reports, leaks_expected[k] ? 1 : 0);

  // The model: descendants die; the heap dies or restarts (its marks end).
  for (int i : subtree) {
    HeapModel& d = slots_[i];
    for (const HeapModel::Mark& mk : d.marks)
      if (d.ended.size() < 8) d.ended.push_back(mk.mark);
    d.marks.clear();
    for (auto& [a, b] : d.live) {
      extents_.erase(a);
      live_bytes_ -= b.size == 0 ? 1 : b.size;
      if (dead_blocks_.size() < 64) dead_blocks_.push_back(a);
    }
    d.live.clear();
    if (i == slot && !destroy) continue;
    if (stale_.size() < kMaxStale) stale_.push_back(d.handle);
    d.alive = false;
  }
  for (int i : subtree) {
    if (i == slot && !destroy) continue;
    check_refused(slots_[i].handle, "destroyed");
  }

  std::size_t freed = before.footprint;
  if (!destroy) {
    m.allocs = m.frees = 0;
    m.resets++;
    const spaces_stats_t after = stats_of(m);
    std::size_t kept = m.retains() ? before.footprint - children - released_spans : 0;
    if (m.retains() && (m.flags & SPACES_HEAP_TINY) != 0 && !m.region()) {
      // Minis are never retained, and the model cannot tell them from slabs:
      // what stays is whole slabs, at most the rest.
      CHECK(after.footprint <= kept && after.footprint % kSlab == 0,
            "reset of tiny '%s' (retaining slabs): footprint %zu -> %zu, at most %zu in whole slabs", m.name.c_str(),
            before.footprint, after.footprint, kept);
      kept = after.footprint;
    }
    CHECK(after.footprint == kept, "reset of '%s' (%s): footprint %zu -> %zu, expected %zu", m.name.c_str(),
          m.retains() ? "retaining slabs" : "not retaining", before.footprint, after.footprint, kept);
    CHECK(after.live_blocks == 0 && after.live_bytes == 0 && after.alloc_count == 0 && after.free_count == 0,
          "reset of '%s': statistics restart from zero", m.name.c_str());
    CHECK(after.peak_footprint == before.peak_footprint && after.cap_failures == before.cap_failures,
          "reset of '%s' keeps peak and cap failures", m.name.c_str());
    CHECK(spaces_region_cursor(m.handle) == m.cursor, "reset of '%s' moved its region cursor", m.name.c_str());
    m.retained_pending = kept != 0;
    m.exact = kept == 0;
    freed = before.footprint - after.footprint;
  }
  // Every ancestor gave back exactly what the heap did.
  std::size_t k = 0;
  for (int p = m.parent; p >= 0; p = slots_[p].parent, ++k) {
    const std::size_t now = stats_of(slots_[p]).footprint;
    CHECK(now == ancestors_before[k] - freed, "%s of '%s' freed %zu bytes but ancestor '%s' went from %zu to %zu",
          destroy ? "destroy" : "reset", m.name.c_str(), freed, slots_[p].name.c_str(), ancestors_before[k], now);
  }
}

void Fuzzer::finish() {
  for (int i = 0; i < kSlots; ++i)
    if (slots_[i].alive && slots_[i].parent < 0) teardown(i, true);
  for (int i = 0; i < kSlots; ++i) CHECK(!slots_[i].alive, "heap '%s' outlived its root", slots_[i].name.c_str());
  CHECK(extents_.empty() && live_bytes_ == 0, "%zu blocks left in the model", extents_.size());
  for (spaces_heap_t* h : stale_) CHECK(spaces_heap_id(h) == 0, "a destroyed handle came back to life");
  stale_.clear();
  dead_blocks_.clear();
  for (int o = 0; o < SPACES_OPTION_COUNT; ++o) {
    const auto opt = static_cast<spaces_option_t>(o);
    CHECK(spaces_option_set(opt, option_defaults_[o]) == SPACES_OK, "restore option %s", spaces_option_name(opt));
  }
  spaces_collect();
}

void Fuzzer::run(const std::uint8_t* data, std::size_t size) {
  if (!options_saved_) {
    for (int o = 0; o < SPACES_OPTION_COUNT; ++o) spaces_option_get(static_cast<spaces_option_t>(o), &option_defaults_[o]);
    options_saved_ = true;
  }
  huge_threshold_ = option_defaults_[SPACES_OPTION_HUGE_THRESHOLD];
  Reader in(data, size);
  for (std::size_t ops = 0; !in.empty() && ops < kMaxOps; ++ops) {
    const std::uint8_t op = in.u8();
    if (trace_) std::fprintf(stderr, "op %zu: %u\n", ops, op % 24u);
    int touched = -1;
    switch (op % 24) {
      case 0: case 1: case 2: op_alloc(in, 0); break;
      case 3: op_alloc(in, 1); break;
      case 4: case 5: op_alloc(in, 2); break;
      case 6: case 7: op_realloc(in, false); break;
      case 8: op_realloc(in, true); break;
      case 9: case 10: case 11: op_free(in); break;
      case 12: (in.u8() % 4) == 0 ? op_mark(in) : op_cursor(in); break;
      case 13: (in.u8() % 4) == 0 ? op_route(in) : op_query(in); break;
      case 14: {
        const int s = pick_live_slot(in);
        if (s >= 0) teardown(s, false);
        break;
      }
      case 15: {
        const int s = pick_live_slot(in);
        if (s >= 0) teardown(s, true);
        break;
      }
      case 16: case 17: op_create(in); break;
      case 18: op_set_cap(in); break;
      case 19: op_collect(in); break;
      case 20: {
        touched = pick_live_slot(in);
        if (touched >= 0) {
          check_texts(slots_[touched]);
          check_walk(slots_[touched], 1 + in.u8() % 8);
        }
        break;
      }
      case 21: op_options(in); break;
      case 22: op_bad_arguments(in); break;
      default: (in.u8() & 1) != 0 ? op_stale(in) : op_garbage_handle(in); break;
    }
    check_all(ops % 8 == 7);
  }
  check_all(true);
  finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  g_fuzzer.run(data, size);
  return 0;
}
