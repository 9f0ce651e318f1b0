// ---------------------------------------------------------------------------
// ds/size_class.hpp: the small-object size classes and the size -> class map.
//
// 41 classes from 16 B to 32512 B. Up to 128 B they step by 16; up to 3584 B
// there are four classes per doubling (jemalloc's spacing: at most 20 % of a
// block is slack); above 4 KiB each class is the largest multiple of 128 that
// fits n blocks in a slab's usable bytes, for n = 15 down to 2, because above
// 4 KiB the number of blocks per slab, not the block size, decides what an
// object costs. docs/design.md tabulates the classes and the worst-case
// waste. Every class above 1024 B is a multiple of 128, so two small tables
// map a size to its class exactly with one shift and one load.
// ---------------------------------------------------------------------------
#ifndef SPACES_DS_SIZE_CLASS_HPP
#define SPACES_DS_SIZE_CLASS_HPP

#include <array>
#include <cstddef>
#include <cstdint>

namespace spaces::detail {

inline constexpr std::array<std::uint32_t, 41> kClassSizes = {
    16,   32,   48,   64,   80,   96,   112,  128,                                   // 16-byte steps
    160,  192,  224,  256,  320,  384,  448,  512,  640,  768,  896,  1024,          // 4 per doubling
    1280, 1536, 1792, 2048, 2560, 3072, 3584,                                        //
    4224, 4608, 4992, 5376, 5888, 6400, 7168, 8064, 9216, 10752, 12928, 16256, 21632, 32512};  // n per slab

inline constexpr std::size_t kNumClasses = kClassSizes.size();
inline constexpr std::size_t kMaxSmallSize = kClassSizes.back();
static_assert(kMaxSmallSize == 32512, "two blocks of the largest class fill a slab's usable bytes");

namespace size_class_tables {

constexpr std::uint8_t smallest_class_at_least(std::size_t size) {
  for (std::size_t c = 0; c < kNumClasses; ++c)
    if (kClassSizes[c] >= size) return static_cast<std::uint8_t>(c);
  return 0xFF;
}

// Sizes 0..1024 by 16-byte steps: index (size + 15) >> 4.
constexpr auto make_fine() {
  std::array<std::uint8_t, 65> t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = smallest_class_at_least(i * 16);
  return t;
}
// Sizes 1025..32512 by 128-byte steps: index (size + 127) >> 7.
constexpr auto make_coarse() {
  std::array<std::uint8_t, 255> t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = smallest_class_at_least(i * 128);
  return t;
}
inline constexpr auto kFine = make_fine();
inline constexpr auto kCoarse = make_coarse();

constexpr bool coarse_classes_are_exact() {
  for (std::size_t c = 0; c < kNumClasses; ++c)
    if (kClassSizes[c] > 1024 && kClassSizes[c] % 128 != 0) return false;
  return true;
}
static_assert(coarse_classes_are_exact(), "classes above 1024 must be multiples of 128");

}  // namespace size_class_tables

/// Requests up to this size find their class's current slab in one load
/// (Shard::direct, indexed by direct_index(size)), as mimalloc's
/// pages_free_direct does.
inline constexpr std::size_t kMaxDirectSize = 1024;
inline constexpr std::size_t kDirectEntries = kMaxDirectSize / 16 + 1;
inline constexpr std::size_t direct_index(std::size_t size) noexcept { return (size + 15) >> 4; }

/// The direct entries [first, last] that serve class sc (first > last if none).
struct DirectRange {
  std::size_t first;
  std::size_t last;
};
constexpr DirectRange direct_range(std::uint32_t sc) {
  DirectRange r{kDirectEntries, 0};
  for (std::size_t i = 0; i < kDirectEntries; ++i) {
    if (size_class_tables::kFine[i] != sc) continue;
    if (r.first == kDirectEntries) r.first = i;
    r.last = i;
  }
  return r;
}

/// The class of a request of `size` bytes. Precondition: size <= kMaxSmallSize.
inline std::uint32_t size_to_class(std::size_t size) noexcept {
  return size <= 1024 ? size_class_tables::kFine[(size + 15) >> 4]
                      : size_class_tables::kCoarse[(size + 127) >> 7];
}

inline std::uint32_t class_size(std::uint32_t sc) noexcept { return kClassSizes[sc]; }

/// ceil(2^32 / size) per class: for an offset d < 2^16 into a slab's blocks,
/// (d * kClassReciprocals[c]) >> 32 == d / size exactly (the error of the
/// rounded reciprocal stays below 1/size), so finding a block's index takes
/// a multiply, not a division.
inline constexpr auto kClassReciprocals = [] {
  std::array<std::uint32_t, kNumClasses> r{};
  for (std::size_t c = 0; c < kNumClasses; ++c)
    r[c] = static_cast<std::uint32_t>(((std::uint64_t{1} << 32) + kClassSizes[c] - 1) / kClassSizes[c]);
  return r;
}();

/// The index of the block at offset d from a slab's first block (d < 2^16).
inline std::uint32_t block_index(std::uint32_t sc, std::uint32_t d) noexcept {
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(d) * kClassReciprocals[sc]) >> 32);
}

namespace size_class_tables {
// Exact at every block start and at the offset just before and after it;
// elsewhere the grid test (index * size == offset) fails whatever the index.
constexpr bool reciprocals_are_exact() {
  for (std::size_t c = 0; c < kNumClasses; ++c)
    for (std::uint64_t d = kClassSizes[c]; d < (1u << 16); d += kClassSizes[c])
      for (std::uint64_t x : {d - 1, d, d + 1})
        if (((x * kClassReciprocals[c]) >> 32) != x / kClassSizes[c]) return false;
  return true;
}
static_assert(reciprocals_are_exact(), "block_index multiplies by a reciprocal");
}  // namespace size_class_tables

}  // namespace spaces::detail

#endif  // SPACES_DS_SIZE_CLASS_HPP
