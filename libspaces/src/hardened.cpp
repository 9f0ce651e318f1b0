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
#include "internal/slab.h"

#if SPACES_HARDENED

namespace spaces::detail {
namespace {

constexpr std::size_t kTopEntries = kMapTopEntries;
constexpr std::size_t kGranulesPerLeaf = kMapLeafEntries;
constexpr std::size_t kLeafBytes = kGranulesPerLeaf * sizeof(SlabBits);

constinit std::atomic<SlabBits*> g_bits_top[kTopEntries]{};

/// The bitmaps of the slab at `base`, making its leaf of the side table if
/// needed (a sparse mapping: only the slabs in use are touched).
SlabBits* bits_at(std::uintptr_t base) noexcept {
  const std::uintptr_t top = base >> kMapLeafShift;
  if (top >= kTopEntries) return nullptr;
  SlabBits* leaf = g_bits_top[top].load(std::memory_order_acquire);
  if (leaf == nullptr) {
    void* p = nullptr;
    if (os::map_aligned(kLeafBytes, os::page_size(), &p, os::Commit::Lazy) != 0) return nullptr;
    auto* fresh = static_cast<SlabBits*>(p);
    if (g_bits_top[top].compare_exchange_strong(leaf, fresh, std::memory_order_acq_rel)) leaf = fresh;
    else os::unmap(p, kLeafBytes);  // another thread installed it first
  }
  return leaf + ((base >> kSlabShift) & (kGranulesPerLeaf - 1));
}

bool frees(const char* what) noexcept { return what[0] == 'f' || what[0] == 'd'; }  // free, delete

}  // namespace

bool hardened_slab_open(SlabHeader* s) noexcept {
  SlabBits* bits = bits_at(run_base(s));
  if (bits == nullptr) return false;
  s->block_bits = bits;
  for (std::size_t w = 0; w < SlabBits::kWords; ++w) {
    bits->live[w].store(0, std::memory_order_relaxed);
    bits->pending[w].store(0, std::memory_order_relaxed);
  }
  return true;
}

SPACES_NO_SANITIZE_ADDRESS void hardened_collected(SlabHeader* s, Block* list, std::uint32_t n) noexcept {
  for (Block* b = list; n-- > 0; b = read_link(b)) {
    const BitRef r = bit_of(s, b);
    if ((r.bits->pending[r.word].fetch_and(~r.mask, std::memory_order_relaxed) & r.mask) == 0)
      corrupt_list_fatal(s, "remote free list");
    r.bits->live[r.word].store(r.bits->live[r.word].load(std::memory_order_relaxed) & ~r.mask, std::memory_order_relaxed);
  }
}

// ---- Reports ---------------------------------------------------------------------

void hardened_report_bad_pointer(const void* p, const char* what) noexcept {
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t base = (a - 1) & ~kSlabMask;
  const Granule g = a > kSlabSize ? map_get(base) : Granule::None;
  if (g == Granule::Unmapped) {
    if (frees(what)) fatal("spaces: double free of %p: its mapping was already released\n", p);
    fatal("spaces: %s of %p: its mapping was already released (the block was freed)\n", what, p);
  }
  const SlabHeader* s = slab_checked(p);
  if (s == nullptr) {
    if (g == Granule::FreeHead || (g == Granule::Head && header_at(base)->magic == kFreeRunMagic)) {
      if (frees(what)) fatal("spaces: double free of %p: its slab was already released\n", p);
      fatal("spaces: %s of %p: its slab was already released (the block was freed)\n", what, p);
    }
    fatal("spaces: %s of %p, which is not a block spaces handed out (foreign or interior pointer)\n", what, p);
  }
  const Heap* h = s->heap;
  if (h != nullptr && h->magic == kHeapMagic && s->heap_epoch != h->epoch && ((s->heap_epoch ^ h->epoch) >> 32) != 0) {
    // Epochs are small numbers: a high byte that differs was written over,
    // from just before the slab's first block (types.h: heap_epoch).
    fatal("spaces: heap '%s': the header of the slab of %p was overwritten (a write before the start of a "
          "block?)\n",
          h->name, p);
  }
  if (h == nullptr || h->magic != kHeapMagic || s->heap_epoch != h->epoch)
    fatal("spaces: %s of %p, a block of a heap that was destroyed or reset\n", what, p);
  fatal("spaces: %s of %p in heap '%s': not the start of a block\n", what, p, h->name);
}

void hardened_report_freed(const SlabHeader* s, const void* p, const char* what) noexcept {
  if (frees(what)) fatal("spaces: double free of %p in heap '%s'\n", p, heap_name_of(s->heap));
  fatal("spaces: %s of %p in heap '%s': the block was freed\n", what, p, heap_name_of(s->heap));
}

SPACES_NO_SANITIZE_ADDRESS void hardened_report_alloc(const SlabHeader* s, const void* b) noexcept {
  if (!small_block_start(s, b))
    fatal("spaces: heap '%s': the free list of slab %p is corrupted: it leads to %p, which is not one of its "
          "blocks (a write after free?)\n",
          heap_name_of(s->heap), static_cast<const void*>(s), b);
  if (read_canary(b) != canary_of(b))
    fatal("spaces: heap '%s': block %p was written after it was freed\n", heap_name_of(s->heap), b);
  fatal("spaces: heap '%s': block %p is handed out twice: its slab's free list is corrupted (a block freed "
        "twice, or written after it was freed)\n",
        heap_name_of(s->heap), b);
}

}  // namespace spaces::detail

#endif  // SPACES_HARDENED
