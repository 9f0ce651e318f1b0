// The malloc/new override linked into this program (spaces::override): every
// function of the malloc family and every operator new/delete form, on the
// default heap, with glibc's answers for the corner cases.
#include <spaces/spaces.h>

#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace {

bool from_default_heap(const void* p) { return spaces_heap_of(p) == spaces_default_heap(); }
bool aligned(const void* p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

/// Sets the default heap's cap for one scope: `headroom` bytes above its footprint.
class CapScope {
 public:
  explicit CapScope(std::size_t headroom) {
    spaces_stats_t s{};
    spaces_heap_stats(spaces_default_heap(), &s);
    spaces_option_set(SPACES_OPTION_DEFAULT_CAP, static_cast<long long>(s.footprint + headroom));
  }
  ~CapScope() { spaces_option_set(SPACES_OPTION_DEFAULT_CAP, 0); }
};

// malloc, libc's own allocations and operator new all come from the default heap.
TEST(OverrideTest, EverythingComesFromTheDefaultHeap) {
  void* m = std::malloc(10);
  char* d = strdup("spaces");
  auto* n = new int(5);
  auto* a = new int[100];
  auto s = std::make_unique<std::string>(1000, 'x');
  EXPECT_TRUE(from_default_heap(m));
  EXPECT_TRUE(from_default_heap(d));
  EXPECT_TRUE(from_default_heap(n));
  EXPECT_TRUE(from_default_heap(a));
  EXPECT_TRUE(from_default_heap(s->data()));
  std::free(m);
  std::free(d);
  delete n;
  delete[] a;
}

// Aligned operator new honours the alignment; nothrow and sized forms work.
TEST(OverrideTest, AlignedNothrowAndSizedForms) {
  struct alignas(256) Wide {
    char bytes[300];
  };
  auto* w = new Wide;
  EXPECT_TRUE(aligned(w, 256));
  EXPECT_TRUE(from_default_heap(w));  // also keeps the compiler from eliding the new-expression
  delete w;
  auto* ws = new Wide[3];
  EXPECT_TRUE(aligned(ws, 256));
  EXPECT_TRUE(from_default_heap(ws));
  delete[] ws;
  void* p = ::operator new(100, std::align_val_t{4096}, std::nothrow);
  EXPECT_TRUE(aligned(p, 4096));
  ::operator delete(p, std::align_val_t{4096}, std::nothrow);
  void* q = ::operator new(50, std::nothrow);
  ASSERT_NE(q, nullptr);
  ::operator delete(q, 50);
  void* r = ::operator new[](70, std::nothrow);
  ::operator delete[](r, 70);
  void* t = ::operator new(100, std::align_val_t{64});
  ::operator delete(t, 100, std::align_val_t{64});
}

// Past SPACES_DEFAULT_CAP malloc returns NULL with ENOMEM instead of exhausting the machine.
TEST(OverrideTest, MallocAtTheDefaultCapFailsWithEnomem) {
  CapScope cap(std::size_t{32} << 20);
  errno = 0;
  EXPECT_EQ(std::malloc(std::size_t{64} << 20), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void* small = std::malloc(100);  // still fine
  EXPECT_NE(small, nullptr);
  std::free(small);
}

// operator new at the cap calls the new_handler, which may make room; without one it throws.
TEST(OverrideTest, NewCallsTheNewHandlerThenThrows) {
  static int calls = 0;
  calls = 0;
  {
    CapScope cap(std::size_t{16} << 20);
    std::set_new_handler([] {
      ++calls;
      spaces_option_set(SPACES_OPTION_DEFAULT_CAP, 0);  // lift the cap
    });
    // Calls of operator new itself: the compiler may elide a new-expression.
    void* big = ::operator new[](std::size_t{64} << 20);
    EXPECT_EQ(calls, 1);
    ::operator delete[](big);
    std::set_new_handler(nullptr);
  }
  {
    CapScope cap(std::size_t{16} << 20);
    EXPECT_THROW(::operator delete(::operator new(std::size_t{64} << 20)), std::bad_alloc);
    EXPECT_EQ(::operator new(std::size_t{64} << 20, std::nothrow), nullptr);
    EXPECT_EQ(::operator new(std::size_t{64} << 20, std::align_val_t{64}, std::nothrow), nullptr);
  }
}

// posix_memalign reports errors through its result and leaves errno alone.
TEST(OverrideTest, PosixMemalignFollowsPosix) {
  void* p = nullptr;
  errno = 1234;
  EXPECT_EQ(posix_memalign(&p, 3, 10), EINVAL);
  EXPECT_EQ(posix_memalign(&p, 4, 10), EINVAL);  // not a multiple of sizeof(void*)
  EXPECT_EQ(posix_memalign(&p, 0, 10), EINVAL);
  EXPECT_EQ(posix_memalign(&p, 64, SIZE_MAX), ENOMEM);
  EXPECT_EQ(errno, 1234);
  ASSERT_EQ(posix_memalign(&p, 1 << 16, 1000), 0);
  EXPECT_TRUE(aligned(p, 1 << 16));
  EXPECT_TRUE(from_default_heap(p));
  std::free(p);
}

// aligned_alloc refuses non-powers of two; memalign rounds them up; valloc and pvalloc use pages.
TEST(OverrideTest, AlignedAllocMemalignVallocPvalloc) {
  errno = 0;
  EXPECT_EQ(aligned_alloc(24, 48), nullptr);
  EXPECT_EQ(errno, EINVAL);
  void* a = aligned_alloc(128, 1000);
  EXPECT_TRUE(aligned(a, 128));
  void* m = memalign(24, 10);  // glibc rounds 24 up to 32
  EXPECT_TRUE(aligned(m, 32));
  void* v = valloc(10);
  EXPECT_TRUE(aligned(v, 4096));
  void* pv = pvalloc(1);
  EXPECT_TRUE(aligned(pv, 4096));
  EXPECT_GE(malloc_usable_size(pv), 4096u);
  void* pz = pvalloc(0);
  EXPECT_NE(pz, nullptr);
  for (void* p : {a, m, v, pv, pz}) std::free(p);
}

// realloc keeps contents, frees on size 0 (glibc), allocates on NULL; reallocarray checks overflow.
TEST(OverrideTest, ReallocFamily) {
  auto* p = static_cast<char*>(std::realloc(nullptr, 10));
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "123456789", 10);
  p = static_cast<char*>(std::realloc(p, 100000));
  EXPECT_STREQ(p, "123456789");
  p = static_cast<char*>(std::realloc(p, 5));
  EXPECT_EQ(std::memcmp(p, "12345", 5), 0);
  EXPECT_EQ(std::realloc(p, 0), nullptr);
  errno = 0;
  const volatile std::size_t half = SIZE_MAX / 2;  // volatile: no compile-time size warning
  EXPECT_EQ(reallocarray(nullptr, half, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void* r = reallocarray(nullptr, 10, 10);
  EXPECT_GE(malloc_usable_size(r), 100u);
  std::free(r);
}

// calloc zeroes and refuses overflow; malloc_usable_size and free(NULL) behave.
TEST(OverrideTest, CallocUsableSizeAndFreeNull) {
  auto* z = static_cast<unsigned char*>(std::calloc(1000, 7));
  for (int i = 0; i < 7000; ++i) ASSERT_EQ(z[i], 0);
  std::free(z);
  errno = 0;
  const volatile std::size_t all = SIZE_MAX;  // volatile: no compile-time size warning
  EXPECT_EQ(std::calloc(all, 2), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(malloc_usable_size(nullptr), 0u);
  void* p = std::malloc(100);
  EXPECT_EQ(malloc_usable_size(p), 112u);
  std::free(p);
  std::free(nullptr);
}

// Blocks cross threads through malloc/free; threads exit with blocks still live.
TEST(OverrideTest, CrossThreadFreesAndThreadExit) {
  std::vector<void*> handoff;
  for (int round = 0; round < 10; ++round) {
    std::thread([&] {
      for (int i = 0; i < 10000; ++i) handoff.push_back(std::malloc(16 + static_cast<std::size_t>(i % 500)));
    }).join();
    std::thread([&] {
      for (void* p : handoff) std::free(p);
      handoff.clear();
    }).join();
  }
  spaces_stats_t s{};
  spaces_heap_stats(spaces_default_heap(), &s);
  EXPECT_EQ(s.alloc_count, s.free_count + s.live_blocks);
}

// A forked child allocates at once, while another thread of the parent is allocating.
TEST(OverrideTest, ForkChildCanAllocate) {
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop) delete new std::string(100, 'b');
  });
  for (int i = 0; i < 10; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      alarm(30);  // a child that hangs must not outlive the test
      std::vector<std::string> v(1000, std::string(50, 'c'));
      _exit(v.back().size() == 50 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  stop = true;
  busy.join();
}

// glibc's second names for its allocator are the same functions here:
// free(__libc_malloc(n)) works (the review found it crashed).
extern "C" {
void* __libc_malloc(std::size_t);
void __libc_free(void*);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}
TEST(OverrideTest, LibcAliasesShareTheHeap) {
  void* a = __libc_malloc(100);
  EXPECT_TRUE(from_default_heap(a));
  std::free(a);
  auto* c = static_cast<unsigned char*>(__libc_calloc(10, 10));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(c[i], 0);
  c = static_cast<unsigned char*>(__libc_realloc(c, 5000));
  EXPECT_TRUE(from_default_heap(c));
  __libc_free(c);
  void* m = __libc_memalign(256, 10);
  EXPECT_TRUE(aligned(m, 256));
  std::free(m);
  void* n = std::malloc(10);
  __libc_free(n);
}

// realloc and malloc_usable_size of a pointer spaces never handed out read no
// header: EINVAL and 0 (the review found a crash in most runs).
TEST(OverrideTest, ForeignPointersAreRefusedByReallocAndUsableSize) {
  int on_stack = 0;
  static char in_data[64];
  // Through a volatile pointer: the compiler would otherwise (rightly) warn
  // that p is used after realloc.
  void* (*volatile realloc_fn)(void*, std::size_t) = std::realloc;
  for (void* p : {static_cast<void*>(&on_stack), static_cast<void*>(in_data), reinterpret_cast<void*>(0x10000)}) {
    EXPECT_EQ(malloc_usable_size(p), 0u) << p;
    errno = 0;
    EXPECT_EQ(realloc_fn(p, 100), nullptr) << p;
    EXPECT_EQ(errno, EINVAL) << p;
  }
}

// mallinfo2 describes the default heap: live bytes grow by what is allocated.
TEST(OverrideTest, Mallinfo2DescribesTheDefaultHeap) {
  const struct mallinfo2 before = mallinfo2();
  auto* huge = static_cast<char*>(std::malloc(std::size_t{80} << 20));  // above the huge threshold: its own mapping
  ASSERT_NE(huge, nullptr);
  huge[0] = 1;  // used, so the compiler keeps the call
  std::vector<void*> small;
  for (int i = 0; i < 1000; ++i) small.push_back(std::malloc(1000));
  const struct mallinfo2 during = mallinfo2();
  EXPECT_EQ(during.hblks, before.hblks + 1);
  EXPECT_GE(during.hblkhd, before.hblkhd + (std::size_t{80} << 20));
  EXPECT_GE(during.uordblks, before.uordblks + (std::size_t{80} << 20) + 1000 * 1024);
  EXPECT_GE(during.arena, 1000u * 1024);
  EXPECT_EQ(during.arena + during.hblkhd, during.uordblks + during.fordblks);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // glibc's old interface, still called
  const struct mallinfo old = mallinfo();
#pragma GCC diagnostic pop
  EXPECT_GT(old.arena, 0);
  EXPECT_EQ(old.hblks, static_cast<int>(during.hblks));
  std::free(huge);
  for (void* p : small) std::free(p);
  EXPECT_EQ(mallinfo2().hblks, before.hblks);
}

// malloc_trim gives back what the calling thread freed, and says so.
TEST(OverrideTest, MallocTrimGivesMemoryBack) {
  std::vector<void*> v;
  for (int i = 0; i < 20000; ++i) v.push_back(std::malloc(3000));
  for (void* p : v) std::free(p);
  spaces_stats_t before{};
  spaces_heap_stats(spaces_default_heap(), &before);
  EXPECT_EQ(malloc_trim(0), 1);
  spaces_stats_t after{};
  spaces_heap_stats(spaces_default_heap(), &after);
  EXPECT_LT(after.footprint, before.footprint);
}

// malloc_stats prints the default heap's statistics on stderr.
TEST(OverrideTest, MallocStatsPrintsTheDefaultHeap) {
  testing::internal::CaptureStderr();
  malloc_stats();
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.rfind("heap 'default' (general)\n  live bytes", 0), 0u) << out;
}

// A size the system cannot back: NULL with ENOMEM, and bad_alloc from new
// (the review found malloc(16 TiB) succeeded on paper).
TEST(OverrideTest, SixteenTebibytesAreRefused) {
  std::FILE* f = std::fopen("/proc/sys/vm/overcommit_memory", "r");
  int mode = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%d", &mode) != 1) mode = 0;
    std::fclose(f);
  }
  if (mode == 1) GTEST_SKIP() << "vm.overcommit_memory=1: the kernel grants any mapping";
  const volatile std::size_t sixteen_tib = std::size_t{16} << 40;
  errno = 0;
  EXPECT_EQ(std::malloc(sixteen_tib), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(std::calloc(sixteen_tib / 8, 8), nullptr);
  EXPECT_THROW(::operator delete(::operator new(sixteen_tib)), std::bad_alloc);
}

}  // namespace
