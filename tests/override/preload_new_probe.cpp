// A C++ program that knows nothing of spaces, run with libspaces_malloc.so
// preloaded and SPACES_DEFAULT_CAP=16M (tests/override/CMakeLists.txt). The
// preloaded library does not link the C++ runtime: it finds the new handler
// and the throw of std::bad_alloc in the program's at run time, and the
// nothrow forms are the runtime's, calling its operator new. Each line
// printed is checked; the exit status is the number of failed checks.
#include <cstdio>
#include <cstdlib>
#include <new>

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;
int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s: %s\n", what, ok ? "ok" : "FAILED");
  if (!ok) ++failures;
}

template <class F>
bool throws_bad_alloc(F f) {
  try {
    f();
  } catch (const std::bad_alloc&) {
    return true;
  }
  return false;
}

int handler_calls = 0;
void* reserve = nullptr;

}  // namespace

int main() {
  check(throws_bad_alloc([] { ::operator delete(::operator new(64 * kMiB)); }), "new past the cap throws");
  check(throws_bad_alloc([] {
          constexpr std::align_val_t kPage{4096};
          ::operator delete[](::operator new[](64 * kMiB, kPage), kPage);
        }),
        "aligned new[] past the cap throws");
  check(::operator new(64 * kMiB, std::nothrow) == nullptr, "nothrow new past the cap is null");
  check(::operator new[](64 * kMiB, std::align_val_t{64}, std::nothrow) == nullptr,
        "aligned nothrow new[] past the cap is null");

  // A handler that gives up: called once, then the throw.
  std::set_new_handler([] {
    ++handler_calls;
    std::set_new_handler(nullptr);
  });
  check(throws_bad_alloc([] { ::operator delete(::operator new(64 * kMiB)); }) && handler_calls == 1,
        "the new handler runs once, then new throws");

  // A handler that makes room: the retry succeeds.
  reserve = std::malloc(12 * kMiB);
  handler_calls = 0;
  std::set_new_handler([] {
    ++handler_calls;
    std::free(reserve);
    reserve = nullptr;
    std::set_new_handler(nullptr);
  });
  void* p = ::operator new(8 * kMiB, std::nothrow);
  check(reserve != nullptr || (p != nullptr && handler_calls == 1), "a handler that frees memory lets new succeed");
  ::operator delete(p);
  std::free(reserve);
  return failures;
}
