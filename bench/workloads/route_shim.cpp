// ---------------------------------------------------------------------------
// route_shim.cpp: libspaces_route_shim.so, preloaded after
// libspaces_malloc.so by run.py's "spaces-routed" column: every thread of
// the workload, the main thread included, allocates from one explicit heap
// it is routed into (spaces_thread_set_heap) instead of the default heap.
// The league then shows what routing costs a real program: the workloads
// are unchanged, only where their mallocs go differs.
//
// The main thread is routed by a constructor; other threads by a wrapper
// around pthread_create (dlsym(RTLD_NEXT)), since a route is not inherited.
// The heap is never destroyed: routed threads may outlive main's return.
// ---------------------------------------------------------------------------
#include <dlfcn.h>
#include <pthread.h>
#include <spaces/spaces.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace {

spaces_heap_t* g_heap = nullptr;

void route_or_die() {
  const spaces_status_t s = spaces_thread_set_heap(g_heap, nullptr);
  if (s != SPACES_OK) {
    std::fprintf(stderr, "route_shim: spaces_thread_set_heap: %s\n", spaces_status_str(s));
    std::abort();
  }
}

struct Start {
  void* (*fn)(void*);
  void* arg;
};

void* routed_start(void* p) {
  const Start start = *static_cast<Start*>(p);
  std::free(p);
  route_or_die();
  return start.fn(start.arg);
}

__attribute__((constructor)) void route_main_thread() {
  spaces_heap_options_t o;
  spaces_heap_options_init(&o);
  o.name = "routed";
  if (spaces_heap_create(&o, &g_heap) != SPACES_OK) {
    std::fprintf(stderr, "route_shim: spaces_heap_create failed\n");
    std::abort();
  }
  route_or_die();
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                                                     void* (*fn)(void*), void* arg) {
  using Create = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  static const auto next = reinterpret_cast<Create>(dlsym(RTLD_NEXT, "pthread_create"));
  auto* start = static_cast<Start*>(std::malloc(sizeof(Start)));
  if (start == nullptr) return EAGAIN;
  *start = Start{fn, arg};
  const int rc = next(thread, attr, routed_start, start);
  if (rc != 0) std::free(start);
  return rc;
}
