// ---------------------------------------------------------------------------
// os/os.h: the OS contract of libspaces (reserve, decommit, release, time).
//
// One file per OS implements it (os/posix.cpp for Linux). This layer knows
// nothing of slabs or heaps. Functions return an errno-style int (0 on
// success) and state their preconditions, as mimalloc's prim.h does; none of
// them allocates with malloc, so the malloc override may call them at any
// time.
// ---------------------------------------------------------------------------
#ifndef SPACES_OS_OS_H
#define SPACES_OS_OS_H

#include <cstddef>
#include <cstdint>

#include "../internal/config.h"

namespace spaces::os {

/// The OS page size in bytes (4096 on x86-64 Linux).
std::size_t page_size() noexcept;

/// Whether a mapping counts against the system's commit limit at once.
enum class Commit : int {
  Charge = 0,  ///< it does: a size the system cannot back fails now (ENOMEM)
  Lazy = 1,    ///< it does not (MAP_NORESERVE): sparse metadata tables only
};

/// Maps `size` bytes of zeroed read-write memory whose start is aligned to
/// `align`. The OS commits pages on first touch. Preconditions: `size` and
/// `align` are multiples of page_size(); `align` is a power of two.
/// Returns 0 and sets *out, or ENOMEM/EINVAL.
int map_aligned(std::size_t size, std::size_t align, void** out, Commit commit = Commit::Charge) noexcept;

/// Unmaps [p, p + size). Preconditions: page-aligned, mapped by map_aligned.
int unmap(void* p, std::size_t size) noexcept;

/// Resizes the mapping [p, p + old_size) to new_size bytes without copying.
/// With `to` == nullptr only in place: it shrinks, or grows when the address
/// range after it is unmapped (ENOMEM when it is not). Otherwise the pages
/// move to `to`, replacing the mapping of new_size bytes the caller made
/// there, and [p, p + old_size) is unmapped. Preconditions: page-aligned.
int remap(void* p, std::size_t old_size, std::size_t new_size, void* to) noexcept;

/// Maps fresh zeroed read-write memory at exactly [p, p + size), replacing
/// whatever is mapped there (MAP_FIXED). Preconditions: page-aligned.
int map_fixed(void* p, std::size_t size) noexcept;

/// How decommit returns memory: MADV_FREE (lazy) or MADV_DONTNEED (now).
enum class Decommit : int { Free = 1, DontNeed = 2 };

/// Returns the physical pages of [p, p + size) to the OS; the range stays
/// mapped and reads back as zero (DontNeed) or as zero or old data (Free).
/// Preconditions: page-aligned.
int decommit(void* p, std::size_t size, Decommit how) noexcept;

/// Asks for transparent huge pages on [p, p + size) (a hint; 0 if ignored).
int advise_huge_pages(void* p, std::size_t size) noexcept;

/// Milliseconds of a monotonic clock.
std::uint64_t now_ms() noexcept;

/// Nanoseconds of a monotonic clock.
std::uint64_t now_ns() noexcept;

/// Writes `n` bytes to standard error without allocating.
void write_stderr(const char* s, std::size_t n) noexcept;

/// Reads an environment variable without allocating (NULL if unset). Safe
/// before main.
const char* getenv(const char* name) noexcept;

}  // namespace spaces::os

#endif  // SPACES_OS_OS_H
