// ---------------------------------------------------------------------------
// passes.cpp: inlining, shape inference and folding, dead code elimination.
//
// Each pass is one sweep over a function's array. Replaced values are
// forwarded through Inst::replacement (operands are resolved as a sweep
// reaches them, which suffices in SSA order) and folded instructions become
// constants in place. An instruction "may fail" when shape inference cannot
// prove its shapes fit; such instructions and prints are never removed or
// reordered (docs/toy-language.md §5.7: errors happen only in code that
// runs, in execution order).
// ---------------------------------------------------------------------------
#include <spacesc/passes.hpp>

#include <spacesc/tensor.hpp>

#include <algorithm>
#include <unordered_set>
#include <vector>

namespace spacesc {
namespace {

using ir::Inst;
using ir::Op;

Inst* resolve(Inst* v) {
  while (v->replacement != nullptr) v = v->replacement;
  return v;
}

bool same_dims(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

/// Whether a reshape of a value of shape `from` to `to` succeeds (docs/toy-language.md §5.6).
bool reshape_fits(std::span<const std::uint64_t> from, std::span<const std::uint64_t> to) {
  if (from.empty()) return true;  // a scalar fills any shape
  std::uint64_t a = 0, b = 0;
  return ir::element_count(from, a) && ir::element_count(to, b) && a == b;
}

bool may_fail(const Inst& i) {
  switch (i.op) {
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
      return !(i.operands[0]->shape_known && i.operands[1]->shape_known &&
               same_dims(i.operands[0]->dims, i.operands[1]->dims));
    case Op::Reshape:
      return !(i.operands[0]->shape_known && reshape_fits(i.operands[0]->dims, i.dims));
    case Op::Call:
      return i.callee->has_effects;
    default:
      return false;
  }
}

bool has_effect(const Inst& i) {
  return i.op == Op::Print || i.op == Op::Return || i.op == Op::Param || may_fail(i);
}

void renumber(ir::Function& f) {
  for (std::size_t k = 0; k < f.body.size(); ++k) f.body[k]->number = static_cast<std::uint32_t>(k);
}

class Pipeline {
 public:
  Pipeline(ir::IrContext& ctx, const PassOptions& options, PassStats& stats)
      : ctx_(ctx), options_(options), stats_(stats) {}

  void run(ir::Module& m) {
    drop_unreachable(m);  // a large program's unused functions cost nothing here
    for (ir::Function* f : m.functions) {
      renumber(*f);
      inline_calls(*f);
      simplify(*f);
      eliminate_dead_code(*f);
      renumber(*f);
    }
    drop_unreachable(m);
  }

 private:
  // ---- Inlining ----

  /// Replaces calls by copies of their callees' (already optimised) bodies
  /// while the function stays within the inline budget.
  void inline_calls(ir::Function& f) {
    std::vector<Inst*> out;
    std::size_t size = f.body.size();
    bool changed = false;
    for (Inst* inst : f.body) {
      for (Inst*& o : inst->operands) o = resolve(o);
      if (!inlinable(*inst, size)) {
        out.push_back(inst);
        continue;
      }
      inline_call(*inst, out);
      size += inst->callee->body.size();
      changed = true;
    }
    if (changed) f.body = ctx_.copy(std::span<Inst* const>(out));
    renumber(f);
  }

  /// Whether `inst` is a call that fits the limits, in a caller of `size`
  /// instructions.
  bool inlinable(const Inst& inst, std::size_t size) const {
    return inst.op == Op::Call && inst.callee->body.size() <= options_.inline_callee_limit &&
           size + inst.callee->body.size() <= options_.inline_budget &&
           grown_ + inst.callee->body.size() <= options_.inline_growth;
  }

  /// Appends a copy of the callee's body, its parameters bound to the
  /// call's operands, to `out`; the call's value becomes the returned one.
  void inline_call(Inst& call, std::vector<Inst*>& out) {
    const ir::Function& g = *call.callee;
    std::vector<Inst*> clone(g.body.size(), nullptr);
    Inst* result = nullptr;
    for (Inst* gi : g.body) {
      if (gi->op == Op::Param) {
        clone[gi->number] = call.operands[gi->index];
        continue;
      }
      if (gi->op == Op::Return) {
        if (!gi->operands.empty()) result = clone[gi->operands[0]->number];
        break;
      }
      Inst* c = copy_inst(*gi, clone);
      clone[gi->number] = c;
      out.push_back(c);
    }
    call.replacement = result;
    grown_ += g.body.size();
    ++stats_.inlined;
  }

  /// A copy of `gi` whose operands are their clones.
  Inst* copy_inst(const Inst& gi, const std::vector<Inst*>& clone) {
    std::vector<Inst*> ops;
    for (Inst* o : gi.operands) ops.push_back(clone[o->number]);
    Inst* c = ctx_.make(gi.op, gi.type, gi.loc, ops);
    c->shape_known = gi.shape_known;
    c->index = gi.index;
    c->dims = gi.dims;
    c->data = gi.data;
    c->callee = gi.callee;
    c->name = gi.name;
    return c;
  }

  // ---- Shape inference and folding ----
  //
  // One forward sweep. Each rewrite below is one function that checks its
  // own pattern and returns whether it applied; simplify() tries an
  // operation's rewrites in order and stops at the first that applies.

  void simplify(ir::Function& f) {
    for (Inst* ip : f.body) {
      Inst& i = *ip;
      for (Inst*& o : i.operands) o = resolve(o);
      switch (i.op) {
        case Op::Add:
        case Op::Sub:
        case Op::Mul:
          if (infer_elementwise(i)) fold_elementwise(i);
          break;
        case Op::Transpose:
          transpose_of_transpose(i) || transpose_of_low_rank(i) || fold_transpose(i) || infer_transpose(i);
          break;
        case Op::Reshape:
          i.shape_known = true;  // if it does not fail, this is its shape
          if (!reshape_proven(i)) break;
          reshape_to_own_shape(i) || fold_reshape(i) || reshape_of_reshape(i);
          break;
        case Op::Field:
          field_of_struct(i);
          break;
        default:
          break;
      }
    }
    compact(f);
  }

  void replace(Inst& i, Inst* with) {
    i.replacement = with;
    i.dead = true;
    ++stats_.folded;
  }

  /// Turns `i` into a constant of shape `dims` holding `data`.
  void make_constant(Inst& i, std::span<const std::uint64_t> dims, std::span<const double> data) {
    i.op = Op::Const;
    i.operands = {};
    i.dims = ctx_.copy(dims);
    i.data = ctx_.copy(data);
    i.shape_known = true;
    ++stats_.folded;
  }

  /// Whether a constant of shape `dims` may be made. Every fold makes a new
  /// constant that lives as long as the IR, even from operands as large
  /// (a big literal added to itself N times would hold N copies), so the
  /// limit bounds compile-time memory for every fold, not only reshapes.
  bool foldable(std::span<const std::uint64_t> dims) const {
    std::uint64_t n = 0;
    return ir::element_count(dims, n) && n <= options_.fold_limit;
  }

  /// a OP b with operands of one known shape: the result has that shape.
  bool infer_elementwise(Inst& i) {
    const Inst& a = *i.operands[0];
    const Inst& b = *i.operands[1];
    if (!(a.shape_known && b.shape_known && same_dims(a.dims, b.dims))) return false;
    i.shape_known = true;
    i.dims = a.dims;
    return true;
  }

  /// const OP const (of one shape) is a constant, if it is small enough to
  /// fold.
  bool fold_elementwise(Inst& i) {
    const Inst& a = *i.operands[0];
    const Inst& b = *i.operands[1];
    if (a.op != Op::Const || b.op != Op::Const || !foldable(a.dims)) return false;
    scratch_.assign(a.data.size(), 0.0);
    const ElementOp e = i.op == Op::Add ? ElementOp::Add : i.op == Op::Sub ? ElementOp::Sub : ElementOp::Mul;
    elementwise(e, a.data, b.data, scratch_);
    make_constant(i, a.dims, scratch_);
    return true;
  }

  /// transpose(transpose(y)) is y.
  bool transpose_of_transpose(Inst& i) {
    Inst& x = *i.operands[0];
    if (x.op != Op::Transpose) return false;
    replace(i, x.operands[0]);
    return true;
  }

  /// A rank-0 or rank-1 value is its own transpose.
  bool transpose_of_low_rank(Inst& i) {
    Inst& x = *i.operands[0];
    if (!x.shape_known || x.dims.size() >= 2) return false;
    replace(i, &x);
    return true;
  }

  /// transpose(const) is a constant, if it is small enough to fold (rank 2
  /// and up: transpose_of_low_rank took the others).
  bool fold_transpose(Inst& i) {
    const Inst& x = *i.operands[0];
    if (!x.shape_known || x.op != Op::Const || !foldable(x.dims)) return false;
    const std::vector<std::uint64_t> dims(x.dims.rbegin(), x.dims.rend());
    scratch_.assign(x.data.size(), 0.0);
    transpose_into(x.dims, x.data, scratch_);
    make_constant(i, dims, scratch_);
    return true;
  }

  /// transpose(x) of a known shape has the reversed shape.
  bool infer_transpose(Inst& i) {
    const Inst& x = *i.operands[0];
    if (!x.shape_known) return false;
    const std::vector<std::uint64_t> dims(x.dims.rbegin(), x.dims.rend());
    i.dims = ctx_.copy(std::span<const std::uint64_t>(dims));
    i.shape_known = true;
    return true;
  }

  /// Whether the reshape's operand has a known shape that fits: the
  /// rewrites below apply only then.
  static bool reshape_proven(const Inst& i) {
    const Inst& x = *i.operands[0];
    return x.shape_known && reshape_fits(x.dims, i.dims);
  }

  /// A reshape to the operand's own shape is the operand.
  bool reshape_to_own_shape(Inst& i) {
    Inst& x = *i.operands[0];
    if (!same_dims(x.dims, i.dims)) return false;
    replace(i, &x);
    return true;
  }

  /// reshape(const) is a constant, if it is small enough to fold; a
  /// scalar fills the shape.
  bool fold_reshape(Inst& i) {
    const Inst& x = *i.operands[0];
    if (x.op != Op::Const || !foldable(i.dims)) return false;
    std::uint64_t n = 0;
    ir::element_count(i.dims, n);
    if (x.dims.empty())
      scratch_.assign(n, x.data[0]);
    else
      scratch_.assign(x.data.begin(), x.data.end());
    make_constant(i, i.dims, scratch_);
    return true;
  }

  /// reshape(reshape(y)) is reshape(y) when both fit.
  bool reshape_of_reshape(Inst& i) {
    const Inst& x = *i.operands[0];
    if (x.op != Op::Reshape || !x.operands[0]->shape_known || !reshape_fits(x.operands[0]->dims, x.dims)) return false;
    i.operands[0] = x.operands[0];
    ++stats_.folded;
    return true;
  }

  /// field(struct {..., m, ...}) is m.
  bool field_of_struct(Inst& i) {
    const Inst& s = *i.operands[0];
    if (s.op != Op::MakeStruct) return false;
    replace(i, s.operands[i.index]);
    return true;
  }

  /// Rebuilds the array without dead instructions.
  void compact(ir::Function& f) {
    std::vector<Inst*> out;
    out.reserve(f.body.size());
    for (Inst* i : f.body)
      if (!i->dead) out.push_back(i);
    if (out.size() != f.body.size()) f.body = ctx_.copy(std::span<Inst* const>(out));
    renumber(f);
  }

  // ---- Dead code ----

  /// Removes values nothing needs: a backward sweep marks what effects
  /// (prints, returns, operations that may fail) use, transitively.
  void eliminate_dead_code(ir::Function& f) {
    renumber(f);
    std::vector<bool> needed(f.body.size(), false);
    bool effects = false;
    for (std::size_t k = f.body.size(); k-- > 0;) {
      Inst& i = *f.body[k];
      if (has_effect(i)) {
        needed[k] = true;
        if (i.op != Op::Return && i.op != Op::Param) effects = true;
      }
      if (!needed[k]) {
        i.dead = true;
        ++stats_.removed;
        continue;
      }
      for (Inst* o : i.operands) needed[o->number] = true;
    }
    f.has_effects = effects;
    compact(f);
  }

  /// Keeps the functions main still calls (all of them if there is no main).
  void drop_unreachable(ir::Module& m) {
    if (m.main == nullptr) return;
    std::unordered_set<const ir::Function*> reached{m.main};
    std::vector<const ir::Function*> work{m.main};
    while (!work.empty()) {
      const ir::Function* f = work.back();
      work.pop_back();
      for (const Inst* i : f->body)
        if (i->op == Op::Call && reached.insert(i->callee).second) work.push_back(i->callee);
    }
    std::vector<ir::Function*> kept;
    for (ir::Function* f : m.functions)
      if (reached.count(f) != 0) kept.push_back(f);
    m.functions = ctx_.copy(std::span<ir::Function* const>(kept));
  }

  ir::IrContext& ctx_;
  const PassOptions& options_;
  PassStats& stats_;
  std::size_t grown_ = 0;       // instructions added by inlining so far
  std::vector<double> scratch_;  // elements of the constant being folded
};

}  // namespace

void run_passes(ir::Module& module, ir::IrContext& ctx, const PassOptions& options, PassStats* stats) {
  PassStats local;
  Pipeline(ctx, options, stats != nullptr ? *stats : local).run(module);
}

}  // namespace spacesc
