/* The C API compiled as C11: proves spaces.h is real C, and exercises the
 * entry points a C program uses. Prints "N passed, M failed"; exits non-zero
 * on any failure. */
#include <spaces/spaces.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                \
  do {                                                             \
    if (cond) {                                                    \
      ++passed;                                                    \
    } else {                                                       \
      ++failed;                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                              \
  } while (0)

static int count_blocks(void* block, size_t usable, void* arg) {
  (void)block;
  (void)usable;
  ++*(int*)arg;
  return 0;
}

static spaces_cap_action_t give_up(spaces_heap_t* heap, size_t request, void* arg) {
  (void)heap;
  (void)request;
  ++*(int*)arg;
  return SPACES_CAP_FAIL;
}

static int count_soft(spaces_heap_t* heap, size_t request, void* arg) {
  (void)heap;
  (void)request;
  ++*(int*)arg;
  return 0;
}

int main(void) {
  spaces_heap_options_t o;
  spaces_heap_t* h = NULL;
  spaces_stats_t s;
  int visits = 0, handler_calls = 0;
  void* blocks[100];
  void* big;
  int i;

  spaces_heap_options_init(&o);
  o.name = "c";
  o.cap = 8 * SPACES_SLAB_SIZE; /* sizes 1..100 use 7 classes: 7 slabs */
  o.cap_handler = give_up;
  o.cap_handler_arg = &handler_calls;
  CHECK(spaces_heap_create(&o, &h) == SPACES_OK);
  CHECK(strcmp(spaces_heap_name(h), "c") == 0);
  for (i = 0; i < 100; ++i) {
    blocks[i] = spaces_alloc(h, (size_t)i + 1);
    CHECK(blocks[i] != NULL);
  }
  CHECK(spaces_usable_size(blocks[99]) == 112);
  CHECK(spaces_heap_of(blocks[0]) == h);
  CHECK(spaces_heap_walk(h, count_blocks, &visits) == SPACES_OK);
  CHECK(visits == 100);
  for (i = 0; i < 100; ++i) spaces_free(blocks[i]);
  CHECK(spaces_heap_stats(h, &s) == SPACES_OK);
  CHECK(s.live_blocks == 0 && s.alloc_count == 100 && s.free_count == 100);

  /* At the cap the 7 empty slabs go back first: a 6-slab span fits. */
  big = spaces_alloc(h, 5 * SPACES_SLAB_SIZE);
  CHECK(big != NULL);
  CHECK(handler_calls == 0);
  CHECK(spaces_heap_stats(h, &s) == SPACES_OK && s.footprint == 6 * SPACES_SLAB_SIZE);
  errno = 0;
  CHECK(spaces_alloc(h, 2 * SPACES_SLAB_SIZE) == NULL); /* 6 + 3 slabs > 8 */
  CHECK(errno == ENOMEM);
  CHECK(handler_calls == 1);
  spaces_free(big);

  CHECK(spaces_aligned_alloc(h, 3, 8) == NULL && errno == EINVAL);
  CHECK(spaces_heap_destroy(h) == SPACES_OK);
  CHECK(spaces_heap_destroy(h) == SPACES_E_INVALID);

  o.name = "region";
  o.cap = SPACES_UNCAPPED;
  o.discipline = SPACES_REGION;
  o.cap_handler = NULL;
  CHECK(spaces_heap_create(&o, &h) == SPACES_OK);
  {
    spaces_cursor_t* c = spaces_region_cursor(h);
    char* a = (char*)spaces_cursor_alloc(c, 10, 1);
    char* b = (char*)spaces_cursor_alloc(c, 10, 1);
    CHECK(a != NULL && b == a + 10);
  }
  CHECK(spaces_heap_destroy(h) == SPACES_OK);

  CHECK(spaces_option_set_str("slab_cache", "64M") == SPACES_OK);
  {
    long long v = 0;
    CHECK(spaces_option_get(SPACES_OPTION_SLAB_CACHE, &v) == SPACES_OK && v == 64LL * 1024 * 1024);
  }
  /* Integers no enumerator has: C lets a caller pass them. */
  {
    long long v = 0;
    spaces_heap_options_t bad;
    spaces_heap_t* none = NULL;
    CHECK(spaces_option_get((spaces_option_t)1000, &v) == SPACES_E_INVALID);
    CHECK(spaces_option_set((spaces_option_t)-1, 0) == SPACES_E_INVALID);
    CHECK(spaces_option_name((spaces_option_t)1000) == NULL);
    CHECK(strcmp(spaces_status_str((spaces_status_t)99), "unknown status") == 0);
    spaces_heap_options_init(&bad);
    bad.discipline = (spaces_discipline_t)99;
    CHECK(spaces_heap_create(&bad, &none) == SPACES_E_INVALID && none == NULL);
  }
  /* Memory domains: the current heap, a soft limit, the O(1) footprint. */
  {
    spaces_heap_t* domain = NULL;
    spaces_heap_t* prev = NULL;
    int soft_calls = 0;
    spaces_heap_options_init(&o);
    o.name = "domain";
    o.soft_limit = SPACES_SLAB_SIZE;
    o.on_soft_limit = count_soft;
    o.on_soft_limit_arg = &soft_calls;
    CHECK(spaces_heap_create(&o, &domain) == SPACES_OK);
    CHECK(spaces_thread_set_heap(domain, &prev) == SPACES_OK && prev == NULL);
    CHECK(spaces_thread_heap() == domain);
    CHECK(spaces_heap_destroy(domain) == SPACES_E_BUSY);
    CHECK(strcmp(spaces_status_str(SPACES_E_BUSY), "a thread routes its allocations into the heap") == 0);
    CHECK(spaces_thread_set_heap(NULL, &prev) == SPACES_OK && prev == domain);
    CHECK(spaces_alloc(domain, 40000) != NULL && spaces_alloc(domain, 40000) != NULL);
    CHECK(soft_calls == 1);
    CHECK(spaces_heap_footprint(domain) == 2 * SPACES_SLAB_SIZE); /* a one-slab span each */
    CHECK(spaces_heap_soft_limit(domain) == SPACES_SLAB_SIZE);
    CHECK(spaces_heap_stats(domain, &s) == SPACES_OK && s.soft_limit_events == 1);
    CHECK(spaces_heap_destroy(domain) == SPACES_OK);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
