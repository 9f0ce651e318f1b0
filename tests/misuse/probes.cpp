// ---------------------------------------------------------------------------
// probes.cpp: misuse probes for any malloc, one misuse per probe.
//
//   misuse_probes --list          one line per probe: name, kind, what it does
//   misuse_probes NAME            runs one probe
//
// The program links only the C and C++ runtimes; the allocator under test is
// chosen by LD_PRELOAD (run_probes.py). Each probe sets up live blocks, prints
// a marker line, commits one misuse, and then uses the allocator as a program
// would go on doing (more allocations of the same size, frees of neighbours),
// so that a misuse the allocator accepted at the call has the chance to be
// noticed, or to do visible damage, before the end. Output protocol, on
// stdout, one write(2) per line (no stdio buffers to lose at an abort):
//
//   probe: NAME: misuse: WHAT ptr=0x...     before the misuse (ptr: the pointer
//                                           passed to the bad call, or the block
//                                           written out of bounds)
//   probe: NAME: after the misuse           the misusing call returned
//   probe: NAME: consequence: TEXT          damage the probe observed itself
//                                           (a block handed out twice, ...)
//   probe: NAME: end                        reached the end; exits 0
//
// Nothing is written to stderr, so whatever is there came from the allocator
// (or the C++ runtime). Probes are deterministic: fixed sizes, fixed orders,
// fixed fill patterns, threads joined one at a time.
// ---------------------------------------------------------------------------
#include <alloca.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

// ---- Output and compiler barriers --------------------------------------------

const char* g_name = "?";

__attribute__((format(printf, 1, 2))) void say(const char* fmt, ...) {
  char line[512];
  int n = std::snprintf(line, sizeof line, "probe: %s: ", g_name);
  va_list ap;
  va_start(ap, fmt);
  n += std::vsnprintf(line + n, sizeof line - static_cast<std::size_t>(n), fmt, ap);
  va_end(ap);
  if (n > static_cast<int>(sizeof line) - 2) n = static_cast<int>(sizeof line) - 2;
  line[n++] = '\n';
  for (int off = 0; off < n;) {
    const ssize_t w = write(1, line + off, static_cast<std::size_t>(n - off));
    if (w <= 0) break;
    off += static_cast<int>(w);
  }
}

/// Hides where a pointer came from, so the compiler neither folds the misuse
/// away nor warns about it (free of a stack address, mismatched delete).
template <class T>
T* opaque(T* p) {
  asm volatile("" : "+r"(p) : : "memory");
  return p;
}

void misuse(const char* what, const void* p) { say("misuse: %s ptr=%p", what, p); }
void after() { say("after the misuse"); }

/// A block of `size` bytes filled with `fill` (fresh memory is zero, reused
/// memory holds whatever was there: filling makes every run see the same bytes).
char* block(std::size_t size, int fill = 0x5c) {
  char* p = static_cast<char*>(std::malloc(size));
  if (p == nullptr) {
    say("setup failed: malloc(%zu) returned NULL", size);
    std::exit(3);
  }
  std::memset(p, fill, size);
  return opaque(p);
}

void free_(void* p) { std::free(opaque(p)); }

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;

// ---- Consequences: what the program does next ---------------------------------

void* g_after[4096];

/// Allocates blocks of `size` (up to 48 MiB in all, 2..3000 of them), writes
/// each whole, and reports a block handed out twice or one that equals
/// `live` (a block the program still uses); then frees the distinct ones.
/// This is where a free list that a misuse damaged is used.
void use_size(std::size_t size, const void* live = nullptr) {
  std::size_t n = (48 * MiB) / (size == 0 ? 1 : size);
  n = std::clamp<std::size_t>(n, 2, 3000);
  std::size_t got = 0;
  for (; got < n; ++got) {
    char* p = static_cast<char*>(std::malloc(size));
    if (p == nullptr) break;
    g_after[got] = p;
    if (p == live) say("consequence: malloc(%zu) returned %p, a block that is still in use", size, p);
    std::memset(p, static_cast<int>(got & 0x7f), std::min<std::size_t>(size, 4096));
  }
  if (got < n) say("consequence: malloc(%zu) returned NULL after %zu blocks", size, got);
  std::sort(g_after, g_after + got);
  std::size_t dups = 0;
  const void* first_dup = nullptr;
  for (std::size_t i = 1; i < got; ++i)
    if (g_after[i] == g_after[i - 1]) {
      if (dups++ == 0) first_dup = g_after[i];
    }
  if (dups != 0) say("consequence: %zu of %zu blocks of %zu bytes were handed out twice (first %p)", dups, got, size, first_dup);
  for (std::size_t i = 0; i < got; ++i)
    if (i == 0 || g_after[i] != g_after[i - 1]) std::free(g_after[i]);
}

/// A mixed workload: a few hundred blocks of assorted sizes, written, freed.
void use_mixed() {
  static const std::size_t sizes[] = {16, 24, 40, 64, 100, 256, 1000, 4000, 20000, 70000};
  void* v[200];
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) {
      const std::size_t sz = sizes[i % 10];
      v[i] = std::malloc(sz);
      if (v[i] != nullptr) std::memset(v[i], i, sz);
    }
    for (int i = 0; i < 200; ++i) std::free(v[i]);
  }
}

/// Allocations of other sizes than `size` that stay live (the "delayed" probes).
void other_traffic(std::size_t size) {
  static void* keep[64];
  const std::size_t a = size <= 512 ? 2000 : 200, b = size <= 512 ? 9000 : 100;
  for (int i = 0; i < 32; ++i) keep[i] = block(i % 2 ? a : b, i);
  for (int i = 0; i < 32; i += 4) std::free(keep[i]);
}

// ---- Double frees ---------------------------------------------------------------

void df_immediate(std::size_t size) {
  void* keep = block(size);
  void* p = block(size);
  free_(p);
  misuse("second free, right after the first", p);
  free_(p);
  after();
  use_size(size, keep);
  free_(keep);
}

void df_delayed(std::size_t size) {
  void* keep = block(size);
  void* p = block(size);
  free_(p);
  other_traffic(size);
  misuse("second free, after allocations of other sizes", p);
  free_(p);
  after();
  use_size(size, keep);
  free_(keep);
}

void df_interleaved(std::size_t size) {
  void* keep = block(size);
  void* a = block(size);
  void* b = block(size);
  free_(a);
  free_(b);
  misuse("free a, free b, free a", a);
  free_(a);
  after();
  use_size(size, keep);
  free_(keep);
}

/// Allocates blocks of `size` until one lands at `addr` (at most 4096, and at
/// most 64 MiB): they stay live in g_fill[0, *count). Returns that block or nullptr.
void* g_fill[4096];
void* allocate_until(const void* addr, std::size_t size, std::size_t* count) {
  const std::size_t limit = std::clamp<std::size_t>((64 * MiB) / size, 2, 4096);
  for (std::size_t i = 0; i < limit; ++i) {
    g_fill[i] = block(size);
    if (g_fill[i] == addr) {
      *count = i + 1;
      say("the address came back at malloc(%zu) number %zu", size, i + 1);
      return g_fill[i];
    }
  }
  *count = limit;
  say("the address did not come back in %zu mallocs of %zu bytes", limit, size);
  return nullptr;
}

void df_reused(std::size_t size) {
  void* keep = block(size);
  void* p = block(size);
  free_(p);
  std::size_t n = 0;
  void* q = allocate_until(p, size, &n);
  if (q != nullptr) free_(q);
  misuse("free of the old pointer after its address was reused and freed", p);
  free_(p);
  after();
  for (std::size_t i = 0; i < n; ++i)
    if (g_fill[i] != q) free_(g_fill[i]);
  use_size(size, keep);
  free_(keep);
}

/// A thread started before the probe allocates anything (a thread's start
/// allocates, and that allocation must not take the address under test), which
/// runs one function at a time for the probe's thread and waits for it.
class Helper {
 public:
  Helper() : thread_([this] { loop(); }) {}
  Helper(const Helper&) = delete;
  Helper& operator=(const Helper&) = delete;
  ~Helper() {
    {
      std::lock_guard<std::mutex> g(m_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void run(void (*f)(void*), void* arg) {
    std::unique_lock<std::mutex> g(m_);
    fn_ = f;
    arg_ = arg;
    cv_.notify_all();
    cv_.wait(g, [this] { return fn_ == nullptr; });
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> g(m_);
    for (;;) {
      cv_.wait(g, [this] { return fn_ != nullptr || quit_; });
      if (fn_ == nullptr) return;
      fn_(arg_);
      fn_ = nullptr;
      cv_.notify_all();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  void (*fn_)(void*) = nullptr;
  void* arg_ = nullptr;
  bool quit_ = false;
  std::thread thread_;
};

void free_in_thread(void* p) { free_(p); }
void free_twice_in_thread(void* p) {
  free_(p);
  misuse("second free, both from a thread that did not allocate it", p);
  free_(p);
  after();
}

void df_remote(std::size_t size) {
  Helper other;
  void* keep = block(size);
  void* p = block(size);
  other.run(free_twice_in_thread, p);
  use_size(size, keep);
  free_(keep);
}

void df_local_remote(std::size_t size) {
  Helper other;
  void* keep = block(size);
  void* p = block(size);
  free_(p);
  misuse("freed by its thread, then again by another thread", p);
  other.run(free_in_thread, p);
  after();
  use_size(size, keep);
  free_(keep);
}

void df_remote_local(std::size_t size) {
  Helper other;
  void* keep = block(size);
  void* p = block(size);
  other.run(free_in_thread, p);
  misuse("freed by another thread, then again by its own", p);
  free_(p);
  after();
  use_size(size, keep);
  free_(keep);
}

/// A stale pointer freed again after its address went to a new block that is
/// still live: the second free is, to the allocator, a correct free of that
/// block. Same size (the usual reuse), or 256-byte blocks taking a freed
/// 1 MiB block's memory.
void df_stale(std::size_t size, std::size_t reuse_size) {
  void* keep = block(size);
  void* p = block(size);
  free_(p);
  std::size_t n = 0;
  void* q = allocate_until(p, reuse_size, &n);
  misuse(q != nullptr ? "second free of a pointer whose address now holds a live block"
                      : "second free of a pointer (its address was not reused)",
         p);
  free_(p);
  after();
  use_size(reuse_size, q);
  use_size(size, keep);
  free_(keep);
}

// ---- Frees of pointers that are not blocks -----------------------------------------

alignas(64) char g_global[4096];
alignas(64) const char g_rodata[64] = "a read-only string that was never allocated";

void bad_free(const char* what, void* p) {
  void* keep = block(64);
  misuse(what, p);
  free_(p);
  after();
  use_size(64, keep);
  use_mixed();
  free_(keep);
}

__attribute__((noinline)) void free_stack() {
  alignas(16) char local[256];
  std::memset(local, 0x5c, sizeof local);
  bad_free("free of a stack array", opaque(local));
}
__attribute__((noinline)) void free_alloca() {
  char* a = static_cast<char*>(alloca(256));
  std::memset(a, 0x5c, 256);
  bad_free("free of alloca'd memory", opaque(a));
}
void free_global() { bad_free("free of a global array", opaque(g_global + 64)); }
void free_rodata() { bad_free("free of a string constant", opaque(const_cast<char*>(g_rodata))); }
void free_low_address() { bad_free("free of 0x1000, never mapped", opaque(reinterpret_cast<char*>(0x1000))); }

/// An address in an anonymous mapping the allocator never saw.
void free_mapped_page() {
  void* m = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) std::exit(3);
  std::memset(m, 0x41, 4096);
  bad_free("free of an address in a page mmap'd by the program (filled with 0x41)", static_cast<char*>(m) + 0x5a0);
}

/// The same in a 64 KiB-aligned mapping of zeros: what a slab header looks like
/// to an allocator that finds headers by masking.
void free_mapped_aligned() {
  const std::size_t len = 256 * KiB;
  char* m = static_cast<char*>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (m == MAP_FAILED) std::exit(3);
  char* base = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(m) + 64 * KiB - 1) & ~(64 * KiB - 1));
  bad_free("free of a 64 KiB-aligned mmap'd page + 512 (zeros)", base + 512);
}

void free_offset(std::size_t size, std::size_t offset, const char* what, int fill = 0x5c) {
  char* p = block(size, fill);
  void* keep = block(size);
  bad_free(what, p + offset);
  free_(keep);
}

// ---- realloc and malloc_usable_size -------------------------------------------------

void realloc_freed(std::size_t size) {
  void* keep = block(size);
  void* p = block(size);
  free_(p);
  misuse("realloc of a freed block to twice its size", p);
  void* q = std::realloc(opaque(p), 2 * size);
  after();
  say("consequence: realloc returned %s (errno %d)", q == nullptr ? "NULL" : "a block", q == nullptr ? errno : 0);
  use_size(size, keep);
  free_(keep);
}

void realloc_bad(const char* what, void* p, std::size_t new_size) {
  void* keep = block(64);
  errno = 0;
  misuse(what, p);
  void* q = std::realloc(opaque(p), new_size);
  after();
  say("consequence: realloc returned %s (errno %d)", q == nullptr ? "NULL" : "a block", errno);
  use_size(64, keep);
  free_(keep);
}

__attribute__((noinline)) void realloc_stack() {
  alignas(16) char local[256];
  std::memset(local, 0x5c, sizeof local);
  realloc_bad("realloc of a stack array", opaque(local), 512);
}
void realloc_interior() {
  char* p = block(256);
  realloc_bad("realloc of a block + 16", p + 16, 512);
}
void realloc_global() { realloc_bad("realloc of a global array", opaque(g_global + 128), 512); }

void usable_size_freed(std::size_t size) {
  void* keep = block(size);
  void* p = block(size);
  free_(p);
  misuse("malloc_usable_size of a freed block", p);
  const std::size_t n = malloc_usable_size(opaque(p));
  after();
  say("consequence: malloc_usable_size returned %zu", n);
  use_size(size, keep);
  free_(keep);
}

__attribute__((noinline)) void usable_size_stack() {
  alignas(16) char local[256];
  std::memset(local, 0x5c, sizeof local);
  misuse("malloc_usable_size of a stack array", local);
  const std::size_t n = malloc_usable_size(opaque(local));
  after();
  say("consequence: malloc_usable_size returned %zu", n);
}

// ---- new and delete --------------------------------------------------------------

/// A class with a destructor: new T[n] stores n in a cookie before the array.
struct Tracked {
  long value = 7;
  ~Tracked() { value = -1; }
};

void delete_scalar_of_array() {
  Tracked* p = opaque(new Tracked[8]);
  misuse("delete (scalar) of new Tracked[8]", p);
  delete p;  // NOLINT: the misuse
  after();
  use_size(8 * sizeof(Tracked) + 8);
  use_mixed();
}

void delete_array_of_scalar() {
  Tracked* p = opaque(new Tracked);
  misuse("delete[] of new Tracked", p);
  delete[] p;  // NOLINT: the misuse
  after();
  use_size(sizeof(Tracked));
  use_mixed();
}

void free_of_new_array() {
  Tracked* p = opaque(new Tracked[8]);
  misuse("free() of new Tracked[8] (the block starts at the array cookie, 8 bytes before)", p);
  std::free(p);
  after();
  use_size(8 * sizeof(Tracked) + 8);
  use_mixed();
}

void double_delete() {
  Tracked* keep = new Tracked;
  Tracked* p = opaque(new Tracked);
  delete p;
  misuse("delete of an object already deleted", p);
  delete opaque(p);
  after();
  use_size(sizeof(Tracked), keep);
  delete keep;
}

void double_delete_array() {
  Tracked* keep = new Tracked[8];
  Tracked* p = opaque(new Tracked[8]);
  delete[] p;
  misuse("delete[] of an array already deleted", p);
  delete[] opaque(p);
  after();
  use_size(8 * sizeof(Tracked) + 8, keep);
  delete[] keep;
}

__attribute__((noinline)) void delete_stack() {
  alignas(16) char local[256];
  std::memset(local, 0x5c, sizeof local);
  void* p = opaque(local);
  misuse("operator delete of a stack array", p);
  ::operator delete(p);
  after();
  use_size(64);
  use_mixed();
}

/// delete[] of an interior pointer of a 1 MiB array that holds bytes 0x01
/// (an array of bools set to true): a 64 KiB boundary + 512 inside it.
void delete_interior_1m() {
  char* p = opaque(new char[MiB]);
  std::memset(p, 1, MiB);
  char* q = reinterpret_cast<char*>(((reinterpret_cast<std::uintptr_t>(p) + MiB / 2) & ~(64 * KiB - 1)) + 512);
  misuse("delete[] of new char[1 MiB] + about 512 KiB (the array holds bytes 0x01)", q);
  delete[] opaque(q);
  after();
  use_size(MiB);
  use_mixed();
}

void delete_interior() {
  char* p = opaque(new char[256]);
  std::memset(p, 0x5c, 256);
  misuse("delete[] of new char[256] + 16", p + 16);
  delete[] opaque(p + 16);
  after();
  use_size(256);
  use_mixed();
}

// ---- Writes after free --------------------------------------------------------------

void write_after_free(std::size_t size, std::size_t offset, std::size_t len, const char* what) {
  void* keep = block(size);
  char* p = block(size);
  free_(p);
  misuse(what, p);
  std::memset(opaque(p) + offset, 0x41, len);
  after();
  use_size(size, keep);
  use_mixed();
  free_(keep);
}

/// The first word of a freed block (a free-list link in most allocators)
/// overwritten with the address of a live block of the same size.
void write_after_free_link_to_live() {
  const std::size_t size = 64;
  char* live = block(size);
  char* p = block(size);
  free_(p);
  misuse("the first 8 bytes of a freed 64-byte block set to the address of a live block", p);
  std::memcpy(opaque(p), &live, sizeof live);
  after();
  use_size(size, live);
  free_(live);
}

// ---- Overflows and underflows ------------------------------------------------------

/// Writes `len` bytes of 0x41 at `p + offset` of a block of `size`, then frees it
/// and its neighbour and allocates more.
void out_of_bounds(std::size_t size, long offset, std::size_t len, const char* what) {
  char* before = block(size);
  char* p = block(size);
  char* next = block(size);
  misuse(what, p);
  std::memset(opaque(p) + offset, 0x41, len);
  after();
  free_(p);
  free_(offset < 0 ? before : next);
  use_size(size);
  use_mixed();
  free_(offset < 0 ? next : before);
}

/// A 1-byte underflow of each of four 1 MiB blocks allocated in a row (so that
/// allocators that keep a header before large blocks, at whatever offset, see
/// it on some of them), then what malloc_usable_size says of each.
void underflow_large_x4() {
  char* v[4];
  for (char*& p : v) p = block(MiB);
  misuse("1 byte written before the start of each of four 1 MiB blocks (the first one)", v[0]);
  for (char* p : v) opaque(p)[-1] = 0x41;
  after();
  for (char* p : v) {
    const std::size_t n = malloc_usable_size(opaque(p));
    if (n > 2 * MiB) say("consequence: malloc_usable_size(%p) of a 1 MiB block now reports a wrong size, %zu bytes", static_cast<void*>(p), n);
  }
  for (char* p : v) free_(p);
  use_size(MiB);
  use_mixed();
}

/// One 64-byte block overflowing by 16 bytes into its neighbour after the
/// neighbour was freed (its free-list link and canary, where allocators keep them).
void overflow_into_freed() {
  char* p = block(64);
  char* next = block(64);
  say("the neighbour starts %ld bytes after the block", static_cast<long>(next - p));
  free_(next);
  misuse("16 bytes written past the end of a 64-byte block whose neighbour is free", p);
  std::memset(opaque(p) + 64, 0x41, 16);
  after();
  use_size(64, p);
  free_(p);
}

// ---- The table -------------------------------------------------------------------

struct Probe {
  const char* name;
  const char* kind;
  void (*run)();
};

#define SIZED(fn, n) [] { fn(n); }

const Probe kProbes[] = {
    // Double frees, every size range, right after the first free.
    {"double-free-16", "double-free", SIZED(df_immediate, 16)},
    {"double-free-64", "double-free", SIZED(df_immediate, 64)},
    {"double-free-1024", "double-free", SIZED(df_immediate, 1024)},
    {"double-free-4k", "double-free", SIZED(df_immediate, 4 * KiB)},
    {"double-free-16k", "double-free", SIZED(df_immediate, 16 * KiB)},
    {"double-free-32k", "double-free", SIZED(df_immediate, 32 * KiB)},
    {"double-free-64k", "double-free", SIZED(df_immediate, 64 * KiB)},
    {"double-free-1m", "double-free", SIZED(df_immediate, MiB)},
    {"double-free-4m", "double-free", SIZED(df_immediate, 4 * MiB)},
    {"double-free-96m", "double-free", SIZED(df_immediate, 96 * MiB)},
    // Delayed, interleaved, after reuse, from other threads; small, medium, large, huge.
    {"double-free-delayed-64", "double-free", SIZED(df_delayed, 64)},
    {"double-free-delayed-16k", "double-free", SIZED(df_delayed, 16 * KiB)},
    {"double-free-delayed-1m", "double-free", SIZED(df_delayed, MiB)},
    {"double-free-delayed-96m", "double-free", SIZED(df_delayed, 96 * MiB)},
    {"double-free-interleaved-64", "double-free", SIZED(df_interleaved, 64)},
    {"double-free-interleaved-16k", "double-free", SIZED(df_interleaved, 16 * KiB)},
    {"double-free-interleaved-1m", "double-free", SIZED(df_interleaved, MiB)},
    {"double-free-interleaved-96m", "double-free", SIZED(df_interleaved, 96 * MiB)},
    {"double-free-reused-64", "double-free", SIZED(df_reused, 64)},
    {"double-free-reused-16k", "double-free", SIZED(df_reused, 16 * KiB)},
    {"double-free-reused-1m", "double-free", SIZED(df_reused, MiB)},
    {"double-free-reused-96m", "double-free", SIZED(df_reused, 96 * MiB)},
    {"double-free-remote-64", "double-free", SIZED(df_remote, 64)},
    {"double-free-remote-16k", "double-free", SIZED(df_remote, 16 * KiB)},
    {"double-free-remote-1m", "double-free", SIZED(df_remote, MiB)},
    {"double-free-remote-96m", "double-free", SIZED(df_remote, 96 * MiB)},
    {"double-free-local-remote-64", "double-free", SIZED(df_local_remote, 64)},
    {"double-free-local-remote-16k", "double-free", SIZED(df_local_remote, 16 * KiB)},
    {"double-free-local-remote-1m", "double-free", SIZED(df_local_remote, MiB)},
    {"double-free-local-remote-96m", "double-free", SIZED(df_local_remote, 96 * MiB)},
    {"double-free-remote-local-64", "double-free", SIZED(df_remote_local, 64)},
    {"double-free-remote-local-16k", "double-free", SIZED(df_remote_local, 16 * KiB)},
    {"double-free-remote-local-1m", "double-free", SIZED(df_remote_local, MiB)},
    {"double-free-remote-local-96m", "double-free", SIZED(df_remote_local, 96 * MiB)},
    // A stale pointer freed after its address went to a live block.
    {"double-free-stale-reused-64", "double-free", [] { df_stale(64, 64); }},
    {"double-free-stale-reused-1m", "double-free", [] { df_stale(MiB, 256); }},
    // Pointers that are not blocks.
    {"free-stack", "invalid-free", free_stack},
    {"free-alloca", "invalid-free", free_alloca},
    {"free-global", "invalid-free", free_global},
    {"free-rodata", "invalid-free", free_rodata},
    {"free-0x1000", "invalid-free", free_low_address},
    {"free-mapped-page", "invalid-free", free_mapped_page},
    {"free-mapped-aligned", "invalid-free", free_mapped_aligned},
    {"free-unaligned-plus1", "invalid-free", [] { free_offset(256, 1, "free of a 256-byte block + 1"); }},
    {"free-unaligned-plus8", "invalid-free", [] { free_offset(256, 8, "free of a 256-byte block + 8"); }},
    {"free-interior-plus16", "invalid-free", [] { free_offset(256, 16, "free of a 256-byte block + 16"); }},
    {"free-interior-half", "invalid-free", [] { free_offset(256, 128, "free of a 256-byte block + 128"); }},
    {"free-interior-plus16-16k", "invalid-free", [] { free_offset(16 * KiB, 16, "free of a 16 KiB block + 16"); }},
    {"free-unaligned-plus8-1m", "invalid-free", [] { free_offset(MiB, 8, "free of a 1 MiB block + 8"); }},
    {"free-interior-half-1m", "invalid-free",
     [] { free_offset(MiB, MiB / 2, "free of a 1 MiB block + 512 KiB (the block holds bytes 0x01)", 1); }},
    {"free-interior-96m", "invalid-free", [] { free_offset(96 * MiB, 4096, "free of a 96 MiB block + 4096"); }},
    // realloc and malloc_usable_size of things that are not live blocks.
    {"realloc-freed-64", "realloc", SIZED(realloc_freed, 64)},
    {"realloc-freed-16k", "realloc", SIZED(realloc_freed, 16 * KiB)},
    {"realloc-freed-1m", "realloc", SIZED(realloc_freed, MiB)},
    {"realloc-stack", "realloc", realloc_stack},
    {"realloc-interior", "realloc", realloc_interior},
    {"realloc-global", "realloc", realloc_global},
    {"usable-size-freed-64", "usable-size", SIZED(usable_size_freed, 64)},
    {"usable-size-freed-1m", "usable-size", SIZED(usable_size_freed, MiB)},
    {"usable-size-stack", "usable-size", usable_size_stack},
    // new and delete.
    {"delete-scalar-of-array", "new-delete", delete_scalar_of_array},
    {"delete-array-of-scalar", "new-delete", delete_array_of_scalar},
    {"free-of-new-array", "new-delete", free_of_new_array},
    {"double-delete", "new-delete", double_delete},
    {"double-delete-array", "new-delete", double_delete_array},
    {"delete-stack", "new-delete", delete_stack},
    {"delete-interior", "new-delete", delete_interior},
    {"delete-interior-half-1m", "new-delete", delete_interior_1m},
    // Writes after free, then allocations of the same size.
    {"write-after-free-first8-64", "write-after-free",
     [] { write_after_free(64, 0, 8, "bytes 0-7 of a freed 64-byte block written"); }},
    {"write-after-free-8to15-64", "write-after-free",
     [] { write_after_free(64, 8, 8, "bytes 8-15 of a freed 64-byte block written"); }},
    {"write-after-free-middle-64", "write-after-free",
     [] { write_after_free(64, 32, 8, "bytes 32-39 of a freed 64-byte block written"); }},
    {"write-after-free-whole-64", "write-after-free",
     [] { write_after_free(64, 0, 64, "all 64 bytes of a freed 64-byte block written"); }},
    {"write-after-free-link-to-live", "write-after-free", write_after_free_link_to_live},
    {"write-after-free-first8-16k", "write-after-free",
     [] { write_after_free(16 * KiB, 0, 8, "bytes 0-7 of a freed 16 KiB block written"); }},
    {"write-after-free-middle-16k", "write-after-free",
     [] { write_after_free(16 * KiB, 8 * KiB, 8, "bytes 8192-8199 of a freed 16 KiB block written"); }},
    {"write-after-free-first8-1m", "write-after-free",
     [] { write_after_free(MiB, 0, 8, "bytes 0-7 of a freed 1 MiB block written"); }},
    // Overflows and underflows, then frees of the block and its neighbour.
    {"overflow-1-of-24", "overflow", [] { out_of_bounds(24, 24, 1, "1 byte written past the end of a 24-byte block"); }},
    {"overflow-1-of-64", "overflow", [] { out_of_bounds(64, 64, 1, "1 byte written past the end of a 64-byte block"); }},
    {"overflow-16-into-freed", "overflow", overflow_into_freed},
    {"overflow-1-of-1m", "overflow", [] { out_of_bounds(MiB, MiB, 1, "1 byte written past the end of a 1 MiB block"); }},
    {"overflow-1m-of-64", "overflow", [] { out_of_bounds(64, 64, MiB, "1 MiB written past the end of a 64-byte block"); }},
    {"overflow-1m-of-1m", "overflow", [] { out_of_bounds(MiB, MiB, MiB, "1 MiB written past the end of a 1 MiB block"); }},
    {"underflow-1-of-64", "underflow", [] { out_of_bounds(64, -1, 1, "1 byte written before the start of a 64-byte block"); }},
    {"underflow-16-of-64", "underflow", [] { out_of_bounds(64, -16, 16, "16 bytes written before the start of a 64-byte block"); }},
    {"underflow-1-of-1m", "underflow", [] { out_of_bounds(MiB, -1, 1, "1 byte written before the start of a 1 MiB block"); }},
    {"underflow-1-of-1m-x4", "underflow", underflow_large_x4},
    {"underflow-1m-of-1m", "underflow",
     [] { out_of_bounds(MiB, -static_cast<long>(MiB), MiB, "1 MiB written before the start of a 1 MiB block"); }},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    for (const Probe& p : kProbes) std::printf("%s %s\n", p.name, p.kind);
    return 0;
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s --list | PROBE\n", argv[0]);
    return 2;
  }
  for (const Probe& p : kProbes) {
    if (std::strcmp(argv[1], p.name) != 0) continue;
    g_name = p.name;
    p.run();
    say("end");
    return 0;
  }
  std::fprintf(stderr, "%s: no probe named '%s'\n", argv[0], argv[1]);
  return 2;
}
