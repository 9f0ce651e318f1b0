// ---------------------------------------------------------------------------
// init.cpp: the process and its threads, at the bottom of the library: the
// per-thread state every layer reads (tls_ctx), and the once-per-process
// start (options read, the thread-exit key, the fork handlers).
//
// The hooks themselves belong to the thread layer (thread.cpp), which hands
// them to process_init, so this file calls nothing above it. As the
// process's malloc, process_init runs on the first allocation, and libc may
// allocate inside pthread_atfork: such a nested call sees the state
// "initialising" from the same thread and goes on without waiting for itself.
// ---------------------------------------------------------------------------
#include <pthread.h>
#include <sched.h>

#include "internal/base.h"

namespace spaces::detail {

constinit thread_local ThreadCtx tls_ctx SPACES_TLS_INITIAL_EXEC{};

namespace {

constinit std::atomic<int> g_state{0};  // 0 new, 1 initialising, 2 ready
using Hook = void (*)();
constinit Hook g_thread_exit = nullptr;
pthread_key_t g_exit_key;

}  // namespace

void process_init(const ProcessHooks& hooks) noexcept {
  int state = g_state.load(std::memory_order_acquire);
  if (SPACES_LIKELY(state == 2)) return;
  if (state == 0 && g_state.compare_exchange_strong(state, 1, std::memory_order_acq_rel)) {
    tls_ctx.initializing = true;
    options_init();
    g_thread_exit = hooks.thread_exit;
    pthread_key_create(&g_exit_key, [](void*) { g_thread_exit(); });
    pthread_atfork(hooks.fork_prepare, hooks.fork_parent, hooks.fork_child);
    tls_ctx.initializing = false;
    g_state.store(2, std::memory_order_release);
    return;
  }
  if (tls_ctx.initializing) return;
  while (g_state.load(std::memory_order_acquire) != 2) sched_yield();
}

bool process_ready() noexcept { return g_state.load(std::memory_order_acquire) == 2; }

void arm_thread_exit() noexcept {
  // Not while process_init is still creating the key: only the initialising
  // thread can get here then, and it is the main thread.
  if (tls_ctx.registered || !process_ready()) return;
  tls_ctx.registered = true;
  pthread_setspecific(g_exit_key, &tls_ctx);
}

}  // namespace spaces::detail
