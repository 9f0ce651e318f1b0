// ---------------------------------------------------------------------------
// sema.cpp: name resolution and kind checking (docs/toy-language.md §4).
//
// The walk follows the reporting order of docs/toy-language.md §7.3
// exactly: definitions top to bottom; a definition's name, then its
// parameters or members, then its live statements; a declaration's type
// name, then its initializer, then the declaration itself; operands left to
// right before their operator. A value context (operand, argument,
// initializer, returned value) reports a no-value result at once, where it
// is met. Recursion follows only the input's nesting; left-deep operator
// chains are walked in a loop.
// ---------------------------------------------------------------------------
#include <spacesc/sema.hpp>

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace spacesc {
namespace {

/// A kind with its struct type (docs/toy-language.md §4.1).
struct Type {
  ValueKind kind = ValueKind::Error;
  const StructDecl* decl = nullptr;

  static Type tensor() { return {ValueKind::Tensor, nullptr}; }
  static Type error() { return {ValueKind::Error, nullptr}; }
  static Type none() { return {ValueKind::None, nullptr}; }
  bool is_error() const { return kind == ValueKind::Error; }
};

/// `a 'NAME'` or `an 'NAME'` for a value of struct NAME (docs/toy-language.md
/// §7.5), by how the name is read: a one-letter name as its letter ("an
/// 'S'", "a 'P'"), a longer one by its first letter ("an 'Item'", "a 'Pair'").
std::string a_quoted(std::string_view name) {
  const char first = name.empty() ? '\0' : static_cast<char>(name[0] | 0x20);
  const std::string_view vowel_sounds = name.size() == 1 ? "aefhilmnorsx" : "aeiou";
  return (vowel_sounds.find(first) != std::string_view::npos ? "an " : "a ") + quoted(name);
}

class Sema {
 public:
  Sema(AstContext& ctx, DiagEngine& diags) : ctx_(ctx), diags_(diags) {}

  bool run(ModuleDecl& module) {
    const std::size_t errors_before = diags_.error_count();
    for (Node* d : module.decls()) {
      if (auto* s = dyn_cast<StructDecl>(d))
        struct_decl(*s);
      else
        function(*cast<FunctionDecl>(d));
    }
    if (functions_.find("main") == functions_.end())
      diags_.error(SourceLoc{1, 1}, "the program has no 'main' function");
    return diags_.error_count() == errors_before;
  }

 private:
  // ---- Definitions ----

  // struct NAME { members }: the name, then each member's type, shape and name.
  void struct_decl(StructDecl& s) {
    const bool redefined = structs_.count(s.name()) != 0;
    if (redefined) diags_.error(s.loc(), "struct " + quoted(s.name()) + " is already defined");
    std::vector<const StructDecl*> types;
    std::unordered_set<std::string_view> seen;
    for (const MemberDecl& m : s.members()) {
      const StructDecl* t = nullptr;
      if (!m.type_name.empty()) {
        t = lookup_struct(m.type_name, m.loc);
      }
      if (m.has_shape) diags_.error(m.loc, "a struct member cannot have a shape");
      if (!seen.insert(m.name).second)
        diags_.error(m.loc, "member " + quoted(m.name) + " is already declared in struct " + quoted(s.name()));
      types.push_back(t);
    }
    s.set_member_types(ctx_.copy(std::span<const StructDecl* const>(types)));
    if (!redefined) structs_.emplace(s.name(), &s);
  }

  // def NAME(params) { body }: the name, the parameters, the live statements.
  void function(FunctionDecl& f) {
    bool registered = false;
    if (f.name() == "print" || f.name() == "transpose")
      diags_.error(f.loc(), quoted(f.name()) + " is a builtin and cannot be redefined");
    else if (functions_.count(f.name()) != 0)
      diags_.error(f.loc(), "function " + quoted(f.name()) + " is already defined");
    else
      registered = true;
    in_main_ = f.name() == "main";
    if (in_main_ && !f.params().empty()) diags_.error(f.loc(), "'main' takes no parameters");

    vars_.clear();
    std::vector<const StructDecl*> types;
    for (const ParamDecl& p : f.params()) {
      Type t = Type::tensor();
      if (!p.type_name.empty()) {
        const StructDecl* s = lookup_struct(p.type_name, p.loc);
        t = s != nullptr ? Type{ValueKind::Struct, s} : Type::error();
        types.push_back(s);
      } else {
        types.push_back(nullptr);
      }
      declare(p.name, t, p.loc);
    }
    f.set_param_types(ctx_.copy(std::span<const StructDecl* const>(types)));

    Type result = Type::none();
    std::size_t live = f.body().size();
    for (std::size_t i = 0; i < f.body().size(); ++i) {
      Stmt* s = f.body()[i];
      if (auto* r = dyn_cast<ReturnStmt>(s)) {
        result = return_stmt(*r);
        live = i + 1;
        break;  // what follows is dead (docs/toy-language.md §4.7)
      }
      statement(*s);
    }
    f.set_live_count(live);
    f.set_return(result.kind, result.decl);
    if (registered) functions_.emplace(f.name(), &f);
  }

  // ---- Statements ----

  void statement(Stmt& s) {
    if (auto* v = dyn_cast<VarDeclStmt>(&s)) {
      if (v->is_typed())
        typed_decl(*v);
      else
        var_decl(*v);
      return;
    }
    check(*cast<Expr>(&s));  // a call, print or expression statement: any result is discarded
  }

  // var NAME<dims> = init: the initializer, then the declaration.
  void var_decl(VarDeclStmt& v) {
    const Type t = value(*v.init());
    if (t.kind == ValueKind::Struct)
      diags_.error(v.loc(), "a 'var' declaration needs a tensor; declare " + quoted(v.name()) + " with its struct type");
    declare(v.name(), Type::tensor(), v.loc());
  }

  // TYPE NAME = init: the type name, the initializer, then the declaration.
  void typed_decl(VarDeclStmt& v) {
    const StructDecl* s = lookup_struct(v.type_name(), v.loc());
    if (auto* lit = dyn_cast<StructLiteralExpr>(v.init())) {
      if (s != nullptr && !matches(*lit, *s))
        diags_.error(v.loc(), "the struct literal does not match struct " + quoted(s->name()));
    } else {
      const Type t = value(*v.init());
      if (s != nullptr && !t.is_error() && (t.kind != ValueKind::Struct || t.decl != s))
        diags_.error(v.loc(), "cannot initialise " + a_quoted(s->name()) + " with " + describe(t));
    }
    declare(v.name(), s != nullptr ? Type{ValueKind::Struct, s} : Type::error(), v.loc());
  }

  // return [expr]: the value, then the return itself.
  Type return_stmt(ReturnStmt& r) {
    if (r.value() == nullptr) return Type::none();
    const Type t = value(*r.value());
    if (in_main_) diags_.error(r.loc(), "'main' cannot return a value");
    return t.kind == ValueKind::None ? Type::error() : t;
  }

  // ---- Expressions ----

  /// Checks an expression whose result is used as a value: no-value is an
  /// error at the callee, reported as soon as the operand is checked.
  Type value(Expr& e) {
    Type t = check(e);
    if (t.kind == ValueKind::None) {
      if (isa<PrintExpr>(&e))
        diags_.error(e.loc(), "print produces no value");
      else
        diags_.error(e.loc(), "function " + quoted(cast<CallExpr>(&e)->callee()) + " returns no value");
      t = Type::error();
      e.set_type(t.kind);
    }
    return t;
  }

  Type check(Expr& e) {
    Type t;
    switch (e.kind()) {
      case NodeKind::Number:
      case NodeKind::Literal:
        t = Type::tensor();
        break;
      case NodeKind::StructLiteral:
        diags_.error(e.loc(), "a struct literal may only initialise a declaration of a struct type");
        t = Type::error();
        break;
      case NodeKind::Var: {
        auto it = vars_.find(cast<VarExpr>(&e)->name());
        if (it == vars_.end()) {
          diags_.error(e.loc(), "unknown variable " + quoted(cast<VarExpr>(&e)->name()));
          t = Type::error();
        } else {
          t = it->second;
        }
        break;
      }
      case NodeKind::BinOp:
        return chain(*cast<BinOpExpr>(&e));
      case NodeKind::Call:
        t = call(*cast<CallExpr>(&e));
        break;
      case NodeKind::Print: {
        auto& p = *cast<PrintExpr>(&e);
        const Type a = value(*p.arg());
        if (a.kind == ValueKind::Struct) diags_.error(p.loc(), "print needs a tensor, found " + describe(a));
        t = Type::none();
        break;
      }
      default:
        t = Type::error();
        break;
    }
    e.set_type(t.kind, t.decl);
    return t;
  }

  /// A left-deep chain of binary operators, bottom-up without recursion.
  Type chain(BinOpExpr& top) {
    std::vector<BinOpExpr*> ops;
    Expr* leftmost = &top;
    while (auto* b = dyn_cast<BinOpExpr>(leftmost)) {
      ops.push_back(b);
      leftmost = b->lhs();
    }
    Type acc = value(*leftmost);
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      BinOpExpr& b = **it;
      acc = b.op() == '.' ? member(b, acc) : arithmetic(b, acc, value(*b.rhs()));
      b.set_type(acc.kind, acc.decl);
    }
    return acc;
  }

  // a OP b for + - *: both tensors, or a type error at OP.
  Type arithmetic(const BinOpExpr& b, Type lhs, Type rhs) {
    if (lhs.is_error() || rhs.is_error()) return Type::error();
    if (lhs.kind != ValueKind::Tensor || rhs.kind != ValueKind::Tensor) {
      diags_.error(b.op_loc(), std::string("the operands of '") + b.op() + "' must be tensors, found " +
                                   describe(lhs) + " and " + describe(rhs));
      return Type::error();
    }
    return Type::tensor();
  }

  // e.m: e of a struct type, m one of its members; errors at the `.`
  // (docs/toy-language.md §4.4).
  Type member(BinOpExpr& b, Type lhs) {
    if (lhs.is_error()) return Type::error();
    if (lhs.kind != ValueKind::Struct) {
      diags_.error(b.op_loc(), "'.' needs a struct value on its left, found " + describe(lhs));
      return Type::error();
    }
    const auto* name = dyn_cast<VarExpr>(b.rhs());
    if (name == nullptr || name->parenthesized()) {
      diags_.error(b.op_loc(), "expected a member name after '.'");
      return Type::error();
    }
    const auto members = lhs.decl->members();
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (members[i].name != name->name()) continue;
      b.set_member_index(static_cast<std::uint32_t>(i));
      if (members[i].type_name.empty()) return Type::tensor();
      const StructDecl* t = lhs.decl->member_types()[i];
      return t != nullptr ? Type{ValueKind::Struct, t} : Type::error();
    }
    diags_.error(b.op_loc(), "struct " + quoted(lhs.decl->name()) + " has no member " + quoted(name->name()));
    return Type::error();
  }

  // f(args) or transpose(x): the arguments, then the callee (docs/toy-language.md §4.3).
  Type call(CallExpr& c) {
    std::vector<Type> args;
    args.reserve(c.args().size());
    for (Expr* a : c.args()) args.push_back(value(*a));
    if (c.callee() == "transpose") {
      if (args.size() != 1) {
        diags_.error(c.loc(), "transpose takes 1 argument, found " + std::to_string(args.size()));
        return Type::error();
      }
      if (args[0].kind == ValueKind::Struct)
        diags_.error(c.loc(), "transpose needs a tensor, found " + describe(args[0]));
      return Type::tensor();
    }
    auto it = functions_.find(c.callee());
    if (it == functions_.end()) {
      diags_.error(c.loc(), "unknown function " + quoted(c.callee()));
      return Type::error();
    }
    const FunctionDecl& f = *it->second;
    c.set_resolved(&f);
    if (args.size() != f.params().size()) {
      diags_.error(c.loc(), "function " + quoted(c.callee()) + " takes " + std::to_string(f.params().size()) +
                                " argument" + (f.params().size() == 1 ? "" : "s") + ", found " +
                                std::to_string(args.size()));
      return Type::error();
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i].is_error()) continue;
      const ParamDecl& p = f.params()[i];
      const StructDecl* want = f.param_types()[i];
      const bool ok = p.type_name.empty() ? args[i].kind == ValueKind::Tensor
                                          : want == nullptr || (args[i].kind == ValueKind::Struct && args[i].decl == want);
      if (!ok) {
        diags_.error(c.loc(), "argument " + std::to_string(i + 1) + " of " + quoted(c.callee()) + " must be " +
                                  (p.type_name.empty() ? std::string("a tensor") : a_quoted(p.type_name)) +
                                  ", found " + describe(args[i]));
        return Type::error();
      }
    }
    return Type{f.return_kind() == ValueKind::Unchecked ? ValueKind::Error : f.return_kind(), f.return_struct()};
  }

  /// Whether a struct literal matches `s` structurally (docs/toy-language.md
  /// §4.5); records the
  /// struct types on the literal and its nested literals for lowering.
  bool matches(StructLiteralExpr& lit, const StructDecl& s) {
    lit.set_type(ValueKind::Struct, &s);
    const auto members = s.members();
    if (lit.items().size() != members.size()) return false;
    for (std::size_t i = 0; i < members.size(); ++i) {
      Expr* item = lit.items()[i];
      if (members[i].type_name.empty()) {
        if (!isa<NumberExpr>(item) && !isa<LiteralExpr>(item)) return false;
        item->set_type(ValueKind::Tensor);
        continue;
      }
      const StructDecl* t = s.member_types()[i];
      auto* nested = dyn_cast<StructLiteralExpr>(item);
      if (nested == nullptr) return false;
      if (t != nullptr && !matches(*nested, *t)) return false;
    }
    return true;
  }

  // ---- Names ----

  const StructDecl* lookup_struct(std::string_view name, SourceLoc loc) {
    auto it = structs_.find(name);
    if (it != structs_.end()) return it->second;
    diags_.error(loc, "unknown struct type " + quoted(name));
    return nullptr;
  }

  void declare(std::string_view name, Type t, SourceLoc loc) {
    if (!vars_.emplace(name, t).second) diags_.error(loc, "variable " + quoted(name) + " is already declared");
  }

  static std::string describe(Type t) {
    switch (t.kind) {
      case ValueKind::Tensor:
        return "a tensor";
      case ValueKind::Struct:
        return a_quoted(t.decl->name());
      case ValueKind::None:
        return "no value";
      default:
        return "an invalid value";
    }
  }

  AstContext& ctx_;
  DiagEngine& diags_;
  std::unordered_map<std::string_view, const StructDecl*> structs_;
  std::unordered_map<std::string_view, const FunctionDecl*> functions_;
  std::unordered_map<std::string_view, Type> vars_;
  bool in_main_ = false;
};

}  // namespace

bool check_module(ModuleDecl& module, AstContext& ctx, DiagEngine& diags) { return Sema(ctx, diags).run(module); }

}  // namespace spacesc
