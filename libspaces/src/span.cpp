// ---------------------------------------------------------------------------
// span.cpp: blocks too big for a small size class: a span of whole slabs
// from the slab cache with the block at a fixed offset, or above
// SPACES_OPTION_HUGE_THRESHOLD a mapping of its own (huge.cpp).
//
// A span has one header at its start, so slab_of() of the block finds it as
// it finds a small slab's; the block sits after the header region, at its
// alignment below 64 KiB, or one slab in (its header in the slab below).
// Spans are charged to the heap when taken and uncharged when freed, and are
// listed on the heap (large or huge) under its lock, for stats, walk and
// teardown.
//
// realloc resizes a span in place when it can (resize_large): it shrinks by
// giving its last slabs back to the cache, and grows over the free slabs
// right after it (the granule map finds them). A span that cannot grow in
// place, or grows past the huge threshold, and is 8 MiB or more becomes a
// huge block: the kernel moves its pages to a mapping of their own (no
// copy), as glibc's realloc does above its mmap threshold. A huge block is
// remapped. Either way only the difference is charged, so a block can grow
// to the cap, not to half of it.
// ---------------------------------------------------------------------------
#include "internal/heap.h"

namespace spaces::detail {

SlabHeader* acquire_block_run(Heap* h, std::size_t size, std::size_t align, SlabKind kind) noexcept {
  if (align < kMinAlign) align = kMinAlign;
  // Where the block sits in its run: after the header region, at its
  // alignment below 64 KiB, or one slab in (its header in the slab below).
  const std::size_t offset = align <= kHeaderRegion ? kHeaderRegion : (align <= kSlabSize ? align : kSlabSize);
  if (size > SIZE_MAX / 2 - offset) {
    record_failure(SPACES_E_NOMEM, h, size);
    return nullptr;
  }
  // A block of 0 bytes takes the room of 1, so that it lies inside its run
  // (at offset 64 KiB it would sit one past the end, in a granule not ours);
  // the request stays 0 for the cap handler and the failure record.
  const std::size_t room = size == 0 ? 1 : size;
  SlabHeader* s;
  if (offset + room > static_cast<std::size_t>(option(SPACES_OPTION_HUGE_THRESHOLD))) {
    const std::size_t total = (offset + room + kSlabMask) & ~kSlabMask;
    if (!charge(h, total, size)) return nullptr;
    int err = 0;
    s = huge_map(room, align, &err);
    if (s == nullptr) {
      heap_uncharge(h, total);
      record_failure(SPACES_E_NOMEM, h, size);
      return nullptr;
    }
    SPACES_ASSERT_INTERNAL(s->slabs * kSlabSize == total && s->block_size == offset);
    s->heap = h;
    s->heap_epoch = h->epoch;
  } else {
    const std::size_t slabs = (offset + room + kSlabMask) >> kSlabShift;
    s = acquire_run(h, slabs, align, offset, size);
    if (s == nullptr) return nullptr;
    s->magic = kSlabMagic;
    s->kind = kind;
    s->block_size = static_cast<std::uint32_t>(offset);
    s->size = slabs * kSlabSize - offset;
  }
  return s;
}

namespace {

/// Puts run s on the list of h its kind says (huge or large), counting a
/// span's slabs (large_slabs). Heap lock held.
void list_run(Heap* h, SlabHeader* s) noexcept {
  if (s->kind == SlabKind::Huge) {
    h->huge.push_front(s);
  } else {
    h->large.push_front(s);
    h->large_slabs += s->slabs;
  }
}

/// Takes run s off its list (list_run's inverse). Heap lock held.
void unlist_run(Heap* h, SlabHeader* s) noexcept {
  if (s->kind == SlabKind::Huge) {
    h->huge.remove(s);
  } else {
    h->large.remove(s);
    h->large_slabs -= s->slabs;
  }
}

}  // namespace

void* alloc_large(Heap* h, std::size_t size, std::size_t align) noexcept {
  SlabHeader* s = acquire_block_run(h, size, align, SlabKind::Large);
  if (s == nullptr) return nullptr;
  {
    LockGuard guard(h->lock);
    list_run(h, s);
    h->large_allocs++;
  }
  char* block = reinterpret_cast<char*>(run_base(s) + s->block_size);
  poison_alloc(block, size, s->size);
  vg_alloc(h, block, size);
  return block;
}

namespace {

/// The smallest span realloc moves by remapping rather than copying: the
/// mmap and munmap of a mapping of its own are small next to touching this.
constexpr std::size_t kAdoptMin = std::size_t{8} << 20;

/// Takes run s of h off its list while `move` resizes it (returning its
/// header, which may move, and with it the list links: hence the lock), then
/// lists the result by its kind (a span adopted as huge changes lists). A
/// block that moved is to its caller a new one, as a copy would be: it
/// counts as an allocation and a free. The new header, or nullptr with s
/// back on its list.
template <class Move>
SlabHeader* relist(Heap* h, SlabHeader* s, Move move) noexcept {
  LockGuard guard(h->lock);
  unlist_run(h, s);
  SlabHeader* r = move();
  list_run(h, r != nullptr ? r : s);
  if (r != nullptr && r != s) {
    h->large_allocs++;
    h->large_frees++;
  }
  return r;
}

/// Gives span s exactly `slabs` slabs, in place; false if the slabs after it
/// are not free.
bool resize_span(Heap* h, SlabHeader* s, std::size_t slabs) noexcept {
  if (slabs > s->slabs && !cache_extend(s, slabs - s->slabs)) {
    // The slabs after s may be a span this thread freed and keeps (the
    // thread's runs): given to the process cache, they can be grown over.
    if (tls_ctx.run_count == 0) return false;
    cache_flush_local();
    if (!cache_extend(s, slabs - s->slabs)) return false;
  }
  if (slabs < s->slabs) cache_shrink(s, slabs);
  LockGuard guard(h->lock);  // stats and walk read the length
  h->large_slabs = h->large_slabs - s->slabs + slabs;
  s->slabs = static_cast<std::uint32_t>(slabs);
  s->size = slabs * kSlabSize - s->block_size;
  return true;
}

}  // namespace

void* resize_large(Heap* h, SlabHeader* s, std::size_t size, std::size_t align, bool* refused) noexcept {
  const std::size_t offset = s->block_size;
  if (size > SIZE_MAX / 2 - offset) return nullptr;
  const bool huge = s->kind == SlabKind::Huge;
  // A span that would pass the huge threshold moves to a mapping of its own.
  const bool past_threshold =
      !huge && offset + size > static_cast<std::size_t>(option(SPACES_OPTION_HUGE_THRESHOLD));
  const std::size_t total = (offset + size + kSlabMask) & ~kSlabMask;
  const std::size_t old_total = s->slabs * kSlabSize;
  const bool adoptable = total > old_total && align <= kSlabSize && (past_threshold || offset + size >= kAdoptMin);
  if (past_threshold && !adoptable) return nullptr;
  if (total > old_total && !charge(h, total - old_total, size)) {
    *refused = true;
    return nullptr;
  }
  void* const old_block = reinterpret_cast<void*>(run_base(s) + offset);
  SlabHeader* r = nullptr;
  if (huge) r = relist(h, s, [&] { return huge_remap(s, size, align); });
  else if (!past_threshold && resize_span(h, s, total / kSlabSize)) r = s;
  else if (adoptable) r = relist(h, s, [&] { return huge_adopt_span(s, size); });
  if (r == nullptr) {
    if (total > old_total) heap_uncharge(h, total - old_total);
    return nullptr;
  }
  if (total < old_total) heap_uncharge(h, old_total - total);
  void* block = reinterpret_cast<void*>(run_base(r) + offset);
  poison_alloc(block, size, r->size);
  if (block == old_block) {
    vg_resize(h, block, size);
  } else {
    vg_free(h, old_block);
    vg_alloc(h, block, size);
  }
  return block;
}

void free_large(SlabHeader* s) noexcept {
  Heap* h = s->heap;
  const bool huge = s->kind == SlabKind::Huge;
  const std::size_t bytes = s->slabs * kSlabSize;
  vg_free(h, reinterpret_cast<void*>(run_base(s) + s->block_size));
  {
    LockGuard guard(h->lock);
    unlist_run(h, s);
    h->large_frees++;
  }
  if (huge) huge_unmap(s);
  else cache_release_local(s);
  heap_uncharge(h, bytes);
}

}  // namespace spaces::detail
