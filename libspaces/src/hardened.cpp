// ---------------------------------------------------------------------------
// hardened.cpp: the checks of the hardened build (SPACES_HARDENED=1; the
// spaces::hardened library and libspaces_malloc_hardened.so).
//
// Every pointer given to free, realloc or malloc_usable_size is checked
// before anything is read through it: the granule map must say the granule
// starts a run in use, the header's magic must be right, the heap alive and
// of the same generation, the pointer on the block grid. A small block's
// state is kept outside the slab, in two bitmaps per 64 KiB granule (one bit
// per 16 bytes, so a block's bit is found with a shift, not a division):
//
//   live     set when the block is handed out, cleared when its owner takes
//            it back; written only by the slab's owner (or the heap lock's
//            holder for an abandoned shard), read by anyone
//   pending  set, atomically, by a thread that frees a block it does not
//            own, before it publishes the block; cleared by the owner when it
//            takes the block from the remote or delayed list
//
// so a block is free for the allocator's purposes iff !live || pending. A
// double free, from any thread, finds the block free and aborts at the call
// with a message naming the pointer and the heap; two threads freeing the
// same block at once race on `pending`, and the loser aborts. An allocation
// that finds `live` already set (a free list that a write after free or an
// undetected misuse corrupted) aborts too, instead of handing the block out
// twice. Nothing here runs in the release build.
//
// The bitmaps live in a side table (1 KiB per granule, leaves of 16 MiB per
// GiB of address space, mapped on demand and touched only where small slabs
// are), so a slab's layout is the same in every build.
// ---------------------------------------------------------------------------
#include "internal/internal.h"

#if SPACES_HARDENED

namespace spaces::detail {
namespace {

constexpr std::size_t kAddressBits = 47;
constexpr std::size_t kLeafShift = 30;
constexpr std::size_t kTopEntries = std::size_t{1} << (kAddressBits - kLeafShift);
constexpr std::size_t kGranulesPerLeaf = std::size_t{1} << (kLeafShift - kSlabShift);
constexpr std::size_t kWords = kSlabSize / kMinAlign / 64;

struct SlabBits {
  std::atomic<std::uint64_t> live[kWords];
  std::atomic<std::uint64_t> pending[kWords];
};
static_assert(sizeof(SlabBits) == 1024, "two bitmaps of one bit per 16 bytes of a slab");

constinit std::atomic<SlabBits*> g_bits_top[kTopEntries]{};

SlabBits* bits_of(std::uintptr_t base, bool create) noexcept {
  const std::uintptr_t top = base >> kLeafShift;
  if (top >= kTopEntries) return nullptr;
  SlabBits* leaf = g_bits_top[top].load(std::memory_order_acquire);
  if (leaf == nullptr && create) {
    void* p = nullptr;
    if (os::map_aligned(kGranulesPerLeaf * sizeof(SlabBits), os::page_size(), &p, os::Commit::Lazy) != 0) return nullptr;
    auto* fresh = static_cast<SlabBits*>(p);
    if (g_bits_top[top].compare_exchange_strong(leaf, fresh, std::memory_order_acq_rel)) {
      leaf = fresh;
    } else {
      os::unmap(p, kGranulesPerLeaf * sizeof(SlabBits));  // another thread installed it first
    }
  }
  if (leaf == nullptr) return nullptr;
  return leaf + ((base >> kSlabShift) & (kGranulesPerLeaf - 1));
}

struct BitRef {
  SlabBits* bits;
  std::size_t word;
  std::uint64_t mask;
};

/// A small slab's bitmaps are found through its header (set when it opens),
/// not the side table's two levels.
SPACES_ALWAYS_INLINE BitRef bit_of(const SlabHeader* s, const void* b) noexcept {
  const std::size_t i = (reinterpret_cast<std::uintptr_t>(b) - run_base(s)) >> 4;
  return BitRef{static_cast<SlabBits*>(s->block_bits), i / 64, std::uint64_t{1} << (i % 64)};
}

// A free block's second word holds a canary that depends on its address, set
// when it is freed and checked when it is handed out again: a write after free
// to the block's first 16 bytes (the link, the canary) is reported instead of
// corrupting the next allocation. Blocks are at least 16 bytes.
constexpr std::uintptr_t kCanaryKey = 0xF5EEB10C5CA9A21Dull;
SPACES_ALWAYS_INLINE std::uintptr_t canary_of(const void* b) noexcept {
  return reinterpret_cast<std::uintptr_t>(b) ^ kCanaryKey;
}
// Plain word accesses (the block is allocator memory, 16-aligned): memcpy
// would reach ASan's interceptor, which checks the poisoned free block.
SPACES_ALWAYS_INLINE std::uintptr_t read_canary(const void* b) noexcept {
  return reinterpret_cast<const std::uintptr_t*>(b)[1];
}
SPACES_ALWAYS_INLINE void write_canary(const void* b) noexcept {
  reinterpret_cast<std::uintptr_t*>(const_cast<void*>(b))[1] = canary_of(b);
}

[[noreturn]] SPACES_COLD void double_free(const SlabHeader* s, const void* p) noexcept {
  fatal("spaces: double free of %p in heap '%s'\n", p, heap_name_of(s->heap));
}

/// The shared checks of every entry point that takes a block: the run, its
/// heap and the grid. Returns the run.
SPACES_NO_SANITIZE_ADDRESS SlabHeader* checked_run(const void* p, const char* what) noexcept {
  SlabHeader* s = slab_checked(p);
  if (s == nullptr) {
    const std::uintptr_t base = (reinterpret_cast<std::uintptr_t>(p) - 1) & ~kSlabMask;
    const Granule g = reinterpret_cast<std::uintptr_t>(p) > kSlabSize ? map_get(base) : Granule::None;
    if (g == Granule::Unmapped) {
      if (what[0] == 'f' || what[0] == 'd') fatal("spaces: double free of %p: its mapping was already released\n", p);
      fatal("spaces: %s of %p: its mapping was already released (the block was freed)\n", what, p);
    }
    if (g == Granule::FreeHead || (g == Granule::Head && header_at(base)->magic == kFreeRunMagic)) {
      if (what[0] == 'f' || what[0] == 'd') fatal("spaces: double free of %p: its slab was already released\n", p);
      fatal("spaces: %s of %p: its slab was already released (the block was freed)\n", what, p);
    }
    fatal("spaces: %s of %p, which is not a block spaces handed out (foreign or interior pointer)\n", what, p);
  }
  const Heap* h = s->heap;
  if (h == nullptr || h->magic != kHeapMagic)
    fatal("spaces: %s of %p, a block of a heap that was destroyed or reset\n", what, p);
  if (s->heap_epoch != h->epoch) {
    // Epochs are small numbers: a high byte that differs was written over,
    // from just before the first block of the slab (types.h: heap_epoch).
    if ((s->heap_epoch ^ h->epoch) >> 32 != 0)
      fatal("spaces: heap '%s': the header of the slab of %p was overwritten (a write before the start of a "
            "block?)\n",
            h->name, p);
    fatal("spaces: %s of %p, a block of a heap that was destroyed or reset\n", what, p);
  }
  if (!is_block_start(s, p)) fatal("spaces: %s of %p in heap '%s': not the start of a block\n", what, p, h->name);
  return s;
}

}  // namespace

SPACES_NO_SANITIZE_ADDRESS void hardened_on_carve(const void* b) noexcept { write_canary(b); }

bool hardened_slab_open(SlabHeader* s) noexcept {
  SlabBits* bits = bits_of(run_base(s), true);
  if (bits == nullptr) return false;
  s->block_bits = bits;
  for (std::size_t w = 0; w < kWords; ++w) {
    bits->live[w].store(0, std::memory_order_relaxed);
    bits->pending[w].store(0, std::memory_order_relaxed);
  }
  return true;
}

SPACES_NO_SANITIZE_ADDRESS void hardened_on_alloc(const SlabHeader* s, const void* b) noexcept {
  if (!is_block_start(s, b))
    fatal("spaces: heap '%s': the free list of slab %p is corrupted: it leads to %p, which is not one of its "
          "blocks (a write after free?)\n",
          heap_name_of(s->heap), static_cast<const void*>(s), b);
  if (read_canary(b) != canary_of(b))
    fatal("spaces: heap '%s': block %p was written after it was freed\n", heap_name_of(s->heap), b);
  const BitRef r = bit_of(s, b);
  const std::uint64_t live = r.bits->live[r.word].load(std::memory_order_relaxed);
  if ((live & r.mask) != 0 || (r.bits->pending[r.word].load(std::memory_order_relaxed) & r.mask) != 0)
    fatal("spaces: heap '%s': block %p is handed out twice: its slab's free list is corrupted (a block freed "
          "twice, or written after it was freed)\n",
          heap_name_of(s->heap), b);
  r.bits->live[r.word].store(live | r.mask, std::memory_order_relaxed);
}

SPACES_NO_SANITIZE_ADDRESS void hardened_on_owner_free(const SlabHeader* s, const void* b) noexcept {
  write_canary(b);
  const BitRef r = bit_of(s, b);
  const std::uint64_t live = r.bits->live[r.word].load(std::memory_order_relaxed);
  r.bits->live[r.word].store(live & ~r.mask, std::memory_order_relaxed);
  if ((r.bits->pending[r.word].load(std::memory_order_relaxed) & r.mask) != 0)
    r.bits->pending[r.word].fetch_and(~r.mask, std::memory_order_relaxed);  // came through the delayed list
}

SPACES_NO_SANITIZE_ADDRESS void hardened_on_remote_free(const SlabHeader* s, const void* b) noexcept {
  const BitRef r = bit_of(s, b);
  if ((r.bits->pending[r.word].fetch_or(r.mask, std::memory_order_relaxed) & r.mask) != 0) double_free(s, b);
  write_canary(b);
}

bool hardened_block_ok(const SlabHeader* s, const Block* b) noexcept {
  if (!is_block_start(s, b)) return false;
  const BitRef r = bit_of(s, b);
  return (r.bits->pending[r.word].load(std::memory_order_relaxed) & r.mask) != 0;
}

void hardened_collected(SlabHeader* s, Block* list, std::uint32_t n) noexcept {
  for (Block* b = list; n-- > 0; b = read_link(b)) {
    const BitRef r = bit_of(s, b);
    if ((r.bits->pending[r.word].fetch_and(~r.mask, std::memory_order_relaxed) & r.mask) == 0)
      corrupt_list_fatal(s, "remote free list");
    const std::uint64_t live = r.bits->live[r.word].load(std::memory_order_relaxed);
    r.bits->live[r.word].store(live & ~r.mask, std::memory_order_relaxed);
  }
}

SPACES_NO_SANITIZE_ADDRESS void hardened_check_block(const void* p, const char* what) noexcept {
  SlabHeader* s = checked_run(p, what);
  if (s->kind != SlabKind::Small) return;
  const BitRef r = bit_of(s, p);
  if ((r.bits->live[r.word].load(std::memory_order_relaxed) & r.mask) == 0 ||
      (r.bits->pending[r.word].load(std::memory_order_relaxed) & r.mask) != 0) {
    if (what[0] == 'f' || what[0] == 'd') double_free(s, p);
    fatal("spaces: %s of %p in heap '%s': the block was freed\n", what, p, heap_name_of(s->heap));
  }
}

}  // namespace spaces::detail

#endif  // SPACES_HARDENED
