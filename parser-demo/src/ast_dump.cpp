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
  /// ` @FILE:LINE:COL` and the line break.
  void end_line(SourceLoc l) {
    loc(l);
    out_.push_back('\n');
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
    end_line(s.loc());
    line(depth + 1, "Variables: [");
    for (const MemberDecl& m : s.members()) {
      indent(depth + 2);
      decl_head(m.name, m.type_name, m.shape);
      end_line(m.loc);
    }
    line(depth + 1, "]");
  }

  void function(const FunctionDecl& f, unsigned depth) {
    line(depth, "Function ");
    indent(depth + 1);
    out_.append("Proto '");
    out_.append(f.name());
    out_.push_back('\'');
    end_line(f.loc());
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
      end_line(v->loc());
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

  // Literal text (docs/toy-language.md §8.3): `<dims>[ items]`, each nested
  // list with its dims.
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
  /// (its first line, and its children pushed), then left (a closing line
  /// for Call, Print and struct literals).
  void expr(const Expr& root, unsigned depth) {
    struct Frame {
      const Expr* e;
      unsigned depth;
      bool entered;
    };
    std::vector<Frame> stack{{&root, depth, false}};
    while (!stack.empty()) {
      const Frame f = stack.back();
      if (f.entered) {
        stack.pop_back();
        close(*f.e, f.depth);
        continue;
      }
      stack.back().entered = true;
      kids_.clear();
      indent(f.depth);
      open(*f.e);
      if (!has_closing_line(*f.e)) stack.pop_back();  // nothing to print after the children
      for (auto it = kids_.rbegin(); it != kids_.rend(); ++it) stack.push_back(Frame{*it, f.depth + 1, false});
    }
  }

  static bool has_closing_line(const Expr& e) {
    return isa<CallExpr>(&e) || isa<PrintExpr>(&e) || isa<StructLiteralExpr>(&e);
  }

  /// Writes the rest of an expression's first line (the indentation is
  /// written) and lists its children in kids_. A dispatch over the node
  /// kinds; each kind's line is its own function below.
  void open(const Expr& e) {
    switch (e.kind()) {
      case NodeKind::Number:
        return number_line(*cast<NumberExpr>(&e));
      case NodeKind::Literal:
        return literal_line(*cast<LiteralExpr>(&e));
      case NodeKind::StructLiteral:
        return struct_literal_open(*cast<StructLiteralExpr>(&e));
      case NodeKind::Var:
        return var_line(*cast<VarExpr>(&e));
      case NodeKind::BinOp:
        return binop_line(*cast<BinOpExpr>(&e));
      case NodeKind::Call:
        return call_open(*cast<CallExpr>(&e));
      case NodeKind::Print:
        return print_open(*cast<PrintExpr>(&e));
      default:
        return end_line(e.loc());
    }
  }

  /// The closing line of a Call, a Print or a struct literal at `depth`.
  void close(const Expr& e, unsigned depth) {
    if (isa<CallExpr>(&e) || isa<PrintExpr>(&e)) {
      line(depth, "]");
    } else if (isa<StructLiteralExpr>(&e)) {
      indent(depth);
      end_line(e.loc());
    }
  }

  // `1.000000e+00 @loc`
  void number_line(const NumberExpr& n) {
    number(n.value());
    end_line(n.loc());
  }

  // `Literal: <2>[ 1.000000e+00, 2.000000e+00] @loc`
  void literal_line(const LiteralExpr& l) {
    std::size_t next = 0;
    out_.append("Literal: ");
    literal(l.dims(), l.values(), next);
    end_line(l.loc());
  }

  // `Struct Literal: ` and the items, which continue the line; close()
  // writes the location.
  void struct_literal_open(const StructLiteralExpr& s) {
    out_.append("Struct Literal: ");
    for (const Expr* item : s.items()) kids_.push_back(item);
  }

  // `var: NAME @loc`
  void var_line(const VarExpr& v) {
    out_.append("var: ");
    out_.append(v.name());
    end_line(v.loc());
  }

  // `BinOp: OP @loc`, then the operands.
  void binop_line(const BinOpExpr& b) {
    out_.append("BinOp: ");
    out_.push_back(b.op());
    end_line(b.loc());
    kids_.push_back(b.lhs());
    kids_.push_back(b.rhs());
  }

  // `Call 'NAME' [ @loc`, then the arguments; close() writes the `]`.
  void call_open(const CallExpr& c) {
    out_.append("Call '");
    out_.append(c.callee());
    out_.append("' [");
    end_line(c.loc());
    for (const Expr* a : c.args()) kids_.push_back(a);
  }

  // `Print [ @loc`, then the argument; close() writes the `]`.
  void print_open(const PrintExpr& p) {
    out_.append("Print [");
    end_line(p.loc());
    kids_.push_back(p.arg());
  }

  std::string_view file_;
  std::string& out_;
  std::size_t limit_;
  std::vector<const Expr*> kids_;  // the children of the node being opened
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
