// ---------------------------------------------------------------------------
// granule_map.cpp: the granule map (internal/granule_map.h): which 64 KiB
// granules of the address space are ours, and what they hold.
//
// One byte per granule in two levels: a static top array with one pointer
// per GiB of the 47-bit address space (1 MiB of BSS, touched only where we
// own memory) and 16 KiB leaves from meta.cpp. "Is this pointer ours?" is two
// dependent loads with no lock (inline in the header): leaves are published
// with a compare-and-swap and never freed. Each granule is written by
// whoever holds the run it belongs to (slab_cache.cpp under its lock,
// huge.cpp for huge mappings), one byte per run boundary.
// ---------------------------------------------------------------------------
#include "internal/slab.h"

namespace spaces::detail {

constinit std::atomic<std::atomic<std::uint8_t>*> g_map_top[kMapTopEntries]{};

namespace {

constexpr std::size_t kLeafShift = kMapLeafShift;
constexpr std::size_t kLeafEntries = kMapLeafEntries;

std::atomic<std::uint8_t>* leaf_of(std::uintptr_t addr, bool create) noexcept {
  const std::uintptr_t top = addr >> kLeafShift;
  if (top >= kMapTopEntries) return nullptr;
  std::atomic<std::uint8_t>* leaf = g_map_top[top].load(std::memory_order_acquire);
  if (leaf == nullptr && create) {
    auto* fresh = static_cast<std::atomic<std::uint8_t>*>(meta_alloc(kLeafEntries));
    if (fresh == nullptr) return nullptr;
    if (g_map_top[top].compare_exchange_strong(leaf, fresh, std::memory_order_acq_rel)) return fresh;
    meta_free(fresh, kLeafEntries);  // another thread installed this leaf first
  }
  return leaf;
}


}  // namespace


bool map_prepare(std::uintptr_t base, std::size_t bytes) noexcept {
  const std::uintptr_t last = base + bytes - 1;
  for (std::uintptr_t a = base & ~((std::uintptr_t{1} << kLeafShift) - 1); a <= last;
       a += std::uintptr_t{1} << kLeafShift) {
    if (leaf_of(a, true) == nullptr) return false;
  }
  return true;
}

bool map_mark(std::uintptr_t base, std::size_t slabs, Granule head, Granule tail) noexcept {
  // Create every leaf the run touches first, so that a failure leaves the
  // map unchanged; then each leaf is loaded once, not once per granule.
  if (!map_prepare(base, slabs * kSlabSize)) return false;
  std::atomic<std::uint8_t>* leaf = nullptr;
  std::uintptr_t leaf_top = 0;
  for (std::size_t i = 0; i < slabs; ++i) {
    const std::uintptr_t a = base + i * kSlabSize;
    if (leaf == nullptr || (a >> kLeafShift) != leaf_top) {
      leaf_top = a >> kLeafShift;
      leaf = g_map_top[leaf_top].load(std::memory_order_acquire);
    }
    // Interior granules are written once per run: a later split or merge
    // only rewrites the boundaries it creates (map_set).
    const Granule g = i == 0 ? head : (i + 1 == slabs ? tail : Granule::Interior);
    leaf[(a >> kSlabShift) & (kLeafEntries - 1)].store(static_cast<std::uint8_t>(g), std::memory_order_release);
  }
  return true;
}

void map_set(std::uintptr_t addr, Granule g) noexcept {
  std::atomic<std::uint8_t>* leaf = leaf_of(addr, false);
  SPACES_ASSERT_INTERNAL(leaf != nullptr);
  leaf[(addr >> kSlabShift) & (kLeafEntries - 1)].store(static_cast<std::uint8_t>(g), std::memory_order_release);
}

void map_clear(std::uintptr_t base, std::size_t slabs) noexcept {
  for (std::size_t i = 0; i < slabs; ++i) map_set(base + i * kSlabSize, Granule::None);
}

}  // namespace spaces::detail
