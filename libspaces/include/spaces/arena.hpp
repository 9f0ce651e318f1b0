// ---------------------------------------------------------------------------
// arena.hpp: spaces::Arena, a region heap for AST and IR nodes.
//
// make<T>() placement-news a T at the region's bump pointer: the fast path is
// spaces_cursor_alloc, inline (a compare and two stores). Trivially
// destructible types cost nothing at teardown; others are registered on a
// cleanup list (one record allocated beside the object) that reset() and the
// destructor run in reverse order of construction. TrivialArena refuses
// non-trivial types at compile time, for arenas that must never run
// destructors. An arena is used by one thread at a time.
//
// Lifetime: an arena whose heap has a parent dies with the parent's reset or
// destroy, as every child heap does. It learns of it through the heap's
// teardown hook: its cleanups run then (before the memory goes), and every
// later allocation throws heap_error (try_allocate returns nullptr); its
// destructor then has nothing left to do.
// ---------------------------------------------------------------------------
#ifndef SPACES_ARENA_HPP
#define SPACES_ARENA_HPP

#include <spaces/heap.hpp>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>

namespace spaces {

/// Whether an arena may hold types with non-trivial destructors.
enum class Destructors {
  Run,    ///< register them and run them at reset and destruction
  Forbid  ///< make them a compile error
};

namespace detail {

/// The slow paths of bump(): values in, values out, so that the cursor's
/// address never escapes. They throw at the cap or when the OS refuses.
[[gnu::noinline]] inline spaces_window_t refill(void* owner, char* cur, char* end, std::uint64_t tally, std::size_t n,
                                                std::size_t align) {
  if (owner == nullptr) throw heap_error(SPACES_E_INVALID, kDeadHeapMessage);
  const spaces_window_t w = spaces_cursor_refill(owner, cur, end, tally, n, align);
  if (w.cur == nullptr) throw_alloc_failure(n);
  return w;
}
[[gnu::noinline]] inline void* span(void* owner, std::size_t n, std::size_t align) {
  if (owner == nullptr) throw heap_error(SPACES_E_INVALID, kDeadHeapMessage);
  void* p = spaces_cursor_span(owner, n, align);
  if (p == nullptr) throw_alloc_failure(n);
  return p;
}

/// spaces_cursor_alloc with failure as an exception: the fast path returns
/// the block with no null test (spaces.h explains the single compare).
inline void* bump(spaces_cursor_t& c, std::size_t n, std::size_t align) {
  const std::uintptr_t p = (reinterpret_cast<std::uintptr_t>(c.cur) + (align - 1)) & ~(align - 1);
  const auto e = reinterpret_cast<std::uintptr_t>(c.end);
  if (align <= SPACES_SLAB_SIZE && n - 1 < e - p) [[likely]] {
    c.cur = reinterpret_cast<char*>(p + n);
    c.tally += n + (std::uint64_t{1} << SPACES_TALLY_SHIFT);
    return reinterpret_cast<void*>(p);
  }
  if (n > SPACES_REGION_SPAN_THRESHOLD || align > SPACES_REGION_SPAN_THRESHOLD - n) return span(c.owner, n, align);
  const std::uint64_t tally = c.tally;
  c.tally = 0;  // refill folds it into the heap's totals, even when it throws
  const spaces_window_t w = refill(c.owner, c.cur, c.end, tally, n, align);
  c.cur = w.cur;
  c.end = w.end;
  return w.cur - (n != 0 ? n : 1);
}

}  // namespace detail

template <Destructors D>
class BasicArena {
 public:
  /// Creates the arena's region heap; the discipline in `options` is
  /// overridden to Region and the heap is single-threaded. A teardown hook in
  /// `options` still runs, after the arena's own.
  explicit BasicArena(HeapOptions options = HeapOptions())
      : link_(std::make_unique<Link>(Link{this, options.get_on_teardown(), options.get_on_teardown_arg()})),
        heap_(options.discipline(Discipline::Region).single_threaded().on_teardown(&on_teardown, link_.get())),
        cursor_(spaces_region_cursor(heap_.get())) {}

  BasicArena(BasicArena&& o) noexcept
      : link_(std::move(o.link_)), heap_(std::move(o.heap_)), cursor_(o.take_cursor()),
        cleanups_(std::exchange(o.cleanups_, nullptr)), interned_(std::exchange(o.interned_, {})) {
    if (cursor_ == nullptr) cursor_ = &dead_;
    if (link_) link_->owner = this;
  }
  BasicArena& operator=(BasicArena&& o) noexcept {
    if (this != &o) {
      destroy_heap();
      link_ = std::move(o.link_);
      heap_ = std::move(o.heap_);
      cursor_ = o.take_cursor();
      if (cursor_ == nullptr) cursor_ = &dead_;
      cleanups_ = std::exchange(o.cleanups_, nullptr);
      interned_ = std::exchange(o.interned_, {});
      if (link_) link_->owner = this;
    }
    return *this;
  }
  BasicArena(const BasicArena&) = delete;
  BasicArena& operator=(const BasicArena&) = delete;
  ~BasicArena() { destroy_heap(); }

  /// Raw memory: `n` bytes aligned to `align` (a power of two). Throws
  /// cap_exceeded at the cap, std::bad_alloc when the OS refuses.
  void* allocate(std::size_t n, std::size_t align = kDefaultAlignment) { return detail::bump(*cursor_, n, align); }

  /// Like allocate, but returns nullptr instead of throwing.
  void* try_allocate(std::size_t n, std::size_t align = kDefaultAlignment) noexcept {
    return spaces_cursor_alloc(cursor_, n, align);
  }

  /// Constructs a T in the arena. If T's constructor throws, the memory
  /// stays in the arena until reset (a region cannot free one block).
  template <class T, class... Args>
  T* make(Args&&... args) {
    static_assert(D == Destructors::Run || std::is_trivially_destructible_v<T>,
                  "this arena never runs destructors: make<T> needs a trivially destructible T");
    if constexpr (std::is_trivially_destructible_v<T>) {
      return construct<T>(allocate(sizeof(T), alignof(T)), std::forward<Args>(args)...);
    } else {
      Cleanup* c = new_cleanup<T>(1);
      T* obj = construct<T>(c->object(), std::forward<Args>(args)...);
      push_cleanup(c);
      return obj;
    }
  }

  /// n value-initialised Ts, contiguous. n == 0 gives an empty span.
  template <class T>
  std::span<T> make_array(std::size_t n) {
    static_assert(D == Destructors::Run || std::is_trivially_destructible_v<T>,
                  "this arena never runs destructors: make_array<T> needs a trivially destructible T");
    if (n == 0) return {};
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    if constexpr (std::is_trivially_destructible_v<T>) {
      T* p = static_cast<T*>(allocate(n * sizeof(T), alignof(T)));
      std::uninitialized_value_construct_n(p, n);
      return {p, n};
    } else {
      Cleanup* c = new_cleanup<T>(n);
      T* p = static_cast<T*>(c->object());
      std::uninitialized_value_construct_n(p, n);  // destroys the built ones if one throws
      push_cleanup(c);
      return {p, n};
    }
  }

  /// A copy of the range's elements, contiguous.
  template <class T, std::ranges::input_range R>
    requires std::convertible_to<std::ranges::range_reference_t<R>, T>
  std::span<T> make_array(R&& range) {
    static_assert(D == Destructors::Run || std::is_trivially_destructible_v<T>,
                  "this arena never runs destructors: make_array<T> needs a trivially destructible T");
    if constexpr (std::ranges::sized_range<R>) {
      const std::size_t n = static_cast<std::size_t>(std::ranges::size(range));
      if (n == 0) return {};
      if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
      T* p;
      Cleanup* c = nullptr;
      if constexpr (std::is_trivially_destructible_v<T>) {
        p = static_cast<T*>(allocate(n * sizeof(T), alignof(T)));
      } else {
        c = new_cleanup<T>(n);
        p = static_cast<T*>(c->object());
      }
      std::size_t built = 0;
      try {
        for (auto&& e : range) {
          ::new (p + built) T(static_cast<T>(std::forward<decltype(e)>(e)));
          ++built;
        }
      } catch (...) {
        std::destroy_n(p, built);
        throw;
      }
      if (c != nullptr) push_cleanup(c);
      return {p, n};
    } else {
      // An unsized input range is read once: collect into a growing array;
      // the abandoned prefixes stay in the region until reset.
      static_assert(std::is_trivially_copyable_v<T>, "unsized ranges need a trivially copyable T");
      std::size_t cap = 16, n = 0;
      T* p = static_cast<T*>(allocate(cap * sizeof(T), alignof(T)));
      for (auto&& e : range) {
        if (n == cap) {
          T* q = static_cast<T*>(allocate(2 * cap * sizeof(T), alignof(T)));
          std::memcpy(static_cast<void*>(q), p, n * sizeof(T));
          p = q;
          cap *= 2;
        }
        ::new (p + n++) T(static_cast<T>(std::forward<decltype(e)>(e)));
      }
      return {p, n};
    }
  }

  /// A stable copy of `s`, NUL-terminated (the terminator is not in the view).
  std::string_view copy(std::string_view s) {
    char* p = static_cast<char*>(allocate(s.size() + 1, 1));
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return {p, s.size()};
  }

  /// The arena's unique copy of `s`: equal strings give the same pointer, so
  /// interned names compare by pointer. Average O(|s|).
  std::string_view intern(std::string_view s) {
    if (interned_.size * 4 >= interned_.capacity * 3) grow_interned();
    const std::size_t h = hash(s);
    std::size_t mask = interned_.capacity - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = interned_.slots[i];
      if (slot.data == nullptr) {
        std::string_view c = copy(s);
        slot = Slot{c.data(), c.size(), h, interned_.size};
        ++interned_.size;
        return c;
      }
      if (slot.hash == h && slot.size == s.size() && std::memcmp(slot.data, s.data(), s.size()) == 0)
        return {slot.data, slot.size};
    }
  }

  /// Number of distinct interned strings.
  std::size_t interned_count() const noexcept { return interned_.size; }

  /// Runs the registered destructors (newest first) and frees every block;
  /// the arena stays usable. O(slabs + objects with cleanups). Throws
  /// heap_error if the arena's heap is gone (its parent was reset).
  void reset() { heap_.reset(); }  // the teardown hook runs the cleanups

  /// A position in the arena (mark()); rewind(m) returns to it.
  class Mark {
   private:
    friend class BasicArena;
    spaces_mark_t region{};
    void* cleanups = nullptr;  // the newest cleanup then
    const void* slots = nullptr;
    std::size_t size = 0, capacity = 0;  // the interned strings then
  };

  /// Where the arena stands now: rewind(m) later frees everything allocated
  /// since. Marks nest (spaces_region_mark). O(1).
  Mark mark() {
    Mark m;
    const Status s = spaces_region_mark(heap_.get(), &m.region);
    if (s == SPACES_E_NOMEM) throw std::bad_alloc();
    if (s != SPACES_OK) throw heap_error(s);
    m.cleanups = cleanups_;
    m.slots = interned_.slots;
    m.size = interned_.size;
    m.capacity = interned_.capacity;
    return m;
  }

  /// Frees everything allocated since `m`: first the destructors registered
  /// since run, newest first, then the memory goes (spaces_region_rewind) and
  /// strings interned since are forgotten. `m` stays usable; marks taken
  /// after it end. Throws heap_error, changing nothing, for a mark that is
  /// not live (ended by an earlier rewind or a reset, or another arena's).
  /// O(objects with cleanups since m + slabs released), plus the intern
  /// table's size if strings were interned since.
  void rewind(const Mark& m) {
    if (spaces_region_mark_live(heap_.get(), m.region) == 0) throw heap_error(SPACES_E_INVALID);
    while (cleanups_ != m.cleanups && cleanups_ != nullptr) {
      Cleanup* c = cleanups_;
      cleanups_ = c->next;
      c->destroy(c->object(), c->n);
    }
    if (interned_.size != m.size) {
      // Linear probing never moves an entry: clearing the slots filled since
      // the mark restores the table as it was (a table grown since is the
      // mark's own again; the newer one goes with the memory).
      interned_.slots = static_cast<Slot*>(const_cast<void*>(m.slots));
      interned_.capacity = m.capacity;
      interned_.size = m.size;
      for (std::size_t i = 0; i < interned_.capacity; ++i)
        if (interned_.slots[i].data != nullptr && interned_.slots[i].order >= m.size) interned_.slots[i] = Slot{};
    }
    spaces_region_rewind(heap_.get(), m.region);  // live: it cannot fail
  }

  /// Whether the arena's heap is alive (false after its parent's reset or
  /// destroy took it).
  bool alive() const noexcept { return cursor_ != &dead_ && heap_.alive(); }

  Stats stats() const noexcept { return heap_.stats(); }
  Heap& heap() noexcept { return heap_; }
  const Heap& heap() const noexcept { return heap_; }

 private:
  /// A cleanup record, followed (at kObjectOffset) by the object or array it destroys.
  struct Cleanup {
    void (*destroy)(void* object, std::size_t n);
    Cleanup* next;
    std::size_t n;
    void* object() noexcept { return reinterpret_cast<unsigned char*>(this) + kObjectOffset; }
  };
  static constexpr std::size_t kObjectOffset =
      (sizeof(Cleanup) + kDefaultAlignment - 1) / kDefaultAlignment * kDefaultAlignment;
  /// Placement-new of a T from args: an aggregate without a matching
  /// constructor is built with braces, so make<Number>(loc, 1.5) works on
  /// compilers without parenthesised aggregate initialisation (P0960: GCC 10,
  /// Clang 16).
  template <class T, class... Args>
  static T* construct(void* p, Args&&... args) {
    if constexpr (std::is_aggregate_v<T> && !std::is_constructible_v<T, Args&&...>)
      return ::new (p) T{std::forward<Args>(args)...};
    else
      return ::new (p) T(std::forward<Args>(args)...);
  }

  /// What the heap's teardown hook reaches: the arena, wherever it moved.
  struct Link {
    BasicArena* owner;
    spaces_teardown_fn user_fn;  ///< the hook the caller's options gave
    void* user_arg;
  };
  static void on_teardown(spaces_heap_t* heap, int destroyed, void* arg) noexcept {
    auto* link = static_cast<Link*>(arg);
    if (link->owner != nullptr) link->owner->torn_down(destroyed != 0);
    if (link->user_fn != nullptr) link->user_fn(heap, destroyed, link->user_arg);
  }
  /// The heap's blocks are about to go: run the cleanups while they are
  /// there; if the heap dies, later allocations find no window and no owner.
  void torn_down(bool destroyed) noexcept {
    run_cleanups();
    interned_ = {};
    if (destroyed) cursor_ = &dead_;
  }
  /// Destroys the heap now, while every member is alive for the hook.
  void destroy_heap() noexcept {
    Heap dying = std::move(heap_);
  }
  spaces_cursor_t* take_cursor() noexcept {
    spaces_cursor_t* c = cursor_;
    cursor_ = &dead_;
    return c == &dead_ ? nullptr : c;
  }

  struct Slot {
    const char* data;
    std::size_t size;
    std::size_t hash;
    std::size_t order;  ///< how many strings were interned before it (rewind)
  };
  struct Interned {
    Slot* slots = nullptr;
    std::size_t size = 0;
    std::size_t capacity = 0;
  };

  template <class T>
  Cleanup* new_cleanup(std::size_t n) {
    static_assert(alignof(T) <= kDefaultAlignment, "over-aligned types with destructors are not supported");
    auto* c = static_cast<Cleanup*>(allocate(kObjectOffset + n * sizeof(T), kDefaultAlignment));
    c->destroy = [](void* object, std::size_t count) { std::destroy_n(static_cast<T*>(object), count); };
    c->n = n;
    c->next = nullptr;
    return c;
  }
  void push_cleanup(Cleanup* c) noexcept {
    c->next = cleanups_;
    cleanups_ = c;
  }
  void run_cleanups() noexcept {
    while (cleanups_ != nullptr) {
      Cleanup* c = cleanups_;
      cleanups_ = c->next;
      c->destroy(c->object(), c->n);
    }
  }

  static std::size_t hash(std::string_view s) noexcept {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (char ch : s) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
  void grow_interned() {
    std::size_t cap = interned_.capacity == 0 ? 64 : interned_.capacity * 2;
    auto* slots = static_cast<Slot*>(allocate(cap * sizeof(Slot), alignof(Slot)));
    std::uninitialized_value_construct_n(slots, cap);
    for (std::size_t i = 0; i < interned_.capacity; ++i) {
      const Slot& s = interned_.slots[i];
      if (s.data == nullptr) continue;
      std::size_t j = s.hash & (cap - 1);
      while (slots[j].data != nullptr) j = (j + 1) & (cap - 1);
      slots[j] = s;
    }
    // The old table stays in the region: geometric growth bounds that waste
    // by the final table's size.
    interned_.slots = slots;
    interned_.capacity = cap;
  }

  std::unique_ptr<Link> link_;  // before heap_: the heap's hook points at it
  Heap heap_;
  spaces_cursor_t* cursor_;
  Cleanup* cleanups_ = nullptr;
  Interned interned_;
  spaces_cursor_t dead_{};  ///< the cursor of a dead heap: no window, no owner
};

/// A region heap that runs destructors of the objects it holds.
using Arena = BasicArena<Destructors::Run>;
/// A region heap that holds only trivially destructible objects (AST nodes).
using TrivialArena = BasicArena<Destructors::Forbid>;

}  // namespace spaces

#endif  // SPACES_ARENA_HPP
