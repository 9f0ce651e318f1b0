// ---------------------------------------------------------------------------
// ir.cpp: IrContext, the arena that holds a unit's IR.
// ---------------------------------------------------------------------------
#include <spacesc/ir.hpp>

namespace spacesc::ir {

bool element_count(std::span<const std::uint64_t> dims, std::uint64_t& count) noexcept {
  std::uint64_t n = 1;
  for (std::uint64_t d : dims) {
    if (d != 0 && n > UINT64_MAX / d) return false;
    n *= d;
  }
  count = n;
  return true;
}

IrContext::IrContext(const spaces::Heap* parent) {
  spaces::HeapOptions options;
  options.name("ir");
  if (parent != nullptr) options.parent(*parent);
  arena_ = std::make_unique<spaces::TrivialArena>(options);
}

Inst* IrContext::make(Op op, Type type, SourceLoc loc, std::span<Inst* const> operands) {
  Inst* inst = arena_->make<Inst>();
  inst->op = op;
  inst->type = type;
  inst->loc = loc;
  inst->operands = arena_->make_array<Inst*>(operands);
  ++insts_;
  return inst;
}

}  // namespace spacesc::ir
