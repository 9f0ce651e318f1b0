/* Compiled with `pkg-config --cflags --libs spaces` against the installed library. */
#include <spaces/spaces.h>

#include <stdio.h>

int main(void) {
  spaces_heap_t* h = NULL;
  void* p;
  if (spaces_heap_create(NULL, &h) != SPACES_OK) return 1;
  p = spaces_alloc(h, 64);
  printf("pkg-config consumer: %s\n", p != NULL ? "ok" : "failed");
  spaces_heap_destroy(h);
  return p != NULL ? 0 : 1;
}
