// What one capture signal does to a thread blocked in each kind of call, on this system.
// Built and run by test/eintr.test.js; its output backs the table in docs/eintr.md.
//
// The handler is installed exactly as stallwatch installs its own (SA_SIGINFO | SA_RESTART |
// SA_ONSTACK, empty sa_mask) and does nothing. For each call, the main thread blocks in it; a
// helper thread sends one signal with pthread_sigqueue (as the watchdog does) 100 ms in, and makes
// the call's wake-up condition true 300 ms in (or the call times out by itself at 300 ms). Outcome:
//   EINTR      the call returned -1/EINTR (or its error number) at ~100 ms
//   restarted  the call completed normally at ~300 ms: the signal was invisible to the caller
//   early      the call returned success at ~100 ms (e.g. sleep() returning the unslept time,
//              a spurious wake-up); shown with what it returned
// One line per call: {"call": ..., "outcome": ..., "ms": ..., "detail": ...}
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

static pthread_t g_main;
static int g_signo;
static volatile sig_atomic_t g_handled;

static void handler(int signo, siginfo_t* info, void* uc) {
  (void)signo;
  (void)info;
  (void)uc;
  g_handled = 1;
}

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

// The wake-up action for the call under test, run by the helper at 300 ms.
typedef void (*wake_fn)(void);
static wake_fn g_wake;
static volatile int g_wake_fd = -1;
static volatile pid_t g_wake_pid = 0;

static void* helper(void* arg) {
  (void)arg;
  sleep_ms(100);
  union sigval v;
  v.sival_ptr = &g_main;  // a cookie, as stallwatch sends one
  pthread_sigqueue(g_main, g_signo, v);
  sleep_ms(200);
  if (g_wake) g_wake();
  return NULL;
}

static void report(const char* call, int rc_is_error, int err, int64_t ms, const char* detail) {
  const char* outcome;
  if (rc_is_error && err == EINTR) {
    outcome = "EINTR";
  } else if (rc_is_error) {
    outcome = "error";
  } else if (ms < 250) {
    outcome = "early";
  } else {
    outcome = "restarted";
  }
  printf("{\"call\":\"%s\",\"outcome\":\"%s\",\"ms\":%lld,\"handled\":%d,\"detail\":\"%s%s%s\"}\n", call, outcome,
         (long long)ms, (int)g_handled, detail ? detail : "", rc_is_error && err != EINTR ? " " : "",
         rc_is_error && err != EINTR ? strerror(err) : "");
  fflush(stdout);
}

static int g_pipe[2];
static void wake_pipe_write(void) { (void)!write(g_pipe[1], "x", 1); }
static void wake_pipe_read(void) {
  static char buf[65536];
  (void)!read(g_pipe[0], buf, sizeof buf);
}
static void wake_fifo_open(void) {
  int fd = open("eintr-probe.fifo", O_WRONLY | O_NONBLOCK);
  if (fd >= 0) g_wake_fd = fd;
}
static void wake_kill_child(void) { kill(g_wake_pid, SIGKILL); }
static int g_sock[2];
static void wake_sock_write(void) { (void)!write(g_sock[1], "x", 1); }
static int g_listen_port;
static void wake_connect(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)g_listen_port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  (void)!connect(s, (struct sockaddr*)&a, sizeof a);
  g_wake_fd = s;
}
static char g_lock_path[] = "eintr-probe.lock";
static int g_lock_holder = -1;
static void wake_unlock(void) { flock(g_lock_holder, LOCK_UN); }
static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_cond_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_cond_flag;
static void wake_cond(void) {
  pthread_mutex_lock(&g_cond_mutex);
  g_cond_flag = 1;
  pthread_cond_signal(&g_cond);
  pthread_mutex_unlock(&g_cond_mutex);
}
static sem_t g_sem;
static void wake_sem(void) { sem_post(&g_sem); }
static int g_futex;
static void wake_futex(void) {
  __atomic_store_n(&g_futex, 1, __ATOMIC_SEQ_CST);
  syscall(SYS_futex, &g_futex, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
static mqd_t g_mq = (mqd_t)-1;
static void wake_mq(void) { mq_send(g_mq, "x", 1, 0); }
static int g_msq = -1;
static void wake_msg(void) {
  struct {
    long type;
    char text[1];
  } m = {1, {'x'}};
  msgsnd(g_msq, &m, 1, IPC_NOWAIT);
}

// A thread holding a lock for the mutex case (the main thread cannot hold and wait at once).
static void* mutex_holder(void* arg) {
  (void)arg;
  pthread_mutex_lock(&g_mutex);
  while (!__atomic_load_n(&g_cond_flag, __ATOMIC_SEQ_CST)) sleep_ms(1);
  pthread_mutex_unlock(&g_mutex);
  return NULL;
}

#define START(wake)                            \
  do {                                         \
    g_handled = 0;                             \
    g_wake = (wake);                           \
    pthread_create(&h, NULL, helper, NULL);    \
    t0 = now_ms();                             \
  } while (0)
#define END(call, rc_is_error, detail)                           \
  do {                                                           \
    int e_ = errno;                                              \
    int64_t ms_ = now_ms() - t0;                                 \
    pthread_join(h, NULL);                                       \
    report(call, rc_is_error, e_, ms_, detail);                  \
  } while (0)

int main(int argc, char** argv) {
  g_signo = argc > 1 ? atoi(argv[1]) : SIGURG;
  g_main = pthread_self();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(g_signo, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  pthread_t h;
  int64_t t0;
  char buf[64];

  // --- sleeping
  START(NULL);
  struct timespec ts = {0, 300 * 1000000L};
  int rc = nanosleep(&ts, NULL);
  END("nanosleep", rc != 0, NULL);

  START(NULL);
  ts.tv_sec = 0;
  ts.tv_nsec = 300 * 1000000L;
  rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
  errno = rc;
  END("clock_nanosleep", rc != 0, NULL);

  START(NULL);
  struct timespec abs;
  clock_gettime(CLOCK_MONOTONIC, &abs);
  abs.tv_nsec += 300 * 1000000L;
  if (abs.tv_nsec >= 1000000000L) {
    abs.tv_sec++;
    abs.tv_nsec -= 1000000000L;
  }
  rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
  errno = rc;
  END("clock_nanosleep(TIMER_ABSTIME)", rc != 0, NULL);

  START(NULL);
  rc = usleep(300000);
  END("usleep", rc != 0, NULL);

  START(NULL);
  unsigned left = sleep(1);
  snprintf(buf, sizeof buf, "returned %u (seconds not slept)", left);
  errno = 0;
  {
    int e_ = 0;
    int64_t ms_ = now_ms() - t0;
    pthread_join(h, NULL);
    report("sleep", 0, e_, ms_ < 250 ? ms_ : 1000, buf);
  }

  // --- multiplexing
  START(NULL);
  rc = poll(NULL, 0, 300);
  END("poll", rc < 0, NULL);

  START(NULL);
  ts.tv_sec = 0;
  ts.tv_nsec = 300 * 1000000L;
  rc = ppoll(NULL, 0, &ts, NULL);
  END("ppoll", rc < 0, NULL);

  START(NULL);
  struct timeval tv = {0, 300000};
  rc = select(0, NULL, NULL, NULL, &tv);
  END("select", rc < 0, NULL);

  START(NULL);
  ts.tv_sec = 0;
  ts.tv_nsec = 300 * 1000000L;
  rc = pselect(0, NULL, NULL, NULL, &ts, NULL);
  END("pselect", rc < 0, NULL);

  int ep = epoll_create1(0);
  struct epoll_event ev;
  START(NULL);
  rc = epoll_wait(ep, &ev, 1, 300);
  END("epoll_wait", rc < 0, NULL);
  START(NULL);
  rc = epoll_pwait(ep, &ev, 1, 300, NULL);
  END("epoll_pwait", rc < 0, NULL);
  close(ep);

  // --- pipes, FIFOs, sockets without a timeout
  (void)!pipe(g_pipe);
  START(wake_pipe_write);
  rc = (int)read(g_pipe[0], buf, 1);
  END("read (pipe)", rc < 0, NULL);

  fcntl(g_pipe[1], F_SETFL, O_NONBLOCK);
  while (write(g_pipe[1], buf, sizeof buf) > 0) {
  }
  fcntl(g_pipe[1], F_SETFL, 0);
  START(wake_pipe_read);
  rc = (int)write(g_pipe[1], buf, sizeof buf);
  END("write (full pipe)", rc < 0, NULL);
  close(g_pipe[0]);
  close(g_pipe[1]);

  unlink("eintr-probe.fifo");
  mkfifo("eintr-probe.fifo", 0600);
  START(wake_fifo_open);
  int fifo = open("eintr-probe.fifo", O_RDONLY);
  END("open (FIFO, no writer yet)", fifo < 0, NULL);
  if (fifo >= 0) close(fifo);
  if (g_wake_fd >= 0) close(g_wake_fd);
  unlink("eintr-probe.fifo");

  socketpair(AF_UNIX, SOCK_STREAM, 0, g_sock);
  START(wake_sock_write);
  rc = (int)recv(g_sock[0], buf, 1, 0);
  END("recv (socket, no timeout)", rc < 0, NULL);
  struct timeval rcv = {2, 0};
  setsockopt(g_sock[0], SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv);
  START(wake_sock_write);
  rc = (int)recv(g_sock[0], buf, 1, 0);
  END("recv (socket with SO_RCVTIMEO)", rc < 0, NULL);
  close(g_sock[0]);
  close(g_sock[1]);

  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(ls, (struct sockaddr*)&a, sizeof a);
  socklen_t alen = sizeof a;
  getsockname(ls, (struct sockaddr*)&a, &alen);
  g_listen_port = ntohs(a.sin_port);
  listen(ls, 4);
  START(wake_connect);
  int conn = accept(ls, NULL, NULL);
  END("accept", conn < 0, NULL);
  if (conn >= 0) close(conn);
  if (g_wake_fd >= 0) close(g_wake_fd);
  close(ls);

  // --- processes
  g_wake_pid = fork();
  if (g_wake_pid == 0) {
    pause();
    _exit(0);
  }
  START(wake_kill_child);
  int status;
  rc = waitpid(g_wake_pid, &status, 0);
  END("waitpid", rc < 0, NULL);

  // --- file locks
  int lf1 = open(g_lock_path, O_RDWR | O_CREAT, 0600);
  g_lock_holder = open(g_lock_path, O_RDWR);
  flock(g_lock_holder, LOCK_EX);
  START(wake_unlock);
  rc = flock(lf1, LOCK_EX);
  END("flock", rc < 0, NULL);
  flock(lf1, LOCK_UN);
  close(lf1);
  close(g_lock_holder);
  // fcntl locks are per process: the holder must be another process.
  {
    int fds[2];
    (void)!pipe(fds);
    pid_t holder = fork();
    if (holder == 0) {
      int fd = open(g_lock_path, O_RDWR);
      struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
      fcntl(fd, F_SETLK, &fl);
      (void)!write(fds[1], "l", 1);
      sleep_ms(300);
      _exit(0);  // releases the lock
    }
    (void)!read(fds[0], buf, 1);
    int fd = open(g_lock_path, O_RDWR);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    START(NULL);
    t0 = now_ms();
    rc = fcntl(fd, F_SETLKW, &fl);
    END("fcntl(F_SETLKW)", rc < 0, NULL);
    waitpid(holder, &status, 0);
    close(fd);
    close(fds[0]);
    close(fds[1]);
  }
  unlink(g_lock_path);

  // --- threads and futexes
  g_cond_flag = 0;
  pthread_t holder;
  pthread_create(&holder, NULL, mutex_holder, NULL);
  sleep_ms(20);
  START(NULL);
  {
    // The holder keeps the mutex until g_cond_flag is set at 300 ms by the helper's wake.
    g_wake = wake_cond;
    rc = pthread_mutex_lock(&g_mutex);
    errno = rc;
    END("pthread_mutex_lock", rc != 0, NULL);
  }
  pthread_mutex_unlock(&g_mutex);
  pthread_join(holder, NULL);

  g_cond_flag = 0;
  START(wake_cond);
  pthread_mutex_lock(&g_cond_mutex);
  rc = 0;
  int spurious = 0;
  while (!g_cond_flag && rc == 0) {
    rc = pthread_cond_wait(&g_cond, &g_cond_mutex);
    if (!g_cond_flag && rc == 0) spurious++;
  }
  pthread_mutex_unlock(&g_cond_mutex);
  snprintf(buf, sizeof buf, "%d spurious wake-up(s) seen by the loop", spurious);
  errno = rc;
  END("pthread_cond_wait", rc != 0, buf);

  g_cond_flag = 0;
  START(wake_cond);
  pthread_mutex_lock(&g_cond_mutex);
  rc = 0;
  spurious = 0;
  {
    struct timespec cabs;
    clock_gettime(CLOCK_REALTIME, &cabs);
    cabs.tv_sec += 2;
    while (!g_cond_flag && rc == 0) {
      rc = pthread_cond_timedwait(&g_cond, &g_cond_mutex, &cabs);
      if (!g_cond_flag && rc == 0) spurious++;
    }
  }
  pthread_mutex_unlock(&g_cond_mutex);
  snprintf(buf, sizeof buf, "%d spurious wake-up(s) seen by the loop", spurious);
  errno = rc;
  END("pthread_cond_timedwait", rc != 0, buf);

  g_cond_flag = 0;
  pthread_create(&holder, NULL, mutex_holder, NULL);
  sleep_ms(20);
  START(wake_cond);
  {
    struct timespec mabs;
    clock_gettime(CLOCK_REALTIME, &mabs);
    mabs.tv_sec += 2;
    rc = pthread_mutex_timedlock(&g_mutex, &mabs);
    errno = rc;
    END("pthread_mutex_timedlock", rc != 0, NULL);
  }
  if (rc == 0) pthread_mutex_unlock(&g_mutex);
  pthread_join(holder, NULL);

  sem_init(&g_sem, 0, 0);
  START(wake_sem);
  rc = sem_wait(&g_sem);
  END("sem_wait", rc != 0, NULL);
  START(NULL);
  struct timespec sabs;
  clock_gettime(CLOCK_REALTIME, &sabs);
  sabs.tv_nsec += 300 * 1000000L;
  if (sabs.tv_nsec >= 1000000000L) {
    sabs.tv_sec++;
    sabs.tv_nsec -= 1000000000L;
  }
  rc = sem_timedwait(&g_sem, &sabs);
  {
    int e_ = errno;
    int64_t ms_ = now_ms() - t0;
    pthread_join(h, NULL);
    if (rc != 0 && e_ == ETIMEDOUT) report("sem_timedwait", 0, 0, ms_, "timed out at its deadline");
    else report("sem_timedwait", rc != 0, e_, ms_, NULL);
  }
  START(NULL);
  {
    struct timespec cabs;
    clock_gettime(CLOCK_MONOTONIC, &cabs);
    cabs.tv_nsec += 300 * 1000000L;
    if (cabs.tv_nsec >= 1000000000L) {
      cabs.tv_sec++;
      cabs.tv_nsec -= 1000000000L;
    }
    rc = sem_clockwait(&g_sem, CLOCK_MONOTONIC, &cabs);
    int e_ = errno;
    int64_t ms_ = now_ms() - t0;
    pthread_join(h, NULL);
    if (rc != 0 && e_ == ETIMEDOUT) report("sem_clockwait", 0, 0, ms_, "timed out at its deadline");
    else report("sem_clockwait", rc != 0, e_, ms_, NULL);
  }
  sem_destroy(&g_sem);

  g_futex = 0;
  START(wake_futex);
  rc = (int)syscall(SYS_futex, &g_futex, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  END("futex(FUTEX_WAIT)", rc != 0, NULL);
  g_futex = 0;
  START(NULL);
  struct timespec frel = {0, 300 * 1000000L};
  rc = (int)syscall(SYS_futex, &g_futex, FUTEX_WAIT_PRIVATE, 0, &frel, NULL, 0);
  {
    int e_ = errno;
    int64_t ms_ = now_ms() - t0;
    pthread_join(h, NULL);
    if (rc != 0 && e_ == ETIMEDOUT) report("futex(FUTEX_WAIT, timeout)", 0, 0, ms_, "timed out at its deadline");
    else report("futex(FUTEX_WAIT, timeout)", rc != 0, e_, ms_, NULL);
  }

  // --- waiting for signals
  START(NULL);
  {
    // pause() waits for any handled signal: it returns on the capture signal.
    rc = pause();
    END("pause", rc != 0, NULL);
  }
  {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    START(NULL);
    struct timespec st = {0, 300 * 1000000L};
    rc = sigtimedwait(&set, NULL, &st);
    int e_ = errno;
    int64_t ms_ = now_ms() - t0;
    pthread_join(h, NULL);
    if (rc < 0 && e_ == EAGAIN) report("sigtimedwait", 0, 0, ms_, "timed out");
    else report("sigtimedwait", rc < 0, e_, ms_, NULL);
  }

  // --- IPC
  struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 8};
  mq_unlink("/eintr-probe");
  g_mq = mq_open("/eintr-probe", O_RDWR | O_CREAT, 0600, &attr);
  if (g_mq != (mqd_t)-1) {
    START(wake_mq);
    rc = (int)mq_receive(g_mq, buf, sizeof buf, NULL);
    END("mq_receive", rc < 0, NULL);
    mq_close(g_mq);
    mq_unlink("/eintr-probe");
  }
  g_msq = msgget(IPC_PRIVATE, 0600 | IPC_CREAT);
  if (g_msq >= 0) {
    struct {
      long type;
      char text[8];
    } m;
    START(wake_msg);
    rc = (int)msgrcv(g_msq, &m, sizeof m.text, 0, 0);
    END("msgrcv", rc < 0, NULL);
    msgctl(g_msq, IPC_RMID, NULL);
  }
  return 0;
}
