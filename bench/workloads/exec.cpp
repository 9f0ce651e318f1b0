// ---------------------------------------------------------------------------
// exec.cpp: runs a real program as a workload of run.py, for the league of
// programs nobody here wrote (python3, perl, bc, sqlite3, xz: run.py's
// PROGRAMS). Usage: wl_exec [--stdin FILE] -- PROGRAM ARGS...
//
// The program inherits LD_PRELOAD, so it runs on the allocator under test;
// its standard output passes through (run.py compares it across allocators)
// and is followed by the "time:" line every workload ends with: the
// program's wall time and its peak RSS, from wait4. That peak includes what
// this wrapper had resident when it forked (Linux carries it across exec):
// a few hundred KiB, under the same allocator.
// ---------------------------------------------------------------------------
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "common.hpp"

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--which-malloc") == 0) {
    std::printf("%s\n", wl::which_malloc());
    return 0;
  }
  const char* input = nullptr;
  int first = 1;
  if (argc > 2 && std::strcmp(argv[1], "--stdin") == 0) {
    input = argv[2];
    first = 3;
  }
  if (first >= argc || std::strcmp(argv[first], "--") != 0 || first + 1 >= argc) {
    std::fprintf(stderr, "usage: wl_exec [--stdin FILE] -- PROGRAM ARGS...\n");
    return 2;
  }
  char** program = argv + first + 1;
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("wl_exec: fork");
    return 1;
  }
  if (pid == 0) {
    if (input != nullptr) {
      const int fd = ::open(input, O_RDONLY);
      if (fd < 0 || ::dup2(fd, 0) < 0) {
        std::perror(input);
        ::_exit(127);
      }
    }
    ::execvp(program[0], program);
    std::perror(program[0]);
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) != pid) {
    std::perror("wl_exec: wait4");
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "wl_exec: %s %s %d\n", program[0], WIFEXITED(status) ? "exited with" : "killed by signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return 1;
  }
  std::printf("time: elapsed_s=%.6f ops_per_s=%.1f peak_rss_kib=%ld\n", seconds, 1.0 / seconds, usage.ru_maxrss);
  return 0;
}
