// ---------------------------------------------------------------------------
// interp.cpp: the IR interpreter.
//
// A value is one heap block: a header, then the dims and elements of a
// tensor, or the member pointers of a struct. Blocks are reference counted
// because transposes of rank 0 and 1 and struct members share them. Each
// function gets a release plan the first time it runs: after instruction k
// the values whose last use is k are released, which keeps long straight-
// line programs at the memory of their live values. On any exit the value
// heap is destroyed whole, so an error needs no unwinding.
// ---------------------------------------------------------------------------
#include <spacesc/interp.hpp>

#include <spacesc/tensor.hpp>

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace spacesc {
namespace {

using ir::Inst;
using ir::Op;

/// A tensor or struct value in the value heap.
struct Value {
  std::uint32_t refs;
  bool is_struct;
  std::uint32_t rank;    // tensor: number of dims; struct: number of members
  std::uint64_t size;    // tensor: number of elements

  std::uint64_t* dims() noexcept { return reinterpret_cast<std::uint64_t*>(this + 1); }
  double* data() noexcept { return reinterpret_cast<double*>(dims() + rank); }
  Value** members() noexcept { return reinterpret_cast<Value**>(this + 1); }
  std::span<const std::uint64_t> shape() noexcept { return {dims(), rank}; }
  std::span<double> elements() noexcept { return {data(), size}; }
};
static_assert(sizeof(Value) % alignof(double) == 0, "dims and data follow the header");

class ValueHeap {
 public:
  explicit ValueHeap(const spaces::Heap* parent)
      : heap_(make_options(parent)) {}

  /// A tensor of shape `dims` with uninitialised elements.
  Value* tensor(std::span<const std::uint64_t> dims) {
    std::uint64_t n = 0;
    if (!ir::element_count(dims, n) || n > (UINT64_MAX - sizeof(Value)) / 16) throw std::bad_alloc();
    auto* v = static_cast<Value*>(heap_.allocate(sizeof(Value) + dims.size() * 8 + n * sizeof(double)));
    v->refs = 1;
    v->is_struct = false;
    v->rank = static_cast<std::uint32_t>(dims.size());
    v->size = n;
    std::copy(dims.begin(), dims.end(), v->dims());
    return v;
  }

  Value* structure(std::span<Value* const> members) {
    auto* v = static_cast<Value*>(heap_.allocate(sizeof(Value) + members.size() * sizeof(Value*)));
    v->refs = 1;
    v->is_struct = true;
    v->rank = static_cast<std::uint32_t>(members.size());
    v->size = 0;
    for (std::size_t k = 0; k < members.size(); ++k) v->members()[k] = retain(members[k]);
    return v;
  }

  static Value* retain(Value* v) noexcept {
    if (v != nullptr) ++v->refs;
    return v;
  }

  /// Drops a reference; frees the value, and its members, when it was the
  /// last one. Iterative: struct nesting may be deep.
  void release(Value* v) noexcept {
    if (v == nullptr || --v->refs != 0) return;
    pending_.push_back(v);
    while (!pending_.empty()) {
      Value* x = pending_.back();
      pending_.pop_back();
      if (x->is_struct)
        for (std::uint32_t k = 0; k < x->rank; ++k)
          if (Value* m = x->members()[k]; m != nullptr && --m->refs == 0) pending_.push_back(m);
      spaces::Heap::deallocate(x);
    }
  }

  spaces::Stats stats() const noexcept { return heap_.stats(); }

 private:
  static spaces::HeapOptions make_options(const spaces::Heap* parent) {
    spaces::HeapOptions o;
    o.name("values").single_threaded().tiny();
    if (parent != nullptr) o.parent(*parent);
    return o;
  }
  spaces::Heap heap_;
  std::vector<Value*> pending_;
};

/// Which values each instruction of a function uses for the last time.
struct ReleasePlan {
  std::vector<std::uint32_t> start;   // values released after k: ids[start[k] .. start[k+1])
  std::vector<std::uint32_t> ids;
};

ReleasePlan plan_releases(const ir::Function& f) {
  const std::size_t n = f.body.size();
  std::vector<std::uint32_t> last(n);
  for (std::uint32_t k = 0; k < n; ++k) last[k] = k;  // an unused value dies where it is made
  for (std::uint32_t k = 0; k < n; ++k)
    for (const Inst* o : f.body[k]->operands) last[o->number] = k;
  ReleasePlan plan;
  plan.start.assign(n + 1, 0);
  for (std::uint32_t v = 0; v < n; ++v) ++plan.start[last[v] + 1];
  for (std::size_t k = 0; k < n; ++k) plan.start[k + 1] += plan.start[k];
  plan.ids.resize(n);
  std::vector<std::uint32_t> fill(plan.start.begin(), plan.start.end() - 1);
  for (std::uint32_t v = 0; v < n; ++v) plan.ids[fill[last[v]]++] = v;
  return plan;
}

class Interpreter {
 public:
  Interpreter(const spaces::Heap* parent, DiagEngine& diags, std::string& out, RunStats& stats)
      : values_(parent), diags_(diags), out_(out), stats_(stats) {}

  bool run(const ir::Function& main) {
    push(main, {});
    while (!frames_.empty()) {
      Frame& f = frames_.back();
      const Inst& i = *f.fn->body[f.pc];
      ++stats_.instructions;
      if (i.op == Op::Call) {
        std::vector<Value*> args;
        for (const Inst* o : i.operands) args.push_back(f.regs[o->number]);
        ++stats_.calls;
        push(*i.callee, args);  // `f` dangles from here on
        continue;
      }
      if (i.op == Op::Return) {
        Value* result = i.operands.empty() ? nullptr : ValueHeap::retain(f.regs[i.operands[0]->number]);
        for (Value* v : f.regs) values_.release(v);
        frames_.pop_back();
        if (frames_.empty()) {
          values_.release(result);
          break;
        }
        Frame& caller = frames_.back();
        caller.regs[caller.pc] = result;
        finish(caller);
        continue;
      }
      Value* v = nullptr;
      if (!execute(i, f, v)) return false;
      f.regs[f.pc] = v;
      finish(f);
    }
    stats_.heap = values_.stats();
    return true;
  }

 private:
  struct Frame {
    const ir::Function* fn;
    const ReleasePlan* plan;
    std::vector<Value*> regs;
    std::size_t pc;
  };

  void push(const ir::Function& fn, std::span<Value* const> args) {
    auto it = plans_.find(&fn);
    if (it == plans_.end()) it = plans_.emplace(&fn, plan_releases(fn)).first;
    Frame f{&fn, &it->second, std::vector<Value*>(fn.body.size(), nullptr), 0};
    for (const Inst* i : fn.body)
      if (i->op == Op::Param) f.regs[i->number] = ValueHeap::retain(args[i->index]);
    frames_.push_back(std::move(f));
  }

  /// Releases the values whose last use was the current instruction and
  /// moves to the next one.
  void finish(Frame& f) {
    const ReleasePlan& p = *f.plan;
    for (std::uint32_t k = p.start[f.pc]; k < p.start[f.pc + 1]; ++k) {
      values_.release(f.regs[p.ids[k]]);
      f.regs[p.ids[k]] = nullptr;
    }
    ++f.pc;
  }

  /// Runs one instruction other than a call or a return, leaving its value
  /// in `result`; false after reporting an evaluation error. A dispatch
  /// over the opcodes; each has its own function below.
  bool execute(const Inst& i, Frame& f, Value*& result) {
    switch (i.op) {
      case Op::Param:  // bound by push()
        result = f.regs[i.number];
        return true;
      case Op::Const:
        result = constant(i);
        return true;
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
        return arithmetic(i, operand(i, f, 0), operand(i, f, 1), result);
      case Op::Transpose:
        result = transpose(operand(i, f, 0));
        return true;
      case Op::Reshape:
        return reshape(i, operand(i, f, 0), result);
      case Op::MakeStruct:
        result = make_struct(i, f);
        return true;
      case Op::Field:
        result = ValueHeap::retain(operand(i, f, 0)->members()[i.index]);
        return true;
      case Op::Print:
        format_tensor(operand(i, f, 0)->shape(), operand(i, f, 0)->elements(), out_);
        return true;
      default:
        return true;
    }
  }

  /// The value of operand `k` of `i` in frame `f`.
  static Value* operand(const Inst& i, const Frame& f, std::size_t k) { return f.regs[i.operands[k]->number]; }

  Value* constant(const Inst& i) {
    Value* v = values_.tensor(i.dims);
    std::copy(i.data.begin(), i.data.end(), v->data());
    return v;
  }

  /// a + b, a - b, a * b: operands of one shape (docs/toy-language.md §5.4).
  bool arithmetic(const Inst& i, Value* a, Value* b, Value*& result) {
    if (!std::equal(a->shape().begin(), a->shape().end(), b->shape().begin(), b->shape().end())) {
      const char op = i.op == Op::Add ? '+' : i.op == Op::Sub ? '-' : '*';
      diags_.error(i.loc, std::string("shape mismatch for '") + op + "': " + shape_text(a->shape()) + " and " +
                              shape_text(b->shape()));
      return false;
    }
    result = values_.tensor(a->shape());
    const ElementOp e = i.op == Op::Add ? ElementOp::Add : i.op == Op::Sub ? ElementOp::Sub : ElementOp::Mul;
    elementwise(e, a->elements(), b->elements(), result->elements());
    return true;
  }

  /// Rank 0 and 1 are shared, not copied (docs/toy-language.md §5.5).
  Value* transpose(Value* x) {
    if (x->rank < 2) return ValueHeap::retain(x);
    std::vector<std::uint64_t> dims(x->shape().rbegin(), x->shape().rend());
    Value* v = values_.tensor(dims);
    transpose_into(x->shape(), x->elements(), v->elements());
    return v;
  }

  /// To the declared shape: a scalar fills it, anything else must have its
  /// element count (docs/toy-language.md §5.6).
  bool reshape(const Inst& i, Value* x, Value*& result) {
    std::uint64_t n = 0;
    const bool counted = ir::element_count(i.dims, n);
    if (x->rank != 0 && (!counted || n != x->size)) {
      diags_.error(i.loc, "cannot reshape " + shape_text(x->shape()) + " (" + std::to_string(x->size) + " element" +
                              (x->size == 1 ? "" : "s") + ") to " + shape_text(i.dims));
      return false;
    }
    result = values_.tensor(i.dims);
    if (x->rank == 0)
      std::fill_n(result->data(), result->size, x->data()[0]);
    else
      std::copy_n(x->data(), x->size, result->data());
    return true;
  }

  Value* make_struct(const Inst& i, const Frame& f) {
    std::vector<Value*> members;
    for (const Inst* o : i.operands) members.push_back(f.regs[o->number]);
    return values_.structure(members);
  }

  ValueHeap values_;
  DiagEngine& diags_;
  std::string& out_;
  RunStats& stats_;
  std::vector<Frame> frames_;
  std::unordered_map<const ir::Function*, ReleasePlan> plans_;
};

}  // namespace

bool run_module(const ir::Module& module, const spaces::Heap* parent, DiagEngine& diags, std::string& out,
                RunStats* stats) {
  RunStats local;
  return Interpreter(parent, diags, out, stats != nullptr ? *stats : local).run(*module.main);
}

}  // namespace spacesc
