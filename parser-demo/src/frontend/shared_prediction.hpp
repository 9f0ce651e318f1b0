// ---------------------------------------------------------------------------
// shared_prediction.hpp: ANTLR's process-wide state, filled on the default
// heap.
//
// A unit's thread routes every malloc into the unit's heap (driver.cpp), and
// that heap dies with the unit. The generated ToyLexer and ToyParser share
// state across the whole process that they fill lazily while they run:
//   * the DFAs and prediction-context cache their simulators predict with,
//     which grow on a DFA miss (a token or decision seen the first time);
//   * each ATN state's follow set (ATN::nextTokens), which error reporting
//     asks for.
// Anything a unit added there would dangle once the unit is gone. So the
// simulators of UnitToyLexer and UnitToyParser step out to the default
// heap (spaces::ScopedHeap(nullptr)) for exactly the calls that grow the
// DFAs, and the follow sets are all computed once, on the default heap,
// before the first parse. The DFAs stay shared and warm across units, as
// ANTLR means them to be; what they hold is bounded by the grammar, not by
// the input, and counts in the process's constant, not in any unit's cap.
// A DFA hit, the common case, allocates nothing and switches no heap.
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_SHARED_PREDICTION_HPP
#define SPACESC_FRONTEND_SHARED_PREDICTION_HPP

#include <antlr4-runtime.h>

#include <cstddef>

namespace spacesc::frontend {

/// The lexer's simulator on the shared DFAs: ATN simulation, which adds DFA
/// states and edges, runs on the default heap.
class UnitLexerSimulator final : public antlr4::atn::LexerATNSimulator {
 public:
  using LexerATNSimulator::LexerATNSimulator;

 protected:
  std::size_t matchATN(antlr4::CharStream* input) override;
  antlr4::dfa::DFAState* computeTargetState(antlr4::CharStream* input, antlr4::dfa::DFAState* s,
                                            std::size_t t) override;
};

/// The parser's simulator on the shared DFAs: making a decision's start
/// state and computing a DFA miss run on the default heap.
class UnitParserSimulator final : public antlr4::atn::ParserATNSimulator {
 public:
  using ParserATNSimulator::ParserATNSimulator;

  std::size_t adaptivePredict(antlr4::TokenStream* input, std::size_t decision,
                              antlr4::ParserRuleContext* outer) override;

 protected:
  antlr4::dfa::DFAState* computeTargetState(antlr4::dfa::DFA& dfa, antlr4::dfa::DFAState* previous,
                                            std::size_t t) override;
};

/// Fills the follow-set cache of every state of `atn` (the parser's static
/// ATN), once per process, on the default heap.
void share_follow_sets(const antlr4::atn::ATN& atn);

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_SHARED_PREDICTION_HPP
