// ---------------------------------------------------------------------------
// builder.hpp: the parse listener that builds the AST as rules complete.
//
// No parse tree is built (the unit parser sets setBuildParseTree(false)):
// Builder makes AST nodes in the unit's AstContext as each rule exits,
// keeping partial results on explicit stacks, and checks what the grammar
// cannot say: print's argument count, rectangular tensor literals and
// shape dimensions (docs/toy-language.md §3.4-3.6; each dimension as its
// token is consumed, in visitTerminal). Left-associative
// operators are folded from the rule's terminal children.
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_BUILDER_HPP
#define SPACESC_FRONTEND_BUILDER_HPP

#include "parse_state.hpp"
#include "token_window.hpp"
#include "unit_toy_parser.hpp"

#include "ToyBaseListener.h"
#include "ToyParser.h"

#include <spacesc/ast.hpp>

#include <antlr4-runtime.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace spacesc::frontend {

/// Builds AST nodes as rules complete. Operands are on `exprs_`; each rule
/// invocation records the stack heights at its entry (Mark), so at its
/// exit the rule's results are the entries above its mark. Exits run
/// inside ANTLR's scope guards, where throwing terminates: `guarded` parks
/// a memory failure in ParseState::pending. Owner thread only.
class Builder final : public toy::ToyBaseListener, public LiteralSink {
 public:
  Builder(ParseState& state, TokenWindow& window) : st_(state), ctx_(state.ctx), window_(window) {}

  /// Forgets partial results (after an abandoned item).
  void begin_item();

  // ---- Results the unit parser collects ----

  /// The definitions built so far, in source order.
  std::vector<Node*>& decls() { return decls_; }
  /// The statements of the function body being parsed.
  std::vector<Stmt*>& stmts() { return stmts_; }
  /// A function's prototype, made by exitFuncHead.
  struct Head {
    SourceLoc loc;
    std::string_view name;
    std::span<const ParamDecl> params;
  };
  std::optional<Head>& head() { return head_; }

  // ---- Listener callbacks (builder.cpp quotes each one's rule) ----

  void enterEveryRule(antlr4::ParserRuleContext*) override;
  void exitEveryRule(antlr4::ParserRuleContext*) override;

  void exitStructDef(toy::ToyParser::StructDefContext* c) override;
  void exitTensorMember(toy::ToyParser::TensorMemberContext* c) override;
  void exitStructMember(toy::ToyParser::StructMemberContext* c) override;
  void exitFuncHead(toy::ToyParser::FuncHeadContext* c) override;
  void exitTensorParam(toy::ToyParser::TensorParamContext* c) override;
  void exitStructParam(toy::ToyParser::StructParamContext* c) override;

  void exitVarDecl(toy::ToyParser::VarDeclContext* c) override;
  void exitTypedDecl(toy::ToyParser::TypedDeclContext* c) override;
  void exitReturnStmt(toy::ToyParser::ReturnStmtContext* c) override;
  void exitCallStmt(toy::ToyParser::CallStmtContext* c) override;
  void exitExprStmt(toy::ToyParser::ExprStmtContext*) override;
  void exitExprHead(toy::ToyParser::ExprHeadContext* c) override;
  void exitParenStart(toy::ToyParser::ParenStartContext*) override;
  void exitNumberStart(toy::ToyParser::NumberStartContext* c) override;
  /// Checks a shape's dimension as it is consumed; a bad one is reported
  /// and abandons the item (SyntaxAbandon: consume is not a scope guard).
  void visitTerminal(antlr4::tree::TerminalNode* node) override;
  void exitShape(toy::ToyParser::ShapeContext* c) override;

  void exitAdditive(toy::ToyParser::AdditiveContext* c) override;
  void exitMultiplicative(toy::ToyParser::MultiplicativeContext* c) override;
  void exitAccess(toy::ToyParser::AccessContext* c) override;
  void exitCallExpr(toy::ToyParser::CallExprContext* c) override;
  void exitVarExpr(toy::ToyParser::VarExprContext* c) override;
  void exitNumberExpr(toy::ToyParser::NumberExprContext* c) override;
  void exitParenExpr(toy::ToyParser::ParenExprContext*) override;

  void enterTensorLit(toy::ToyParser::TensorLitContext*) override;
  void exitTensorLit(toy::ToyParser::TensorLitContext* c) override;
  /// A number of the innermost open tensor literal.
  void literal_number(const antlr4::Token* number) override;
  void exitStructLit(toy::ToyParser::StructLitContext* c) override;
  void exitStructItem(toy::ToyParser::StructItemContext* c) override;

 private:
  /// The stack heights at a rule's entry.
  struct Mark {
    std::size_t exprs, shapes, members, params;
  };
  /// One open `[` of a tensor literal.
  struct LitFrame {
    enum Kind : std::uint8_t { Empty, Numbers, Lists } kind = Empty;
    std::uint64_t items = 0;
    std::size_t child_rank = 0;  // rank of the first nested list
    bool ragged = false;         // items disagree: this list is the culprit
    bool bad = false;            // a nested list was already reported
    bool child_bad = false;
  };

  // Defined in builder.cpp, which alone calls them; `inline` because the
  // callbacks run them for every rule.
  template <class F>
  void guarded(F&& f) noexcept;
  const Mark& mark() const { return marks_.back(); }
  inline std::string_view name(const antlr4::Token* t);
  inline double number(const antlr4::Token* t) const;
  inline void push_number(const antlr4::Token* t);
  inline void parenthesize();
  inline Expr* pop_expr();
  inline std::span<const std::uint64_t> pop_shape();
  inline std::span<Expr* const> take_exprs(std::size_t from);
  inline Expr* make_call(const antlr4::Token* callee);
  inline void fold(antlr4::ParserRuleContext* c);
  void add_nested_list(LitFrame& f, bool nested_bad, std::size_t rank);

  ParseState& st_;
  AstContext& ctx_;
  TokenWindow& window_;  // the tokens of the current item, for BinOp locations
  std::vector<Expr*> exprs_;
  std::vector<Mark> marks_;
  std::vector<std::span<const std::uint64_t>> shapes_;
  std::vector<MemberDecl> members_;
  std::vector<ParamDecl> params_;
  std::vector<Stmt*> stmts_;
  std::vector<Node*> decls_;
  std::optional<Head> head_;
  std::vector<LitFrame> lit_frames_;
  std::vector<double> lit_values_;
  std::vector<std::uint64_t> lit_dims_;
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_BUILDER_HPP
