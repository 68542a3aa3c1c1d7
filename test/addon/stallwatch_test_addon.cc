// Test-only addon: gives the capture tests native code whose stack they know exactly.
//
//   blockInNative(ms)  JS -> BlockInNative -> stallwatch_test::HoldTheLock(int) -> clock_nanosleep
//   blockOnMutex(ms)   JS -> BlockOnMutex -> stallwatch_test::WaitForTheLock(...) -> pthread_mutex_lock,
//                      while a helper thread holds the mutex for `ms`
//   callBack(fn)       JS -> CallBack -> stallwatch_test::CallIntoJs(...) -> fn (a JS -> native -> JS chain)
//   occupyThreadpool(count, ms, done)  queues `count` async works; each holds a libuv threadpool
//                      thread in stallwatch_test::OccupyThreadpoolSlot(int) -> clock_nanosleep for
//                      `ms`; `done` is called when all have completed (the starvation tests)
//
// Hardening helpers (test/faults.test.js, test/eintr.test.js, test/coexistence.test.js):
//   blockSignalAndSleep(signo, ms, foreignPending)  blocks `signo` in the calling thread
//                      (pthread_sigmask), with `foreignPending` first queues one `signo` of its own to
//                      itself (tgkill: what another user of the signal, e.g. a Go runtime, leaves
//                      pending), sleeps `ms`, unblocks it; returns whether `signo` was pending just
//                      before the unblock
//   blockingCall(kind, ms)  one blocking call of `kind` that should last `ms`, retried until the
//                      deadline after EINTR; returns {eintr, restartedOrLate, elapsedMs}
//   goRuntimeStart(signo, periodMs, alsoCaller)  a Go-like runtime: installs its own chaining
//                      SA_SIGINFO handler for `signo` and starts a thread that tgkill()s itself every
//                      `periodMs` (fractions allowed; Go's async preemption uses SIGURG like this), and the calling thread
//                      too when `alsoCaller` (Go preempting Go code that thread runs through cgo)
//   goRuntimeCounts()  {self, caller, forwarded}: its own signals seen on each thread, and signals that
//                      were not its own and went to the previous handler
//   goRuntimeStop()    stops the thread (the handler stays: Go never uninstalls either)
//   forkAndSignal(signo, how)  fork()s; the child (no exec, so it inherits every handler, but not
//                      stallwatch's threads) sends itself `signo` via kill|sigqueue|tgkill, then _exit(0)s
//                      after 300 ms; returns {exited, code, signaled, signal}
//   asanCanary()       (only in a -DSTALLWATCH_ASAN_CANARY build) a deliberate heap-buffer-overflow
//   actAsStallwatchPeer()  from now on this addon introduces itself as another copy of stallwatch
//                      (native/peer_copies.h) that listens to no isolate; a stallwatch that
//                      attaches afterwards treats this addon's code as a copy's capture code
//   spinInPeerCode(ms)  JS -> SpinInPeerCode -> stallwatch_test::BusyInPeerCode(int): busy for `ms`
//                      (what a copy's interrupt callback looks like from a sample)
//
// The stallwatch_test:: functions have hidden visibility and are never inlined: they are absent
// from .dynsym, so a symbolizer can only name them from .symtab (kept: built with -g, not stripped).
// The thread is expected to be signaled while it blocks (that is how stallwatch samples it), so
// every wait here survives EINTR and still lasts the full time.

#include <malloc.h>
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "../../native/peer_copies.h"

#define HIDDEN_NOINLINE __attribute__((noinline, visibility("hidden")))

namespace stallwatch_test {

struct SharedLock {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_t state_mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t state_cond = PTHREAD_COND_INITIALIZER;
  bool held = false;
  int hold_ms = 0;
};

namespace {

timespec DeadlineAfter(int ms) {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += static_cast<long>(ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec += 1;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

// Sleeps in the kernel until `deadline`. clock_nanosleep is never restarted after a signal
// handler ran (whatever SA_RESTART says): on EINTR, sleep again until the same absolute deadline.
void SleepUntil(const timespec& deadline) {
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

}  // namespace

// Blocks the calling thread in clock_nanosleep for `ms` milliseconds.
HIDDEN_NOINLINE void HoldTheLock(int ms) {
  const timespec deadline = DeadlineAfter(ms);
  SleepUntil(deadline);
  // Something after the call, so the sleep is never a tail call and this frame stays on the stack.
  asm volatile("" ::: "memory");
}

// Holds a threadpool thread for `ms` milliseconds (the starvation tests look for this frame).
HIDDEN_NOINLINE void OccupyThreadpoolSlot(int ms) {
  const timespec deadline = DeadlineAfter(ms);
  SleepUntil(deadline);
  asm volatile("" ::: "memory");
}

// Blocks the calling thread in pthread_mutex_lock until the helper thread releases the mutex.
HIDDEN_NOINLINE void WaitForTheLock(SharedLock* lock) {
  pthread_mutex_lock(&lock->mutex);
  pthread_mutex_unlock(&lock->mutex);
  asm volatile("" ::: "memory");
}

HIDDEN_NOINLINE napi_value CallIntoJs(napi_env env, napi_value fn) {
  napi_value global;
  napi_value result = nullptr;
  if (napi_get_global(env, &global) != napi_ok) return nullptr;
  // On a JS exception the status is napi_pending_exception: returning nullptr rethrows it.
  if (napi_call_function(env, global, fn, 0, nullptr, &result) != napi_ok) return nullptr;
  asm volatile("" ::: "memory");
  return result;
}

namespace {

void* HolderMain(void* arg) {
  SharedLock* lock = static_cast<SharedLock*>(arg);
  pthread_mutex_lock(&lock->mutex);
  const timespec deadline = DeadlineAfter(lock->hold_ms);
  pthread_mutex_lock(&lock->state_mutex);
  lock->held = true;
  pthread_cond_signal(&lock->state_cond);
  pthread_mutex_unlock(&lock->state_mutex);
  SleepUntil(deadline);
  pthread_mutex_unlock(&lock->mutex);
  return nullptr;
}

bool GetMsArg(napi_env env, napi_callback_info info, int* ms) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_typeof(env, argv[0], &type) != napi_ok || type != napi_number ||
      napi_get_value_int32(env, argv[0], ms) != napi_ok || *ms < 0) {
    napi_throw_type_error(env, nullptr, "expected a number of milliseconds >= 0");
    return false;
  }
  return true;
}

napi_value BlockInNative(napi_env env, napi_callback_info info) {
  int ms = 0;
  if (!GetMsArg(env, info, &ms)) return nullptr;
  HoldTheLock(ms);
  return nullptr;
}

napi_value BlockOnMutex(napi_env env, napi_callback_info info) {
  int ms = 0;
  if (!GetMsArg(env, info, &ms)) return nullptr;
  SharedLock lock;
  lock.hold_ms = ms;
  pthread_t holder;
  if (pthread_create(&holder, nullptr, HolderMain, &lock) != 0) {
    napi_throw_error(env, nullptr, "pthread_create failed");
    return nullptr;
  }
  pthread_mutex_lock(&lock.state_mutex);
  while (!lock.held) pthread_cond_wait(&lock.state_cond, &lock.state_mutex);
  pthread_mutex_unlock(&lock.state_mutex);
  WaitForTheLock(&lock);
  pthread_join(holder, nullptr);
  return nullptr;
}

napi_value CallBack(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, nullptr, "expected a function");
    return nullptr;
  }
  return CallIntoJs(env, argv[0]);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Hardening helpers.

namespace {

bool GetIntArg(napi_env env, napi_value value, int* out, const char* what) {
  napi_valuetype type = napi_undefined;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_int32(env, value, out) != napi_ok) {
    napi_throw_type_error(env, nullptr, what);
    return false;
  }
  return true;
}

bool GetStringArg(napi_env env, napi_value value, std::string* out) {
  char buf[64];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, buf, sizeof buf, &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "expected a string");
    return false;
  }
  out->assign(buf, len);
  return true;
}

napi_value MakeObject(napi_env env, std::initializer_list<std::pair<const char*, double>> fields) {
  napi_value o;
  napi_create_object(env, &o);
  for (const auto& [key, value] : fields) {
    napi_value v;
    napi_create_double(env, value, &v);
    napi_set_named_property(env, o, key, v);
  }
  return o;
}

int64_t NowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000LL + t.tv_nsec;
}

int RemainingMs(int64_t deadline_ns) {
  const int64_t left = deadline_ns - NowNs();
  return left <= 0 ? 0 : static_cast<int>((left + 999999) / 1000000);
}

// blockSignalAndSleep(signo, ms, foreignPending)
napi_value BlockSignalAndSleep(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int signo = 0, ms = 0;
  if (argc < 2 || !GetIntArg(env, argv[0], &signo, "expected a signal number") ||
      !GetIntArg(env, argv[1], &ms, "expected milliseconds")) {
    return nullptr;
  }
  bool foreign_pending = false;
  if (argc >= 3) napi_get_value_bool(env, argv[2], &foreign_pending);
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, signo);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  if (foreign_pending) syscall(SYS_tgkill, getpid(), static_cast<pid_t>(syscall(SYS_gettid)), signo);
  HoldTheLock(ms);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, signo) == 1;
  // Unblocking delivers the pending (late) signal right here: stallwatch must drop it.
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  napi_value result;
  napi_get_boolean(env, was_pending, &result);
  return result;
}

// blockingCall(kind, ms): how a blocking call behaves when stallwatch's signal interrupts it.
// Each kind is a call that would block for `ms` with nothing else happening. A return with
// EINTR is counted and the call is retried until the deadline (as careful code does).
//   nanosleep clock_nanosleep usleep poll epoll_wait select sem_timedwait  sleep `ms`
//   read-pipe     read() on a pipe a helper thread writes to after `ms`
//   wait-child    waitpid() on a child that exits after `ms`
napi_value BlockingCall(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  std::string kind;
  int ms = 0;
  if (argc < 2 || !GetStringArg(env, argv[0], &kind) || !GetIntArg(env, argv[1], &ms, "expected milliseconds")) {
    return nullptr;
  }
  const int64_t start = NowNs();
  const int64_t deadline = start + static_cast<int64_t>(ms) * 1000000LL;
  int eintr = 0;
  int other_errors = 0;
  auto retry = [&](int rc, int err) {
    if (rc == -1 && err == EINTR) {
      ++eintr;
      return RemainingMs(deadline) > 0;
    }
    if (rc == -1) ++other_errors;
    return false;
  };
  if (kind == "nanosleep") {
    for (;;) {
      int left = RemainingMs(deadline);
      timespec ts{left / 1000, (left % 1000) * 1000000L};
      int rc = nanosleep(&ts, nullptr);
      if (!retry(rc, errno)) break;
    }
  } else if (kind == "clock_nanosleep") {
    for (;;) {
      int left = RemainingMs(deadline);
      timespec ts{left / 1000, (left % 1000) * 1000000L};
      int rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
      // clock_nanosleep returns the error number instead of setting errno.
      if (!retry(rc == 0 ? 0 : -1, rc)) break;
    }
  } else if (kind == "usleep") {
    for (;;) {
      int rc = usleep(static_cast<useconds_t>(RemainingMs(deadline)) * 1000);
      if (!retry(rc, errno)) break;
    }
  } else if (kind == "poll") {
    for (;;) {
      int rc = poll(nullptr, 0, RemainingMs(deadline));
      if (!retry(rc, errno)) break;
    }
  } else if (kind == "epoll_wait") {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev;
    for (;;) {
      int rc = epoll_wait(ep, &ev, 1, RemainingMs(deadline));
      if (!retry(rc, errno)) break;
    }
    close(ep);
  } else if (kind == "select") {
    for (;;) {
      int left = RemainingMs(deadline);
      timeval tv{left / 1000, (left % 1000) * 1000};
      int rc = select(0, nullptr, nullptr, nullptr, &tv);
      if (!retry(rc, errno)) break;
    }
  } else if (kind == "sem_timedwait") {
    sem_t sem;
    sem_init(&sem, 0, 0);
    timespec abs;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_sec += ms / 1000;
    abs.tv_nsec += (ms % 1000) * 1000000L;
    if (abs.tv_nsec >= 1000000000L) { abs.tv_sec++; abs.tv_nsec -= 1000000000L; }
    for (;;) {
      int rc = sem_timedwait(&sem, &abs);
      if (rc == -1 && errno == ETIMEDOUT) break;
      if (!retry(rc, errno)) break;
    }
    sem_destroy(&sem);
  } else if (kind == "read-pipe") {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      napi_throw_error(env, nullptr, "pipe2 failed");
      return nullptr;
    }
    struct Writer {
      int fd;
      int ms;
    };
    auto* w = new Writer{fds[1], ms};
    pthread_t writer;
    pthread_create(&writer, nullptr, [](void* arg) -> void* {
      auto* w = static_cast<Writer*>(arg);
      HoldTheLock(w->ms);
      (void)!write(w->fd, "x", 1);
      return nullptr;
    }, w);
    char c;
    for (;;) {
      ssize_t rc = read(fds[0], &c, 1);
      if (!retry(rc < 0 ? -1 : 0, errno)) break;
    }
    pthread_join(writer, nullptr);
    delete w;
    close(fds[0]);
    close(fds[1]);
  } else if (kind == "wait-child") {
    pid_t pid = fork();
    if (pid == 0) {
      // Async-signal-safe only: this child of a multithreaded process may not allocate.
      timespec ts{ms / 1000, (ms % 1000) * 1000000L};
      while (nanosleep(&ts, &ts) != 0) {
      }
      _exit(0);
    }
    for (;;) {
      int status = 0;
      pid_t rc = waitpid(pid, &status, 0);
      if (!retry(rc < 0 ? -1 : 0, errno)) break;
    }
  } else {
    napi_throw_range_error(env, nullptr, "unknown blocking call kind");
    return nullptr;
  }
  const double elapsed = static_cast<double>(NowNs() - start) / 1e6;
  return MakeObject(env, {{"eintr", eintr}, {"otherErrors", other_errors}, {"elapsedMs", elapsed}});
}

// A Go-like runtime's signal use (async preemption with SIGURG): see the header.
struct GoRuntime {
  int signo = 0;
  long period_ns = 5000000;
  bool also_caller = false;
  pid_t caller_tid = 0;
  std::atomic<pid_t> self_tid{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> self_count{0};
  std::atomic<uint64_t> caller_count{0};
  std::atomic<uint64_t> forwarded{0};
  struct sigaction previous;
  pthread_t thread;
  bool running = false;
};
GoRuntime g_go;

void GoSignalHandler(int signo, siginfo_t* info, void* ucontext) {
  const int saved_errno = errno;
  // Its own: tgkill from this process (SI_TKILL). Go recognizes its preemption requests the same way
  // (by what it asked for), never by signal number alone.
  if (info != nullptr && info->si_code == SI_TKILL && info->si_pid == getpid()) {
    const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
    if (tid == g_go.self_tid.load()) {
      g_go.self_count.fetch_add(1);
    } else {
      g_go.caller_count.fetch_add(1);
    }
    errno = saved_errno;
    return;
  }
  g_go.forwarded.fetch_add(1);
  const struct sigaction& prev = g_go.previous;
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction != nullptr) prev.sa_sigaction(signo, info, ucontext);
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(signo);
  }
  // SIG_DFL/SIG_IGN: what a Go runtime does for a signal it does not want (SIGURG's default is
  // to ignore it), so nothing else to do for the signals this test uses.
  errno = saved_errno;
}

void* GoRuntimeMain(void*) {
  g_go.self_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  const pid_t pid = getpid();
  while (!g_go.stop.load()) {
    syscall(SYS_tgkill, pid, g_go.self_tid.load(), g_go.signo);
    if (g_go.also_caller) syscall(SYS_tgkill, pid, g_go.caller_tid, g_go.signo);
    timespec ts{g_go.period_ns / 1000000000L, g_go.period_ns % 1000000000L};
    nanosleep(&ts, nullptr);
  }
  return nullptr;
}

napi_value GoRuntimeStart(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int signo = 0;
  double period = 0;
  if (argc < 2 || !GetIntArg(env, argv[0], &signo, "expected a signal number") ||
      napi_get_value_double(env, argv[1], &period) != napi_ok) {
    napi_throw_type_error(env, nullptr, "expected a signal number and a period in ms");
    return nullptr;
  }
  bool also_caller = false;
  if (argc >= 3) napi_get_value_bool(env, argv[2], &also_caller);
  if (g_go.running) {
    napi_throw_error(env, nullptr, "the Go-like runtime is already running");
    return nullptr;
  }
  g_go.signo = signo;
  g_go.period_ns = period < 0.01 ? 10000L : static_cast<long>(period * 1e6);
  g_go.also_caller = also_caller;
  g_go.caller_tid = static_cast<pid_t>(syscall(SYS_gettid));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = GoSignalHandler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;  // what Go's runtime uses
  sigfillset(&sa.sa_mask);
  sigaction(signo, &sa, &g_go.previous);
  // The runtime's thread must be able to take the signal: unblock it around pthread_create.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, signo);
  pthread_sigmask(SIG_UNBLOCK, &set, &old);
  g_go.stop.store(false);
  g_go.running = pthread_create(&g_go.thread, nullptr, GoRuntimeMain, nullptr) == 0;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  napi_value result;
  napi_get_boolean(env, g_go.running, &result);
  return result;
}

napi_value GoRuntimeCounts(napi_env env, napi_callback_info) {
  return MakeObject(env, {{"self", static_cast<double>(g_go.self_count.load())},
                          {"caller", static_cast<double>(g_go.caller_count.load())},
                          {"forwarded", static_cast<double>(g_go.forwarded.load())}});
}

napi_value GoRuntimeStop(napi_env env, napi_callback_info) {
  if (g_go.running) {
    g_go.stop.store(true);
    pthread_join(g_go.thread, nullptr);
    g_go.running = false;
  }
  return nullptr;
}

// forkAndSignal(signo, how)
napi_value ForkAndSignal(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int signo = 0;
  std::string how;
  if (argc < 2 || !GetIntArg(env, argv[0], &signo, "expected a signal number") || !GetStringArg(env, argv[1], &how)) {
    return nullptr;
  }
  const int mode = how == "kill" ? 0 : how == "sigqueue" ? 1 : how == "tgkill" ? 2 : -1;
  if (mode < 0) {
    napi_throw_range_error(env, nullptr, "how must be kill, sigqueue or tgkill");
    return nullptr;
  }
  pid_t pid = fork();
  if (pid == 0) {
    // The child: one thread, the parent's handlers, no stallwatch threads. Async-signal-safe only.
    // Unblock the signal: the child inherits the forking thread's mask.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    if (mode == 0) {
      kill(getpid(), signo);
    } else if (mode == 1) {
      // SI_QUEUE with a pointer that is no stallwatch cookie (a sigqueue user of the child's own).
      union sigval value;
      value.sival_ptr = &set;
      sigqueue(getpid(), signo, value);
    } else {
      syscall(SYS_tgkill, getpid(), static_cast<pid_t>(syscall(SYS_gettid)), signo);
    }
    timespec ts{0, 300 * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    _exit(0);
  }
  if (pid < 0) {
    napi_throw_error(env, nullptr, "fork failed");
    return nullptr;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return MakeObject(env, {{"exited", WIFEXITED(status) ? 1 : 0},
                          {"code", WIFEXITED(status) ? WEXITSTATUS(status) : -1},
                          {"signaled", WIFSIGNALED(status) ? 1 : 0},
                          {"signal", WIFSIGNALED(status) ? WTERMSIG(status) : 0}});
}

#if defined(STALLWATCH_ASAN_CANARY)
// A deliberate out-of-bounds write, to prove that AddressSanitizer is active in the build that
// the ASan suite runs against (scripts/test-asan.sh). Never compiled into the normal test addon.
napi_value AsanCanary(napi_env env, napi_callback_info) {
  char* buffer = new char[16];
  volatile int index = 16;  // one past the end; volatile so the compiler cannot see it
  buffer[index] = 42;
  delete[] buffer;
  return nullptr;
}
#endif

// Returns freed heap memory that glibc's arenas keep (malloc_trim), so a memory test measures
// what is still allocated rather than what the allocator caches for threads that have exited.
napi_value TrimMalloc(napi_env env, napi_callback_info) {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  napi_value undefined = nullptr;
  napi_get_undefined(env, &undefined);
  return undefined;
}

struct ThreadpoolBatch {
  int ms = 0;
  int remaining = 0;
  napi_ref done = nullptr;
};

struct ThreadpoolJob {
  ThreadpoolBatch* batch;
  napi_async_work work = nullptr;
};

napi_value OccupyThreadpool(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t count = 0, ms = 0;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &count) != napi_ok ||
      napi_get_value_int32(env, argv[1], &ms) != napi_ok || count < 1 || ms < 0) {
    napi_throw_type_error(env, nullptr, "occupyThreadpool(count, ms, done)");
    return nullptr;
  }
  auto* batch = new ThreadpoolBatch{ms, count, nullptr};
  napi_create_reference(env, argv[2], 1, &batch->done);
  napi_value name;
  napi_create_string_utf8(env, "occupyThreadpool", NAPI_AUTO_LENGTH, &name);
  for (int i = 0; i < count; ++i) {
    auto* job = new ThreadpoolJob{batch};
    napi_create_async_work(
        env, nullptr, name, [](napi_env, void* data) { OccupyThreadpoolSlot(static_cast<ThreadpoolJob*>(data)->batch->ms); },
        [](napi_env env, napi_status, void* data) {
          auto* job = static_cast<ThreadpoolJob*>(data);
          ThreadpoolBatch* batch = job->batch;
          napi_delete_async_work(env, job->work);
          delete job;
          if (--batch->remaining > 0) return;
          napi_value fn, global;
          napi_get_reference_value(env, batch->done, &fn);
          napi_delete_reference(env, batch->done);
          delete batch;
          napi_get_global(env, &global);
          napi_call_function(env, global, fn, 0, nullptr, nullptr);
        },
        job, &job->work);
    napi_queue_async_work(env, job->work);
  }
  return nullptr;
}

// glibc's own accounting of the C heap (mallinfo2), so a memory test can tell bytes still
// allocated (inUse, mmapped) from bytes the arenas hold free (free) and from how many arenas
// exist (each thread that ever allocated may have made one). Empty object off glibc.
napi_value MallocInfo(napi_env env, napi_callback_info) {
  napi_value result = nullptr;
  napi_create_object(env, &result);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 info = mallinfo2();
  const struct {
    const char* name;
    size_t value;
  } fields[] = {
      {"arena", info.arena},        // bytes obtained with brk/sbrk or arena heaps (non-mmapped)
      {"mmapped", info.hblkhd},     // bytes in blocks allocated with mmap
      {"inUse", info.uordblks},     // bytes allocated and not freed
      {"free", info.fordblks},      // bytes free inside the arenas
      {"releasable", info.keepcost},
  };
  for (const auto& f : fields) {
    napi_value v = nullptr;
    napi_create_double(env, static_cast<double>(f.value), &v);
    napi_set_named_property(env, result, f.name, v);
  }
#endif
  return result;
}

// Acting as another copy of stallwatch: the descriptor of peer_copies.h, for a copy that listens
// to no isolate (so none of its JIT functions is ever called).
std::atomic<bool> g_act_as_peer{false};
void IgnoreJitEvent(const v8::JitCodeEvent*) {}
bool ListensToNoIsolate(v8::Isolate*) { return false; }
void IgnoreIntroduction(const stallwatch::StallwatchPeerV1*, uintptr_t, uintptr_t) {}
}  // namespace

const stallwatch::StallwatchPeerV1 g_peer_descriptor{1, IgnoreJitEvent, IgnoreJitEvent, ListensToNoIsolate,
                                                    IgnoreIntroduction};

namespace {
napi_value ActAsStallwatchPeer(napi_env, napi_callback_info) {
  g_act_as_peer.store(true);
  return nullptr;
}

HIDDEN_NOINLINE void BusyInPeerCode(int ms) {
  const timespec deadline = DeadlineAfter(ms);
  for (;;) {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) break;
  }
  asm volatile("" ::: "memory");
}

napi_value SpinInPeerCode(napi_env env, napi_callback_info info) {
  int ms = 0;
  if (!GetMsArg(env, info, &ms)) return nullptr;
  BusyInPeerCode(ms);
  return nullptr;
}

}  // namespace
}  // namespace stallwatch_test

// Found by stallwatch's peer discovery (dlsym on each loaded module) once actAsStallwatchPeer() ran.
extern "C" __attribute__((visibility("default"))) const stallwatch::StallwatchPeerV1* stallwatch_peer_v1() {
  return stallwatch_test::g_act_as_peer.load() ? &stallwatch_test::g_peer_descriptor : nullptr;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"blockInNative", nullptr, stallwatch_test::BlockInNative, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"blockOnMutex", nullptr, stallwatch_test::BlockOnMutex, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"callBack", nullptr, stallwatch_test::CallBack, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"blockSignalAndSleep", nullptr, stallwatch_test::BlockSignalAndSleep, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"blockingCall", nullptr, stallwatch_test::BlockingCall, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"goRuntimeStart", nullptr, stallwatch_test::GoRuntimeStart, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"goRuntimeCounts", nullptr, stallwatch_test::GoRuntimeCounts, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"goRuntimeStop", nullptr, stallwatch_test::GoRuntimeStop, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"forkAndSignal", nullptr, stallwatch_test::ForkAndSignal, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"trimMalloc", nullptr, stallwatch_test::TrimMalloc, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"occupyThreadpool", nullptr, stallwatch_test::OccupyThreadpool, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"mallocInfo", nullptr, stallwatch_test::MallocInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"actAsStallwatchPeer", nullptr, stallwatch_test::ActAsStallwatchPeer, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"spinInPeerCode", nullptr, stallwatch_test::SpinInPeerCode, nullptr, nullptr, nullptr, napi_default,
       nullptr},
#if defined(STALLWATCH_ASAN_CANARY)
      {"asanCanary", nullptr, stallwatch_test::AsanCanary, nullptr, nullptr, nullptr, napi_default,
       nullptr},
#endif
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) {
    return nullptr;
  }
  return exports;
}
