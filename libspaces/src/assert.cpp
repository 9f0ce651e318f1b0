// ---------------------------------------------------------------------------
// assert.cpp: failure reporting that never allocates.
//
// message() is a tiny formatter (%s %zu %zx %p %d %llu %%) writing to a stack
// buffer and then to stderr with write(2): the allocator may be broken or
// mid-operation when it reports, so printf and its buffers are off limits.
// ---------------------------------------------------------------------------
#include <cstdarg>
#include <cstdlib>

#include "internal/base.h"

namespace spaces::detail {
namespace {

class Buffer {
 public:
  void put(char c) noexcept {
    if (len_ < sizeof(buf_) - 1) buf_[len_++] = c;
  }
  void put(const char* s) noexcept {
    if (s == nullptr) s = "(null)";
    while (*s != '\0') put(*s++);
  }
  void put_unsigned(unsigned long long v, unsigned base) noexcept {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v % base];
      v /= base;
    } while (v != 0);
    while (n > 0) put(digits[--n]);
  }
  void flush() noexcept { os::write_stderr(buf_, len_); }

 private:
  char buf_[512];
  std::size_t len_ = 0;
};

void vformat(Buffer& b, const char* fmt, va_list ap) noexcept {
  for (const char* f = fmt; *f != '\0'; ++f) {
    if (*f != '%') {
      b.put(*f);
      continue;
    }
    ++f;
    if (*f == 's') {
      b.put(va_arg(ap, const char*));
    } else if (*f == 'd') {
      int v = va_arg(ap, int);
      if (v < 0) {
        b.put('-');
        b.put_unsigned(static_cast<unsigned long long>(-static_cast<long long>(v)), 10);
      } else {
        b.put_unsigned(static_cast<unsigned long long>(v), 10);
      }
    } else if (*f == 'z' && f[1] == 'u') {
      ++f;
      b.put_unsigned(va_arg(ap, std::size_t), 10);
    } else if (*f == 'z' && f[1] == 'x') {
      ++f;
      b.put_unsigned(va_arg(ap, std::size_t), 16);
    } else if (*f == 'l' && f[1] == 'l' && f[2] == 'u') {
      f += 2;
      b.put_unsigned(va_arg(ap, unsigned long long), 10);
    } else if (*f == 'p') {
      b.put("0x");
      b.put_unsigned(reinterpret_cast<std::uintptr_t>(va_arg(ap, void*)), 16);
    } else if (*f == '%') {
      b.put('%');
    } else {
      b.put('%');
      if (*f == '\0') break;
      b.put(*f);
    }
  }
}

}  // namespace

namespace {

void vmessage(const char* fmt, va_list ap) noexcept {
  Buffer b;
  vformat(b, fmt, ap);
  b.flush();
}

}  // namespace

void message(const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap);
  va_end(ap);
}

void fatal(const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap);
  va_end(ap);
  std::abort();
}

void corrupt_list_fatal(const SlabHeader* s, const char* what) noexcept {
  fatal("spaces: heap '%s': the %s of slab %p is corrupted (a block freed twice, or written after it was freed)\n",
        heap_name_of(s->heap), what, static_cast<const void*>(s));
}

void corrupt_delayed_fatal(const Shard* sh) noexcept {
  fatal("spaces: heap '%s': the list of blocks freed into full slabs is corrupted (a block freed twice?)\n",
        heap_name_of(sh->heap));
}

void assert_fail(const char* expr, const char* file, int line) noexcept {
  fatal("spaces: %s:%d: assertion failed: %s\n", file, line, expr);
}

}  // namespace spaces::detail
