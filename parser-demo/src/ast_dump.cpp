// ---------------------------------------------------------------------------
// ast_dump.cpp: the AST dump (docs/toy-language.md §8).
//
// Statements and definitions are printed directly; expressions go through
// an explicit stack of (node, depth, children printed) frames, because an
// expression's depth is bounded by the input's length, not by its nesting.
// ---------------------------------------------------------------------------
#include <spacesc/ast_dump.hpp>

#include <cstdio>
#include <utility>
#include <vector>

namespace spacesc {
namespace {

/// Thrown when the dump outgrows its limit.
struct DumpTooLarge {};

class Dumper {
 public:
  Dumper(std::string_view file, std::string& out, std::size_t limit) : file_(file), out_(out), limit_(limit) {}

  void module(const ModuleDecl& m) {
    line(1, "Module:");
    for (const Node* d : m.decls()) {
      if (const auto* s = dyn_cast<StructDecl>(d))
        struct_decl(*s, 2);
      else
        function(*cast<FunctionDecl>(d), 2);
    }
  }

 private:
  void indent(unsigned depth) {
    if (out_.size() + 2 * static_cast<std::size_t>(depth) > limit_) throw DumpTooLarge{};
    out_.append(2 * static_cast<std::size_t>(depth), ' ');
  }
  void line(unsigned depth, std::string_view text) {
    indent(depth);
    out_.append(text);
    out_.push_back('\n');
  }
  void loc(SourceLoc l) {
    out_.append(" @");
    out_.append(file_);
    out_.push_back(':');
    out_.append(std::to_string(l.line));
    out_.push_back(':');
    out_.append(std::to_string(l.col));
  }
  void number(double v) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%e", v);
    out_.append(buf);
  }

  // `NAME<T>` for a declaration: dims joined by ", " or a type name.
  void decl_head(std::string_view name, std::string_view type_name, std::span<const std::uint64_t> shape) {
    out_.append("VarDecl ");
    out_.append(name);
    out_.push_back('<');
    if (!type_name.empty()) {
      out_.append(type_name);
    } else {
      for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) out_.append(", ");
        out_.append(std::to_string(shape[i]));
      }
    }
    out_.push_back('>');
  }

  void struct_decl(const StructDecl& s, unsigned depth) {
    indent(depth);
    out_.append("Struct: ");
    out_.append(s.name());
    loc(s.loc());
    out_.push_back('\n');
    line(depth + 1, "Variables: [");
    for (const MemberDecl& m : s.members()) {
      indent(depth + 2);
      decl_head(m.name, m.type_name, m.shape);
      loc(m.loc);
      out_.push_back('\n');
    }
    line(depth + 1, "]");
  }

  void function(const FunctionDecl& f, unsigned depth) {
    line(depth, "Function ");
    indent(depth + 1);
    out_.append("Proto '");
    out_.append(f.name());
    out_.push_back('\'');
    loc(f.loc());
    out_.push_back('\n');
    indent(depth + 1);
    out_.append("Params: [");
    for (std::size_t i = 0; i < f.params().size(); ++i) {
      if (i > 0) out_.append(", ");
      out_.append(f.params()[i].name);
    }
    out_.append("]\n");
    line(depth + 1, "Block {");
    for (const Stmt* s : f.body()) stmt(*s, depth + 2);
    line(depth + 1, "} // Block");
  }

  void stmt(const Stmt& s, unsigned depth) {
    if (const auto* v = dyn_cast<VarDeclStmt>(&s)) {
      indent(depth);
      decl_head(v->name(), v->type_name(), v->shape());
      loc(v->loc());
      out_.push_back('\n');
      expr(*v->init(), depth + 1);
    } else if (const auto* r = dyn_cast<ReturnStmt>(&s)) {
      line(depth, "Return");
      if (r->value() != nullptr)
        expr(*r->value(), depth + 1);
      else
        line(depth + 1, "(void)");
    } else {
      expr(*cast<Expr>(&s), depth);
    }
  }

  // Literal text (docs/toy-language.md §8.3): `<dims>[ items]`, each nested list with its dims.
  void literal(std::span<const std::uint64_t> dims, std::span<const double> values, std::size_t& next) {
    out_.push_back('<');
    for (std::size_t i = 0; i < dims.size(); ++i) {
      if (i > 0) out_.append(", ");
      out_.append(std::to_string(dims[i]));
    }
    out_.append(">[ ");
    for (std::uint64_t i = 0; i < dims[0]; ++i) {
      if (i > 0) out_.append(", ");
      if (dims.size() == 1)
        number(values[next++]);
      else
        literal(dims.subspan(1), values, next);
    }
    out_.push_back(']');
  }

  /// Prints an expression tree without recursion: a frame is entered
  /// (header line), then its children are pushed, then it is left
  /// (closing line for Call, Print and struct literals).
  void expr(const Expr& root, unsigned depth) {
    struct Frame {
      const Expr* e;
      unsigned depth;
      bool entered;
    };
    std::vector<Frame> stack{{&root, depth, false}};
    std::vector<const Expr*> kids;
    while (!stack.empty()) {
      Frame& f = stack.back();
      const Expr* e = f.e;
      const unsigned d = f.depth;
      if (f.entered) {
        stack.pop_back();
        if (isa<CallExpr>(e) || isa<PrintExpr>(e)) {
          line(d, "]");
        } else if (isa<StructLiteralExpr>(e)) {
          indent(d);
          loc(e->loc());
          out_.push_back('\n');
        }
        continue;
      }
      f.entered = true;
      indent(d);
      kids.clear();
      switch (e->kind()) {
        case NodeKind::Number:
          number(cast<NumberExpr>(e)->value());
          break;
        case NodeKind::Literal: {
          const auto* l = cast<LiteralExpr>(e);
          std::size_t next = 0;
          out_.append("Literal: ");
          literal(l->dims(), l->values(), next);
          break;
        }
        case NodeKind::StructLiteral:
          out_.append("Struct Literal: ");
          for (const Expr* item : cast<StructLiteralExpr>(e)->items()) kids.push_back(item);
          break;
        case NodeKind::Var:
          out_.append("var: ");
          out_.append(cast<VarExpr>(e)->name());
          break;
        case NodeKind::BinOp: {
          const auto* b = cast<BinOpExpr>(e);
          out_.append("BinOp: ");
          out_.push_back(b->op());
          kids.push_back(b->lhs());
          kids.push_back(b->rhs());
          break;
        }
        case NodeKind::Call: {
          const auto* c = cast<CallExpr>(e);
          out_.append("Call '");
          out_.append(c->callee());
          out_.append("' [");
          for (const Expr* a : c->args()) kids.push_back(a);
          break;
        }
        case NodeKind::Print:
          out_.append("Print [");
          kids.push_back(cast<PrintExpr>(e)->arg());
          break;
        default:
          break;
      }
      if (!isa<StructLiteralExpr>(e)) {
        loc(e->loc());
        out_.push_back('\n');
      }
      const bool closes = isa<CallExpr>(e) || isa<PrintExpr>(e) || isa<StructLiteralExpr>(e);
      if (!closes) stack.pop_back();  // nothing to print after the children
      for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.push_back(Frame{*it, d + 1, false});
    }
  }

  std::string_view file_;
  std::string& out_;
  std::size_t limit_;
};

/// The indentation the dump would write: a lower bound of its size,
/// computed in O(nodes) before writing anything.
std::size_t indentation_bytes(const ModuleDecl& m) {
  std::size_t total = 0;
  std::vector<std::pair<const Expr*, std::size_t>> stack;
  for (const Node* d : m.decls()) {
    const auto* f = dyn_cast<FunctionDecl>(d);
    if (f == nullptr) continue;
    for (const Stmt* s : f->body()) {
      if (const auto* v = dyn_cast<VarDeclStmt>(s))
        stack.emplace_back(v->init(), 5);
      else if (const auto* r = dyn_cast<ReturnStmt>(s))
        stack.emplace_back(r->value(), 5);
      else
        stack.emplace_back(cast<Expr>(s), 4);
      while (!stack.empty()) {
        auto [e, depth] = stack.back();
        stack.pop_back();
        if (e == nullptr) continue;
        total += 2 * depth;
        if (const auto* b = dyn_cast<BinOpExpr>(e)) {
          stack.emplace_back(b->lhs(), depth + 1);
          stack.emplace_back(b->rhs(), depth + 1);
        } else if (const auto* c = dyn_cast<CallExpr>(e)) {
          for (const Expr* a : c->args()) stack.emplace_back(a, depth + 1);
        } else if (const auto* p = dyn_cast<PrintExpr>(e)) {
          stack.emplace_back(p->arg(), depth + 1);
        } else if (const auto* l = dyn_cast<StructLiteralExpr>(e)) {
          for (const Expr* i : l->items()) stack.emplace_back(i, depth + 1);
        }
      }
    }
  }
  return total;
}

}  // namespace

bool dump_ast(const ModuleDecl& module, std::string_view file, std::string& out, std::size_t limit) {
  if (indentation_bytes(module) > limit) return false;
  try {
    Dumper(file, out, limit).module(module);
    return true;
  } catch (const DumpTooLarge&) {
    return false;
  }
}

}  // namespace spacesc
