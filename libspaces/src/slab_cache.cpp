// ---------------------------------------------------------------------------
// slab_cache.cpp: the process-wide cache of free runs, and where new slabs
// come from.
//
// Four sources, tried in order by cache_acquire:
//   warm list   runs given back whole by destroy/reset (spliced in O(1), their
//               headers untouched: small slabs and large spans alike) and
//               single slabs released one by one; LIFO, so the most recently
//               used memory is reused first. A single slab is cut from its
//               front; a longer run is looked for by binning its first few
//               runs (take_unspliced)
//   warm bins   multi-slab runs released one by one (large blocks), binned by
//               length and coalesced with warm neighbours
//   warm + cold a warm run too short, lengthened with the cold memory next
//               to it (take_warm_extended)
//   cold bins   runs whose pages went back to the OS (or were never touched),
//               binned and coalesced with cold neighbours
//   fresh       the untouched rest of the newest OS reservation, then a new
//               reservation of SPACES_OPTION_RESERVE_SIZE
// Warm memory is bounded by SPACES_OPTION_SLAB_CACHE and ages out after
// SPACES_OPTION_DECOMMIT_DELAY, oldest first, in address-sorted batches so
// that neighbouring slabs go back in one system call. The bound is enforced
// lazily, a few dozen runs per acquisition or release, so that a destroy
// never pays for returning memory. The warm list records
// its age per batch (one record per splice), never per run, because reading
// a spliced run's header is exactly the cost destroy avoids. One lock guards
// it all; it is taken only on slab acquisition and release, never on a fast
// path, and no system call that returns memory runs under it (Decommits).
// ---------------------------------------------------------------------------
#include <algorithm>
#include <cstring>

#include "internal/slab.h"

namespace spaces::detail {
namespace {

// ---- Bins of free runs ------------------------------------------------------

constexpr std::size_t kBins = 128;
constexpr std::size_t kExactBins = 32;

/// Exact bins for 1..32 slabs, then four per doubling.
std::size_t bin_index(std::size_t slabs) noexcept {
  if (slabs <= kExactBins) return slabs - 1;
  const std::size_t k = 63 - static_cast<std::size_t>(__builtin_clzll(slabs));  // floor(log2), >= 5
  const std::size_t sub = (slabs >> (k - 2)) & 3;
  const std::size_t i = kExactBins + (k - 5) * 4 + sub;
  return i < kBins ? i : kBins - 1;
}

struct Bins {
  RunList lists[kBins];
  std::uint64_t nonempty[kBins / 64];
  std::size_t slabs;

  void add(SlabHeader* r) noexcept {
    const std::size_t i = bin_index(r->slabs);
    lists[i].push_front(r);
    nonempty[i / 64] |= std::uint64_t{1} << (i % 64);
    slabs += r->slabs;
  }
  void remove(SlabHeader* r) noexcept {
    const std::size_t i = bin_index(r->slabs);
    lists[i].remove(r);
    if (lists[i].empty()) nonempty[i / 64] &= ~(std::uint64_t{1} << (i % 64));
    slabs -= r->slabs;
  }
  /// The first nonempty bin at or after i, or kBins.
  std::size_t next_nonempty(std::size_t i) const noexcept {
    while (i < kBins) {
      const std::uint64_t w = nonempty[i / 64] >> (i % 64);
      if (w != 0) return i + static_cast<std::size_t>(__builtin_ctzll(w));
      i = (i / 64 + 1) * 64;
    }
    return kBins;
  }
};

/// The last slab of a binned free run of >= 2 slabs starts with this, so a
/// run released just after it can find its head (coalescing backwards).
struct TailTag {
  std::uint32_t magic;
  SlabHeader* head;
};
constexpr std::uint32_t kTailMagic = 0x7A11F4EEu;

// ---- Warm list age records ----------------------------------------------------

constexpr std::size_t kBatches = 64;

struct Batch {
  std::size_t runs;
  std::uint64_t stamp;
};

/// A deque of batch records, newest at the front, matching the warm list:
/// the front record counts the list's first runs, and so on.
struct BatchRing {
  Batch ring[kBatches];
  std::size_t first;  // index of the newest record
  std::size_t count;

  Batch& front() noexcept { return ring[first]; }
  Batch& back() noexcept { return ring[(first + count - 1) % kBatches]; }
  void push_front(std::size_t runs, std::uint64_t stamp) noexcept {
    if (count > 0 && front().stamp == stamp) {
      front().runs += runs;
      return;
    }
    if (count == kBatches) {
      // Merge the two oldest records, keeping the newer stamp: memory may
      // stay warm a little longer, never shorter.
      Batch old = back();
      --count;
      back().runs += old.runs;
    }
    first = (first + kBatches - 1) % kBatches;
    ring[first] = Batch{runs, stamp};
    ++count;
  }
  void take_front() noexcept {
    if (--front().runs == 0) {
      first = (first + 1) % kBatches;
      --count;
    }
  }
  void take_back() noexcept {
    if (--back().runs == 0) --count;
  }
};

// ---- State ---------------------------------------------------------------------

struct CacheState {
  SpinLock lock;
  RunList warm;              // see the file comment
  std::size_t warm_slabs;    // slabs on the warm list
  BatchRing batches;
  Bins warm_bins;
  Bins cold_bins;
  std::uintptr_t fresh;      // [fresh, fresh_end): untouched reservation
  std::uintptr_t fresh_end;
  std::uint64_t next_housekeeping;
};

constinit CacheState g_cache{};

std::uintptr_t base_of(const SlabHeader* r) noexcept { return run_base(r); }

/// What a free run's memory holds. Warm: resident, dirty. Cold: returned to
/// the OS with MADV_FREE or kept (SPACES_DECOMMIT), so its bytes are unknown.
/// ColdZero: never touched, or returned with MADV_DONTNEED: zero but for the
/// first page of each slab, the only place a free run's header, its tail tag
/// and the page a decommit keeps are written; calloc of a span cut from it
/// clears those pages only (kSlabZeroTails).
enum class Temp : std::uint8_t { Warm, Cold, ColdZero };

Temp temp_of(const SlabHeader* r) noexcept {
  if ((r->flags & kSlabCold) == 0) return Temp::Warm;
  return (r->flags & kSlabZeroTails) != 0 ? Temp::ColdZero : Temp::Cold;
}

/// Writes a free run's header at `base` (its color slot) and returns it.
SlabHeader* make_free_header(std::uintptr_t base, std::size_t slabs, Temp t) noexcept {
  unpoison(reinterpret_cast<void*>(base), kHeaderRegion);
  SlabHeader* r = header_at(base);
  std::memset(static_cast<void*>(r), 0, sizeof(SlabHeader));
  r->magic = kFreeRunMagic;
  r->kind = SlabKind::FreeRun;
  r->slabs = static_cast<std::uint32_t>(slabs);
  r->flags = t == Temp::Warm ? 0 : (t == Temp::Cold ? kSlabCold : kSlabCold | kSlabZeroTails);
  return r;
}

void write_tail(SlabHeader* r) noexcept {
  if (r->slabs < 2) return;
  auto* t = reinterpret_cast<TailTag*>(base_of(r) + (r->slabs - 1) * kSlabSize);
  unpoison(t, sizeof(TailTag));
  t->magic = kTailMagic;
  t->head = r;
}

/// The binned free run ending just before `base`, if any.
SlabHeader* free_run_before(std::uintptr_t base) noexcept {
  const std::uintptr_t prev = base - kSlabSize;
  const Granule g = map_get(prev);
  if (g == Granule::FreeHead) return header_at(prev);
  if (g == Granule::FreeTail) {
    auto* t = reinterpret_cast<TailTag*>(prev);
    return t->magic == kTailMagic ? t->head : nullptr;
  }
  return nullptr;
}

SlabHeader* free_run_at(std::uintptr_t base) noexcept {
  return map_get(base) == Granule::FreeHead ? header_at(base) : nullptr;
}

/// What bin_run may assume of a range's granules: every one but the first
/// and the last already says Interior (a run that was in use, or a piece of
/// a binned run), or nothing is known (the untouched reservation, a batch
/// of runs that touch, memory the OS gave back).
enum class Marks : bool { Unknown, InteriorMarked };

/// Bins a free run, merging it with binned neighbours of the same
/// temperature. The run's memory must be ours to write (it is free). Only
/// the granules at the ends of the pieces change, so the cost does not grow
/// with the length of the runs merged (a destroy releasing thousands of
/// neighbouring spans would otherwise remark the whole growing run each time).
SlabHeader* bin_run(std::uintptr_t base, std::size_t slabs, Temp t, Marks marks) noexcept {
  const bool cold = t != Temp::Warm;
  bool zero = t == Temp::ColdZero;  // the merged run is zero if every piece is
  Bins& bins = cold ? g_cache.cold_bins : g_cache.warm_bins;
  const std::uint8_t want = cold ? kSlabCold : 0;
  if (marks == Marks::Unknown && !map_mark(base, slabs, Granule::Interior, Granule::Interior))
    SPACES_ASSERT_INTERNAL(false);  // the leaves exist for memory we handed out
  const std::uintptr_t end = base + slabs * kSlabSize;
  std::uintptr_t head = base;
  std::uintptr_t tail = end;
  map_set(base, Granule::Interior);
  map_set(end - kSlabSize, Granule::Interior);
  if (SlabHeader* after = free_run_at(end); after != nullptr && (after->flags & kSlabCold) == want) {
    zero = zero && temp_of(after) == Temp::ColdZero;
    bins.remove(after);
    map_set(end, Granule::Interior);
    tail = end + after->slabs * kSlabSize;
  }
  if (SlabHeader* before = free_run_before(base); before != nullptr && (before->flags & kSlabCold) == want) {
    zero = zero && temp_of(before) == Temp::ColdZero;
    bins.remove(before);
    head = base_of(before);
    map_set(base - kSlabSize, Granule::Interior);
  }
  SlabHeader* r = make_free_header(head, (tail - head) / kSlabSize, !cold ? Temp::Warm : (zero ? Temp::ColdZero : Temp::Cold));
  r->stamp = os::now_ms();
  write_tail(r);
  if (r->slabs >= 2) map_set(tail - kSlabSize, Granule::FreeTail);
  map_set(head, Granule::FreeHead);
  bins.add(r);
  return r;
}

/// Hands out [h, h + slabs) from a binned run r, re-binning what is left on
/// either side; *temp says what the part handed out holds.
SlabHeader* carve_from_bin(Bins& bins, SlabHeader* r, std::uintptr_t h, std::size_t slabs, Temp* temp) noexcept {
  const Temp t = temp_of(r);  // before a rest's header overwrites r's
  *temp = t;
  bins.remove(r);
  const std::uintptr_t base = base_of(r);
  const std::uintptr_t end = base + r->slabs * kSlabSize;
  const std::uintptr_t taken_end = h + slabs * kSlabSize;
  // Mark the taken part in use first, or re-binning the rest would find it
  // still marked free and merge it back. Its granules inside r already say
  // Interior (bin_run): only its head, and r's tail if it takes it, change.
  map_set(h, Granule::Head);
  if (slabs >= 2 && taken_end == end) map_set(end - kSlabSize, Granule::Interior);
  if (h > base) bin_run(base, (h - base) / kSlabSize, t, Marks::InteriorMarked);
  if (taken_end < end) bin_run(taken_end, (end - taken_end) / kSlabSize, t, Marks::InteriorMarked);
  return header_at(h);
}

/// Where a run of `slabs` would start inside [base, base + len) so that
/// start + offset is a multiple of align; 0 if it does not fit.
std::uintptr_t fit(std::uintptr_t base, std::size_t len, std::size_t slabs, std::size_t align,
                   std::size_t offset) noexcept {
  std::uintptr_t h = base;
  if (align > kSlabSize) h = ((base + offset + align - 1) & ~(static_cast<std::uintptr_t>(align) - 1)) - offset;
  if (h < base) return 0;
  return h + slabs * kSlabSize <= base + len ? h : 0;
}

SlabHeader* take_from_bins(Bins& bins, std::size_t slabs, std::size_t align, std::size_t offset,
                           Temp* temp) noexcept {
  // Bin bin_index(slabs) may also hold shorter runs when it is not exact,
  // and an alignment may not fit a run: look at a few runs per bin.
  for (std::size_t i = bins.next_nonempty(bin_index(slabs)); i < kBins; i = bins.next_nonempty(i + 1)) {
    int budget = 16;
    for (SlabHeader* r = bins.lists[i].front(); r != nullptr && budget-- > 0; r = r->next) {
      if (r->slabs < slabs) continue;
      const std::uintptr_t h = fit(base_of(r), r->slabs * kSlabSize, slabs, align, offset);
      if (h != 0) return carve_from_bin(bins, r, h, slabs, temp);
    }
  }
  return nullptr;
}

/// A warm binned run too short for `slabs`, lengthened with the cold memory
/// next to it: the binned cold run after it, the untouched reservation after
/// it, or the cold run before it. A large block freed and a larger one
/// allocated then reuse the freed block's resident pages and fault in only
/// the difference, where a run taken cold would leave them resident and
/// unused until they age out. Largest warm runs first; a few per bin.
SlabHeader* take_warm_extended(std::size_t slabs) noexcept {
  Bins& warm = g_cache.warm_bins;
  if (warm.slabs == 0) return nullptr;
  for (std::size_t i = bin_index(slabs) + 1; i-- > 0;) {
    int budget = 4;
    for (SlabHeader* r = warm.lists[i].front(); r != nullptr && budget-- > 0; r = r->next) {
      if (r->slabs >= slabs) continue;  // past take_from_bins' 16 runs a bin; not ours to find
      const std::uintptr_t base = base_of(r);
      const std::uintptr_t end = base + r->slabs * kSlabSize;
      const std::size_t missing = slabs - r->slabs;
      std::uintptr_t h = 0;
      if (SlabHeader* after = free_run_at(end);
          after != nullptr && (after->flags & kSlabCold) != 0 && after->slabs >= missing) {
        const Temp t = temp_of(after);
        g_cache.cold_bins.remove(after);
        const std::size_t rest = after->slabs - missing;
        h = base;
        map_mark(h, slabs, Granule::Head, Granule::Interior);  // before re-binning the rest
        if (rest > 0) bin_run(h + slabs * kSlabSize, rest, t, Marks::InteriorMarked);
      } else if (end == g_cache.fresh && g_cache.fresh_end - g_cache.fresh >= missing * kSlabSize) {
        h = base;
        g_cache.fresh += missing * kSlabSize;
      } else if (SlabHeader* before = free_run_before(base);
                 before != nullptr && (before->flags & kSlabCold) != 0 && before->slabs >= missing) {
        const Temp t = temp_of(before);
        g_cache.cold_bins.remove(before);
        const std::size_t rest = before->slabs - missing;
        h = base - missing * kSlabSize;
        map_mark(h, slabs, Granule::Head, Granule::Interior);
        if (rest > 0) bin_run(base_of(before), rest, t, Marks::InteriorMarked);
      } else {
        continue;
      }
      warm.remove(r);
      return header_at(h);
    }
  }
  return nullptr;
}

/// Runs the warm list holds beyond single slabs (spans of a destroyed heap)
/// binned per acquisition that looks for a multi-slab run.
constexpr int kUnsplicePerCall = 32;

/// Bins runs from the front of the warm list (the most recent; whole runs
/// spliced in by a destroy or reset) until one, merged with its neighbours,
/// holds the run wanted, and hands that out: the spans of a destroyed heap
/// serve the next heap's spans while they are warm, not only its small slabs,
/// and the destroy did not pay for sorting them. A bounded number per call.
SlabHeader* take_unspliced(std::size_t slabs, std::size_t align, std::size_t offset) noexcept {
  for (int budget = kUnsplicePerCall; budget > 0 && !g_cache.warm.empty(); --budget) {
    SlabHeader* r = g_cache.warm.pop_front();
    g_cache.batches.take_front();
    g_cache.warm_slabs -= r->slabs;
    SlabHeader* merged = bin_run(base_of(r), r->slabs, Temp::Warm, Marks::InteriorMarked);
    if (merged->slabs < slabs) continue;
    Temp warm;
    if (const std::uintptr_t h = fit(base_of(merged), merged->slabs * kSlabSize, slabs, align, offset); h != 0)
      return carve_from_bin(g_cache.warm_bins, merged, h, slabs, &warm);
  }
  return nullptr;
}

/// Takes from the untouched reservation, mapping a new one when needed.
SlabHeader* take_fresh(std::size_t slabs, std::size_t align, std::size_t offset, int* err) noexcept {
  std::uintptr_t h = fit(g_cache.fresh, g_cache.fresh_end - g_cache.fresh, slabs, align, offset);
  if (h == 0 || g_cache.fresh == 0) {
    const std::size_t want = slabs * kSlabSize + (align > kSlabSize ? align : 0);
    std::size_t size = static_cast<std::size_t>(option(SPACES_OPTION_RESERVE_SIZE));
    if (size < want) size = want;
    size = (size + kSlabSize - 1) & ~kSlabMask;
    void* p = nullptr;
    if (int e = os::map_aligned(size, kSlabSize, &p); e != 0) {
      *err = e;
      return nullptr;
    }
    // Every run cut from the reservation is marked in the granule map
    // without a way to fail: its leaves are made now or not at all.
    if (!map_prepare(reinterpret_cast<std::uintptr_t>(p), size)) {
      os::unmap(p, size);
      *err = ENOMEM;
      return nullptr;
    }
    if (option(SPACES_OPTION_HUGE_PAGES) != 0) os::advise_huge_pages(p, size);
    // The old reservation's rest becomes a cold free run.
    if (g_cache.fresh_end > g_cache.fresh) {
      bin_run(g_cache.fresh, (g_cache.fresh_end - g_cache.fresh) / kSlabSize, Temp::ColdZero, Marks::Unknown);
    }
    g_cache.fresh = reinterpret_cast<std::uintptr_t>(p);
    g_cache.fresh_end = g_cache.fresh + size;
    h = fit(g_cache.fresh, size, slabs, align, offset);
    SPACES_ASSERT_INTERNAL(h != 0);
  }
  if (h > g_cache.fresh) bin_run(g_cache.fresh, (h - g_cache.fresh) / kSlabSize, Temp::ColdZero, Marks::Unknown);
  g_cache.fresh = h + slabs * kSlabSize;
  return header_at(h);
}

std::size_t warm_total() noexcept { return g_cache.warm_slabs + g_cache.warm_bins.slabs; }

/// Runs decommitted per slab acquisition or release when over the bound or
/// the delay: the excess goes back over later calls, so no single call (a
/// destroy least of all) pays for all of it. spaces_collect has no limit; it
/// takes the lock once per kCollectBatch runs.
constexpr std::size_t kTrimPerCall = 32;
constexpr std::size_t kCollectBatch = 128;

/// Warm runs taken off every list to go back to the OS, and the system calls
/// that do it, which run after the cache lock is released: a thread that
/// wants a slab never waits for another's madvise or munmap. Declared
/// before a function's LockGuard, so that its destructor runs after the
/// guard's: unlock, decommit, then lock again to bin the runs cold.
///
/// While they are off the lists, the runs must not look free to anyone who
/// holds the lock: take() marks each one's first granule Head and its last
/// Interior, as a run in use, so that no neighbour merges with it
/// (free_run_at, free_run_before) and no growing span takes it
/// (cache_extend).
template <std::size_t kCapacity>
class Decommits {
 public:
  Decommits() noexcept = default;
  Decommits(const Decommits&) = delete;
  Decommits& operator=(const Decommits&) = delete;
  ~Decommits() { finish(); }

  bool full() const noexcept { return n_ == kCapacity; }

  /// Lock held: r is off every list.
  void take(SlabHeader* r) noexcept {
    const std::uintptr_t base = base_of(r);
    map_set(base, Granule::Head);
    if (r->slabs >= 2) map_set(base + (r->slabs - 1) * kSlabSize, Granule::Interior);
    runs_[n_++] = Range{base, r->slabs, false};
  }

  /// Lock not held. Sorted by address, so that runs that touch make one
  /// range and one system call (destroyed heaps give back slabs that were
  /// cut in order, so ranges are often long).
  void finish() noexcept {
    if (n_ == 0) return;
    std::sort(runs_, runs_ + n_, [](const Range& a, const Range& b) { return a.base < b.base; });
    std::size_t merged = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      if (merged > 0 && runs_[merged - 1].base + runs_[merged - 1].slabs * kSlabSize == runs_[i].base)
        runs_[merged - 1].slabs += runs_[i].slabs;
      else
        runs_[merged++] = runs_[i];
    }
    const long long policy = option(SPACES_OPTION_DECOMMIT);
    for (std::size_t i = 0; i < merged; ++i) {
      SPACES_TEST_POINT("cache.decommit", &runs_[i]);
      runs_[i].zero = return_pages(runs_[i], policy);
    }
    if (policy != 3) {
      LockGuard guard(g_cache.lock);
      for (std::size_t i = 0; i < merged; ++i)
        bin_run(runs_[i].base, runs_[i].slabs, runs_[i].zero ? Temp::ColdZero : Temp::Cold, Marks::Unknown);
    }
    n_ = 0;
  }

 private:
  struct Range {
    std::uintptr_t base;
    std::size_t slabs;
    bool zero;  ///< every page but the first now reads as zero
  };

  /// SPACES_OPTION_DECOMMIT: 0 keep (the memory stays resident but leaves
  /// the warm budget), 1 MADV_FREE, 2 MADV_DONTNEED (the first page kept:
  /// the free-run header lives there), 3 munmap (the range is forgotten).
  /// Whether the range now reads as zero but for its first page: only after
  /// an MADV_DONTNEED that succeeded (it fails on mlock'ed memory).
  static bool return_pages(const Range& r, long long policy) noexcept {
    if (policy == 0) return false;
    if (policy == 3) {
      // Unpoison first: the OS may map something else here later.
      unpoison(reinterpret_cast<void*>(r.base), r.slabs * kSlabSize);
      map_clear(r.base, r.slabs);
      os::unmap(reinterpret_cast<void*>(r.base), r.slabs * kSlabSize);
      return false;
    }
    const std::size_t page = os::page_size();
    const int err = os::decommit(reinterpret_cast<void*>(r.base + page), r.slabs * kSlabSize - page,
                                 policy == 1 ? os::Decommit::Free : os::Decommit::DontNeed);
    return policy == 2 && err == 0;
  }

  Range runs_[kCapacity];
  std::size_t n_ = 0;
};

/// Takes for decommit what exceeds the bound, then (when `expire`) what is
/// older than the delay, oldest first, until `out` is full. Lock held.
template <class Out>
void trim_locked(bool expire, bool all, Out& out) noexcept {
  const std::size_t bound = static_cast<std::size_t>(option(SPACES_OPTION_SLAB_CACHE)) / kSlabSize;
  const std::uint64_t now = os::now_ms();
  const std::uint64_t delay = static_cast<std::uint64_t>(option(SPACES_OPTION_DECOMMIT_DELAY));
  while (!out.full() && !g_cache.warm.empty()) {
    const bool over = all || warm_total() > bound;
    const bool old = expire && g_cache.batches.back().stamp + delay <= now;
    if (!over && !old) break;
    SlabHeader* r = g_cache.warm.pop_back();
    g_cache.batches.take_back();
    g_cache.warm_slabs -= r->slabs;
    out.take(r);
  }
  // Warm bins: individually stamped; few runs, so scan them all.
  for (std::size_t i = g_cache.warm_bins.next_nonempty(0); i < kBins && !out.full();
       i = g_cache.warm_bins.next_nonempty(i + 1)) {
    for (SlabHeader* r = g_cache.warm_bins.lists[i].front(); r != nullptr && !out.full();) {
      SlabHeader* next = r->next;
      if (all || warm_total() > bound || (expire && r->stamp + delay <= now)) {
        g_cache.warm_bins.remove(r);
        out.take(r);
      }
      r = next;
    }
  }
  g_cache.next_housekeeping = now + (delay / 4 > 10 ? delay / 4 : 10);
}

/// Bounded trimming on every acquisition and release: at once when the warm
/// memory exceeds the bound, every delay/4 for age.
void housekeeping_locked(Decommits<kTrimPerCall>& out) noexcept {
  const bool over = warm_total() * kSlabSize > static_cast<std::size_t>(option(SPACES_OPTION_SLAB_CACHE));
  if (over || os::now_ms() >= g_cache.next_housekeeping) trim_locked(true, false, out);
}

/// Zeroes a run's header for its new owner and marks it in use.
SlabHeader* hand_out(SlabHeader* r, std::size_t slabs) noexcept {
  const std::uintptr_t base = base_of(r);
  unpoison(reinterpret_cast<void*>(base), kHeaderRegion);
  std::memset(static_cast<void*>(r), 0, sizeof(SlabHeader));
  r->slabs = static_cast<std::uint32_t>(slabs);
  map_mark(base, slabs, Granule::Head, Granule::Interior);
  return r;
}

}  // namespace

SlabHeader* cache_acquire(std::size_t slabs, std::size_t align, std::size_t offset, int* err) noexcept {
  Decommits<kTrimPerCall> decommits;  // before the guard: decommits after the unlock (Decommits says why)
  LockGuard guard(g_cache.lock);
  housekeeping_locked(decommits);
  SlabHeader* r = nullptr;
  if (slabs == 1 && align <= kSlabSize && !g_cache.warm.empty()) {
    r = g_cache.warm.pop_front();
    g_cache.warm_slabs -= r->slabs;
    if (r->slabs > 1) {
      // A spliced region span: keep the rest on the warm list, same batch.
      const std::uintptr_t rest = base_of(r) + kSlabSize;
      SlabHeader* tail = make_free_header(rest, r->slabs - 1, Temp::Warm);
      map_set(rest, Granule::Head);  // the rest of its granules say Interior already
      g_cache.warm.push_front(tail);
      g_cache.warm_slabs += tail->slabs;
    } else {
      g_cache.batches.take_front();
    }
  }
  Temp temp = Temp::Warm;
  if (r == nullptr) r = take_from_bins(g_cache.warm_bins, slabs, align, offset, &temp);
  if (r == nullptr && slabs > 1) r = take_unspliced(slabs, align, offset);
  if (r == nullptr && slabs > 1 && align <= kSlabSize) r = take_warm_extended(slabs);
  if (r == nullptr) r = take_from_bins(g_cache.cold_bins, slabs, align, offset, &temp);
  bool zeroed = false;
  if (r == nullptr) {
    r = take_fresh(slabs, align, offset, err);
    if (r == nullptr) return nullptr;
    zeroed = true;  // never written since the OS mapped it
  }
  hand_out(r, slabs);
  if (zeroed) r->flags = kSlabZeroed;
  else if (temp == Temp::ColdZero) r->flags = kSlabZeroTails;
  return r;
}

bool cache_extend(SlabHeader* run, std::size_t more) noexcept {
  const std::uintptr_t end = base_of(run) + run->slabs * kSlabSize;
  Decommits<kTrimPerCall> decommits;
  LockGuard guard(g_cache.lock);
  if (SlabHeader* after = free_run_at(end); after != nullptr && after->slabs >= more) {
    const Temp t = temp_of(after);
    const std::size_t rest = after->slabs - more;
    (t != Temp::Warm ? g_cache.cold_bins : g_cache.warm_bins).remove(after);
    // Mark the taken part in use before re-binning the rest (carve_from_bin).
    map_mark(end, more, Granule::Interior, Granule::Interior);
    if (rest > 0) bin_run(end + more * kSlabSize, rest, t, Marks::InteriorMarked);
  } else if (end == g_cache.fresh && g_cache.fresh_end - g_cache.fresh >= more * kSlabSize) {
    g_cache.fresh += more * kSlabSize;
    map_mark(end, more, Granule::Interior, Granule::Interior);  // leaves prepared with the reservation
  } else {
    return false;
  }
  housekeeping_locked(decommits);
  return true;
}

void cache_refilled(std::uintptr_t base, std::size_t slabs) noexcept {
  LockGuard guard(g_cache.lock);
  bin_run(base, slabs, Temp::ColdZero, Marks::Unknown);  // mapped afresh: zero
}

void cache_shrink(SlabHeader* run, std::size_t keep) noexcept {
  const std::uintptr_t tail = base_of(run) + keep * kSlabSize;
  const std::size_t slabs = run->slabs - keep;
  poison(reinterpret_cast<void*>(tail), slabs * kSlabSize);
  Decommits<kTrimPerCall> decommits;
  LockGuard guard(g_cache.lock);
  bin_run(tail, slabs, Temp::Warm, Marks::InteriorMarked);  // the slab before it is the run's: no merge backwards
  housekeeping_locked(decommits);
}

void retire_header(SlabHeader* run) noexcept {
  run->magic = kFreeRunMagic;
  run->kind = SlabKind::FreeRun;
  // A free of a block of a released run now fails the owner compare and
  // reaches free_generic, which names it, instead of the fast path.
  run->owner.store(0, std::memory_order_relaxed);
}

void cache_release(SlabHeader* run) noexcept {
  const std::uintptr_t base = base_of(run);
  const std::size_t slabs = run->slabs;
  poison(reinterpret_cast<void*>(base + kHeaderRegion), slabs * kSlabSize - kHeaderRegion);
  Decommits<kTrimPerCall> decommits;
  LockGuard guard(g_cache.lock);
  retire_header(run);
  if (slabs == 1) {
    g_cache.warm.push_front(run);
    g_cache.warm_slabs += 1;
    g_cache.batches.push_front(1, os::now_ms());
  } else {
    bin_run(base, slabs, Temp::Warm, Marks::InteriorMarked);
  }
  housekeeping_locked(decommits);
}

// ---- The thread's runs ------------------------------------------------------------
//
// A thread that frees a span and then allocates one of the same length (a
// buffer replaced, a large node per request) would take the cache lock
// twice, and two such threads contend on it. Each thread keeps its last
// kThreadRuns freed spans (kThreadRunSlabs slabs at most, and an eighth of
// SPACES_OPTION_SLAB_CACHE, which bounds warm memory) in tls_ctx.runs and
// serves a span of exactly that length from them without a lock. A kept
// run is free: its header is retired, as in the cache, so a free of its
// block is named; its granules still say Head/Interior, which is what
// handing it out again needs. It is warm memory of the process, charged to
// no heap: a cap never counts it, and the oldest goes to the process cache
// when a new one does not fit. Thread exit gives all back (the exit hook is
// armed by the first one kept); a fork child keeps the forking thread's.

SlabHeader* cache_acquire_local(std::size_t slabs) noexcept {
  ThreadCtx& t = tls_ctx;
  for (std::uint32_t i = t.run_count; i-- > 0;) {
    SlabHeader* r = t.runs[i];
    if (r->slabs != slabs) continue;
    for (std::uint32_t j = i; j + 1 < t.run_count; ++j) t.runs[j] = t.runs[j + 1];
    t.run_count -= 1;
    t.run_slabs -= static_cast<std::uint32_t>(slabs);
    unpoison(reinterpret_cast<void*>(base_of(r)), kHeaderRegion);
    std::memset(static_cast<void*>(r), 0, sizeof(SlabHeader));
    r->slabs = static_cast<std::uint32_t>(slabs);
    return r;
  }
  return nullptr;
}

void cache_release_local(SlabHeader* run) noexcept {
  ThreadCtx& t = tls_ctx;
  const std::size_t slabs = run->slabs;
  // The runs a thread keeps are warm memory the cache's bound does not see:
  // each thread keeps at most an eighth of that bound (none at 0, which
  // asks for every free span to be decommitted at once).
  const auto bound = static_cast<std::size_t>(option(SPACES_OPTION_SLAB_CACHE)) / kSlabSize / 8;
  const std::size_t keep = bound < kThreadRunSlabs ? bound : kThreadRunSlabs;
  if (slabs < 2 || slabs > keep || !process_ready()) {
    cache_release(run);
    return;
  }
  while (t.run_count == kThreadRuns || t.run_slabs + slabs > keep) {
    SlabHeader* oldest = t.runs[0];
    for (std::uint32_t j = 0; j + 1 < t.run_count; ++j) t.runs[j] = t.runs[j + 1];
    t.run_count -= 1;
    t.run_slabs -= oldest->slabs;
    cache_release(oldest);
  }
  poison(reinterpret_cast<void*>(base_of(run) + kHeaderRegion), slabs * kSlabSize - kHeaderRegion);
  retire_header(run);
  t.runs[t.run_count++] = run;
  t.run_slabs += static_cast<std::uint32_t>(slabs);
  arm_thread_exit();
}

void cache_flush_local() noexcept {
  ThreadCtx& t = tls_ctx;
  while (t.run_count > 0) {
    SlabHeader* r = t.runs[--t.run_count];
    t.run_slabs -= r->slabs;
    cache_release(r);
  }
}

void cache_release_list(RunList& runs, std::size_t slabs) noexcept {
  if (runs.empty()) return;
  if constexpr (SPACES_ASAN_ENABLED) {
    // Only sanitizer builds walk the list: every slab of a dead heap is
    // poisoned so that a dangling pointer into it is reported.
    for (SlabHeader* r = runs.front(); r != nullptr; r = r->next)
      poison(reinterpret_cast<void*>(base_of(r) + kHeaderRegion), r->slabs * kSlabSize - kHeaderRegion);
  }
  const std::size_t count = runs.size();
  LockGuard guard(g_cache.lock);
  g_cache.warm.splice_front(runs);
  g_cache.warm_slabs += slabs;
  g_cache.batches.push_front(count, os::now_ms());
  // No trimming here, even past the bound: destroy stays O(1); the excess
  // goes back over the next acquisitions and releases (or spaces_collect).
}

void cache_collect(bool all) noexcept {
  for (bool more = true; more;) {
    Decommits<kCollectBatch> decommits;
    LockGuard guard(g_cache.lock);
    trim_locked(true, all, decommits);
    more = decommits.full();
  }
}

std::size_t cache_warm_slabs() noexcept {
  LockGuard guard(g_cache.lock);
  return warm_total();
}

namespace {

/// Walks one list of free runs, counting their slabs; `reserved` marks a
/// run as seen, so a run on two lists (or twice on one) is caught.
bool free_list_is_valid(const RunList& list, Granule head, std::size_t* slabs, bool mark) noexcept {
  std::size_t n = 0;
  for (SlabHeader* r = list.front(); r != nullptr; r = r->next) {
    if (++n > list.size()) return SPACES_INVALID("cache: a list is as long as it says", &list);
    // Runs spliced onto the warm list by a destroy keep their old headers.
    if ((head == Granule::FreeHead && (r->magic != kFreeRunMagic || r->kind != SlabKind::FreeRun)) ||
        map_get(base_of(r)) != head)
      return SPACES_INVALID("cache: a free run has its head marked (and, binned, the free magic)", r);
    if ((r->reserved != 0) == mark) return SPACES_INVALID("cache: each free run is on one list once", r);
    r->reserved = mark ? 1 : 0;
    *slabs += r->slabs;
  }
  return n == list.size() || SPACES_INVALID("cache: a list is as long as it says", &list);
}

bool cache_lists_are_valid(bool mark) noexcept {
  std::size_t warm = 0, binned = 0, cold = 0;
  if (!free_list_is_valid(g_cache.warm, Granule::Head, &warm, mark)) return false;
  for (std::size_t i = 0; i < kBins; ++i) {
    if (!free_list_is_valid(g_cache.warm_bins.lists[i], Granule::FreeHead, &binned, mark)) return false;
    if (!free_list_is_valid(g_cache.cold_bins.lists[i], Granule::FreeHead, &cold, mark)) return false;
  }
  if (warm != g_cache.warm_slabs || binned != g_cache.warm_bins.slabs || cold != g_cache.cold_bins.slabs)
    return SPACES_INVALID("cache: the slab counts match the lists", &g_cache);
  return true;
}

}  // namespace

bool cache_is_valid() noexcept {
  LockGuard guard(g_cache.lock);
  const bool valid = cache_lists_are_valid(true);
  // Unmark (a second pass cannot fail where the first passed).
  return cache_lists_are_valid(false) && valid;
}

void cache_fork_prepare() noexcept { g_cache.lock.lock(); }
void cache_fork_parent() noexcept { g_cache.lock.unlock(); }
void cache_fork_child() noexcept { g_cache.lock.reset_after_fork(); }

}  // namespace spaces::detail
