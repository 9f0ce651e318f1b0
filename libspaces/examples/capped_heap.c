/* capped_heap.c: a capped heap in C: fill it until the cap refuses, show the
 * cap holding and nothing lost, then tear the whole heap down at once.
 *
 *   capped_heap [CAP_BYTES]      (default 8 MiB) */
#include <spaces/spaces.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

struct walk_sum {
  size_t blocks;
  unsigned long long sum;
};

static int add_stamp(void* block, size_t usable, void* arg) {
  struct walk_sum* w = arg;
  (void)usable;
  w->blocks++;
  w->sum += *(unsigned long long*)block;
  return 0;
}

int main(int argc, char** argv) {
  size_t cap = (size_t)8 << 20;
  if (argc > 1) {
    char* end = NULL;
    cap = (size_t)strtoull(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0') {
      fprintf(stderr, "usage: %s [CAP_BYTES]\n", argv[0]);
      return 2;
    }
  }

  spaces_heap_options_t options;
  spaces_heap_options_init(&options);
  options.name = "demo";
  options.cap = cap;
  spaces_heap_t* heap = NULL;
  spaces_status_t status = spaces_heap_create(&options, &heap);
  if (status != SPACES_OK) {
    fprintf(stderr, "capped_heap: cannot create the heap: %s\n", spaces_status_str(status));
    return 1;
  }

  /* Fill with 48-byte nodes, each stamped with its index, until refused. */
  size_t count = 0;
  unsigned long long checksum = 0;
  for (;;) {
    unsigned long long* node = spaces_alloc(heap, 48);
    if (node == NULL) break;
    node[0] = count;
    checksum += count;
    ++count;
  }
  spaces_failure_t failure;
  spaces_last_failure(&failure);
  printf("allocated %zu nodes of 48 bytes before the cap refused (errno %s, status: %s)\n", count,
         errno == ENOMEM ? "ENOMEM" : "other", spaces_status_str(failure.status));
  printf("refused request of %zu bytes: footprint %zu of cap %zu\n", failure.request, failure.footprint,
         failure.cap);
  spaces_heap_print_stats(heap, stdout);

  /* Nothing already allocated was touched: walk the live nodes and re-add
   * their stamps. */
  struct walk_sum seen = {0, 0};
  spaces_heap_walk(heap, add_stamp, &seen);
  printf("walk: %zu live nodes, stamps sum to %llu (%s)\n", seen.blocks, seen.sum,
         seen.blocks == count && seen.sum == checksum ? "intact" : "DAMAGED");

  double start = now_us();
  spaces_heap_destroy(heap);
  double elapsed = now_us() - start;
  printf("destroyed the heap (%zu nodes) in %.1f us: no node was visited\n", count, elapsed);
  return seen.blocks == count && seen.sum == checksum ? 0 : 1;
}
