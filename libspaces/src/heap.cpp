// ---------------------------------------------------------------------------
// heap.cpp: heap life (create, destroy, reset, collect), handles, nesting,
// teardown hooks, retained slabs, the registry of live heaps and the
// default heap. Caps are in cap.cpp.
//
// destroy and reset never touch objects: each shard's runs join the slab
// cache as one spliced list (shard.cpp:shard_clear), and so do the large
// spans, so the cost is O(shards) plus one munmap per huge block.
// ---------------------------------------------------------------------------
#include <cstdlib>
#include <cstring>
#include <new>

#include "internal/heap.h"

namespace spaces::detail {

constinit std::atomic<Heap*> g_handle_slots[kMaxHeaps]{};
constinit std::atomic<Heap*> g_default_heap{nullptr};

namespace {

constinit std::atomic<std::uint64_t> g_next_id{1};
constinit SpinLock g_registry_lock;
constinit Heap* g_registry = nullptr;


// ---- Handles (heap.h explains the encoding) ----------------------------

constinit SpinLock g_handles_lock;
constinit std::uint32_t g_handle_fresh = 1;  // the next slot never used; slot 0 is never used
constinit std::uint32_t g_free_head = 0;     // the oldest free slot (0: none)
constinit std::uint32_t g_free_tail = 0;
constinit std::uint32_t g_free_count = 0;
constinit std::uint32_t g_free_next[kMaxHeaps]{};         // the free-slot FIFO's links
constinit std::uint64_t g_slot_generation[kMaxHeaps]{};   // each slot's next generation - 1

/// Gives h a slot and its handle; false when kMaxHeaps - 1 heaps are alive.
bool handle_open(Heap* h) noexcept {
  LockGuard guard(g_handles_lock);
  std::uint32_t slot;
  if (g_free_count > kHandleReuseDelay || (g_handle_fresh == kMaxHeaps && g_free_count > 0)) {
    slot = g_free_head;
    g_free_head = g_free_next[slot];
    if (g_free_head == 0) g_free_tail = 0;
    --g_free_count;
  } else if (g_handle_fresh < kMaxHeaps) {
    slot = g_handle_fresh++;
  } else {
    return false;
  }
  const std::uint64_t generation = ++g_slot_generation[slot];
  h->handle.store((generation << kHandleSlotBits) | slot, std::memory_order_relaxed);
  g_handle_slots[slot].store(h, std::memory_order_release);
  return true;
}

/// Retires h's handle: its slot empties and joins the FIFO; the next heap
/// there gets the next generation.
void handle_close(Heap* h) noexcept {
  const std::uintptr_t handle = h->handle.load(std::memory_order_relaxed);
  const auto slot = static_cast<std::uint32_t>(handle & (kMaxHeaps - 1));
  LockGuard guard(g_handles_lock);
  g_handle_slots[slot].store(nullptr, std::memory_order_relaxed);
  h->handle.store(0, std::memory_order_release);
  g_free_next[slot] = 0;
  if (g_free_tail != 0) g_free_next[g_free_tail] = slot;
  else g_free_head = slot;
  g_free_tail = slot;
  ++g_free_count;
}

void registry_add(Heap* h) noexcept {
  LockGuard guard(g_registry_lock);
  h->registry_prev = nullptr;
  h->registry_next = g_registry;
  if (g_registry != nullptr) g_registry->registry_prev = h;
  g_registry = h;
}

void registry_remove(Heap* h) noexcept {
  LockGuard guard(g_registry_lock);
  if (h->registry_prev != nullptr) h->registry_prev->registry_next = h->registry_next;
  else g_registry = h->registry_next;
  if (h->registry_next != nullptr) h->registry_next->registry_prev = h->registry_prev;
}

/// The limits and the callbacks of heap_create's options.
void set_limits_and_callbacks(Heap* h, const spaces_heap_options_t* o) noexcept {
  h->cap.store(o->cap, std::memory_order_relaxed);
  h->cap_handler = o->cap_handler;
  h->cap_handler_arg = o->cap_handler_arg;
  h->soft_limit.store(o->soft_limit, std::memory_order_relaxed);
  h->soft_handler = o->on_soft_limit;
  h->soft_handler_arg = o->on_soft_limit_arg;
  h->report_leaks = (o->flags & SPACES_HEAP_REPORT_LEAKS) != 0;
  h->leak_fn = o->on_leak;
  h->leak_arg = o->on_leak_arg;
  h->on_teardown = o->on_teardown;
  h->on_teardown_arg = o->on_teardown_arg;
}

void name_heap(Heap* h, const char* name) noexcept {
  if (name != nullptr) {
    std::size_t n = std::strlen(name);
    if (n >= kHeapNameMax) n = kHeapNameMax - 1;
    std::memcpy(h->name, name, n);
    h->name[n] = '\0';
    return;
  }
  // "heap-<id>" without snprintf (it may allocate in some libcs).
  char digits[24];
  int k = 0;
  std::uint64_t v = h->id;
  do {
    digits[k++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  std::memcpy(h->name, "heap-", 5);
  int i = 5;
  while (k > 0) h->name[i++] = digits[--k];
  h->name[i] = '\0';
}

/// Releases the heap's large spans and huge mappings (uncharging them). The
/// spans join the slab cache as one spliced list, headers unread, as the
/// small slabs do: O(1) however many there are. A huge block costs a munmap.
void release_large(Heap* h) noexcept {
  std::size_t bytes = h->large_slabs * kSlabSize;
  cache_release_list(h->large, h->large_slabs);
  h->large_slabs = 0;
  while (SlabHeader* s = h->huge.pop_front()) {
    bytes += s->slabs * kSlabSize;
    huge_unmap(s);
  }
  heap_uncharge(h, bytes);
}

/// Destroys every child of h (each unlinks itself from h).
void destroy_children(Heap* h) noexcept {
  for (;;) {
    Heap* child;
    {
      LockGuard guard(h->lock);
      child = h->first_child;
    }
    if (child == nullptr) return;
    // Cannot fail: no hook of this tree is running (begin_teardown).
    if (heap_destroy(child) != SPACES_OK) fatal("spaces: heap '%s': a child could not be destroyed\n", h->name);
  }
}

}  // namespace


// ---- Invariants ----------------------------------------------------------------

namespace {

/// heap_is_valid with no thread exiting meanwhile.
[[maybe_unused]] bool heap_is_valid_exclusive(const Heap* h) noexcept {
  ThreadsExclusive exclusive;
  return heap_is_valid(h);
}

}  // namespace

bool heap_is_valid(const Heap* h) noexcept {
  if (h->magic != kHeapMagic || h->id == 0 || heap_checked(to_handle(h)) != h)
    return SPACES_INVALID("heap: alive, and its handle's slot points back at it", h);
  std::size_t bytes = 0;
  bool valid = true;
  for_each_shard(const_cast<Heap*>(h), [&](Shard* sh) {
    valid = valid && shard_is_valid(sh);
    bytes += sh->run_slabs * kSlabSize + sh->minis * kMiniSize;
  });
  if (!valid) return false;
  std::size_t large = 0;
  for (const SlabHeader* r = h->large.front(); r != nullptr; r = r->next) large += r->slabs;
  if (large != h->large_slabs) return SPACES_INVALID("heap: large_slabs == the slabs of its spans", h);
  bytes += large * kSlabSize;
  for (const RunList* list : {&h->huge, &h->retained})
    for (const SlabHeader* r = list->front(); r != nullptr; r = r->next) bytes += r->slabs * kSlabSize;
  for (const Heap* c = h->first_child; c != nullptr; c = c->next_sibling) {
    if (c->parent != h || c->root != h->root) return SPACES_INVALID("heap: a child's parent and root", c);
    bytes += c->footprint.load(std::memory_order_relaxed);
  }
  const std::size_t footprint = h->footprint.load(std::memory_order_relaxed);
  if (footprint != bytes) return SPACES_INVALID("heap: footprint == slabs held + children's footprints", h);
  if (h->peak.load(std::memory_order_relaxed) < footprint) return SPACES_INVALID("heap: peak >= footprint", h);
  return true;
}

// ---- Retained slabs ---------------------------------------------------------------

std::size_t heap_trim_retained(Heap* h, std::size_t keep) noexcept {
  RunList runs;
  std::size_t slabs = 0;
  {
    LockGuard guard(h->lock);
    if (h->retained.empty()) return 0;
    if (keep == 0) {
      runs.splice_front(h->retained);
    } else {
      // Keep single slabs up to `keep` bytes; a retained region span of
      // several slabs is of no use to the next round (heap_pop_retained).
      RunList kept;
      std::size_t kept_bytes = 0;
      while (SlabHeader* r = h->retained.pop_front()) {
        const bool fits = r->slabs == 1 && keep - kept_bytes >= kSlabSize;  // kept_bytes <= keep
        if (fits) kept_bytes += kSlabSize;
        (fits ? kept : runs).push_front(r);
      }
      h->retained.splice_front(kept);
    }
  }
  for (SlabHeader* r = runs.front(); r != nullptr; r = r->next) slabs += r->slabs;
  cache_release_list(runs, slabs);
  heap_uncharge(h, slabs * kSlabSize);
  return slabs * kSlabSize;
}

SlabHeader* heap_pop_retained(Heap* h) noexcept {
  for (;;) {
    SlabHeader* r;
    {
      LockGuard guard(h->lock);
      r = h->retained.pop_front();
    }
    if (r == nullptr) return nullptr;
    if (r->slabs == 1) {
      // Reinitialise as cache_acquire would: still charged, still marked Head.
      unpoison(reinterpret_cast<void*>(run_base(r)), kHeaderRegion);
      std::memset(static_cast<void*>(r), 0, sizeof(SlabHeader));
      r->slabs = 1;
      r->heap = h;
      r->heap_epoch = h->epoch;
      return r;
    }
    // A retained region span: no use for it here.
    const std::size_t bytes = r->slabs * kSlabSize;
    cache_release(r);
    heap_uncharge(h, bytes);
  }
}

std::size_t heap_collect(Heap* h) noexcept {
  const std::size_t before = h->footprint.load(std::memory_order_relaxed);
  if (h->discipline == SPACES_GENERAL) {
    if (Shard* sh = shard_find(h)) shard_collect(sh);
    shard_collect_abandoned(h);
  }
  heap_trim_retained(h);
  const std::size_t after = h->footprint.load(std::memory_order_relaxed);
  return before > after ? before - after : 0;
}

bool default_heap_trim() noexcept {
  Heap* h = default_heap_if_created();
  cache_flush_local();
  const std::size_t warm = cache_warm_slabs();
  const std::size_t released = h != nullptr ? heap_collect(h) : 0;
  cache_collect(true);
  return released != 0 || warm != 0;
}

// ---- Life --------------------------------------------------------------------

void default_options(spaces_heap_options_t* o) noexcept {
  std::memset(o, 0, sizeof(*o));
  o->cap = SPACES_UNCAPPED;
  o->soft_limit = SPACES_UNCAPPED;
  o->discipline = SPACES_GENERAL;
}

spaces_status_t heap_create(const spaces_heap_options_t* o, Heap** out) noexcept {
  spaces_heap_options_t defaults;
  if (o == nullptr) {
    default_options(&defaults);
    o = &defaults;
  }
  // A C caller may pass any integer in an enum: look at it as one.
  unsigned discipline = 0;
  static_assert(sizeof(discipline) == sizeof(o->discipline));
  std::memcpy(&discipline, &o->discipline, sizeof(discipline));
  if (discipline != SPACES_GENERAL && discipline != SPACES_REGION) return SPACES_E_INVALID;
  if ((o->flags & ~(SPACES_HEAP_SINGLE_THREADED | SPACES_HEAP_RETAIN_ON_RESET | SPACES_HEAP_REPORT_LEAKS |
                    SPACES_HEAP_TINY)) != 0)
    return SPACES_E_INVALID;
  Heap* parent = nullptr;
  if (o->parent != nullptr && (parent = heap_checked(o->parent)) == nullptr) return SPACES_E_INVALID;

  void* mem = meta_alloc(sizeof(Heap));
  if (mem == nullptr) return SPACES_E_NOMEM;
  Heap* h = ::new (mem) Heap{};
  if (!handle_open(h)) {
    meta_free(mem, sizeof(Heap));
    return SPACES_E_NOMEM;
  }
  h->id = g_next_id.fetch_add(1, std::memory_order_relaxed);
  h->epoch = g_next_id.fetch_add(1, std::memory_order_relaxed);
  h->discipline = static_cast<std::uint8_t>(discipline);
  h->single = (o->flags & SPACES_HEAP_SINGLE_THREADED) != 0;
  h->retain = (o->flags & SPACES_HEAP_RETAIN_ON_RESET) != 0;
  h->tiny = !SPACES_HARDENED && discipline == SPACES_GENERAL && (o->flags & SPACES_HEAP_TINY) != 0;
  set_limits_and_callbacks(h, o);
  h->parent = parent;
  h->root = parent != nullptr ? parent->root : h;
  name_heap(h, o->name);
  shard_init(&h->shard0, h);
  vg_pool_create(h);
  h->magic = kHeapMagic;
  registry_add(h);
  if (parent != nullptr) {
    LockGuard guard(parent->lock);
    h->next_sibling = parent->first_child;
    if (parent->first_child != nullptr) parent->first_child->prev_sibling = h;
    parent->first_child = h;
  }
  *out = h;
  return SPACES_OK;
}

namespace {

/// Whether a thread routes into a child of h or below (thread_route).
bool children_routed(Heap* h) noexcept {
  LockGuard guard(h->lock);
  for (Heap* c = h->first_child; c != nullptr; c = c->next_sibling)
    if (c->routes.load(std::memory_order_acquire) != 0 || children_routed(c)) return true;
  return false;
}

/// Destroys the children, then tells the heap's owner its blocks are about
/// to go (the teardown hook), before any memory is released. Refused, with
/// nothing changed, while a hook of the heap's tree runs (SPACES_E_INVALID:
/// a hook that resets or destroys its heap, an ancestor or any other heap
/// with the same root, since that teardown could reach the heap whose hook
/// is running), and while a thread routes into a heap it would destroy
/// (SPACES_E_BUSY: that thread's next malloc would use it).
spaces_status_t begin_teardown(Heap* h, bool destroyed) noexcept {
  if (h->tearing_down || h->root->hooks_running.load(std::memory_order_relaxed) != 0) return SPACES_E_INVALID;
  if ((destroyed && h->routes.load(std::memory_order_acquire) != 0) || children_routed(h)) return SPACES_E_BUSY;
  h->tearing_down = true;
  destroy_children(h);
  if (h->on_teardown != nullptr || h->report_leaks) {
    // The hook, then the leak report (what the hook left live): no heap
    // of the tree may be torn down from either.
    h->root->hooks_running.fetch_add(1, std::memory_order_relaxed);
    if (h->on_teardown != nullptr) h->on_teardown(to_handle(h), destroyed ? 1 : 0, h->on_teardown_arg);
    if (h->report_leaks) heap_report_leaks(h, destroyed);
    h->root->hooks_running.fetch_sub(1, std::memory_order_relaxed);
  }
  return SPACES_OK;
}

}  // namespace

spaces_status_t heap_destroy(Heap* h) noexcept {
  if (const spaces_status_t s = begin_teardown(h, true); s != SPACES_OK) return s;
  SPACES_TEST_POINT("heap.destroy", h);
  SPACES_ASSERT_EXPENSIVE(heap_is_valid_exclusive(h));
  threads_forget_heap(h);
  // Uncharge the whole footprint at once: children are gone, so it is
  // exactly what the shards, spans and retained slabs hold.
  for_each_shard(h, [](Shard* sh) { shard_clear(sh, false); });
  release_large(h);
  heap_trim_retained(h);
  if (h->parent != nullptr) {
    Heap* p = h->parent;
    LockGuard guard(p->lock);
    if (h->prev_sibling != nullptr) h->prev_sibling->next_sibling = h->next_sibling;
    else p->first_child = h->next_sibling;
    if (h->next_sibling != nullptr) h->next_sibling->prev_sibling = h->prev_sibling;
  }
  SPACES_ASSERT_INTERNAL(h->footprint.load() == 0);
  registry_remove(h);
  region_free_marks(&h->shard0);
  for (Shard* sh = h->shards; sh != nullptr;) {
    Shard* next = sh->heap_next;
    region_free_marks(sh);
    meta_free(sh, sizeof(Shard));
    sh = next;
  }
  vg_pool_destroy(h);
  handle_close(h);
  h->magic = kHeapDeadMagic;
  h->id = 0;
  h->epoch = 0;
  meta_free(h, sizeof(Heap));
  SPACES_ASSERT_EXPENSIVE(cache_is_valid());
  return SPACES_OK;
}

spaces_status_t heap_reset(Heap* h, std::size_t keep) noexcept {
  if (const spaces_status_t s = begin_teardown(h, false); s != SPACES_OK) return s;
  SPACES_TEST_POINT("heap.reset", h);
  const bool retain = keep != 0;
  {
    // Exclusive of thread exit, as destroy is (threads_forget_heap): an
    // exiting thread collects and abandons its shard of this heap under
    // the same lock, and must not walk runs that are being cleared.
    ThreadsExclusive exclusive;
    SPACES_ASSERT_EXPENSIVE(heap_is_valid(h));
    for_each_shard(h, [retain](Shard* sh) { shard_clear(sh, retain); });
  }
  release_large(h);
  if (retain && keep != SIZE_MAX) heap_trim_retained(h, keep);
  h->large_allocs = 0;
  h->large_frees = 0;
  h->resets++;
  h->epoch = g_next_id.fetch_add(1, std::memory_order_relaxed);
  vg_pool_destroy(h);  // every chunk is gone
  vg_pool_create(h);
  h->tearing_down = false;
  SPACES_ASSERT_EXPENSIVE(heap_is_valid_exclusive(h) && cache_is_valid());
  return SPACES_OK;
}

// ---- Default heap --------------------------------------------------------------

Heap* default_heap_if_created() noexcept { return g_default_heap.load(std::memory_order_acquire); }

// ---- fork ------------------------------------------------------------------------

void heap_registry_fork_prepare() noexcept {
  g_handles_lock.lock();
  g_registry_lock.lock();
  for (Heap* h = g_registry; h != nullptr; h = h->registry_next) h->lock.lock();
}

void heap_registry_fork_parent() noexcept {
  for (Heap* h = g_registry; h != nullptr; h = h->registry_next) h->lock.unlock();
  g_registry_lock.unlock();
  g_handles_lock.unlock();
}

void heap_registry_fork_child() noexcept {
  for (Heap* h = g_registry; h != nullptr; h = h->registry_next) h->lock.reset_after_fork();
  g_registry_lock.reset_after_fork();
  g_handles_lock.reset_after_fork();
}

/// Calls f(h) for every live heap, under the registry lock (fork child, exit stats).
void heap_registry_for_each(void (*f)(Heap*, void*), void* arg) noexcept {
  LockGuard guard(g_registry_lock);
  for (Heap* h = g_registry; h != nullptr; h = h->registry_next) f(h, arg);
}

}  // namespace spaces::detail
