// ---------------------------------------------------------------------------
// unit_parser.cpp: parse_module, and the loops that parse a unit one item
// at a time.
//
// ANTLR's defaults keep the whole input as UTF-32, every token (~100 bytes
// each) and every rule context until the parser dies, about 100x the input
// (issue 5). The pieces of src/frontend/ each remove one of those costs:
// ByteStream reads the bytes in place, UnitTokens live in a region heap
// under the unit's heap and TokenWindow keeps one item's tokens, no parse
// tree is built (the Builder listener makes AST nodes as rules complete),
// and rule contexts and terminal nodes come from a general heap under the
// unit's heap (unit_rule_context.hpp, unit_toy_parser.hpp), so --mem-cap
// counts all of them. ANTLR frees contexts only at getTreeTracker().reset(),
// so UnitParser runs the grammar's two outer loops itself and calls
// structDef, funcHead and bodyItem one at a time, resetting the tracker
// after each.
//
// Errors: the first syntax error of an item ends the item (ErrorStrategy
// throws SyntaxAbandon); UnitParser then skips to the next `;`, `}` or
// definition, so every statement's first error is reported.
// ---------------------------------------------------------------------------
#include <spacesc/ast_builder.hpp>

#include "builder.hpp"
#include "byte_stream.hpp"
#include "parse_state.hpp"
#include "syntax_errors.hpp"
#include "token_window.hpp"
#include "tokens.hpp"
#include "unit_rule_context.hpp"
#include "unit_token.hpp"
#include "unit_toy_lexer.hpp"
#include "unit_toy_parser.hpp"

#include "ToyLexer.h"
#include "ToyParser.h"

#include <antlr4-runtime.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>

namespace spacesc {
namespace frontend {
namespace {

using antlr4::Token;
using toy::ToyLexer;
using toy::ToyParser;

/// Runs the loops of `module` and `funcDef` (Toy.g4) one item at a time.
/// Owner thread only.
class UnitParser {
 public:
  UnitParser(const SourceFile& file, AstContext& ctx, DiagEngine& diags, const ParseOptions& options)
      : state_{file, diags, ctx, nullptr},
        chars_(file),
        lexer_(&chars_, factory_),
        window_(lexer_, state_, factory_),
        parser_(&window_, builder_),
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
      t.name("contexts").single_threaded().tiny();  // one unit parses on one thread
      if (options.parent != nullptr) t.parent(*options.parent);
      tree_heap_ = spaces::Heap(t);
    }
    lexer_.removeErrorListeners();
    parser_.removeErrorListeners();
    parser_.setErrorHandler(strategy_);
    parser_.setBuildParseTree(false);
    parser_.addParseListener(&builder_);
    parser_.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  }
  ~UnitParser() { release(); }

  ModuleDecl* run(ParseStats* stats) {
    const TokenArenaScope token_scope(token_arena_.get());
    const ParseTreeScope tree_scope(tree_heap_.alive() ? &tree_heap_ : nullptr);
    try {
      module();
    } catch (const NestingAbandon&) {
      // Reported where it happened; the rest of the unit is not parsed.
    } catch (...) {
      release();  // while token_scope still names the tokens' region
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
  bool stop() { return state_.diags.past_limit(); }

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

  /// Panic mode inside a body: skips past the `;` that ends this statement
  /// at its own bracket depth, or up to the `}` closing the body or the
  /// next definition. Brackets the statement opened before the error still
  /// count (the window's depth, 1 being the body's brace): counting from
  /// the error point would take the `}` of `P p = {1, x};` for the body's.
  void skip_to_statement_end() {
    std::uint32_t depth = window_.depth() > 1 ? window_.depth() - 1 : 0;
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
  UnitTokenFactory factory_;
  UnitToyLexer lexer_;
  std::unique_ptr<spaces::TrivialArena> token_arena_;
  // Declared before parser_, which frees what is left in its tracker when
  // it dies: the heap must outlive it.
  spaces::Heap tree_heap_;  // rule contexts and terminal nodes (arena mode)
  TokenWindow window_;
  UnitToyParser parser_;
  std::shared_ptr<ErrorStrategy> strategy_;
  Builder builder_;
  std::size_t items_ = 0;
  std::size_t skipped_ = 0;
};

}  // namespace
}  // namespace frontend

ModuleDecl* parse_module(const SourceFile& file, AstContext& ctx, DiagEngine& diags, const ParseOptions& options,
                         ParseStats* stats) {
  frontend::UnitParser parser(file, ctx, diags, options);
  ModuleDecl* module = parser.run(stats);
  diags.sort_by_position();
  return module;
}

}  // namespace spacesc
