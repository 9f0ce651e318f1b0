// ---------------------------------------------------------------------------
// ir.hpp: the IR that lowering produces, passes rewrite and the
// interpreter runs.
//
// A function is a straight-line list of instructions in SSA form (Toy has
// no control flow): each instruction is defined once, before its uses, and
// names its operands by pointer. Instructions carry a static shape when
// shape inference knows it, and the source location where an evaluation
// error of theirs is reported. Everything lives in the unit's IR arena
// (IrContext), which outlives the AST: names are copied into it.
//
// Trade-off: passes do not edit lists in place; they mark replaced or dead
// instructions and rebuild each function's array once per pass, which keeps
// every pass a single forward or backward sweep.
// ---------------------------------------------------------------------------
#ifndef SPACESC_IR_HPP
#define SPACESC_IR_HPP

#include <spacesc/source.hpp>

#include <spaces/spaces.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace spacesc::ir {

/// Instruction opcodes. The text form is in docs/spacesc.md.
enum class Op : std::uint8_t {
  Param,       ///< the index-th parameter of the function
  Const,       ///< a tensor constant: dims and data
  Add,         ///< element-wise +, operands of identical shape
  Sub,         ///< element-wise -
  Mul,         ///< element-wise *
  Transpose,   ///< reverses the dimensions
  Reshape,     ///< to `dims`: same element count, or a scalar broadcast
  MakeStruct,  ///< a struct value from its members
  Field,       ///< member `index` of a struct value
  Call,        ///< calls `callee` with the operands
  Print,       ///< prints a tensor (docs/toy-language.md §6)
  Return,      ///< returns the operand if any; ends the function
};

/// What an instruction produces.
enum class Type : std::uint8_t { None, Tensor, Struct };

struct Function;

/// One instruction. Trivially destructible; made only by IrContext.
struct Inst {
  Op op;
  Type type;
  bool shape_known = false;  ///< `dims` is this value's static shape
  bool dead = false;         ///< removed by a pass; skipped when arrays are rebuilt
  std::uint32_t index = 0;   ///< Param: parameter index; Field: member index; else 0
  std::uint32_t number = 0;  ///< position in its function (the %N of the text form)
  SourceLoc loc;             ///< where this instruction's evaluation error is reported
  std::span<Inst*> operands;
  std::span<const std::uint64_t> dims;  ///< Const and Reshape: their shape; else the inferred one
  std::span<const double> data;         ///< Const: the elements in row-major order
  Function* callee = nullptr;           ///< Call
  std::string_view name;                ///< MakeStruct: the struct; Field: the member
  Inst* replacement = nullptr;          ///< set by a pass that replaced this value
};

/// One function: parameters first (Param instructions), a Return last.
struct Function {
  std::string_view name;
  bool has_effects = true;  ///< prints or may fail, itself or through calls (set by passes)
  std::span<Inst*> body;
};

/// The IR of a unit. `functions` are in definition order (callees first).
struct Module {
  std::span<Function*> functions;
  Function* main = nullptr;
};

/// Number of elements of a shape; false if it overflows 64 bits.
bool element_count(std::span<const std::uint64_t> dims, std::uint64_t& count) noexcept;

/// Owns the IR of one unit in a region heap under the unit's heap; the
/// heap is destroyed with the context, O(slabs). Owner thread only.
class IrContext {
 public:
  explicit IrContext(const spaces::Heap* parent);

  /// A new instruction with copies of `operands`.
  Inst* make(Op op, Type type, SourceLoc loc, std::span<Inst* const> operands);

  /// A copy of `items` in the IR arena.
  template <class T>
  std::span<T> copy(std::span<const T> items) {
    static_assert(std::is_trivially_copyable_v<T>, "IR arrays are copied bytewise");
    return arena_->make_array<T>(items);
  }
  std::string_view copy(std::string_view s) { return arena_->copy(s); }
  Function* make_function() { return arena_->make<Function>(); }

  std::size_t inst_count() const noexcept { return insts_; }
  spaces::Stats heap_stats() const noexcept { return arena_->stats(); }

 private:
  std::unique_ptr<spaces::TrivialArena> arena_;
  std::size_t insts_ = 0;
};

/// Appends the text form of `module` (docs/spacesc.md) to `out`.
void print_module(const Module& module, std::string& out);

}  // namespace spacesc::ir

#endif  // SPACESC_IR_HPP
