// ---------------------------------------------------------------------------
// syntax_errors.cpp: naming tokens, token sets and rules; ErrorStrategy.
// ---------------------------------------------------------------------------
#include "syntax_errors.hpp"

#include "tokens.hpp"

#include "ToyLexer.h"
#include "ToyParser.h"

#include <cstddef>
#include <string_view>
#include <vector>

namespace spacesc::frontend {
namespace {

using antlr4::Token;
using toy::ToyLexer;
using toy::ToyParser;

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

}  // namespace

std::string describe(const SourceFile& file, const Token* t) {
  switch (t->getType()) {
    case Token::EOF:
      return "end of file";
    case ToyLexer::IDENT:
      return "identifier " + quoted(text_of(file, t));
    case ToyLexer::NUMBER:
      return "number " + quoted(text_of(file, t));
    default:
      return quoted(text_of(file, t));
  }
}

Token* ErrorStrategy::recoverInline(antlr4::Parser* parser) { throw antlr4::InputMismatchException(parser); }

void ErrorStrategy::recover(antlr4::Parser*, std::exception_ptr) {
  throw SyntaxAbandon{};
}

// `expected SET[ in RULE], found TOKEN` when ANTLR can name at most six
// expected tokens, `unexpected TOKEN[ in RULE]` otherwise.
void ErrorStrategy::reportError(antlr4::Parser* parser, const antlr4::RecognitionException& e) {
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

}  // namespace spacesc::frontend
