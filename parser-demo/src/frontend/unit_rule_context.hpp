// ---------------------------------------------------------------------------
// unit_rule_context.hpp: where the Toy parser's rule contexts live.
//
// Toy.g4 names UnitRuleContext as its contextSuperClass, so every rule
// context the generated parser makes (ParseTreeTracker::createInstance, a
// plain `new`) gets its memory from UnitRuleContext::operator new: from the
// heap the calling thread installed with ParseTreeScope (unit_parser.cpp
// installs a general heap under the unit's heap in --alloc=arena, so
// --mem-cap counts contexts), or from the global allocator (--alloc=new, or
// no scope). UnitTerminalNode does the same for the terminal nodes that
// UnitToyParser::consume makes (unit_toy_parser.hpp). Deletion checks which
// allocator owns the block, so it is right whatever is installed then.
//
// Included by the generated ToyParser.h and by the files of src/frontend/:
// no other file of spacesc sees ANTLR.
// ---------------------------------------------------------------------------
#ifndef SPACESC_UNIT_RULE_CONTEXT_HPP
#define SPACESC_UNIT_RULE_CONTEXT_HPP

#include <antlr4-runtime.h>

#include <spaces/heap.hpp>

#include <cstddef>
#include <new>

namespace spacesc {

namespace detail {

/// The general heap the calling thread's parse-tree objects go to while a
/// parse runs (ParseTreeScope); nullptr: the global allocator. A
/// thread-local because operator new is static. Each unit parses on one
/// thread.
inline constinit thread_local spaces::Heap* tls_parse_tree_heap = nullptr;

inline void* parse_tree_allocate(std::size_t n) {
  spaces::Heap* heap = tls_parse_tree_heap;
  return heap != nullptr ? heap->allocate(n) : ::operator new(n);
}

/// Frees a block from parse_tree_allocate, whichever way it was made: a
/// block spaces owns goes back to its heap (spaces_free takes a block of
/// any heap), anything else to the global allocator.
inline void parse_tree_deallocate(void* p) noexcept {
  if (spaces_owns(p) != 0)
    spaces::Heap::deallocate(p);
  else
    ::operator delete(p);
}

}  // namespace detail

/// Makes `heap` (nullptr: the global allocator) the calling thread's heap
/// for parse-tree objects for the scope's lifetime.
class ParseTreeScope {
 public:
  explicit ParseTreeScope(spaces::Heap* heap) noexcept : previous_(detail::tls_parse_tree_heap) {
    detail::tls_parse_tree_heap = heap;
  }
  ~ParseTreeScope() { detail::tls_parse_tree_heap = previous_; }
  ParseTreeScope(const ParseTreeScope&) = delete;
  ParseTreeScope& operator=(const ParseTreeScope&) = delete;

 private:
  spaces::Heap* previous_;
};

/// The base of every rule context of the Toy parser (Toy.g4's
/// contextSuperClass). Deleted through ParseTree* by the tracker: the
/// virtual destructor finds this operator delete.
class UnitRuleContext : public antlr4::ParserRuleContext {
 public:
  using antlr4::ParserRuleContext::ParserRuleContext;
  UnitRuleContext() = default;

  static void* operator new(std::size_t n) { return detail::parse_tree_allocate(n); }
  static void operator delete(void* p) noexcept { detail::parse_tree_deallocate(p); }
};

/// A terminal node placed like the rule contexts.
class UnitTerminalNode final : public antlr4::tree::TerminalNodeImpl {
 public:
  using antlr4::tree::TerminalNodeImpl::TerminalNodeImpl;

  static void* operator new(std::size_t n) { return detail::parse_tree_allocate(n); }
  static void operator delete(void* p) noexcept { detail::parse_tree_deallocate(p); }
};

}  // namespace spacesc

#endif  // SPACESC_UNIT_RULE_CONTEXT_HPP
