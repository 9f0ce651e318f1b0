// ---------------------------------------------------------------------------
// heap.hpp: spaces::Heap, its options builder, Result<T> and cap_exceeded.
//
// The facade is a client of the C API (spaces.h): every call here is one C
// call plus error translation. Allocation failure at a cap throws
// spaces::cap_exceeded (a std::bad_alloc carrying the heap's name, cap,
// footprint and the request); an OS failure throws plain std::bad_alloc; the
// try_ functions return nullptr instead. Nothing here allocates on the error
// path: the exception keeps its text in fixed buffers.
// ---------------------------------------------------------------------------
#ifndef SPACES_HEAP_HPP
#define SPACES_HEAP_HPP

#include <spaces/spaces.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace spaces {

using Stats = spaces_stats_t;
using Status = spaces_status_t;

inline constexpr std::size_t kUncapped = SPACES_UNCAPPED;
inline constexpr std::size_t kDefaultAlignment = alignof(std::max_align_t);

enum class Discipline : int { General = SPACES_GENERAL, Region = SPACES_REGION };

// ---- Errors ----------------------------------------------------------------

/// Thrown when an allocation would take a heap's footprint past its cap.
/// Copying it never allocates.
class cap_exceeded : public std::bad_alloc {
 public:
  cap_exceeded(std::string_view heap_name, std::size_t cap, std::size_t footprint,
               std::size_t request) noexcept
      : cap_(cap), footprint_(footprint), request_(request) {
    std::size_t n = heap_name.size() < sizeof(name_) - 1 ? heap_name.size() : sizeof(name_) - 1;
    heap_name.copy(name_, n);
    name_[n] = '\0';
    std::snprintf(what_, sizeof(what_),
                  "spaces: cap of heap '%s' exceeded (cap %zu, footprint %zu, request %zu)", name_,
                  cap_, footprint_, request_);
  }

  /// The name of the heap whose cap refused (an ancestor for nested heaps).
  const char* heap_name() const noexcept { return name_; }
  std::size_t cap() const noexcept { return cap_; }
  std::size_t footprint() const noexcept { return footprint_; }
  std::size_t request() const noexcept { return request_; }
  const char* what() const noexcept override { return what_; }

 private:
  char name_[64];
  char what_[192];
  std::size_t cap_;
  std::size_t footprint_;
  std::size_t request_;
};

/// Thrown by constructors given options the C API rejects, and by calls on
/// a heap that is gone (destroyed by its parent's reset or destroy).
class heap_error : public std::runtime_error {
 public:
  explicit heap_error(Status status)
      : std::runtime_error(std::string("spaces: ") + spaces_status_str(status)),
        status_(status) {}
  heap_error(Status status, const char* what) : std::runtime_error(what), status_(status) {}
  Status status() const noexcept { return status_; }

 private:
  Status status_;
};

namespace detail {

inline constexpr const char* kDeadHeapMessage =
    "spaces: allocation from a heap that is gone (destroyed, or a child of a heap that was reset or destroyed)";

/// Turns the calling thread's last allocation failure into an exception:
/// cap_exceeded for a cap, heap_error for a heap that is gone,
/// std::bad_alloc otherwise.
[[noreturn]] inline void throw_alloc_failure(std::size_t request) {
  spaces_failure_t f{};
  spaces_last_failure(&f);
  if (f.status == SPACES_E_CAP)
    throw cap_exceeded(spaces_heap_name(f.heap), f.cap, f.footprint, request);
  if (f.status == SPACES_E_INVALID) throw heap_error(SPACES_E_INVALID, kDeadHeapMessage);
  throw std::bad_alloc();
}

}  // namespace detail

/// A value or a status: the members of std::expected that callers use
/// (has_value, operator bool, value, error, *, ->), in C++20.
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)), error_(SPACES_OK) {}  // NOLINT: implicit by design
  Result(Status error) : error_(error) {}                           // NOLINT
  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & {
    check();
    return *value_;
  }
  T&& value() && {
    check();
    return std::move(*value_);
  }
  Status error() const noexcept { return error_; }
  T& operator*() & noexcept { return *value_; }
  T* operator->() noexcept { return &*value_; }

 private:
  void check() const {
    if (!value_) throw heap_error(error_);
  }
  std::optional<T> value_;
  Status error_;
};

class Heap;

// ---- Options -----------------------------------------------------------------

/// Builder for heap options:
///   Heap h(HeapOptions().name("ast").cap(256 << 20).discipline(Discipline::Region));
class HeapOptions {
 public:
  /// Called at the cap with the request size; return true after making room
  /// to retry the allocation once.
  using CapHandler = std::function<bool(Heap& heap, std::size_t request)>;

  HeapOptions() { spaces_heap_options_init(&c_); }
  HeapOptions& name(std::string_view n) {
    name_.assign(n);
    return *this;
  }
  HeapOptions& cap(std::size_t bytes) noexcept {
    c_.cap = bytes;
    return *this;
  }
  HeapOptions& discipline(Discipline d) noexcept {
    c_.discipline = static_cast<spaces_discipline_t>(d);
    return *this;
  }
  HeapOptions& single_threaded(bool on = true) noexcept { return flag(SPACES_HEAP_SINGLE_THREADED, on); }
  HeapOptions& retain_on_reset(bool on = true) noexcept { return flag(SPACES_HEAP_RETAIN_ON_RESET, on); }
  /// Starts in 4 KiB mini slabs (SPACES_HEAP_TINY).
  HeapOptions& tiny(bool on = true) noexcept { return flag(SPACES_HEAP_TINY, on); }
  /// The new heap draws on `parent`'s cap and dies with it.
  HeapOptions& parent(const Heap& parent) noexcept;
  HeapOptions& cap_handler(CapHandler handler) {
    handler_ = std::move(handler);
    return *this;
  }
  /// Called when the heap's blocks are about to be freed at once (its reset
  /// or destroy, or an ancestor's): see spaces_teardown_fn.
  HeapOptions& on_teardown(spaces_teardown_fn fn, void* arg) noexcept {
    c_.on_teardown = fn;
    c_.on_teardown_arg = arg;
    return *this;
  }
  /// A footprint past which `fn` runs (the allocation goes on): see
  /// spaces_soft_limit_fn.
  HeapOptions& soft_limit(std::size_t bytes, spaces_soft_limit_fn fn = nullptr, void* arg = nullptr) noexcept {
    c_.soft_limit = bytes;
    c_.on_soft_limit = fn;
    c_.on_soft_limit_arg = arg;
    return *this;
  }
  std::size_t get_soft_limit() const noexcept { return c_.soft_limit; }
  spaces_teardown_fn get_on_teardown() const noexcept { return c_.on_teardown; }
  void* get_on_teardown_arg() const noexcept { return c_.on_teardown_arg; }

  const std::string& get_name() const noexcept { return name_; }
  std::size_t get_cap() const noexcept { return c_.cap; }
  Discipline get_discipline() const noexcept { return static_cast<Discipline>(c_.discipline); }

 private:
  friend class Heap;
  HeapOptions& flag(unsigned f, bool on) noexcept {
    c_.flags = on ? (c_.flags | f) : (c_.flags & ~f);
    return *this;
  }
  spaces_heap_options_t c_;
  std::string name_;
  CapHandler handler_;
};

// ---- Heap --------------------------------------------------------------------

/// Owns one heap: move-only; destruction destroys the heap (O(slabs), never
/// touching the objects). A child heap destroyed by its parent's destroy or
/// reset is noticed and not destroyed twice; using it afterwards throws
/// heap_error (allocate, reset, set_cap) or answers as for an empty heap.
class Heap {
 public:
  /// Creates a heap; the status says why it could not be created.
  static Result<Heap> create(const HeapOptions& options = HeapOptions()) {
    Heap h;
    Status s = h.open(options);
    if (s != SPACES_OK) return s;
    return Result<Heap>(std::move(h));
  }

  /// Creates a heap; throws heap_error for rejected options, std::bad_alloc
  /// when the OS refuses memory.
  explicit Heap(const HeapOptions& options) {
    Status s = open(options);
    if (s == SPACES_E_NOMEM) throw std::bad_alloc();
    if (s != SPACES_OK) throw heap_error(s);
  }

  /// An empty handle (owns nothing); assign a heap to it later.
  Heap() noexcept = default;
  Heap(Heap&& o) noexcept
      : heap_(std::exchange(o.heap_, nullptr)), id_(std::exchange(o.id_, 0)),
        handler_(std::move(o.handler_)) {
    if (handler_) handler_->owner = this;
  }
  Heap& operator=(Heap&& o) noexcept {
    if (this != &o) {
      destroy();
      heap_ = std::exchange(o.heap_, nullptr);
      id_ = std::exchange(o.id_, 0);
      handler_ = std::move(o.handler_);
      if (handler_) handler_->owner = this;
    }
    return *this;
  }
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;
  ~Heap() { destroy(); }

  /// Allocates `n` bytes aligned to `align`; throws cap_exceeded at the cap,
  /// std::bad_alloc when the OS refuses.
  void* allocate(std::size_t n, std::size_t align = kDefaultAlignment) {
    void* p = try_allocate(n, align);
    if (p == nullptr) detail::throw_alloc_failure(n);
    return p;
  }

  /// Allocates or returns nullptr (errno ENOMEM at the cap or OS failure).
  void* try_allocate(std::size_t n, std::size_t align = kDefaultAlignment) noexcept {
    return align <= kDefaultAlignment ? spaces_alloc(heap_, n) : spaces_aligned_alloc(heap_, align, n);
  }

  /// Resizes a block of this heap (see spaces_realloc); throws like allocate.
  void* reallocate(void* p, std::size_t n) {
    void* q = spaces_realloc(heap_, p, n);
    if (q == nullptr) detail::throw_alloc_failure(n);
    return q;
  }

  /// Frees a block of any heap (no-op for nullptr and region blocks).
  static void deallocate(void* p) noexcept { spaces_free(p); }

  Stats stats() const noexcept {
    Stats s{};
    spaces_heap_stats(heap_, &s);
    return s;
  }
  void print_stats(std::FILE* out = stderr) const noexcept { spaces_heap_print_stats(heap_, out); }
  void write_stats_json(std::FILE* out) const noexcept { spaces_heap_write_stats_json(heap_, out); }

  /// Calls f(void* block, size_t usable) for every live block of a general
  /// heap; f may return bool (false stops the walk) or void. Exceptions
  /// thrown by f stop the walk and propagate. Throws heap_error for region
  /// heaps. Not safe against concurrent use of the heap.
  template <class F>
  void walk(F&& f) const {
    struct Ctx {
      F* f;
      std::exception_ptr error;
    } ctx{&f, nullptr};
    auto trampoline = [](void* block, std::size_t usable, void* arg) -> int {
      auto* c = static_cast<Ctx*>(arg);
      try {
        if constexpr (std::is_same_v<std::invoke_result_t<F&, void*, std::size_t>, void>) {
          (*c->f)(block, usable);
          return 0;
        } else {
          return (*c->f)(block, usable) ? 0 : 1;
        }
      } catch (...) {
        c->error = std::current_exception();
        return 1;
      }
    };
    Status s = spaces_heap_walk(heap_, trampoline, &ctx);
    if (ctx.error) std::rethrow_exception(ctx.error);
    if (s != SPACES_OK) throw heap_error(s);
  }

  /// Frees every block, destroys the children, keeps the heap.
  void reset() {
    Status s = spaces_heap_reset(heap_);
    if (s != SPACES_OK) throw heap_error(s);
  }

  std::string_view name() const noexcept { return spaces_heap_name(heap_); }
  std::size_t cap() const noexcept { return spaces_heap_cap(heap_); }
  void set_cap(std::size_t bytes) {
    Status s = spaces_heap_set_cap(heap_, bytes);
    if (s != SPACES_OK) throw heap_error(s);
  }
  std::size_t soft_limit() const noexcept { return spaces_heap_soft_limit(heap_); }
  void set_soft_limit(std::size_t bytes) {
    Status s = spaces_heap_set_soft_limit(heap_, bytes);
    if (s != SPACES_OK) throw heap_error(s);
  }
  /// The slab bytes held now (O(1)): what the cap and soft limit compare.
  std::size_t footprint() const noexcept { return spaces_heap_footprint(heap_); }
  Discipline discipline() const noexcept { return static_cast<Discipline>(spaces_heap_discipline(heap_)); }

  /// The C handle (nullptr for an empty Heap).
  spaces_heap_t* get() const noexcept { return heap_; }
  /// Whether this owns a live heap (false after a parent destroyed it).
  bool alive() const noexcept { return heap_ != nullptr && spaces_heap_id(heap_) == id_; }
  explicit operator bool() const noexcept { return alive(); }

  /// The heap of a block (nullptr if spaces does not own the pointer).
  static spaces_heap_t* of(const void* p) noexcept { return spaces_heap_of(p); }

 private:
  struct HandlerBox {
    HeapOptions::CapHandler fn;
    Heap* owner;
  };

  static spaces_cap_action_t call_handler(spaces_heap_t*, std::size_t request, void* arg) noexcept {
    auto* box = static_cast<HandlerBox*>(arg);
    try {
      return box->fn(*box->owner, request) ? SPACES_CAP_RETRY : SPACES_CAP_FAIL;
    } catch (...) {
      return SPACES_CAP_FAIL;  // an exception cannot cross the C allocator
    }
  }

  Status open(const HeapOptions& o) {
    spaces_heap_options_t c = o.c_;
    c.name = o.name_.empty() ? nullptr : o.name_.c_str();
    if (o.handler_) {
      handler_ = std::make_unique<HandlerBox>(HandlerBox{o.handler_, this});
      c.cap_handler = &call_handler;
      c.cap_handler_arg = handler_.get();
    }
    Status s = spaces_heap_create(&c, &heap_);
    if (s != SPACES_OK) {
      heap_ = nullptr;
      handler_.reset();
      return s;
    }
    id_ = spaces_heap_id(heap_);
    return SPACES_OK;
  }

  void destroy() noexcept {
    if (alive() && spaces_heap_destroy(heap_) == SPACES_E_BUSY) {
      // Destroying it would leave a thread allocating from a dead heap, and
      // keeping it would leak it: a ScopedHeap outlives the Heap it names.
      std::fprintf(stderr, "spaces: heap '%s' (%p) destroyed while a thread routes its allocations into it\n",
                   spaces_heap_name(heap_), static_cast<void*>(heap_));
      std::abort();
    }
    heap_ = nullptr;
    id_ = 0;
    handler_.reset();
  }

  spaces_heap_t* heap_ = nullptr;
  std::uint64_t id_ = 0;
  std::unique_ptr<HandlerBox> handler_;
};

inline HeapOptions& HeapOptions::parent(const Heap& parent) noexcept {
  c_.parent = parent.get();
  return *this;
}

// ---- Routing ---------------------------------------------------------------------

/// Makes a heap the calling thread's current heap for a scope: with the
/// malloc replacement in the process, every malloc and operator new of the
/// thread allocates from it (spaces_thread_set_heap), third-party code
/// included. The destructor, on the same thread, makes the previous heap
/// current again, or the default heap if the previous one is gone. Throws
/// heap_error for a heap that is dead, a region, or a single-threaded heap
/// another thread routes into; std::bad_alloc when the OS refuses memory.
///
///   spaces::Heap unit(spaces::HeapOptions().name("unit").cap(256 << 20));
///   { spaces::ScopedHeap in(unit); run_library(); }  // its mallocs count against the cap
class ScopedHeap {
 public:
  explicit ScopedHeap(const Heap& heap) : ScopedHeap(heap.get()) {}
  explicit ScopedHeap(spaces_heap_t* heap) {
    const Status s = spaces_thread_set_heap(heap, &previous_);
    if (s == SPACES_E_NOMEM) throw std::bad_alloc();
    if (s != SPACES_OK) throw heap_error(s);
  }
  ~ScopedHeap() {
    if (spaces_thread_set_heap(previous_, nullptr) != SPACES_OK) spaces_thread_set_heap(nullptr, nullptr);
  }
  ScopedHeap(const ScopedHeap&) = delete;
  ScopedHeap& operator=(const ScopedHeap&) = delete;

  /// The heap that was current before this scope (nullptr: the default heap).
  spaces_heap_t* previous() const noexcept { return previous_; }

 private:
  spaces_heap_t* previous_ = nullptr;
};

}  // namespace spaces

#endif  // SPACES_HEAP_HPP
