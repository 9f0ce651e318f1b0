// ---------------------------------------------------------------------------
// casting.hpp: isa<>, cast<> and dyn_cast<> over a classof() hierarchy.
//
// The minimum of llvm/Support/Casting.h that the AST and the IR need: a type
// opts in with `static bool classof(const Base*)`, and a kind field makes
// every test one compare, with no RTTI and no vtable in the nodes.
// ---------------------------------------------------------------------------
#ifndef SPACESC_CASTING_HPP
#define SPACESC_CASTING_HPP

#include <cassert>
#include <type_traits>

namespace spacesc {

/// Whether `node` (non-null) is a To.
template <class To, class From>
bool isa(const From* node) noexcept {
  return To::classof(node);
}

/// `node` as a To; `node` must be one (checked in debug builds).
template <class To, class From>
auto cast(From* node) noexcept {
  assert(node != nullptr && To::classof(node));
  using Result = std::conditional_t<std::is_const_v<From>, const To*, To*>;
  return static_cast<Result>(node);
}

/// `node` as a To, or nullptr if it is not one (or is null).
template <class To, class From>
auto dyn_cast(From* node) noexcept {
  using Result = std::conditional_t<std::is_const_v<From>, const To*, To*>;
  return node != nullptr && To::classof(node) ? static_cast<Result>(node) : nullptr;
}

}  // namespace spacesc

#endif  // SPACESC_CASTING_HPP
