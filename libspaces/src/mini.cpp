// ---------------------------------------------------------------------------
// mini.cpp: mini slabs, the 4 KiB small slabs a small heap takes before it
// outgrows them (the policy is refill.cpp's), so that a heap holding a few
// blocks costs 4 KiB of its cap instead of a 64 KiB slab per size class.
//
// A mini host is a slab from the slab cache cut into kMinisPerHost minis of
// kMiniSize bytes (types.h has the geometry). Mini 0 holds the host's header
// (kind MiniHost) and is never handed out; the others are handed out one by
// one to any heap. The host's header tracks them:
//   carved   bit i set <=> mini i is in use or is the header's own (bit 0)
//   used     minis in use (popcount(carved) - 1)
//   next, prev   the pool's list of hosts with a free mini (`open`)
// Hosts belong to no heap; the pool lock guards them. A mini's blocks carry
// their own SlabHeader at the mini's end and the heap charges kMiniSize
// for it. A host whose last mini comes back goes back to the slab cache,
// unless it is the only host with room (it is kept: a loop that creates and
// destroys one small heap would otherwise pay the cache each time).
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/slab.h"

namespace spaces::detail {
namespace {

constexpr std::uint16_t kAllMinis = 0xFFFF;
static_assert(kMinisPerHost == 16, "a host's in-use set is a 16-bit mask");

struct MiniPool {
  SpinLock lock;
  RunList open;        ///< hosts with a free mini
  std::size_t hosts;   ///< hosts held
  std::size_t minis;   ///< minis in use
};

constinit MiniPool g_pool{};

SlabHeader* host_of(const SlabHeader* mini) noexcept { return header_at(run_base(mini)); }

/// A new host from the slab cache, on the open list (pool lock held).
SlabHeader* open_host(int* err) noexcept {
  SlabHeader* host = cache_acquire(1, kSlabSize, 0, err);
  if (host == nullptr) return nullptr;
  host->magic = kSlabMagic;
  host->kind = SlabKind::MiniHost;
  host->carved = 1;
  poison(reinterpret_cast<char*>(run_base(host)) + kMiniSize, kSlabSize - kMiniSize);
  g_pool.open.push_front(host);
  ++g_pool.hosts;
  return host;
}

}  // namespace

SlabHeader* mini_acquire(int* err) noexcept {
  SlabHeader* mini;
  {
    LockGuard guard(g_pool.lock);
    SlabHeader* host = g_pool.open.front();
    if (host == nullptr && (host = open_host(err)) == nullptr) return nullptr;
    const auto i = static_cast<unsigned>(__builtin_ctz(~static_cast<unsigned>(host->carved)));
    host->carved = static_cast<std::uint16_t>(host->carved | (1u << i));
    host->used.store(host->used.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (host->carved == kAllMinis) g_pool.open.remove(host);
    ++g_pool.minis;
    mini = reinterpret_cast<SlabHeader*>(run_base(host) + i * kMiniSize + kMiniUsable);
  }
  unpoison(mini, sizeof(SlabHeader));
  std::memset(static_cast<void*>(mini), 0, sizeof(SlabHeader));
  mini->flags = kSlabMini;
  return mini;
}

void mini_release(SlabHeader* mini) noexcept {
  SPACES_ASSERT_INTERNAL((mini->flags & kSlabMini) != 0);
  retire_header(mini);
  poison(small_first(mini), kMiniUsable);
  SlabHeader* host = host_of(mini);
  const auto i = static_cast<unsigned>((reinterpret_cast<std::uintptr_t>(mini) - run_base(host)) >> kMiniShift);
  SlabHeader* empty = nullptr;
  {
    LockGuard guard(g_pool.lock);
    SPACES_ASSERT_ALWAYS(i != 0 && (host->carved & (1u << i)) != 0);
    if (host->carved == kAllMinis) g_pool.open.push_front(host);
    host->carved = static_cast<std::uint16_t>(host->carved & ~(1u << i));
    host->used.store(host->used.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    --g_pool.minis;
    if (host->carved == 1 && g_pool.open.size() > 1) {
      g_pool.open.remove(host);
      --g_pool.hosts;
      empty = host;
    }
  }
  if (empty != nullptr) cache_release(empty);
}

MiniCounts mini_counts() noexcept {
  LockGuard guard(g_pool.lock);
  return MiniCounts{g_pool.hosts, g_pool.minis};
}

bool mini_is_valid(const SlabHeader* mini) noexcept {
  const SlabHeader* host = host_of(mini);
  const std::uintptr_t off = reinterpret_cast<std::uintptr_t>(mini) - run_base(host);
  if ((mini->flags & kSlabMini) == 0 || (off & kMiniMask) != kMiniUsable || off < kMiniSize)
    return SPACES_INVALID("mini slab: flagged, ending a mini past the host's header", mini);
  if (host->magic != kSlabMagic || host->kind != SlabKind::MiniHost ||
      (host->carved & (1u << (off >> kMiniShift))) == 0)
    return SPACES_INVALID("mini slab: its host is live and counts it in use", mini);
  return true;
}

void mini_fork_prepare() noexcept { g_pool.lock.lock(); }
void mini_fork_parent() noexcept { g_pool.lock.unlock(); }
void mini_fork_child() noexcept { g_pool.lock.reset_after_fork(); }

}  // namespace spaces::detail
