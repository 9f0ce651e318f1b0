// Uses the installed headers and library: the C API and the facade.
#include <spaces/spaces.h>
#include <spaces/spaces.hpp>

#include <cstdio>

int main() {
  spaces::TrivialArena arena(spaces::HeapOptions().name("consumer").cap(1 << 20));
  int* n = arena.make<int>(41);
  spaces_heap_t* h = nullptr;
  if (spaces_heap_create(nullptr, &h) != SPACES_OK) return 1;
  void* p = spaces_alloc(h, 100);
  spaces_free(p);
  spaces_heap_destroy(h);
  std::printf("consumer: %d, heap '%s'\n", *n + 1, spaces_heap_name(arena.heap().get()));
  return 0;
}
