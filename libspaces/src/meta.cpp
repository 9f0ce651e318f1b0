// ---------------------------------------------------------------------------
// meta.cpp: memory for the allocator's own structures (heaps, shards, map
// leaves), apart from user slabs.
//
// Chunks of 1 MiB from the OS are cut by a bump pointer; freed structures go
// to a FIFO per size and are reused oldest first. Nothing returns to the OS,
// which makes Heap structs type-stable: a dead handle still points at a Heap
// whose magic says "dead", so API calls can reject it instead of faulting.
// ---------------------------------------------------------------------------
#include <cstring>

#include "internal/base.h"

namespace spaces::detail {
namespace {

constexpr std::size_t kMetaChunk = std::size_t{1} << 20;
constexpr std::size_t kMetaAlign = 64;
constexpr std::size_t kMetaBuckets = 8;

struct FreeNode {
  FreeNode* next;
};

struct Bucket {
  std::size_t size;  // 0 = unused bucket
  FreeNode* head;
  FreeNode* tail;
};

struct MetaState {
  SpinLock lock;
  char* bump;
  char* end;
  Bucket buckets[kMetaBuckets];
};

constinit MetaState g_meta{};

std::size_t round_up(std::size_t n) noexcept { return (n + kMetaAlign - 1) & ~(kMetaAlign - 1); }

Bucket* bucket_for(std::size_t size) noexcept {
  for (Bucket& b : g_meta.buckets) {
    if (b.size == size) return &b;
    if (b.size == 0) {
      b.size = size;
      return &b;
    }
  }
  return nullptr;  // more distinct sizes than buckets: the memory is not reused
}

}  // namespace

void* meta_alloc(std::size_t size) noexcept {
  size = round_up(size);
  LockGuard guard(g_meta.lock);
  if (Bucket* b = bucket_for(size); b != nullptr && b->head != nullptr) {
    FreeNode* n = b->head;
    b->head = n->next;
    if (b->head == nullptr) b->tail = nullptr;
    std::memset(static_cast<void*>(n), 0, size);
    return n;
  }
  if (static_cast<std::size_t>(g_meta.end - g_meta.bump) < size) {
    const std::size_t chunk = size > kMetaChunk ? (size + kMetaChunk - 1) & ~(kMetaChunk - 1) : kMetaChunk;
    void* p = nullptr;
    if (os::map_aligned(chunk, os::page_size(), &p) != 0) return nullptr;
    g_meta.bump = static_cast<char*>(p);
    g_meta.end = g_meta.bump + chunk;
  }
  void* p = g_meta.bump;
  g_meta.bump += size;
  return p;  // fresh mapping: already zero
}

void meta_free(void* p, std::size_t size) noexcept {
  if (p == nullptr) return;
  size = round_up(size);
  LockGuard guard(g_meta.lock);
  Bucket* b = bucket_for(size);
  if (b == nullptr) return;
  auto* n = static_cast<FreeNode*>(p);
  n->next = nullptr;
  if (b->tail != nullptr) b->tail->next = n; else b->head = n;
  b->tail = n;
}

void meta_fork_prepare() noexcept { g_meta.lock.lock(); }
void meta_fork_parent() noexcept { g_meta.lock.unlock(); }
void meta_fork_child() noexcept { g_meta.lock.reset_after_fork(); }

}  // namespace spaces::detail
