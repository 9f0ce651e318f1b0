// ---------------------------------------------------------------------------
// builder.cpp: Builder's listener callbacks, each under the Toy.g4 rule it
// completes, then the stack helpers they share.
//
// Rules without a callback here leave their results where they are: the
// result of `expr : additive ;` is its additive's, and `bodyItem`, `args`,
// `exprStart : tensorLit` and the like only pass their children's results
// on. The unit parser collects definitions and statements (decls, stmts,
// head) between items.
// ---------------------------------------------------------------------------
#include "builder.hpp"

#include "tokens.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <system_error>

namespace spacesc::frontend {

using antlr4::Token;
using toy::ToyLexer;
using toy::ToyParser;

/// Runs `f` unless the parse is unwinding or has a failure parked; parks
/// any exception `f` throws in ParseState::pending.
template <class F>
void Builder::guarded(F&& f) noexcept {
  if (st_.unwinding() || st_.pending) return;
  try {
    f();
  } catch (...) {
    st_.pending = std::current_exception();
  }
}

void Builder::begin_item() {
  exprs_.clear();
  marks_.clear();
  shapes_.clear();
  lit_frames_.clear();
  lit_values_.clear();
  lit_dims_.clear();
}

void Builder::enterEveryRule(antlr4::ParserRuleContext*) {
  marks_.push_back(Mark{exprs_.size(), shapes_.size(), members_.size(), params_.size()});
}

void Builder::exitEveryRule(antlr4::ParserRuleContext*) {
  if (!marks_.empty()) marks_.pop_back();
}

// ---- Definitions --------------------------------------------------------------

// structDef : STRUCT IDENT '{' ( member ';' )+ '}' ;
void Builder::exitStructDef(ToyParser::StructDefContext* c) {
  guarded([&] {
    auto members = ctx_.copy(std::span<const MemberDecl>(members_).subspan(mark().members));
    members_.resize(mark().members);
    decls_.push_back(
        ctx_.make<StructDecl>(loc_of(token(c, ToyLexer::STRUCT)), name(token(c, ToyLexer::IDENT)), members));
  });
}

// member : VAR IDENT shape? # tensorMember
void Builder::exitTensorMember(ToyParser::TensorMemberContext* c) {
  guarded([&] {
    const bool has_shape = shapes_.size() > mark().shapes;
    members_.push_back(MemberDecl{name(token(c, ToyLexer::IDENT)), {},
                                  has_shape ? pop_shape() : std::span<const std::uint64_t>{},
                                  loc_of(token(c, ToyLexer::VAR)), has_shape});
  });
}

// member : IDENT IDENT # structMember
void Builder::exitStructMember(ToyParser::StructMemberContext* c) {
  guarded([&] {
    const Token* type = token(c, ToyLexer::IDENT, 0);
    members_.push_back(MemberDecl{name(token(c, ToyLexer::IDENT, 1)), name(type), {}, loc_of(type), false});
  });
}

// funcHead : DEF IDENT '(' ( param ( ',' param )* )? ')' '{' ;
void Builder::exitFuncHead(ToyParser::FuncHeadContext* c) {
  guarded([&] {
    auto params = ctx_.copy(std::span<const ParamDecl>(params_).subspan(mark().params));
    params_.resize(mark().params);
    head_ = Head{loc_of(token(c, ToyLexer::DEF)), name(token(c, ToyLexer::IDENT)), params};
  });
}

// param : IDENT # tensorParam
void Builder::exitTensorParam(ToyParser::TensorParamContext* c) {
  guarded([&] {
    const Token* id = token(c, ToyLexer::IDENT);
    params_.push_back(ParamDecl{name(id), {}, loc_of(id)});
  });
}

// param : IDENT IDENT # structParam
void Builder::exitStructParam(ToyParser::StructParamContext* c) {
  guarded([&] {
    const Token* type = token(c, ToyLexer::IDENT, 0);
    params_.push_back(ParamDecl{name(token(c, ToyLexer::IDENT, 1)), name(type), loc_of(type)});
  });
}

// ---- Statements ---------------------------------------------------------------

// statement : VAR IDENT shape? '=' expr # varDecl
void Builder::exitVarDecl(ToyParser::VarDeclContext* c) {
  guarded([&] {
    Expr* init = pop_expr();
    auto shape = shapes_.size() > mark().shapes ? pop_shape() : std::span<const std::uint64_t>{};
    stmts_.push_back(ctx_.make<VarDeclStmt>(loc_of(token(c, ToyLexer::VAR)), name(token(c, ToyLexer::IDENT)),
                                            std::string_view{}, shape, init));
  });
}

// statement : IDENT IDENT '=' expr # typedDecl
void Builder::exitTypedDecl(ToyParser::TypedDeclContext* c) {
  guarded([&] {
    Expr* init = pop_expr();
    const Token* type = token(c, ToyLexer::IDENT, 0);
    stmts_.push_back(ctx_.make<VarDeclStmt>(loc_of(type), name(token(c, ToyLexer::IDENT, 1)), name(type),
                                            std::span<const std::uint64_t>{}, init));
  });
}

// statement : RETURN expr? # returnStmt
void Builder::exitReturnStmt(ToyParser::ReturnStmtContext* c) {
  guarded([&] {
    Expr* value = exprs_.size() > mark().exprs ? pop_expr() : nullptr;
    stmts_.push_back(ctx_.make<ReturnStmt>(loc_of(token(c, ToyLexer::RETURN)), value));
  });
}

// statement : IDENT '(' args? ')' # callStmt
void Builder::exitCallStmt(ToyParser::CallStmtContext* c) {
  guarded([&] { stmts_.push_back(make_call(token(c, ToyLexer::IDENT))); });
}

// statement : exprHead # exprStmt
void Builder::exitExprStmt(ToyParser::ExprStmtContext*) {
  guarded([&] { stmts_.push_back(pop_expr()); });
}

// exprHead : exprStart ( '.' primary )* ( '*' access )* ( ( '+' | '-' ) multiplicative )* ;
void Builder::exitExprHead(ToyParser::ExprHeadContext* c) { fold(c); }

// exprStart : '(' expr ')' # parenStart
void Builder::exitParenStart(ToyParser::ParenStartContext*) { parenthesize(); }

// exprStart : NUMBER # numberStart
void Builder::exitNumberStart(ToyParser::NumberStartContext* c) { push_number(token(c, ToyLexer::NUMBER)); }

namespace {

/// A shape dimension's value, or why it is none (docs/toy-language.md §3.4).
struct Dimension {
  std::uint64_t value = 0;
  const char* error = nullptr;
};

Dimension dimension(std::string_view text) {
  std::uint64_t v = 0;
  for (char ch : text) {
    if (ch == '.') return {0, "a dimension must be a whole number of at least 1"};
    const auto digit = static_cast<std::uint64_t>(ch - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
      return {0, "a dimension must be at most 18446744073709551615"};
    v = v * 10 + digit;
  }
  if (v == 0) return {0, "a dimension must be a whole number of at least 1"};
  return {v, nullptr};
}

}  // namespace

// shape : '<' ( NUMBER ( ',' NUMBER )* )? '>' ;
// Each dimension is checked as it is read, so that a bad one is the
// statement's first error even when the shape goes on wrong (`<0, 2 =`):
// the error abandons the item like a syntax error.
void Builder::visitTerminal(antlr4::tree::TerminalNode* node) {
  const Token* t = node->getSymbol();
  if (st_.unwinding() || t->getType() != ToyLexer::NUMBER ||
      static_cast<antlr4::RuleContext*>(node->parent)->getRuleIndex() != ToyParser::RuleShape)
    return;
  const Dimension d = dimension(text_of(st_.file, t));
  if (d.error == nullptr) return;
  st_.diags.error(loc_of(t), d.error);
  throw SyntaxAbandon{};
}

// shape : '<' ( NUMBER ( ',' NUMBER )* )? '>' ;   (visitTerminal checked the dimensions)
void Builder::exitShape(ToyParser::ShapeContext* c) {
  guarded([&] {
    std::vector<std::uint64_t> dims;
    for (antlr4::tree::ParseTree* child : c->children) {
      const Token* t = child_token(child);
      if (t->getType() == ToyLexer::NUMBER) dims.push_back(dimension(text_of(st_.file, t)).value);
    }
    shapes_.push_back(ctx_.copy(std::span<const std::uint64_t>(dims)));
  });
}

// ---- Expressions --------------------------------------------------------------

// expr : additive ;   (nothing to do: the additive's result is the expr's)
// additive : multiplicative ( ( '+' | '-' ) multiplicative )* ;
void Builder::exitAdditive(ToyParser::AdditiveContext* c) { fold(c); }

// multiplicative : access ( '*' access )* ;
void Builder::exitMultiplicative(ToyParser::MultiplicativeContext* c) { fold(c); }

// access : primary ( '.' primary )* ;
void Builder::exitAccess(ToyParser::AccessContext* c) { fold(c); }

// primary : IDENT '(' args? ')' # callExpr
void Builder::exitCallExpr(ToyParser::CallExprContext* c) {
  guarded([&] { exprs_.push_back(make_call(token(c, ToyLexer::IDENT))); });
}

// primary : IDENT # varExpr
void Builder::exitVarExpr(ToyParser::VarExprContext* c) {
  guarded([&] {
    const Token* id = token(c, ToyLexer::IDENT);
    exprs_.push_back(ctx_.make<VarExpr>(loc_of(id), name(id)));
  });
}

// primary : NUMBER # numberExpr
void Builder::exitNumberExpr(ToyParser::NumberExprContext* c) { push_number(token(c, ToyLexer::NUMBER)); }

// primary : '(' expr ')' # parenExpr
void Builder::exitParenExpr(ToyParser::ParenExprContext*) { parenthesize(); }

// ---- Literals -----------------------------------------------------------------

// tensorLit : '[' ( NUMBER | tensorLit ) ( ',' ( NUMBER | tensorLit ) )* ']' ;
void Builder::enterTensorLit(ToyParser::TensorLitContext*) {
  if (st_.unwinding()) return;
  lit_frames_.push_back(LitFrame{});
}

// The NUMBER items of a tensorLit, from UnitToyParser::consume.
void Builder::literal_number(const Token* number_token) {
  guarded([&] {
    LitFrame& f = lit_frames_.back();
    lit_values_.push_back(number(number_token));
    if (f.kind == LitFrame::Lists) f.ragged = true;
    if (f.kind == LitFrame::Empty) f.kind = LitFrame::Numbers;
    ++f.items;
  });
}

// tensorLit : '[' ( NUMBER | tensorLit ) ( ',' ( NUMBER | tensorLit ) )* ']' ;
void Builder::exitTensorLit(ToyParser::TensorLitContext* c) {
  guarded([&] {
    LitFrame f = lit_frames_.back();
    lit_frames_.pop_back();
    // This list's dims: its length, then its items' common dims (which
    // sit on top of lit_dims_ when the items are lists).
    const std::size_t child_rank = f.kind == LitFrame::Lists ? f.child_rank : 0;
    lit_dims_.insert(lit_dims_.end() - static_cast<std::ptrdiff_t>(child_rank), f.items);
    if (f.ragged && !f.bad) {
      st_.diags.error(loc_of(c->getStart()), "the items of this tensor literal do not have the same shape");
    }
    if (!lit_frames_.empty()) {
      add_nested_list(lit_frames_.back(), f.bad || f.ragged, child_rank + 1);
      return;
    }
    // The outermost list: make the node.
    auto dims = ctx_.copy(std::span<const std::uint64_t>(lit_dims_));
    auto values = ctx_.copy(std::span<const double>(lit_values_));
    lit_dims_.clear();
    lit_values_.clear();
    exprs_.push_back(ctx_.make<LiteralExpr>(loc_of(c->getStart()), dims, values));
  });
}

/// Counts a nested list of rank `rank` (its dims the last `rank` entries of
/// lit_dims_) as an item of `f`.
void Builder::add_nested_list(LitFrame& f, bool nested_bad, std::size_t rank) {
  f.bad = f.bad || nested_bad;
  if (f.kind == LitFrame::Numbers) f.ragged = true;
  if (f.kind == LitFrame::Empty) {
    f.kind = LitFrame::Lists;
    f.child_rank = rank;
  } else if (f.kind == LitFrame::Lists) {
    const std::size_t n = lit_dims_.size();
    const bool same = rank == f.child_rank &&
                      std::equal(lit_dims_.end() - static_cast<std::ptrdiff_t>(rank), lit_dims_.end(),
                                 lit_dims_.end() - static_cast<std::ptrdiff_t>(2 * rank));
    if (!same) f.ragged = true;
    lit_dims_.resize(n - rank);  // keep only the first item's dims
  } else {
    lit_dims_.resize(lit_dims_.size() - rank);
  }
  ++f.items;
}

// structLit : '{' structItem ( ',' structItem )* '}' ;
void Builder::exitStructLit(ToyParser::StructLitContext* c) {
  guarded([&] {
    auto items = take_exprs(mark().exprs);
    exprs_.push_back(ctx_.make<StructLiteralExpr>(loc_of(token(c, ToyLexer::LBRACE)), items));
  });
}

// structItem : NUMBER | tensorLit | structLit ;
void Builder::exitStructItem(ToyParser::StructItemContext* c) {
  if (const Token* n = token(c, ToyLexer::NUMBER); n != nullptr) push_number(n);
}

// ---- Helpers ------------------------------------------------------------------

inline std::string_view Builder::name(const Token* t) { return ctx_.intern(text_of(st_.file, t)); }

inline double Builder::number(const Token* t) const {
  const std::string_view text = text_of(st_.file, t);
  double v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
  if (ec == std::errc::result_out_of_range) return std::strtod(std::string(text).c_str(), nullptr);
  (void)ptr;  // a malformed number was reported by the lexer; its prefix will do
  return v;
}

inline void Builder::push_number(const Token* t) {
  guarded([&] { exprs_.push_back(ctx_.make<NumberExpr>(loc_of(t), number(t))); });
}

inline void Builder::parenthesize() {
  if (st_.unwinding() || st_.pending || exprs_.empty()) return;
  exprs_.back()->set_parenthesized();
}

inline Expr* Builder::pop_expr() {
  Expr* e = exprs_.back();
  exprs_.pop_back();
  return e;
}

inline std::span<const std::uint64_t> Builder::pop_shape() {
  auto s = shapes_.back();
  shapes_.pop_back();
  return s;
}

inline std::span<Expr* const> Builder::take_exprs(std::size_t from) {
  auto items = ctx_.copy_ptrs(std::span<Expr* const>(exprs_).subspan(from));
  exprs_.resize(from);
  return items;
}

/// IDENT '(' args? ')': a Print for `print` (exactly one argument,
/// docs/toy-language.md §3.6), a Call otherwise.
inline Expr* Builder::make_call(const Token* callee) {
  const std::string_view fn = name(callee);
  if (fn == "print") {
    const std::size_t n = exprs_.size() - mark().exprs;
    if (n != 1) {
      st_.diags.error(loc_of(callee), "print takes exactly one argument, found " + std::to_string(n));
      exprs_.resize(mark().exprs);
      return ctx_.make<PrintExpr>(loc_of(callee), ctx_.make<NumberExpr>(loc_of(callee), 0.0));
    }
    return ctx_.make<PrintExpr>(loc_of(callee), pop_expr());
  }
  return ctx_.make<CallExpr>(loc_of(callee), fn, take_exprs(mark().exprs));
}

/// Folds `operand (op operand)*` to the left. The operators are the
/// rule's terminal children (rule children are not kept), in order; a
/// BinOp is located at the token after its operator (docs/toy-language.md
/// §8.2).
inline void Builder::fold(antlr4::ParserRuleContext* c) {
  guarded([&] {
    std::size_t next = mark().exprs;
    Expr* acc = exprs_[next++];
    for (antlr4::tree::ParseTree* child : c->children) {
      const Token* op = child_token(child);
      const Token* after = window_.get(op->getTokenIndex() + 1);
      Expr* rhs = exprs_[next++];
      const char opc = text_of(st_.file, op).front();
      acc = ctx_.make<BinOpExpr>(after != nullptr ? loc_of(after) : rhs->loc(), loc_of(op), opc, acc, rhs);
    }
    exprs_.resize(mark().exprs);
    exprs_.push_back(acc);
  });
}

}  // namespace spacesc::frontend
