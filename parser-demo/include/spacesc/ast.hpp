// ---------------------------------------------------------------------------
// ast.hpp: the Toy abstract syntax tree.
//
// Node kinds follow docs/toy-language.md §8 (and the tutorial's AST.h):
// Module, Struct, Function; the statements VarDecl and Return; the
// expressions Number, Literal, StructLiteral, Var, BinOp, Call and Print.
// RTTI is LLVM style: one NodeKind per concrete class in pre-order, a
// `..._Last` sentinel closing each abstract class, and classof() per class.
//
// Trade-off: nodes are built for an arena, not for editing. Every node is
// trivially destructible (teardown never visits them), children are spans
// into arena arrays, names are interned string_views, and the plain
// new/delete operators are deleted so only AstContext creates nodes. Sema
// writes its findings (expression types, resolved callees) into the nodes.
// ---------------------------------------------------------------------------
#ifndef SPACESC_AST_HPP
#define SPACESC_AST_HPP

#include <spacesc/casting.hpp>
#include <spacesc/source.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace spacesc {

/// Concrete node classes in pre-order; `X_Last` closes abstract class X.
enum class NodeKind : std::uint8_t {
  Module,
  Struct,
  Function,
  // Stmt
  VarDecl,
  Return,
  //   Expr
  Number,
  Literal,
  StructLiteral,
  Var,
  BinOp,
  Call,
  Print,
  Expr_Last,
  Stmt_Last,
};

/// What an expression produces (docs/toy-language.md §4.1), filled in by
/// sema.
enum class ValueKind : std::uint8_t {
  Unchecked,  ///< sema has not looked at it
  Tensor,     ///< a tensor of any shape
  Struct,     ///< a value of a struct type (see Expr::struct_type)
  None,       ///< a call of a function that returns nothing, or print
  Error,      ///< an error was reported inside; suppresses follow-on errors
};

class StructDecl;
class FunctionDecl;

/// Base of every node: a kind and a source location. Only AstContext
/// creates nodes (plain new/delete are deleted, as in Clang's Stmt).
class Node {
 public:
  NodeKind kind() const noexcept { return kind_; }
  /// The location the AST dump prints (docs/toy-language.md §8.2).
  SourceLoc loc() const noexcept { return loc_; }

  void* operator new(std::size_t) = delete;
  void operator delete(void*) = delete;

 protected:
  Node(NodeKind kind, SourceLoc loc) noexcept : loc_(loc), kind_(kind) {}

  SourceLoc loc_;
  NodeKind kind_;
  std::uint8_t bits_ = 0;  ///< subclass flags (Expr: value kind, parentheses)
};

// ---- Statements ------------------------------------------------------------

/// A statement of a function body: a declaration, a return or an expression.
class Stmt : public Node {
 public:
  static bool classof(const Node* n) noexcept {
    return n->kind() >= NodeKind::VarDecl && n->kind() < NodeKind::Stmt_Last;
  }

 protected:
  using Node::Node;
};

/// Base of expressions; carries the type sema found.
class Expr : public Stmt {
 public:
  static bool classof(const Node* n) noexcept {
    return n->kind() >= NodeKind::Number && n->kind() < NodeKind::Expr_Last;
  }

  ValueKind value_kind() const noexcept { return static_cast<ValueKind>(bits_ & 0x7u); }
  /// The struct type when value_kind() is Struct, else nullptr.
  const StructDecl* struct_type() const noexcept { return struct_type_; }
  /// Records sema's verdict.
  void set_type(ValueKind kind, const StructDecl* type = nullptr) noexcept {
    bits_ = static_cast<std::uint8_t>((bits_ & ~0x7u) | static_cast<unsigned>(kind));
    struct_type_ = type;
  }
  /// Whether the source wrote this expression in parentheses.
  bool parenthesized() const noexcept { return (bits_ & 0x8u) != 0; }
  void set_parenthesized() noexcept { bits_ = static_cast<std::uint8_t>(bits_ | 0x8u); }

 protected:
  using Stmt::Stmt;

 private:
  const StructDecl* struct_type_ = nullptr;
};

/// `var NAME<dims> = init` or `TYPE NAME = init`.
class VarDeclStmt final : public Stmt {
 public:
  /// `loc` is the `var` keyword or the type name.
  VarDeclStmt(SourceLoc loc, std::string_view name, std::string_view type_name,
              std::span<const std::uint64_t> shape, Expr* init) noexcept
      : Stmt(NodeKind::VarDecl, loc), name_(name), type_name_(type_name), shape_(shape), init_(init) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::VarDecl; }

  std::string_view name() const noexcept { return name_; }
  /// The struct type of a typed declaration; empty for `var`.
  std::string_view type_name() const noexcept { return type_name_; }
  bool is_typed() const noexcept { return !type_name_.empty(); }
  /// Declared dimensions; empty without a shape or with `<>`.
  std::span<const std::uint64_t> shape() const noexcept { return shape_; }
  Expr* init() const noexcept { return init_; }

 private:
  std::string_view name_;
  std::string_view type_name_;
  std::span<const std::uint64_t> shape_;
  Expr* init_;
};

/// `return` with an optional value.
class ReturnStmt final : public Stmt {
 public:
  ReturnStmt(SourceLoc loc, Expr* value) noexcept : Stmt(NodeKind::Return, loc), value_(value) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::Return; }
  /// The returned expression; nullptr for `return;`.
  Expr* value() const noexcept { return value_; }

 private:
  Expr* value_;
};

// ---- Expressions -------------------------------------------------------------

/// A number: a rank-0 tensor.
class NumberExpr final : public Expr {
 public:
  NumberExpr(SourceLoc loc, double value) noexcept : Expr(NodeKind::Number, loc), value_(value) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::Number; }
  double value() const noexcept { return value_; }

 private:
  double value_;
};

/// A rectangular tensor literal, stored flat: dims (outermost first) and
/// the elements in row-major order. Located at its outer `[`.
class LiteralExpr final : public Expr {
 public:
  LiteralExpr(SourceLoc loc, std::span<const std::uint64_t> dims, std::span<const double> values) noexcept
      : Expr(NodeKind::Literal, loc), dims_(dims), values_(values) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::Literal; }
  std::span<const std::uint64_t> dims() const noexcept { return dims_; }
  std::span<const double> values() const noexcept { return values_; }

 private:
  std::span<const std::uint64_t> dims_;
  std::span<const double> values_;
};

/// `{item, ...}`: items are Number, Literal or StructLiteral. Located at `{`.
class StructLiteralExpr final : public Expr {
 public:
  StructLiteralExpr(SourceLoc loc, std::span<Expr* const> items) noexcept
      : Expr(NodeKind::StructLiteral, loc), items_(items) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::StructLiteral; }
  std::span<Expr* const> items() const noexcept { return items_; }

 private:
  std::span<Expr* const> items_;
};

/// A variable reference (also the member name right of `.`).
class VarExpr final : public Expr {
 public:
  VarExpr(SourceLoc loc, std::string_view name) noexcept : Expr(NodeKind::Var, loc), name_(name) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::Var; }
  std::string_view name() const noexcept { return name_; }

 private:
  std::string_view name_;
};

/// `lhs OP rhs` for OP in + - * and `.`. loc() is the first token after the
/// operator (the dump's convention); op_loc() is the operator itself, where
/// errors about the operation are reported.
class BinOpExpr final : public Expr {
 public:
  BinOpExpr(SourceLoc loc, SourceLoc op_loc, char op, Expr* lhs, Expr* rhs) noexcept
      : Expr(NodeKind::BinOp, loc), op_loc_(op_loc), lhs_(lhs), rhs_(rhs), op_(op) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::BinOp; }
  char op() const noexcept { return op_; }
  SourceLoc op_loc() const noexcept { return op_loc_; }
  Expr* lhs() const noexcept { return lhs_; }
  Expr* rhs() const noexcept { return rhs_; }
  /// For `.`: the member index in the struct type, set by sema.
  std::uint32_t member_index() const noexcept { return member_index_; }
  void set_member_index(std::uint32_t i) noexcept { member_index_ = i; }

 private:
  SourceLoc op_loc_;
  Expr* lhs_;
  Expr* rhs_;
  std::uint32_t member_index_ = 0;
  char op_;
};

/// A call of a user function or of the builtin `transpose`.
class CallExpr final : public Expr {
 public:
  CallExpr(SourceLoc loc, std::string_view callee, std::span<Expr* const> args) noexcept
      : Expr(NodeKind::Call, loc), callee_(callee), args_(args) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::Call; }
  std::string_view callee() const noexcept { return callee_; }
  std::span<Expr* const> args() const noexcept { return args_; }
  /// The user function called, set by sema; nullptr for `transpose`.
  const FunctionDecl* resolved() const noexcept { return resolved_; }
  void set_resolved(const FunctionDecl* f) noexcept { resolved_ = f; }

 private:
  std::string_view callee_;
  std::span<Expr* const> args_;
  const FunctionDecl* resolved_ = nullptr;
};

/// `print(arg)`: recognised by the parser (docs/toy-language.md §3.6).
class PrintExpr final : public Expr {
 public:
  PrintExpr(SourceLoc loc, Expr* arg) noexcept : Expr(NodeKind::Print, loc), arg_(arg) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::Print; }
  Expr* arg() const noexcept { return arg_; }

 private:
  Expr* arg_;
};

// ---- Definitions ---------------------------------------------------------------

/// One member of a struct: `var NAME [shape]` or `TYPE NAME`.
struct MemberDecl {
  std::string_view name;
  std::string_view type_name;            ///< empty for a tensor member
  std::span<const std::uint64_t> shape;  ///< as written (an error, §4.5)
  SourceLoc loc;                         ///< its first token: `var` or the type name
  bool has_shape = false;                ///< whether `<...>` was written
};

/// One parameter: `NAME` or `TYPE NAME`.
struct ParamDecl {
  std::string_view name;
  std::string_view type_name;  ///< empty for a tensor parameter
  SourceLoc loc;               ///< its first token
};

/// `struct NAME { members }`. Located at `struct`.
class StructDecl final : public Node {
 public:
  StructDecl(SourceLoc loc, std::string_view name, std::span<const MemberDecl> members) noexcept
      : Node(NodeKind::Struct, loc), name_(name), members_(members) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::Struct; }
  std::string_view name() const noexcept { return name_; }
  std::span<const MemberDecl> members() const noexcept { return members_; }
  /// The member types, resolved by sema (nullptr for tensor members).
  std::span<const StructDecl* const> member_types() const noexcept { return member_types_; }
  void set_member_types(std::span<const StructDecl* const> t) noexcept { member_types_ = t; }

 private:
  std::string_view name_;
  std::span<const MemberDecl> members_;
  std::span<const StructDecl* const> member_types_;
};

/// `def NAME(params) { body }`. Located at `def`.
class FunctionDecl final : public Node {
 public:
  FunctionDecl(SourceLoc loc, std::string_view name, std::span<const ParamDecl> params,
               std::span<Stmt* const> body) noexcept
      : Node(NodeKind::Function, loc), name_(name), params_(params), body_(body) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::Function; }
  std::string_view name() const noexcept { return name_; }
  std::span<const ParamDecl> params() const noexcept { return params_; }
  std::span<Stmt* const> body() const noexcept { return body_; }

  /// Parameter types resolved by sema (nullptr for tensor parameters).
  std::span<const StructDecl* const> param_types() const noexcept { return param_types_; }
  void set_param_types(std::span<const StructDecl* const> t) noexcept { param_types_ = t; }
  /// What a call returns (docs/toy-language.md §4.3), set by sema.
  ValueKind return_kind() const noexcept { return return_kind_; }
  const StructDecl* return_struct() const noexcept { return return_struct_; }
  void set_return(ValueKind kind, const StructDecl* type) noexcept {
    return_kind_ = kind;
    return_struct_ = type;
  }
  /// Number of leading statements that run: up to the first return
  /// (docs/toy-language.md §4.7).
  std::size_t live_count() const noexcept { return live_count_; }
  void set_live_count(std::size_t n) noexcept { live_count_ = n; }

 private:
  std::string_view name_;
  std::span<const ParamDecl> params_;
  std::span<Stmt* const> body_;
  std::span<const StructDecl* const> param_types_;
  const StructDecl* return_struct_ = nullptr;
  std::size_t live_count_ = 0;
  ValueKind return_kind_ = ValueKind::Unchecked;
};

/// The translation unit: struct and function definitions in source order.
class ModuleDecl final : public Node {
 public:
  explicit ModuleDecl(std::span<Node* const> decls) noexcept
      : Node(NodeKind::Module, SourceLoc{1, 1}), decls_(decls) {}
  static bool classof(const Node* n) noexcept { return n->kind() == NodeKind::Module; }
  std::span<Node* const> decls() const noexcept { return decls_; }

 private:
  std::span<Node* const> decls_;
};

static_assert(std::is_trivially_destructible_v<BinOpExpr> && std::is_trivially_destructible_v<FunctionDecl> &&
                  std::is_trivially_destructible_v<MemberDecl> && std::is_trivially_destructible_v<ModuleDecl>,
              "arena teardown never runs destructors");

}  // namespace spacesc

#endif  // SPACESC_AST_HPP
