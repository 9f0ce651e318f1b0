// ---------------------------------------------------------------------------
// unit_dfa.hpp: one unit's prediction caches, and the shared ATN's.
//
// The generated ToyLexer and ToyParser share static DFAs and a prediction
// context cache across the process and fill them lazily, while they parse.
// A unit's thread routes every malloc into the unit's heap (driver.cpp), so
// states added to the shared caches would be blocks of a heap that dies
// with the unit. Each UnitToyLexer and UnitToyParser predicts with a
// UnitDfa instead: the unit's own caches, in the unit's heap, counted by
// --mem-cap and freed with the recognizer. The cost is a cold cache per
// unit (docs/spacesc.md gives the measured effect).
//
// The static ATN itself caches one thing lazily: each state's follow set
// (ATN::nextTokens), which error reporting asks for. share_follow_sets()
// computes all of them once, on the default heap, before the first unit
// can need one; from then on the shared ATN is only read.
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_UNIT_DFA_HPP
#define SPACESC_FRONTEND_UNIT_DFA_HPP

#include <antlr4-runtime.h>

#include <spaces/heap.hpp>

#include <cstddef>
#include <mutex>
#include <vector>

namespace spacesc::frontend {

/// A DFA per decision of `atn` and a context cache, as the generated
/// recognizers build their static ones.
struct UnitDfa {
  explicit UnitDfa(const antlr4::atn::ATN& atn) {
    const std::size_t n = atn.getNumberOfDecisions();
    decisions.reserve(n);  // the simulators hold references into it
    for (std::size_t i = 0; i < n; ++i) decisions.emplace_back(atn.getDecisionState(i), i);
  }
  UnitDfa(const UnitDfa&) = delete;
  UnitDfa& operator=(const UnitDfa&) = delete;

  std::vector<antlr4::dfa::DFA> decisions;
  antlr4::atn::PredictionContextCache contexts;
};

/// Fills the follow-set cache of every state of `atn` (a static ATN of the
/// generated recognizers), once per process, routed to the default heap.
inline void share_follow_sets(const antlr4::atn::ATN& atn) {
  static std::once_flag once;
  std::call_once(once, [&atn] {
    const spaces::ScopedHeap outside(nullptr);
    for (antlr4::atn::ATNState* s : atn.states)
      if (s != nullptr) atn.nextTokens(s);
  });
}

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_UNIT_DFA_HPP
