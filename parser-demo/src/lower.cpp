// ---------------------------------------------------------------------------
// lower.cpp: AST to IR, one function at a time, in definition order.
//
// Only main and the functions it reaches are lowered (a worklist, not
// recursion: call chains may be long). Each variable maps to the
// instruction that defines it (SSA needs no more: a Toy variable is bound
// once). A shaped `var` becomes a Reshape
// located at its `var`; `+ - *` become Add/Sub/Mul located at the
// operator; struct literals become MakeStruct trees of constants. Operator
// chains are lowered in a loop, like sema walks them.
// ---------------------------------------------------------------------------
#include <spacesc/lower.hpp>

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spacesc {
namespace {

ir::Type type_of(ValueKind k) {
  switch (k) {
    case ValueKind::Tensor:
      return ir::Type::Tensor;
    case ValueKind::Struct:
      return ir::Type::Struct;
    default:
      return ir::Type::None;
  }
}

class Lowering {
 public:
  explicit Lowering(ir::IrContext& ctx) : ctx_(ctx) {}

  /// Lowers main and, through a worklist, every function it reaches; the
  /// result lists them in definition order (callees first).
  ir::Module run(const ModuleDecl& module) {
    std::unordered_map<const FunctionDecl*, std::size_t> order;
    const FunctionDecl* main = nullptr;
    for (const Node* d : module.decls()) {
      const auto* f = dyn_cast<FunctionDecl>(d);
      if (f == nullptr) continue;
      order.emplace(f, order.size());
      if (f->name() == "main" && main == nullptr) main = f;
    }
    ir::Module m;
    if (main == nullptr) return m;
    m.main = shell(*main);
    while (!work_.empty()) {
      const FunctionDecl* f = work_.back();
      work_.pop_back();
      function(*f, *functions_.at(f));
    }
    std::vector<std::pair<std::size_t, ir::Function*>> sorted;
    for (const auto& [decl, fn] : functions_) sorted.emplace_back(order.at(decl), fn);
    std::sort(sorted.begin(), sorted.end());
    std::vector<ir::Function*> functions;
    for (const auto& entry : sorted) functions.push_back(entry.second);
    m.functions = ctx_.copy(std::span<ir::Function* const>(functions));
    return m;
  }

 private:
  /// The IR function of `f`, queued for lowering the first time it is named.
  ir::Function* shell(const FunctionDecl& f) {
    auto it = functions_.find(&f);
    if (it != functions_.end()) return it->second;
    ir::Function* fn = ctx_.make_function();
    fn->name = ctx_.copy(f.name());
    functions_.emplace(&f, fn);
    work_.push_back(&f);
    return fn;
  }

  void function(const FunctionDecl& f, ir::Function& function) {
    ir::Function* fn = &function;
    body_.clear();
    vars_.clear();
    for (std::size_t i = 0; i < f.params().size(); ++i) {
      const bool is_struct = !f.params()[i].type_name.empty();
      ir::Inst* p = emit(ir::Op::Param, is_struct ? ir::Type::Struct : ir::Type::Tensor, f.params()[i].loc, {});
      p->index = static_cast<std::uint32_t>(i);
      vars_[f.params()[i].name] = p;
    }
    bool returned = false;
    for (std::size_t i = 0; i < f.live_count(); ++i) {
      const Stmt* s = f.body()[i];
      if (const auto* v = dyn_cast<VarDeclStmt>(s)) {
        vars_[v->name()] = declaration(*v);
      } else if (const auto* r = dyn_cast<ReturnStmt>(s)) {
        if (r->value() != nullptr) {
          ir::Inst* value = expr(*r->value());
          emit(ir::Op::Return, ir::Type::None, r->loc(), {&value, 1});
        } else {
          emit(ir::Op::Return, ir::Type::None, r->loc(), {});
        }
        returned = true;
        break;
      } else {
        expr(*cast<Expr>(s));
      }
    }
    if (!returned) emit(ir::Op::Return, ir::Type::None, f.loc(), {});
    fn->body = ctx_.copy(std::span<ir::Inst* const>(body_));
  }

  ir::Inst* declaration(const VarDeclStmt& v) {
    if (const auto* lit = dyn_cast<StructLiteralExpr>(v.init())) return struct_literal(*lit);
    ir::Inst* value = expr(*v.init());
    if (v.shape().empty()) return value;
    ir::Inst* r = emit(ir::Op::Reshape, ir::Type::Tensor, v.loc(), {&value, 1});
    r->dims = ctx_.copy(v.shape());
    return r;
  }

  ir::Inst* constant(std::span<const std::uint64_t> dims, std::span<const double> data, SourceLoc loc) {
    ir::Inst* c = emit(ir::Op::Const, ir::Type::Tensor, loc, {});
    c->dims = ctx_.copy(dims);
    c->data = ctx_.copy(data);
    c->shape_known = true;
    return c;
  }

  ir::Inst* struct_literal(const StructLiteralExpr& lit) {
    std::vector<ir::Inst*> items;
    for (const Expr* item : lit.items()) {
      if (const auto* n = dyn_cast<NumberExpr>(item)) {
        const double v = n->value();
        items.push_back(constant({}, {&v, 1}, n->loc()));
      } else if (const auto* l = dyn_cast<LiteralExpr>(item)) {
        items.push_back(constant(l->dims(), l->values(), l->loc()));
      } else {
        items.push_back(struct_literal(*cast<StructLiteralExpr>(item)));
      }
    }
    ir::Inst* s = emit(ir::Op::MakeStruct, ir::Type::Struct, lit.loc(), items);
    if (lit.struct_type() != nullptr) s->name = ctx_.copy(lit.struct_type()->name());
    return s;
  }

  ir::Inst* expr(const Expr& e) {
    switch (e.kind()) {
      case NodeKind::Number: {
        const double v = cast<NumberExpr>(&e)->value();
        return constant({}, {&v, 1}, e.loc());
      }
      case NodeKind::Literal:
        return constant(cast<LiteralExpr>(&e)->dims(), cast<LiteralExpr>(&e)->values(), e.loc());
      case NodeKind::Var:
        return vars_.at(cast<VarExpr>(&e)->name());
      case NodeKind::BinOp:
        return chain(*cast<BinOpExpr>(&e));
      case NodeKind::Call: {
        const auto& c = *cast<CallExpr>(&e);
        std::vector<ir::Inst*> args;
        for (const Expr* a : c.args()) args.push_back(expr(*a));
        if (c.resolved() == nullptr) return emit(ir::Op::Transpose, ir::Type::Tensor, c.loc(), args);
        ir::Inst* call = emit(ir::Op::Call, type_of(c.value_kind()), c.loc(), args);
        call->callee = shell(*c.resolved());
        return call;
      }
      case NodeKind::Print: {
        ir::Inst* arg = expr(*cast<PrintExpr>(&e)->arg());
        return emit(ir::Op::Print, ir::Type::None, e.loc(), {&arg, 1});
      }
      default:
        return struct_literal(*cast<StructLiteralExpr>(&e));
    }
  }

  ir::Inst* chain(const BinOpExpr& top) {
    std::vector<const BinOpExpr*> ops;
    const Expr* leftmost = &top;
    while (const auto* b = dyn_cast<BinOpExpr>(leftmost)) {
      ops.push_back(b);
      leftmost = b->lhs();
    }
    ir::Inst* acc = expr(*leftmost);
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      const BinOpExpr& b = **it;
      if (b.op() == '.') {
        ir::Inst* f = emit(ir::Op::Field, type_of(b.value_kind()), b.op_loc(), {&acc, 1});
        f->index = b.member_index();
        f->name = ctx_.copy(cast<VarExpr>(b.rhs())->name());
        acc = f;
        continue;
      }
      ir::Inst* operands[2] = {acc, expr(*b.rhs())};
      const ir::Op op = b.op() == '+' ? ir::Op::Add : b.op() == '-' ? ir::Op::Sub : ir::Op::Mul;
      acc = emit(op, ir::Type::Tensor, b.op_loc(), operands);
    }
    return acc;
  }

  ir::Inst* emit(ir::Op op, ir::Type type, SourceLoc loc, std::span<ir::Inst* const> operands) {
    ir::Inst* inst = ctx_.make(op, type, loc, operands);
    body_.push_back(inst);
    return inst;
  }

  ir::IrContext& ctx_;
  std::unordered_map<const FunctionDecl*, ir::Function*> functions_;
  std::vector<const FunctionDecl*> work_;  // named but not lowered yet
  std::unordered_map<std::string_view, ir::Inst*> vars_;
  std::vector<ir::Inst*> body_;
};

}  // namespace

ir::Module lower_module(const ModuleDecl& module, ir::IrContext& ctx) { return Lowering(ctx).run(module); }

}  // namespace spacesc
