// arena_tree.cpp: builds a binary expression tree in a spaces::TrivialArena,
// evaluates it, prints the arena's statistics and tears it down in one step.
//
//   arena_tree [DEPTH]   (default 18: 262143 nodes)
#include <spaces/spaces.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <memory>
#include <string_view>

namespace {

// Trivially destructible, as a TrivialArena requires: children are arena
// pointers, names are interned views into the same arena.
struct Expr {
  char op;                 // '+', '*' or 'n' (a number)
  double value;            // numbers only
  std::string_view name;   // interned label
  std::span<Expr*> kids;   // an arena array
};

Expr* build(spaces::TrivialArena& arena, int depth, int& counter) {
  if (depth == 0) return arena.make<Expr>(Expr{'n', static_cast<double>(counter++ % 7), arena.intern("leaf"), {}});
  std::span<Expr*> kids = arena.make_array<Expr*>(2);
  kids[0] = build(arena, depth - 1, counter);
  kids[1] = build(arena, depth - 1, counter);
  return arena.make<Expr>(Expr{depth % 2 == 0 ? '+' : '*', 0.0, arena.intern(depth % 2 == 0 ? "add" : "mul"), kids});
}

double eval(const Expr* e) {
  if (e->op == 'n') return e->value;
  const double a = eval(e->kids[0]), b = eval(e->kids[1]);
  return e->op == '+' ? a + b : std::fmod(a * b, 1000.0);
}

}  // namespace

int main(int argc, char** argv) {
  const int depth = argc > 1 ? std::atoi(argv[1]) : 18;
  if (depth < 1 || depth > 24) {
    std::fprintf(stderr, "usage: %s [DEPTH 1..24]\n", argv[0]);
    return 2;
  }
  spaces::Heap unit(spaces::HeapOptions().name("unit").cap(std::size_t{1} << 30));
  auto arena = std::make_unique<spaces::TrivialArena>(spaces::HeapOptions().name("ast").parent(unit));
  int counter = 0;
  Expr* root = build(*arena, depth, counter);
  std::printf("tree of depth %d: %d leaves, value %.0f, %zu distinct names\n", depth, counter, eval(root),
              arena->interned_count());
  arena->heap().print_stats(stdout);

  const auto start = std::chrono::steady_clock::now();
  arena.reset();  // destroys the heap: O(slabs), no node is visited
  const auto elapsed = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start);
  std::printf("teardown: %.1f us; the unit heap's footprint is now %zu bytes\n", elapsed.count(),
              unit.stats().footprint);
  return 0;
}
