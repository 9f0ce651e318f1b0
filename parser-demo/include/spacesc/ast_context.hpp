// ---------------------------------------------------------------------------
// ast_context.hpp: AstContext, where AST nodes, arrays and names are made.
//
// One builder interface, two ways to hold the nodes (--alloc):
//   Arena  every node, array and interned name is bumped into a
//          spaces::TrivialArena, a region heap under the unit's heap, so
//          --mem-cap counts it; teardown destroys the heap: O(slabs).
//   New    every node and array is a separate ::operator new block, recorded
//          so that teardown deletes them one by one: O(nodes). This is the
//          baseline the benchmark compares against (bench/spacesc).
// The mode is a predictable branch in allocate(), not a virtual call, so
// the arena path inlines down to the heap's bump.
// ---------------------------------------------------------------------------
#ifndef SPACESC_AST_CONTEXT_HPP
#define SPACESC_AST_CONTEXT_HPP

#include <spacesc/ast.hpp>

#include <spaces/spaces.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace spacesc {

/// Where a unit's front end puts its memory.
enum class AllocMode : std::uint8_t {
  Arena,  ///< region heaps under the unit's capped heap
  New,    ///< global operator new, one block per node, deleted one by one
};

/// Creates and owns the nodes of one AST. Owner thread only.
class AstContext {
 public:
  /// Arena mode draws on `parent` (the unit's heap; may be null for an
  /// uncapped top-level heap). New mode ignores it.
  AstContext(AllocMode mode, const spaces::Heap* parent);
  ~AstContext() { teardown(); }
  AstContext(const AstContext&) = delete;
  AstContext& operator=(const AstContext&) = delete;

  /// Constructs a node. Throws spaces::cap_exceeded at the cap.
  template <class T, class... Args>
  T* make(Args&&... args) {
    static_assert(std::is_base_of_v<Node, T>, "make<T> builds AST nodes");
    static_assert(std::is_trivially_destructible_v<T>, "nodes are never destroyed one by one");
    ++nodes_;
    return ::new (allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
  }

  /// A copy of `items` that lives as long as the AST (empty stays empty).
  template <class T>
  std::span<const T> copy(std::span<const T> items) {
    static_assert(std::is_trivially_copyable_v<T>, "arrays are copied bytewise");
    if (items.empty()) return {};
    void* p = allocate(items.size_bytes(), alignof(T));
    std::memcpy(p, items.data(), items.size_bytes());
    return {static_cast<const T*>(p), items.size()};
  }

  /// A node array: like copy(), with mutable pointers for the tree.
  template <class T>
  std::span<T* const> copy_ptrs(std::span<T* const> items) {
    if (items.empty()) return {};
    void* p = allocate(items.size_bytes(), alignof(T*));
    std::memcpy(p, items.data(), items.size_bytes());
    return {static_cast<T* const*>(p), items.size()};
  }

  /// The context's unique copy of `name`: equal names share storage.
  std::string_view intern(std::string_view name);

  /// Frees every node: destroys the arena's heap, or deletes each block.
  /// Idempotent; the context is empty afterwards.
  void teardown() noexcept;

  AllocMode mode() const noexcept { return mode_; }
  /// Nodes made since creation.
  std::size_t node_count() const noexcept { return nodes_; }
  /// Bytes asked for (nodes, arrays, names), before any rounding.
  std::size_t bytes_requested() const noexcept { return bytes_; }
  /// Separate blocks allocated (new mode) or bumps (arena mode).
  std::size_t allocations() const noexcept { return allocations_; }
  /// The arena's heap statistics; zeros in new mode.
  spaces::Stats heap_stats() const noexcept;

 private:
  void* allocate(std::size_t n, std::size_t align) {
    bytes_ += n;
    ++allocations_;
    if (arena_ != nullptr) [[likely]]
      return arena_->allocate(n, align);
    return allocate_new(n, align);
  }
  void* allocate_new(std::size_t n, std::size_t align);

  AllocMode mode_;
  std::unique_ptr<spaces::TrivialArena> arena_;
  std::vector<void*> owned_;                       // new mode: every block
  std::unordered_set<std::string_view> interned_;  // new mode: names
  std::size_t nodes_ = 0;
  std::size_t bytes_ = 0;
  std::size_t allocations_ = 0;
};

}  // namespace spacesc

#endif  // SPACESC_AST_CONTEXT_HPP
