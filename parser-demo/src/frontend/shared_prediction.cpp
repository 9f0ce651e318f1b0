// ---------------------------------------------------------------------------
// shared_prediction.cpp: the simulators' calls that grow the shared DFAs,
// on the default heap.
// ---------------------------------------------------------------------------
#include "shared_prediction.hpp"

#include <spaces/heap.hpp>

#include <mutex>

namespace spacesc::frontend {

// Called when the mode's DFA has no start state yet.
std::size_t UnitLexerSimulator::matchATN(antlr4::CharStream* input) {
  const spaces::ScopedHeap outside(nullptr);
  return LexerATNSimulator::matchATN(input);
}

antlr4::dfa::DFAState* UnitLexerSimulator::computeTargetState(antlr4::CharStream* input, antlr4::dfa::DFAState* s,
                                                              std::size_t t) {
  const spaces::ScopedHeap outside(nullptr);
  return LexerATNSimulator::computeTargetState(input, s, t);
}

// The runtime makes a decision's start state inside adaptivePredict itself;
// the rest of its growth happens in computeTargetState.
std::size_t UnitParserSimulator::adaptivePredict(antlr4::TokenStream* input, std::size_t decision,
                                                 antlr4::ParserRuleContext* outer) {
  if (decisionToDFA[decision].s0 == nullptr) {
    const spaces::ScopedHeap outside(nullptr);
    return ParserATNSimulator::adaptivePredict(input, decision, outer);
  }
  return ParserATNSimulator::adaptivePredict(input, decision, outer);
}

antlr4::dfa::DFAState* UnitParserSimulator::computeTargetState(antlr4::dfa::DFA& dfa,
                                                               antlr4::dfa::DFAState* previous, std::size_t t) {
  const spaces::ScopedHeap outside(nullptr);
  return ParserATNSimulator::computeTargetState(dfa, previous, t);
}

void share_follow_sets(const antlr4::atn::ATN& atn) {
  static std::once_flag once;
  std::call_once(once, [&atn] {
    const spaces::ScopedHeap outside(nullptr);
    for (antlr4::atn::ATNState* s : atn.states)
      if (s != nullptr) atn.nextTokens(s);
  });
}

}  // namespace spacesc::frontend
