// ---------------------------------------------------------------------------
// leaks.cpp: what a heap still held when it was torn down (talloc's report,
// the kernel's "objects remaining" warning at kmem_cache_destroy).
//
// Only for heaps created with SPACES_HEAP_REPORT_LEAKS, and the default heap
// at exit with SPACES_OPTION_LEAK_REPORT: the report walks every live block
// (stats.cpp:heap_walk), which a destroy never does otherwise. It counts
// blocks and bytes per size class and copies the first bytes of the first
// SPACES_OPTION_LEAK_BLOCKS blocks, all on the stack: nothing is allocated
// while a heap is being torn down.
// ---------------------------------------------------------------------------
#include <cctype>
#include <cstring>

#include "internal/heap.h"

namespace spaces::detail {
namespace {

constexpr std::size_t kMaxListed = 64;  // SPACES_OPTION_LEAK_BLOCKS' maximum

enum class When { Reset, Destroy, Exit };

struct LeakScan {
  spaces_leak_class_t classes[kNumClasses + 1];  // the small classes, then every larger block
  spaces_leak_block_t listed[kMaxListed];
  std::size_t listed_max;
  std::size_t listed_count;
  std::size_t blocks;
  std::size_t bytes;
};

/// The class a live block of `usable` bytes belongs to; kNumClasses for
/// large and huge blocks.
std::size_t bucket_of(std::size_t usable) noexcept {
  for (std::size_t c = 0; c < kNumClasses; ++c)
    if (kClassSizes[c] == usable) return c;
  return kNumClasses;
}

/// Copies a block's first bytes. Under ASan the slack past the requested
/// size is poisoned and the report shows it anyway (byte by byte, so no
/// intercepted memcpy sees it).
SPACES_NO_SANITIZE_ADDRESS void copy_head(unsigned char* to, const void* block, std::size_t n) noexcept {
  const auto* from = static_cast<const volatile unsigned char*>(block);
  for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
}

int scan_block(void* block, std::size_t usable, void* arg) noexcept {
  auto* scan = static_cast<LeakScan*>(arg);
  scan->blocks += 1;
  scan->bytes += usable;
  spaces_leak_class_t& c = scan->classes[bucket_of(usable)];
  c.blocks += 1;
  c.bytes += usable;
  if (scan->listed_count < scan->listed_max) {
    spaces_leak_block_t& b = scan->listed[scan->listed_count++];
    b.block = block;
    b.size = usable;
    b.head_len = usable < sizeof(b.head) ? usable : sizeof(b.head);
    copy_head(b.head, block, b.head_len);
  }
  return 0;
}

/// Fills `scan` with h's live blocks: every one of a general heap; the
/// totals only of a region heap, which keeps no block boundaries.
void scan_heap(Heap* h, LeakScan* scan) noexcept {
  std::memset(scan, 0, sizeof(*scan));
  const long long n = option(SPACES_OPTION_LEAK_BLOCKS);
  scan->listed_max = n < 0 ? 0 : (static_cast<std::size_t>(n) > kMaxListed ? kMaxListed : static_cast<std::size_t>(n));
  for (std::size_t c = 0; c < kNumClasses; ++c) scan->classes[c].block_size = kClassSizes[c];
  if (h->discipline == SPACES_GENERAL) {
    heap_walk(h, &scan_block, scan);
    return;
  }
  spaces_stats_t st{};
  heap_stats(h, &st);
  scan->blocks = st.live_blocks;
  scan->bytes = st.live_bytes;
}

/// Writes the report on stderr: a line of totals, one per class, one per
/// listed block with its first bytes in hex and as text.
void print_report(const Heap* h, When when, const spaces_leak_report_t& r) noexcept {
  static constexpr const char* kWhen[] = {"reset", "destroyed", "at exit"};
  message("spaces: heap '%s' %s with %zu live block%s (%zu bytes)\n", h->name, kWhen[static_cast<int>(when)], r.blocks,
          r.blocks == 1 ? "" : "s", r.bytes);
  for (std::size_t i = 0; i < r.class_count; ++i) {
    const spaces_leak_class_t& c = r.classes[i];
    if (c.block_size != 0) message("  %zu-byte blocks: %zu (%zu bytes)\n", c.block_size, c.blocks, c.bytes);
    else message("  larger blocks: %zu (%zu bytes)\n", c.blocks, c.bytes);
  }
  for (std::size_t i = 0; i < r.first_count; ++i) {
    const spaces_leak_block_t& b = r.first[i];
    char hex[16 * 3 + 1] = {};
    char text[16 + 1] = {};
    for (std::size_t k = 0; k < b.head_len; ++k) {
      static constexpr char kDigits[] = "0123456789abcdef";
      hex[k * 3] = kDigits[b.head[k] >> 4];
      hex[k * 3 + 1] = kDigits[b.head[k] & 15];
      hex[k * 3 + 2] = ' ';
      text[k] = std::isprint(b.head[k]) != 0 ? static_cast<char>(b.head[k]) : '.';
    }
    message("  %p: %zu bytes: %s|%s|\n", b.block, b.size, hex, text);
  }
}

void report(Heap* h, When when) noexcept {
  LeakScan scan;
  scan_heap(h, &scan);
  if (scan.blocks == 0) return;
  // The classes with live blocks, ascending; the larger blocks last.
  std::size_t n = 0;
  for (const spaces_leak_class_t& c : scan.classes)
    if (c.blocks != 0) scan.classes[n++] = c;
  spaces_leak_report_t r{};
  r.destroyed = when == When::Destroy ? 1 : 0;
  r.blocks = scan.blocks;
  r.bytes = scan.bytes;
  r.classes = scan.classes;
  r.class_count = n;
  r.first = scan.listed;
  r.first_count = scan.listed_count;
  if (h->leak_fn != nullptr && when != When::Exit) h->leak_fn(to_handle(h), &r, h->leak_arg);
  else print_report(h, when, r);
}

}  // namespace

void heap_report_leaks(Heap* h, bool destroyed) noexcept { report(h, destroyed ? When::Destroy : When::Reset); }

void default_heap_report_leaks() noexcept {
  if (Heap* h = default_heap_if_created()) report(h, When::Exit);
}

}  // namespace spaces::detail
