// ---------------------------------------------------------------------------
// ast.cpp: AstContext's two memory disciplines and their teardown.
//
// New mode keeps a vector of every block it handed out; teardown walks it
// and calls ::operator delete on each, which is exactly the per-node cost an
// AST of `new`ed nodes pays (the vector adds 8 bytes per block).
// ---------------------------------------------------------------------------
#include <spacesc/ast_context.hpp>

#include <cassert>

namespace spacesc {

AstContext::AstContext(AllocMode mode, const spaces::Heap* parent) : mode_(mode) {
  if (mode_ == AllocMode::Arena) {
    spaces::HeapOptions options;
    options.name("ast");
    if (parent != nullptr) options.parent(*parent);
    arena_ = std::make_unique<spaces::TrivialArena>(options);
  }
}

void* AstContext::allocate_new(std::size_t n, std::size_t align) {
  assert(align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__ && "AST nodes are never over-aligned");
  (void)align;
  // Grow first, so that push_back cannot throw once the block is allocated.
  if (owned_.size() == owned_.capacity()) owned_.reserve(2 * owned_.size() + 64);
  void* p = ::operator new(n);
  owned_.push_back(p);
  return p;
}

std::string_view AstContext::intern(std::string_view name) {
  if (arena_ != nullptr) return arena_->intern(name);
  auto it = interned_.find(name);
  if (it != interned_.end()) return *it;
  char* p = static_cast<char*>(allocate(name.size() + 1, 1));
  if (!name.empty()) std::memcpy(p, name.data(), name.size());
  p[name.size()] = '\0';
  return *interned_.insert(std::string_view(p, name.size())).first;
}

void AstContext::teardown() noexcept {
  arena_.reset();
  for (void* p : owned_) ::operator delete(p);
  owned_.clear();
  owned_.shrink_to_fit();
  interned_.clear();
}

spaces::Stats AstContext::heap_stats() const noexcept {
  return arena_ != nullptr ? arena_->stats() : spaces::Stats{};
}

}  // namespace spacesc
