// ---------------------------------------------------------------------------
// ast_builder.cpp: the ANTLR4 front end; the only file that sees ANTLR.
//
// Memory is the design constraint here (issue 5): ANTLR's defaults keep the
// whole input as UTF-32, every token (~100 bytes each) and every rule
// context until the parser dies, about 100x the input. Instead:
//   * ByteStream feeds the lexer the unit's bytes in place: one column per
//     byte as docs/toy-language.md §2.1 wants, and invalid UTF-8 is just
//     bytes.
//   * Tokens are UnitTokens bumped into a region heap under the unit's heap
//     (so --mem-cap counts them); TokenWindow keeps only the tokens of the
//     current item, and the region is reset every 256 KiB of tokens.
//   * The parse tree is never built (setBuildParseTree(false)). The
//     Builder listener makes AST nodes as rules complete, keeping partial
//     results on explicit stacks.
//   * ANTLR still allocates one context per rule invocation (and one
//     terminal node per token, for the listener) and frees them only at
//     getTreeTracker().reset(); so the driver (parse_module) runs the
//     grammar's two outer loops itself and calls structDef, funcHead and
//     bodyItem one at a time, resetting the tracker after each.
//   * Those contexts and terminal nodes come from a general heap under the
//     unit's heap (--alloc=arena), so --mem-cap counts them too: Toy.g4's
//     contextSuperClass, UnitRuleContext (unit_rule_context.hpp), has a
//     class operator new, and UnitToyParser::consume makes UnitTerminalNodes.
// Errors: the first syntax error of an item ends the item (ErrorStrategy
// throws SyntaxAbandon); the driver then skips to the next `;`, `}` or
// definition, so every statement's first error is reported.
// ---------------------------------------------------------------------------
#include <spacesc/ast_builder.hpp>

#include "ToyBaseListener.h"
#include "ToyLexer.h"
#include "ToyParser.h"
#include "unit_rule_context.hpp"

#include <antlr4-runtime.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace spacesc {
namespace {

using antlr4::Token;
using toy::ToyLexer;
using toy::ToyParser;

// ---- Shared state ------------------------------------------------------------

/// Thrown to leave an item after its first syntax error was reported.
struct SyntaxAbandon {};
/// Thrown when the nesting limit stops the unit.
struct NestingAbandon {};

/// What the pieces of one parse share.
struct ParseState {
  const SourceFile& file;
  DiagEngine& diags;
  AstContext& ctx;
  /// Set before any exception leaves generated code: listener callbacks
  /// that run while the stack unwinds must then do nothing.
  bool unwinding = false;
  /// A memory failure met where throwing is not allowed (listener exits
  /// run inside ANTLR's scope guards); rethrown at the next safe point.
  std::exception_ptr pending;
};

SourceLoc loc_of(const Token* t) noexcept {
  const auto clamp = [](std::size_t v) {
    return static_cast<std::uint32_t>(std::min<std::size_t>(v, std::numeric_limits<std::uint32_t>::max()));
  };
  return SourceLoc{clamp(t->getLine()), clamp(t->getCharPositionInLine() + 1)};
}

std::string_view text_of(const SourceFile& file, const Token* t) noexcept {
  const std::size_t start = t->getStartIndex();
  const std::size_t stop = t->getStopIndex();
  if (t->getType() == Token::EOF || start > stop || stop >= file.text.size()) return {};
  return file.text.substr(start, stop - start + 1);
}

/// The token of child `child` of a rule context. With no parse tree built,
/// a context's children are only the terminal nodes that consume() adds
/// (UnitToyParser), never rule contexts, so this needs none of the two
/// dynamic_casts per child the generated accessors (c->IDENT()...) pay.
const Token* child_token(antlr4::tree::ParseTree* child) {
  assert(dynamic_cast<antlr4::tree::TerminalNode*>(child) != nullptr);
  return static_cast<antlr4::tree::TerminalNode*>(child)->getSymbol();
}

/// The `i`-th token of type `type` directly under `c`, or nullptr.
const Token* token(antlr4::ParserRuleContext* c, std::size_t type, std::size_t i = 0) {
  for (antlr4::tree::ParseTree* child : c->children) {
    const Token* t = child_token(child);
    if (t->getType() == type && i-- == 0) return t;
  }
  return nullptr;
}

// ---- Characters ----------------------------------------------------------------

/// The unit's bytes as an ANTLR character stream, in place, one symbol per
/// byte (0..255). ANTLRInputStream would decode UTF-8 into a u32string (4x
/// the input) and throws on invalid UTF-8.
class ByteStream final : public antlr4::CharStream {
 public:
  explicit ByteStream(const SourceFile& file) : text_(file.text), name_(file.name) {}

  void consume() override {
    if (p_ >= text_.size()) throw antlr4::IllegalStateException("cannot consume EOF");
    ++p_;
  }
  std::size_t LA(ssize_t i) override {
    if (i == 0) return 0;
    const ssize_t pos = i > 0 ? static_cast<ssize_t>(p_) + i - 1 : static_cast<ssize_t>(p_) + i;
    if (pos < 0 || static_cast<std::size_t>(pos) >= text_.size()) return antlr4::IntStream::EOF;
    return static_cast<unsigned char>(text_[static_cast<std::size_t>(pos)]);
  }
  ssize_t mark() override { return -1; }
  void release(ssize_t) override {}
  std::size_t index() override { return p_; }
  void seek(std::size_t index) override { p_ = std::min(index, text_.size()); }
  std::size_t size() override { return text_.size(); }
  std::string getSourceName() const override { return std::string(name_); }
  std::string getText(const antlr4::misc::Interval& interval) override {
    if (interval.a < 0 || interval.b < interval.a) return {};
    const auto a = static_cast<std::size_t>(interval.a);
    if (a >= text_.size()) return {};
    return std::string(text_.substr(a, static_cast<std::size_t>(interval.b - interval.a) + 1));
  }
  std::string toString() const override { return std::string(text_); }

 private:
  std::string_view text_;
  std::string_view name_;
  std::size_t p_ = 0;
};

// ---- Tokens --------------------------------------------------------------------

/// Where UnitTokens get their memory: the calling thread's current parse.
/// A thread-local because operator new is static; parse_module sets it for
/// its duration, and each unit parses on one thread.
thread_local spaces::TrivialArena* tls_token_arena = nullptr;

/// A CommonToken whose memory comes from the unit's token region (or the
/// global heap in --alloc=new). Deleting one runs its destructor and
/// returns nothing to the region: TokenWindow resets the region per item.
class UnitToken final : public antlr4::CommonToken {
 public:
  using CommonToken::CommonToken;

  static void* operator new(std::size_t n) {
    if (tls_token_arena != nullptr) return tls_token_arena->allocate(n, alignof(UnitToken));
    return ::operator new(n);
  }
  static void operator delete(void* p) noexcept {
    if (tls_token_arena == nullptr) ::operator delete(p);
  }
};

/// Token bytes the region may hand out before TokenWindow resets it.
constexpr std::size_t kTokenRegionReset = 256 * 1024;

/// Makes UnitTokens without copying their text: the text stays in the
/// source and is read through start/stop indices (text_of). Counts the
/// tokens made since the token region's last reset.
class UnitTokenFactory final : public antlr4::TokenFactory<antlr4::CommonToken> {
 public:
  std::size_t made() const noexcept { return made_; }
  std::size_t peak() const noexcept { return peak_; }
  void reset_count() noexcept { made_ = 0; }

  std::unique_ptr<antlr4::CommonToken> create(std::pair<antlr4::TokenSource*, antlr4::CharStream*> source,
                                              std::size_t type, const std::string&, std::size_t channel,
                                              std::size_t start, std::size_t stop, std::size_t line,
                                              std::size_t column) override {
    auto t = std::unique_ptr<antlr4::CommonToken>(new UnitToken(source, type, channel, start, stop));
    peak_ = std::max(peak_, ++made_);
    t->setLine(line);
    t->setCharPositionInLine(column);
    return t;
  }
  std::unique_ptr<antlr4::CommonToken> create(std::size_t type, const std::string& text) override {
    peak_ = std::max(peak_, ++made_);
    return std::unique_ptr<antlr4::CommonToken>(new UnitToken(type, text));
  }

 private:
  std::size_t made_ = 0;
  std::size_t peak_ = 0;
};

/// The parser's token stream. It pulls tokens from the lexer on demand,
/// turns BAD tokens and malformed numbers into lexical errors (they never
/// reach the parser), enforces kMaxNesting as tokens are consumed, and keeps
/// the tokens of the current item only: drop_item() frees the ones before
/// the current token. ANTLR's marks and seeks stay inside one item.
class TokenWindow final : public antlr4::TokenStream {
 public:
  TokenWindow(ToyLexer& lexer, ParseState& state, UnitTokenFactory& factory)
      : lexer_(lexer), state_(state), factory_(factory) {}
  ~TokenWindow() override { release_all(); }

  Token* LT(ssize_t k) override {
    if (k == 0) return nullptr;
    if (k < 0) {
      const ssize_t i = static_cast<ssize_t>(p_) + k;
      return i < 0 ? nullptr : buf_[static_cast<std::size_t>(i)].get();
    }
    const std::size_t i = p_ + static_cast<std::size_t>(k) - 1;
    fill(i + 1);
    return i < buf_.size() ? buf_[i].get() : buf_.back().get();
  }
  std::size_t LA(ssize_t i) override {
    const Token* t = LT(i);
    return t == nullptr ? 0 : t->getType();
  }
  void consume() override {
    if (state_.pending) std::rethrow_exception(state_.pending);
    fill(p_ + 1);
    const Token* t = buf_[p_].get();
    if (t->getType() == Token::EOF) throw antlr4::IllegalStateException("cannot consume EOF");
    switch (t->getType()) {
      case ToyLexer::LPAREN:
      case ToyLexer::LBRACK:
      case ToyLexer::LBRACE:
        if (++depth_ > kMaxNesting) {
          state_.diags.error(loc_of(t), "brackets nested deeper than " + std::to_string(kMaxNesting) +
                                            " levels; the parser stops here");
          state_.unwinding = true;
          throw NestingAbandon{};
        }
        break;
      case ToyLexer::RPAREN:
      case ToyLexer::RBRACK:
      case ToyLexer::RBRACE:
        if (depth_ > 0) --depth_;
        break;
      default:
        break;
    }
    ++p_;
  }
  ssize_t mark() override {
    ++markers_;
    return -1;
  }
  void release(ssize_t) override { --markers_; }
  std::size_t index() override { return base_ + p_; }
  void seek(std::size_t index) override {
    const std::size_t i = index < base_ ? 0 : index - base_;
    fill(i + 1);
    p_ = std::min(i, buf_.size() - 1);
  }
  std::size_t size() override { return base_ + buf_.size(); }
  Token* get(std::size_t index) const override {
    return index >= base_ && index - base_ < buf_.size() ? buf_[index - base_].get() : nullptr;
  }
  antlr4::TokenSource* getTokenSource() const override { return &lexer_; }
  std::string getText(const antlr4::misc::Interval&) override { return {}; }
  std::string getText() override { return {}; }
  std::string getText(antlr4::RuleContext*) override { return {}; }
  std::string getText(Token* start, Token* stop) override {
    if (start == nullptr || stop == nullptr) return {};
    const std::size_t a = start->getStartIndex(), b = stop->getStopIndex();
    if (a > b || b >= state_.file.text.size()) return {};
    return std::string(state_.file.text.substr(a, b - a + 1));
  }
  std::string getSourceName() const override { return std::string(state_.file.name); }

  /// Frees every token before the current one. Once the token region has
  /// handed out kTokenRegionReset bytes it is reset, and the lookahead
  /// tokens (usually none or one) are re-made in it: resetting after every
  /// item would cost a heap reset per statement. Call between items only,
  /// with no ANTLR mark held.
  void drop_item(spaces::TrivialArena* arena) {
    if (markers_ != 0) return;
    alive_peak_ = std::max(alive_peak_, buf_.size());
    if (arena == nullptr || factory_.made() * sizeof(UnitToken) < kTokenRegionReset) {
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(p_));
      base_ += p_;
      p_ = 0;
      return;
    }
    saved_.clear();
    for (std::size_t i = p_; i < buf_.size(); ++i) {
      const Token* t = buf_[i].get();
      saved_.push_back(Saved{t->getType(), t->getStartIndex(), t->getStopIndex(), t->getLine(),
                             t->getCharPositionInLine(), t->getTokenIndex()});
    }
    base_ += p_;
    p_ = 0;
    buf_.clear();
    arena->reset();
    factory_.reset_count();
    for (const Saved& s : saved_) {
      auto t = factory_.create({&lexer_, lexer_.getInputStream()}, s.type, std::string(), Token::DEFAULT_CHANNEL,
                               s.start, s.stop, s.line, s.column);
      t->setTokenIndex(s.index);
      buf_.push_back(std::move(t));
    }
  }

  /// Sets the bracket depth the next item starts at (0 at top level, 1 in
  /// a function body), so that an error's unbalanced brackets do not add up.
  void set_depth(std::uint32_t depth) noexcept { depth_ = depth; }
  std::size_t fetched() const noexcept { return fetched_; }
  std::size_t alive_peak() const noexcept { return std::max(alive_peak_, buf_.size()); }

  /// Frees every token (before the token region goes away).
  void release_all() noexcept { buf_.clear(); }

 private:
  void fill(std::size_t n) {
    while (buf_.size() < n) {
      if (!buf_.empty() && buf_.back()->getType() == Token::EOF) return;
      try {
        std::unique_ptr<Token> t;
        if (state_.diags.at_limit()) {
          t = factory_.create({&lexer_, lexer_.getInputStream()}, Token::EOF, std::string(), Token::DEFAULT_CHANNEL,
                              lexer_.getCharIndex(), lexer_.getCharIndex() - 1, lexer_.getLine(),
                              lexer_.getCharPositionInLine());
        } else {
          t = lexer_.nextToken();
        }
        if (!accept(t.get())) continue;
        static_cast<antlr4::CommonToken*>(t.get())->setTokenIndex(base_ + buf_.size());
        buf_.push_back(std::move(t));
        ++fetched_;
      } catch (...) {
        state_.unwinding = true;
        throw;
      }
    }
  }

  /// Reports lexical errors (docs/toy-language.md §2.4, §2.5); false drops the token.
  bool accept(const Token* t) {
    if (t->getType() == ToyLexer::BAD) {
      const auto byte = static_cast<unsigned char>(text_of(state_.file, t).front());
      char buf[64];
      if (byte >= 0x21 && byte < 0x7f)
        std::snprintf(buf, sizeof buf, "unexpected character '%c'", byte);
      else
        std::snprintf(buf, sizeof buf, "unexpected byte 0x%02X", byte);
      state_.diags.error(loc_of(t), buf);
      return false;
    }
    if (t->getType() == ToyLexer::NUMBER) {
      const std::string_view text = text_of(state_.file, t);
      if (std::count(text.begin(), text.end(), '.') > 1)
        state_.diags.error(loc_of(t), "malformed number '" + std::string(text.substr(0, 40)) + "'");
      else if (text.size() > 300 && std::isinf(std::strtod(std::string(text).c_str(), nullptr)))
        state_.diags.error(loc_of(t), "number too large");
    }
    return true;
  }

  ToyLexer& lexer_;
  ParseState& state_;
  UnitTokenFactory& factory_;
  struct Saved {
    std::size_t type, start, stop, line, column, index;
  };
  std::vector<std::unique_ptr<Token>> buf_;
  std::vector<Saved> saved_;
  std::size_t base_ = 0;  // absolute index of buf_[0]
  std::size_t p_ = 0;     // current token, relative to buf_
  std::size_t fetched_ = 0;
  std::size_t alive_peak_ = 0;
  int markers_ = 0;
  std::uint32_t depth_ = 0;
};

// ---- Parse-tree objects ----------------------------------------------------------

/// The generated parser, with its terminal nodes placed like its rule
/// contexts (UnitTerminalNode; unit_rule_context.hpp). Parser::consume is
/// virtual but Parser::createTerminalNode is not, so this is runtime 4.9's
/// Parser::consume with the node's class changed. (ErrorStrategy never
/// enters recovery mode: no error nodes are made.)
class UnitToyParser final : public ToyParser {
 public:
  using ToyParser::ToyParser;

  Token* consume() override {
    Token* o = getCurrentToken();
    if (o->getType() != Token::EOF) getInputStream()->consume();
    if (_buildParseTrees || !_parseListeners.empty()) {
      if (_errHandler->inErrorRecoveryMode(this)) {
        antlr4::tree::ErrorNode* node = createErrorNode(o);
        _ctx->addChild(node);
        for (antlr4::tree::ParseTreeListener* listener : _parseListeners) listener->visitErrorNode(node);
      } else {
        antlr4::tree::TerminalNode* node = _ctx->addChild(_tracker.createInstance<UnitTerminalNode>(o));
        for (antlr4::tree::ParseTreeListener* listener : _parseListeners) listener->visitTerminal(node);
      }
    }
    return o;
  }
};

// ---- Syntax errors -------------------------------------------------------------

/// Describes a token for a message: `';'`, `identifier 'x'`, `end of file`.
std::string describe(const SourceFile& file, const Token* t) {
  switch (t->getType()) {
    case Token::EOF:
      return "end of file";
    case ToyLexer::IDENT:
    case ToyLexer::NUMBER: {
      std::string_view text = text_of(file, t);
      std::string s = t->getType() == ToyLexer::IDENT ? "identifier '" : "number '";
      s.append(text.substr(0, 32));
      if (text.size() > 32) s.append("...");
      return s + "'";
    }
    default:
      return "'" + std::string(text_of(file, t)) + "'";
  }
}

/// Names a set of token types: `';' or '}'`, `identifier, number or '('`.
std::string describe_set(const antlr4::dfa::Vocabulary& vocab, const antlr4::misc::IntervalSet& set) {
  std::vector<std::string> names;
  for (ssize_t type : set.toList()) {
    if (type == -1)  // Token::EOF as a set member
      names.emplace_back("end of file");
    else if (type == ToyLexer::IDENT)
      names.emplace_back("identifier");
    else if (type == ToyLexer::NUMBER)
      names.emplace_back("number");
    else
      names.push_back(vocab.getLiteralName(static_cast<std::size_t>(type)));
  }
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) s += i + 1 == names.size() ? " or " : ", ";
    s += names[i];
  }
  return s;
}

/// Where in the grammar an error happened, for messages.
const char* rule_phrase(std::size_t rule) {
  switch (rule) {
    case ToyParser::RuleStructDef:
    case ToyParser::RuleMember:
      return " in a struct definition";
    case ToyParser::RuleFuncHead:
    case ToyParser::RuleParam:
      return " in a function prototype";
    case ToyParser::RuleBodyItem:
      return " after a statement";
    case ToyParser::RuleShape:
      return " in a shape";
    case ToyParser::RuleTensorLit:
    case ToyParser::RuleLitItem:
      return " in a tensor literal";
    case ToyParser::RuleStructLit:
    case ToyParser::RuleStructItem:
      return " in a struct literal";
    case ToyParser::RuleArgs:
      return " in an argument list";
    default:
      return "";
  }
}

/// Reports the first syntax error of an item and abandons the item: no
/// single-token repair, no resynchronisation inside generated code (the
/// driver resynchronises at statement granularity).
class ErrorStrategy final : public antlr4::ANTLRErrorStrategy {
 public:
  explicit ErrorStrategy(ParseState& state) : state_(state) {}

  void reset(antlr4::Parser*) override {}
  Token* recoverInline(antlr4::Parser* parser) override { throw antlr4::InputMismatchException(parser); }
  void recover(antlr4::Parser*, std::exception_ptr) override {
    state_.unwinding = true;
    throw SyntaxAbandon{};
  }
  void sync(antlr4::Parser*) override {}
  bool inErrorRecoveryMode(antlr4::Parser*) override { return false; }
  void reportMatch(antlr4::Parser*) override {}

  void reportError(antlr4::Parser* parser, const antlr4::RecognitionException& e) override {
    Token* bad = e.getOffendingToken();
    if (bad == nullptr) bad = parser->getCurrentToken();
    const std::size_t rule = parser->getContext() != nullptr ? parser->getContext()->getRuleIndex() : 0;
    std::string message;
    const auto* mismatch = dynamic_cast<const antlr4::InputMismatchException*>(&e);
    antlr4::misc::IntervalSet expected;
    if (mismatch != nullptr) {
      expected = e.getExpectedTokens();
    } else if (bad == parser->getCurrentToken()) {
      expected = parser->getExpectedTokens();
    }
    if (!expected.isEmpty() && expected.size() <= 6) {
      message = "expected " + describe_set(parser->getVocabulary(), expected) + rule_phrase(rule) + ", found " +
                describe(state_.file, bad);
    } else {
      message = "unexpected " + describe(state_.file, bad) + rule_phrase(rule);
    }
    state_.diags.error(loc_of(bad), std::move(message));
  }

 private:
  ParseState& state_;
};

// ---- AST construction ----------------------------------------------------------

/// Builds AST nodes as rules complete. Operands are on `exprs_`; each rule
/// invocation records the stack heights at its entry (Mark), so at its
/// exit the rule's results are the entries above its mark. Every exit
/// quotes its rule. Exits run inside ANTLR's scope guards, where throwing
/// terminates: `guarded` parks a memory failure in ParseState::pending.
class Builder final : public toy::ToyBaseListener {
 public:
  Builder(ParseState& state, TokenWindow& window) : st_(state), ctx_(state.ctx), window_(window) {}

  /// Forgets partial results (after an abandoned item).
  void begin_item() {
    exprs_.clear();
    marks_.clear();
    shapes_.clear();
    lit_frames_.clear();
    lit_values_.clear();
    lit_dims_.clear();
    st_.unwinding = false;
  }

  // -- Results the driver collects.
  std::vector<Node*>& decls() { return decls_; }
  std::vector<Stmt*>& stmts() { return stmts_; }
  struct Head {
    SourceLoc loc;
    std::string_view name;
    std::span<const ParamDecl> params;
  };
  std::optional<Head>& head() { return head_; }

  void enterEveryRule(antlr4::ParserRuleContext*) override {
    marks_.push_back(Mark{exprs_.size(), shapes_.size(), members_.size(), params_.size()});
  }
  void exitEveryRule(antlr4::ParserRuleContext*) override {
    if (!marks_.empty()) marks_.pop_back();
  }

  // structDef : STRUCT IDENT '{' ( member ';' )+ '}' ;
  void exitStructDef(ToyParser::StructDefContext* c) override {
    guarded([&] {
      auto members = ctx_.copy(std::span<const MemberDecl>(members_).subspan(mark().members));
      members_.resize(mark().members);
      decls_.push_back(
          ctx_.make<StructDecl>(loc_of(token(c, ToyLexer::STRUCT)), name(token(c, ToyLexer::IDENT)), members));
    });
  }

  // member : VAR IDENT shape? # tensorMember
  void exitTensorMember(ToyParser::TensorMemberContext* c) override {
    guarded([&] {
      const bool has_shape = shapes_.size() > mark().shapes;
      members_.push_back(MemberDecl{name(token(c, ToyLexer::IDENT)), {},
                                    has_shape ? pop_shape() : std::span<const std::uint64_t>{},
                                    loc_of(token(c, ToyLexer::VAR)), has_shape});
    });
  }

  // member : IDENT IDENT # structMember
  void exitStructMember(ToyParser::StructMemberContext* c) override {
    guarded([&] {
      const Token* type = token(c, ToyLexer::IDENT, 0);
      members_.push_back(MemberDecl{name(token(c, ToyLexer::IDENT, 1)), name(type), {}, loc_of(type), false});
    });
  }

  // funcHead : DEF IDENT '(' ( param ( ',' param )* )? ')' '{' ;
  void exitFuncHead(ToyParser::FuncHeadContext* c) override {
    guarded([&] {
      auto params = ctx_.copy(std::span<const ParamDecl>(params_).subspan(mark().params));
      params_.resize(mark().params);
      head_ = Head{loc_of(token(c, ToyLexer::DEF)), name(token(c, ToyLexer::IDENT)), params};
    });
  }

  // param : IDENT # tensorParam
  void exitTensorParam(ToyParser::TensorParamContext* c) override {
    guarded([&] {
      const Token* id = token(c, ToyLexer::IDENT);
      params_.push_back(ParamDecl{name(id), {}, loc_of(id)});
    });
  }

  // param : IDENT IDENT # structParam
  void exitStructParam(ToyParser::StructParamContext* c) override {
    guarded([&] {
      const Token* type = token(c, ToyLexer::IDENT, 0);
      params_.push_back(ParamDecl{name(token(c, ToyLexer::IDENT, 1)), name(type), loc_of(type)});
    });
  }

  // statement : VAR IDENT shape? '=' expr # varDecl
  void exitVarDecl(ToyParser::VarDeclContext* c) override {
    guarded([&] {
      Expr* init = pop_expr();
      auto shape = shapes_.size() > mark().shapes ? pop_shape() : std::span<const std::uint64_t>{};
      stmts_.push_back(ctx_.make<VarDeclStmt>(loc_of(token(c, ToyLexer::VAR)), name(token(c, ToyLexer::IDENT)),
                                              std::string_view{}, shape, init));
    });
  }

  // statement : IDENT IDENT '=' expr # typedDecl
  void exitTypedDecl(ToyParser::TypedDeclContext* c) override {
    guarded([&] {
      Expr* init = pop_expr();
      const Token* type = token(c, ToyLexer::IDENT, 0);
      stmts_.push_back(ctx_.make<VarDeclStmt>(loc_of(type), name(token(c, ToyLexer::IDENT, 1)), name(type),
                                              std::span<const std::uint64_t>{}, init));
    });
  }

  // statement : RETURN expr? # returnStmt
  void exitReturnStmt(ToyParser::ReturnStmtContext* c) override {
    guarded([&] {
      Expr* value = exprs_.size() > mark().exprs ? pop_expr() : nullptr;
      stmts_.push_back(ctx_.make<ReturnStmt>(loc_of(token(c, ToyLexer::RETURN)), value));
    });
  }

  // statement : IDENT '(' args? ')' # callStmt
  void exitCallStmt(ToyParser::CallStmtContext* c) override {
    guarded([&] { stmts_.push_back(make_call(token(c, ToyLexer::IDENT))); });
  }

  // statement : exprHead # exprStmt
  void exitExprStmt(ToyParser::ExprStmtContext*) override {
    guarded([&] { stmts_.push_back(pop_expr()); });
  }

  // exprHead : exprStart ( '.' primary )* ( '*' access )* ( ( '+' | '-' ) multiplicative )* ;
  void exitExprHead(ToyParser::ExprHeadContext* c) override { fold(c); }

  // exprStart : '(' expr ')' # parenStart
  void exitParenStart(ToyParser::ParenStartContext*) override { parenthesize(); }

  // exprStart : NUMBER # numberStart
  void exitNumberStart(ToyParser::NumberStartContext* c) override { push_number(token(c, ToyLexer::NUMBER)); }

  // shape : '<' ( NUMBER ( ',' NUMBER )* )? '>' ;
  void exitShape(ToyParser::ShapeContext* c) override {
    guarded([&] {
      std::vector<std::uint64_t> dims;
      for (antlr4::tree::ParseTree* child : c->children) {
        const Token* t = child_token(child);
        if (t->getType() != ToyLexer::NUMBER) continue;
        const std::string_view text = text_of(st_.file, t);
        std::uint64_t v = 0;
        for (char ch : text) {
          if (ch == '.') {
            v = 0;
            break;
          }
          const auto digit = static_cast<std::uint64_t>(ch - '0');
          v = v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10 ? std::numeric_limits<std::uint64_t>::max()
                                                                           : v * 10 + digit;
        }
        if (v == 0) st_.diags.error(loc_of(t), "a dimension must be a whole number of at least 1");
        dims.push_back(v);
      }
      shapes_.push_back(ctx_.copy(std::span<const std::uint64_t>(dims)));
    });
  }

  // expr : additive ;   (nothing to do: the additive's result is the expr's)
  // additive : multiplicative ( ( '+' | '-' ) multiplicative )* ;
  void exitAdditive(ToyParser::AdditiveContext* c) override { fold(c); }
  // multiplicative : access ( '*' access )* ;
  void exitMultiplicative(ToyParser::MultiplicativeContext* c) override { fold(c); }
  // access : primary ( '.' primary )* ;
  void exitAccess(ToyParser::AccessContext* c) override { fold(c); }

  // primary : IDENT '(' args? ')' # callExpr
  void exitCallExpr(ToyParser::CallExprContext* c) override {
    guarded([&] { exprs_.push_back(make_call(token(c, ToyLexer::IDENT))); });
  }
  // primary : IDENT # varExpr
  void exitVarExpr(ToyParser::VarExprContext* c) override {
    guarded([&] {
      const Token* id = token(c, ToyLexer::IDENT);
      exprs_.push_back(ctx_.make<VarExpr>(loc_of(id), name(id)));
    });
  }
  // primary : NUMBER # numberExpr
  void exitNumberExpr(ToyParser::NumberExprContext* c) override { push_number(token(c, ToyLexer::NUMBER)); }
  // primary : '(' expr ')' # parenExpr
  void exitParenExpr(ToyParser::ParenExprContext*) override { parenthesize(); }

  // tensorLit : '[' litItem ( ',' litItem )* ']' ;
  void enterTensorLit(ToyParser::TensorLitContext*) override {
    if (st_.unwinding) return;
    lit_frames_.push_back(LitFrame{});
  }
  void exitTensorLit(ToyParser::TensorLitContext* c) override {
    guarded([&] {
      LitFrame f = lit_frames_.back();
      lit_frames_.pop_back();
      // This list's dims: its length, then its items' common dims (which
      // sit on top of lit_dims_ when the items are lists).
      const std::size_t child_rank = f.kind == LitFrame::Lists ? f.child_rank : 0;
      lit_dims_.insert(lit_dims_.end() - static_cast<std::ptrdiff_t>(child_rank), f.items);
      if (f.ragged && !f.bad) {
        st_.diags.error(loc_of(token(c, ToyLexer::LBRACK)),
                        "the items of this tensor literal do not have the same shape");
      }
      if (!lit_frames_.empty()) {
        lit_frames_.back().child_bad = f.bad || f.ragged;
        last_rank_ = child_rank + 1;
        return;
      }
      // The outermost list: make the node.
      auto dims = ctx_.copy(std::span<const std::uint64_t>(lit_dims_));
      auto values = ctx_.copy(std::span<const double>(lit_values_));
      lit_dims_.clear();
      lit_values_.clear();
      exprs_.push_back(ctx_.make<LiteralExpr>(loc_of(token(c, ToyLexer::LBRACK)), dims, values));
    });
  }

  // litItem : NUMBER | tensorLit ;
  void exitLitItem(ToyParser::LitItemContext* c) override {
    guarded([&] {
      LitFrame& f = lit_frames_.back();
      if (const Token* num = token(c, ToyLexer::NUMBER); num != nullptr) {
        lit_values_.push_back(number(num));
        if (f.kind == LitFrame::Lists) f.ragged = true;
        if (f.kind == LitFrame::Empty) f.kind = LitFrame::Numbers;
      } else {
        // The nested list's dims are the last last_rank_ entries of lit_dims_.
        f.bad = f.bad || f.child_bad;
        if (f.kind == LitFrame::Numbers) f.ragged = true;
        if (f.kind == LitFrame::Empty) {
          f.kind = LitFrame::Lists;
          f.child_rank = last_rank_;
        } else if (f.kind == LitFrame::Lists) {
          const std::size_t n = lit_dims_.size();
          const bool same = last_rank_ == f.child_rank &&
                            std::equal(lit_dims_.end() - static_cast<std::ptrdiff_t>(last_rank_), lit_dims_.end(),
                                       lit_dims_.end() - static_cast<std::ptrdiff_t>(2 * last_rank_));
          if (!same) f.ragged = true;
          lit_dims_.resize(n - last_rank_);  // keep only the first item's dims
        } else {
          lit_dims_.resize(lit_dims_.size() - last_rank_);
        }
      }
      ++f.items;
    });
  }

  // structLit : '{' structItem ( ',' structItem )* '}' ;
  void exitStructLit(ToyParser::StructLitContext* c) override {
    guarded([&] {
      auto items = take_exprs(mark().exprs);
      exprs_.push_back(ctx_.make<StructLiteralExpr>(loc_of(token(c, ToyLexer::LBRACE)), items));
    });
  }

  // structItem : NUMBER | tensorLit | structLit ;
  void exitStructItem(ToyParser::StructItemContext* c) override {
    if (const Token* n = token(c, ToyLexer::NUMBER); n != nullptr) push_number(n);
  }

 private:
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

  template <class F>
  void guarded(F&& f) noexcept {
    if (st_.unwinding || st_.pending) return;
    try {
      f();
    } catch (...) {
      st_.pending = std::current_exception();
    }
  }

  const Mark& mark() const { return marks_.back(); }
  std::string_view name(const Token* t) { return ctx_.intern(text_of(st_.file, t)); }

  double number(const Token* t) const {
    const std::string_view text = text_of(st_.file, t);
    double v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
    if (ec == std::errc::result_out_of_range) return std::strtod(std::string(text).c_str(), nullptr);
    (void)ptr;  // a malformed number was reported by the lexer; its prefix will do
    return v;
  }
  void push_number(const Token* t) {
    guarded([&] { exprs_.push_back(ctx_.make<NumberExpr>(loc_of(t), number(t))); });
  }
  void parenthesize() {
    if (st_.unwinding || st_.pending || exprs_.empty()) return;
    exprs_.back()->set_parenthesized();
  }

  Expr* pop_expr() {
    Expr* e = exprs_.back();
    exprs_.pop_back();
    return e;
  }
  std::span<const std::uint64_t> pop_shape() {
    auto s = shapes_.back();
    shapes_.pop_back();
    return s;
  }
  std::span<Expr* const> take_exprs(std::size_t from) {
    auto items = ctx_.copy_ptrs(std::span<Expr* const>(exprs_).subspan(from));
    exprs_.resize(from);
    return items;
  }

  /// IDENT '(' args? ')': a Print for `print` (exactly one argument,
  /// docs/toy-language.md §3.6), a Call otherwise.
  Expr* make_call(const Token* callee) {
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
  void fold(antlr4::ParserRuleContext* c) {
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
  std::size_t last_rank_ = 0;
};

// ---- The driver ------------------------------------------------------------------

/// Runs the loops of `module` and `funcDef` (Toy.g4) one item at a time.
class UnitParser {
 public:
  UnitParser(const SourceFile& file, AstContext& ctx, DiagEngine& diags, const ParseOptions& options)
      : state_{file, diags, ctx, false, nullptr},
        chars_(file),
        lexer_(&chars_),
        window_(lexer_, state_, factory_),
        parser_(&window_),
        strategy_(std::make_shared<ErrorStrategy>(state_)),
        builder_(state_, window_) {
    if (options.mode == AllocMode::Arena) {
      spaces::HeapOptions o;
      o.name("tokens").retain_on_reset();  // the same slabs serve every round
      if (options.parent != nullptr) o.parent(*options.parent);
      token_arena_ = std::make_unique<spaces::TrivialArena>(o);
      // Contexts and terminal nodes are freed one by one at every tracker
      // reset; a general heap reuses their blocks for the next item.
      spaces::HeapOptions t;
      t.name("contexts").single_threaded();  // one unit parses on one thread
      if (options.parent != nullptr) t.parent(*options.parent);
      tree_heap_ = spaces::Heap(t);
      placement_.heap = &tree_heap_;
    }
    lexer_.removeErrorListeners();
    lexer_.setTokenFactory(&factory_);
    parser_.removeErrorListeners();
    parser_.setErrorHandler(strategy_);
    parser_.setBuildParseTree(false);
    parser_.addParseListener(&builder_);
    parser_.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  }
  ~UnitParser() { release(); }

  ModuleDecl* run(ParseStats* stats) {
    tls_token_arena = token_arena_.get();
    struct Restore {
      ~Restore() { tls_token_arena = nullptr; }
    } restore;
    const ParseTreeScope tree_scope(&placement_);
    try {
      module();
    } catch (const NestingAbandon&) {
      // Reported where it happened; the rest of the unit is not parsed.
    } catch (...) {
      release();  // while tls_token_arena still names the tokens' region
      throw;
    }
    release();
    if (stats != nullptr) {
      stats->tokens = window_.fetched();
      stats->items = items_;
      stats->max_item_tokens = window_.alive_peak();
      // Arena mode: bytes the region held at most; new mode: bytes alive at most.
      stats->token_bytes_peak =
          (token_arena_ != nullptr ? factory_.peak() : window_.alive_peak()) * sizeof(UnitToken);
      stats->tree_heap = tree_heap_.alive();
      if (stats->tree_heap) stats->tree_stats = tree_heap_.stats();
    }
    auto& decls = builder_.decls();
    return state_.ctx.make<ModuleDecl>(state_.ctx.copy_ptrs(std::span<Node* const>(decls)));
  }

 private:
  /// Frees ANTLR's contexts and every token.
  void release() noexcept {
    parser_.getTreeTracker().reset();
    window_.release_all();
  }

  std::size_t la() { return window_.LA(1); }

  /// Consumes one token while skipping after an error, dropping the
  /// skipped tokens now and then so that skipping garbage stays small.
  void skip_one() {
    window_.set_depth(0);
    window_.consume();
    if (++skipped_ % 1024 == 0) window_.drop_item(token_arena_.get());
  }
  bool stop() { return state_.diags.at_limit(); }

  /// Parses one item with `rule`; false after a syntax error. Frees the
  /// item's contexts and tokens either way.
  template <class Rule>
  bool item(Rule rule, std::uint32_t depth) {
    ++items_;
    window_.set_depth(depth);
    builder_.begin_item();
    bool ok = true;
    try {
      (parser_.*rule)();
    } catch (const SyntaxAbandon&) {
      ok = false;
    } catch (const antlr4::RecognitionException&) {
      ok = false;
    }
    parser_.getTreeTracker().reset();
    if (state_.pending) std::rethrow_exception(state_.pending);
    window_.drop_item(token_arena_.get());
    return ok;
  }

  // module : ( structDef | funcDef )* EOF ;
  void module() {
    while (!stop()) {
      const std::size_t t = la();
      if (t == Token::EOF) return;
      if (t == ToyLexer::STRUCT) {
        if (!item(&ToyParser::structDef, 0)) skip_to_definition();
      } else if (t == ToyLexer::DEF) {
        func_def();
      } else {
        state_.diags.error(loc_of(window_.LT(1)), "expected 'def' or 'struct' at top level, found " +
                                                     describe(state_.file, window_.LT(1)));
        skip_to_definition();
      }
    }
  }

  // funcDef : funcHead bodyItem* '}' ;
  void func_def() {
    auto& head = builder_.head();
    head.reset();
    const bool head_ok = item(&ToyParser::funcHead, 0);
    if (!head_ok) {
      // Resume at the body if there is one, to find its errors too.
      while (!stop() && la() != Token::EOF && la() != ToyLexer::LBRACE && la() != ToyLexer::DEF &&
             la() != ToyLexer::STRUCT)
        skip_one();
      if (la() != ToyLexer::LBRACE) return;
      window_.set_depth(0);
      window_.consume();
    }
    auto& stmts = builder_.stmts();
    stmts.clear();
    while (!stop()) {
      const std::size_t t = la();
      if (t == ToyLexer::RBRACE) {
        window_.set_depth(1);
        window_.consume();
        break;
      }
      if (t == Token::EOF || t == ToyLexer::DEF || t == ToyLexer::STRUCT) {
        state_.diags.error(loc_of(window_.LT(1)),
                           "expected '}' at the end of the function body, found " + describe(state_.file, window_.LT(1)));
        break;
      }
      if (!item(&ToyParser::bodyItem, 1)) skip_to_statement_end();
    }
    if (head_ok && head.has_value()) {
      auto body = state_.ctx.copy_ptrs(std::span<Stmt* const>(stmts));
      builder_.decls().push_back(state_.ctx.make<FunctionDecl>(head->loc, head->name, head->params, body));
    }
    stmts.clear();
  }

  /// Panic mode inside a body: skips past the next `;` of this statement,
  /// or up to the `}` closing the body or the next definition.
  void skip_to_statement_end() {
    std::uint32_t depth = 0;
    while (!stop()) {
      const std::size_t t = la();
      if (t == Token::EOF || t == ToyLexer::DEF || t == ToyLexer::STRUCT) return;
      if (depth == 0 && t == ToyLexer::RBRACE) return;
      skip_one();
      if (t == ToyLexer::LBRACE || t == ToyLexer::LPAREN || t == ToyLexer::LBRACK) ++depth;
      if ((t == ToyLexer::RBRACE || t == ToyLexer::RPAREN || t == ToyLexer::RBRACK) && depth > 0) --depth;
      if (depth == 0 && t == ToyLexer::SEMI) break;
    }
    window_.drop_item(token_arena_.get());
  }

  /// Panic mode at top level: skips to the next `def` or `struct`.
  void skip_to_definition() {
    while (!stop() && la() != Token::EOF && la() != ToyLexer::DEF && la() != ToyLexer::STRUCT) skip_one();
    window_.drop_item(token_arena_.get());
  }

  ParseState state_;
  ByteStream chars_;
  ToyLexer lexer_;
  UnitTokenFactory factory_;
  std::unique_ptr<spaces::TrivialArena> token_arena_;
  // Declared before parser_, which frees what is left in its tracker when
  // it dies: the heap must outlive it.
  spaces::Heap tree_heap_;  // rule contexts and terminal nodes (arena mode)
  // Installed in both modes: with no heap (--alloc=new) it still marks the
  // parse as unwinding when the global allocator throws.
  ParseTreePlacement placement_{nullptr, &state_.unwinding};
  TokenWindow window_;
  UnitToyParser parser_;
  std::shared_ptr<ErrorStrategy> strategy_;
  Builder builder_;
  std::size_t items_ = 0;
  std::size_t skipped_ = 0;
};

}  // namespace

ModuleDecl* parse_module(const SourceFile& file, AstContext& ctx, DiagEngine& diags, const ParseOptions& options,
                         ParseStats* stats) {
  UnitParser parser(file, ctx, diags, options);
  ModuleDecl* module = parser.run(stats);
  diags.sort_by_position();
  return module;
}

}  // namespace spacesc
