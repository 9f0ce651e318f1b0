// Links spaces::override (or spaces::override_hardened) from the installed
// package: malloc and operator new come from the spaces default heap.
#include <spaces/spaces.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main() {
  void* m = std::malloc(100);
  auto* s = new std::string(200, 'x');
  const bool ours = spaces_heap_of(m) == spaces_default_heap() && spaces_heap_of(s->data()) == spaces_default_heap();
  std::printf("override consumer: %s\n", ours ? "malloc and new from the default heap" : "NOT REPLACED");
  delete s;
  std::free(m);
  return ours ? 0 : 1;
}
