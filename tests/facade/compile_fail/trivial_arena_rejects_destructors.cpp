// Must not compile: a TrivialArena never runs destructors, so make<T> refuses
// a T with a non-trivial destructor (tests/facade/CMakeLists.txt expects the
// static_assert's message in the compiler's output).
#include <spaces/spaces.hpp>

#include <string>

int main() {
  spaces::TrivialArena arena;
  arena.make<std::string>("would leak");
}
