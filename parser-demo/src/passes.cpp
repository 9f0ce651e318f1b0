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
      if (inst->op != Op::Call || inst->callee->body.size() > options_.inline_callee_limit ||
          size + inst->callee->body.size() > options_.inline_budget ||
          grown_ + inst->callee->body.size() > options_.inline_growth) {
        out.push_back(inst);
        continue;
      }
      const ir::Function& g = *inst->callee;
      std::vector<Inst*> clone(g.body.size(), nullptr);
      Inst* result = nullptr;
      for (Inst* gi : g.body) {
        if (gi->op == Op::Param) {
          clone[gi->number] = inst->operands[gi->index];
          continue;
        }
        if (gi->op == Op::Return) {
          if (!gi->operands.empty()) result = clone[gi->operands[0]->number];
          break;
        }
        std::vector<Inst*> ops;
        for (Inst* o : gi->operands) ops.push_back(clone[o->number]);
        Inst* c = ctx_.make(gi->op, gi->type, gi->loc, ops);
        c->shape_known = gi->shape_known;
        c->index = gi->index;
        c->dims = gi->dims;
        c->data = gi->data;
        c->callee = gi->callee;
        c->name = gi->name;
        clone[gi->number] = c;
        out.push_back(c);
      }
      inst->replacement = result;
      size += g.body.size();
      grown_ += g.body.size();
      ++stats_.inlined;
      changed = true;
    }
    if (changed) f.body = ctx_.copy(std::span<Inst* const>(out));
    renumber(f);
  }

  // ---- Shape inference and folding ----

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

  bool foldable(std::span<const std::uint64_t> dims) const {
    std::uint64_t n = 0;
    return ir::element_count(dims, n) && n <= options_.fold_limit;
  }

  void simplify(ir::Function& f) {
    std::vector<double> scratch;
    for (Inst* ip : f.body) {
      Inst& i = *ip;
      for (Inst*& o : i.operands) o = resolve(o);
      switch (i.op) {
        case Op::Add:
        case Op::Sub:
        case Op::Mul: {
          const Inst& a = *i.operands[0];
          const Inst& b = *i.operands[1];
          if (!(a.shape_known && b.shape_known && same_dims(a.dims, b.dims))) break;
          i.shape_known = true;
          i.dims = a.dims;
          if (a.op == Op::Const && b.op == Op::Const) {
            scratch.assign(a.data.size(), 0.0);
            const ElementOp e = i.op == Op::Add ? ElementOp::Add : i.op == Op::Sub ? ElementOp::Sub : ElementOp::Mul;
            elementwise(e, a.data, b.data, scratch);
            make_constant(i, a.dims, scratch);
          }
          break;
        }
        case Op::Transpose: {
          Inst& x = *i.operands[0];
          if (x.op == Op::Transpose) {  // transpose(transpose(y)) is y
            replace(i, x.operands[0]);
            break;
          }
          if (!x.shape_known) break;
          if (x.dims.size() < 2) {  // rank 0 and 1 are their own transpose
            replace(i, &x);
            break;
          }
          std::vector<std::uint64_t> dims(x.dims.rbegin(), x.dims.rend());
          if (x.op == Op::Const) {
            scratch.assign(x.data.size(), 0.0);
            transpose_into(x.dims, x.data, scratch);
            make_constant(i, dims, scratch);
          } else {
            i.dims = ctx_.copy(std::span<const std::uint64_t>(dims));
            i.shape_known = true;
          }
          break;
        }
        case Op::Reshape: {
          i.shape_known = true;  // if it does not fail, this is its shape
          Inst& x = *i.operands[0];
          if (!x.shape_known || !reshape_fits(x.dims, i.dims)) break;
          if (same_dims(x.dims, i.dims)) {
            replace(i, &x);
          } else if (x.op == Op::Const && foldable(i.dims)) {
            std::uint64_t n = 0;
            ir::element_count(i.dims, n);
            if (x.dims.empty())
              scratch.assign(n, x.data[0]);
            else
              scratch.assign(x.data.begin(), x.data.end());
            make_constant(i, i.dims, scratch);
          } else if (x.op == Op::Reshape && x.operands[0]->shape_known &&
                     reshape_fits(x.operands[0]->dims, x.dims)) {
            i.operands[0] = x.operands[0];  // reshape(reshape(y)) is reshape(y) when both fit
            ++stats_.folded;
          }
          break;
        }
        case Op::Field: {
          Inst& s = *i.operands[0];
          if (s.op == Op::MakeStruct) {
            replace(i, s.operands[i.index]);
            break;
          }
          break;
        }
        default:
          break;
      }
    }
    compact(f);
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
  std::size_t grown_ = 0;  // instructions added by inlining so far
};

}  // namespace

void run_passes(ir::Module& module, ir::IrContext& ctx, const PassOptions& options, PassStats* stats) {
  PassStats local;
  Pipeline(ctx, options, stats != nullptr ? *stats : local).run(module);
}

}  // namespace spacesc
