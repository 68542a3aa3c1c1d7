// How long libunwind takes to walk a stack of known depth, unw_step loop vs unw_backtrace.
//   cc -O1 -fno-omit-frame-pointer unwind-walk.c -o /tmp/unwind-walk -lunwind
//   /tmp/unwind-walk global|thread|none|backtrace <depth>
//   strace -c -f /tmp/unwind-walk global 120     # syscalls per walk = count / 2001
// (Finding 1 in bench/RESULTS.md.) Not part of npm run bench.
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int use_backtrace;

static int walk(void) {
  if (use_backtrace) {
    void* buf[256];
    return unw_backtrace(buf, 256);
  }
  unw_context_t c;
  unw_cursor_t cur;
  unw_getcontext(&c);
  unw_init_local(&cur, &c);
  int n = 0;
  while (unw_step(&cur) > 0 && n < 256) n++;
  return n;
}

static int frames;

__attribute__((noinline)) static int rec(int d) {
  if (d == 0) {
    frames = walk(); /* warm-up */
    double t0 = now();
    for (int i = 0; i < 2000; i++) frames = walk();
    return (int)((now() - t0) / 2000);
  }
  int r = rec(d - 1);
  __asm__ volatile("");
  return r;
}

int main(int argc, char** argv) {
  const char* policy = argc > 1 ? argv[1] : "global";
  int depth = argc > 2 ? atoi(argv[2]) : 20;
  if (strcmp(policy, "thread") == 0) unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  if (strcmp(policy, "none") == 0) unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
  if (strcmp(policy, "backtrace") == 0) use_backtrace = 1;
  int ns = rec(depth);
  printf("%s depth %d: %d frames, %.2f us per walk\n", policy, depth, frames, ns / 1000.0);
  return 0;
}
