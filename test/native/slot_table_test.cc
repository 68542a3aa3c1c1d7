// sources: slot_table.cc unwind_tail_cache.cc platform/linux.cc
// The capture protocol of capture_slot.h / slot_table.h with real threads and real signals:
// claim/release of table cells, arming by a watchdog, pthread_sigqueue with the cell's address as
// cookie, a handler that recognizes the cookie and consumes the arm exactly like
// SignalCapture::HandleSignal (signal_capture.cc, which needs V8 and cannot be linked here), the bounded
// wait with disarm on timeout, late signals, foreign signals, and slot recycling while late
// signals are still pending. Built plain, with ASan and with TSan (npm run test:tsan).
//
// TSan note: Semaphore::WaitFor uses sem_clockwait, which gcc 12's libtsan does not intercept
// (it intercepts sem_post/sem_wait/sem_timedwait only), so TSan cannot see the happens-before edge
// that POSIX gives sem_post -> a successful wait. The harness states that edge with
// __tsan_release/__tsan_acquire around Post/WaitFor (a no-op without TSan). Everything else TSan sees.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture_slot.h"
#include "platform/platform.h"
#include "slot_table.h"

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#define SW_TSAN_ACQUIRE(p) __tsan_acquire(p)
#define SW_TSAN_RELEASE(p) __tsan_release(p)
#else
#define SW_TSAN_ACQUIRE(p) ((void)0)
#define SW_TSAN_RELEASE(p) ((void)0)
#endif

using namespace stallwatch;

namespace {

std::atomic<int> failures{0};  // Check() runs on several threads

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
  }
}

// What the handler saw, per outcome. Atomics: written from signal handlers on many threads.
std::atomic<uint64_t> g_captured{0};
std::atomic<uint64_t> g_late{0};      // ours, but the slot was not armed: dropped
std::atomic<uint64_t> g_stray{0};     // ours, but the cell's slot belongs to another thread (or none)
std::atomic<uint64_t> g_foreign{0};   // no cookie of ours: would be forwarded
int g_signo = 0;

// The consume pattern of SignalCapture::HandleSignal, on the same SlotTable and platform calls.
void Handler(int, siginfo_t* info, void* ucontext) {
  const int saved_errno = errno;
  void* cookie = platform::CookieOf(info);
  if (cookie == nullptr || !SlotTable::IsOurCookie(cookie)) {
    g_foreign.fetch_add(1, std::memory_order_relaxed);
    errno = saved_errno;
    return;
  }
  CaptureSlot* slot = SlotTable::FromCookie(cookie);
  if (slot != nullptr && slot->tid == platform::CurrentTid()) {
    const uint64_t seq = slot->armed_seq.exchange(0, std::memory_order_acq_rel);
    if (seq != 0) {
      const uint64_t start = platform::MonotonicNs();
      slot->sample.seq = seq;
      slot->sample.regs = platform::RegistersFromContext(ucontext);
      const uint32_t max = static_cast<uint32_t>(slot->max_frames);
      // Stand-in for the stack walks: fill the frames the watchdog asked for.
      for (uint32_t i = 0; i < max; ++i) slot->sample.native[i] = seq * 1000 + i;
      slot->sample.native_count = max;
      slot->sample.handler_ns = platform::MonotonicNs() - start;
      g_captured.fetch_add(1, std::memory_order_relaxed);
      SW_TSAN_RELEASE(&slot->done);
      slot->done.Post();
    } else {
      g_late.fetch_add(1, std::memory_order_relaxed);
    }
  } else {
    g_stray.fetch_add(1, std::memory_order_relaxed);
  }
  errno = saved_errno;
}

void Install(int signo) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = Handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(signo, &sa, nullptr);
  g_signo = signo;
}

std::mutex g_registry;  // stands in for Registry::mutex(): Claim/Release/Acquire/Recycle hold it
uint64_t g_next_seq = 0;  // [watchdog]

enum class Outcome { kSampled, kTimedOut, kSendFailed, kAbandoned };

// TakeOneSample of watchdog.cc, with the test's timeouts.
Outcome TakeOneSample(CaptureSlot* slot, pthread_t thread, int index, int max_frames, uint64_t delivery_timeout_ns,
                      uint64_t* seq_out) {
  slot->max_frames = max_frames;
  const uint64_t seq = ++g_next_seq;
  *seq_out = seq;
  slot->armed_seq.store(seq, std::memory_order_release);
  const int rc = platform::SendSignal(thread, g_signo, SlotTable::CookieFor(index));
  if (rc != 0) {
    slot->armed_seq.store(0, std::memory_order_release);
    return Outcome::kSendFailed;
  }
  if (slot->done.WaitFor(delivery_timeout_ns)) {
    SW_TSAN_ACQUIRE(&slot->done);
    return Outcome::kSampled;
  }
  if (slot->armed_seq.exchange(0, std::memory_order_acq_rel) == seq) return Outcome::kTimedOut;
  if (slot->done.WaitFor(1000ull * 1000 * 1000)) {
    SW_TSAN_ACQUIRE(&slot->done);
    return Outcome::kSampled;
  }
  return Outcome::kAbandoned;
}

// A monitored thread: publishes a slot for itself, then runs `body` until told to stop.
struct Monitored {
  std::atomic<bool> ready{false};
  std::atomic<bool> stop{false};
  CaptureSlot* slot = nullptr;
  int index = -1;
  pthread_t pthread{};
  std::thread thread;

  void Publish() {
    std::lock_guard<std::mutex> lock(g_registry);
    slot = SlotTable::AcquireSlot();
    slot->tid = platform::CurrentTid();
    slot->max_frames = 16;
    index = SlotTable::Claim(slot);
    pthread = pthread_self();
  }
  void Unpublish() {
    std::lock_guard<std::mutex> lock(g_registry);
    SlotTable::Release(index);
    SlotTable::RecycleSlot(slot);
  }
};

// Until an absolute deadline: the captures interrupt these sleeps hundreds of times.
void SleepMs(int ms) {
  timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += ms / 1000;
  deadline.tv_nsec += (ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000L;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

thread_local volatile uint64_t g_spin_sink;

// 1. Threads that spin, sleep and make syscalls are sampled many times; every sample is the one
//    asked for and complete.
void TestSampling() {
  constexpr int kThreads = 4;
  constexpr int kRounds = 150;
  Monitored targets[kThreads];
  for (int t = 0; t < kThreads; ++t) {
    targets[t].thread = std::thread([&m = targets[t], t] {
      m.Publish();
      m.ready.store(true);
      while (!m.stop.load(std::memory_order_relaxed)) {
        if (t % 2 == 0) {
          for (int i = 0; i < 10000; ++i) g_spin_sink = g_spin_sink + i;
        } else {
          SleepMs(1);
        }
      }
      m.Unpublish();
    });
  }
  for (auto& m : targets) {
    while (!m.ready.load()) std::this_thread::yield();
  }
  const uint64_t captured_before = g_captured.load();
  int sampled = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (auto& m : targets) {
      uint64_t seq = 0;
      const int max_frames = 1 + (round % 64);
      const Outcome outcome = TakeOneSample(m.slot, m.pthread, m.index, max_frames, 200ull * 1000 * 1000, &seq);
      Check(outcome == Outcome::kSampled, "sampling: a running thread takes the signal within 200 ms");
      if (outcome != Outcome::kSampled) continue;
      ++sampled;
      Check(m.slot->sample.seq == seq, "sampling: the sample carries the sequence number that was armed");
      Check(m.slot->sample.native_count == static_cast<uint32_t>(max_frames), "sampling: max_frames reached the handler");
      Check(m.slot->sample.native[max_frames - 1] == seq * 1000 + max_frames - 1, "sampling: the frames were written");
      Check(m.slot->armed_seq.load() == 0, "sampling: the handler consumed the arm");
    }
  }
  for (auto& m : targets) m.stop.store(true);
  for (auto& m : targets) m.thread.join();
  Check(sampled == kThreads * kRounds, "sampling: every attempt produced a sample");
  Check(g_captured.load() - captured_before == static_cast<uint64_t>(sampled), "sampling: one handler capture per sample");
}

// 2. A thread that blocks the signal: the wait times out, the watchdog disarms, and the signal that
//    arrives once the thread unblocks it is late and dropped (no capture, the sample untouched).
void TestBlockedThenLate() {
  Monitored m;
  std::atomic<int> phase{0};
  m.thread = std::thread([&] {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, g_signo);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    m.Publish();
    m.ready.store(true);
    while (phase.load() < 1) SleepMs(1);  // the watchdog tries and gives up
    pthread_sigmask(SIG_SETMASK, &old, nullptr);  // the pending signal is delivered here
    phase.store(2);
    while (!m.stop.load()) SleepMs(1);
    m.Unpublish();
  });
  while (!m.ready.load()) std::this_thread::yield();
  const uint64_t late_before = g_late.load();
  const uint64_t captured_before = g_captured.load();
  uint64_t seq = 0;
  const Outcome outcome = TakeOneSample(m.slot, m.pthread, m.index, 8, 50ull * 1000 * 1000, &seq);
  Check(outcome == Outcome::kTimedOut, "blocked: the watchdog times out and disarms");
  Check(m.slot->armed_seq.load() == 0, "blocked: disarmed");
  phase.store(1);
  while (phase.load() < 2) SleepMs(1);
  SleepMs(20);
  Check(g_late.load() - late_before == 1, "blocked: the late signal reached the handler and was dropped");
  Check(g_captured.load() == captured_before, "blocked: the late signal captured nothing");
  // The next capture works and is not confused by the earlier one.
  const Outcome again = TakeOneSample(m.slot, m.pthread, m.index, 8, 200ull * 1000 * 1000, &seq);
  Check(again == Outcome::kSampled && m.slot->sample.seq == seq, "blocked: the next capture after a late signal works");
  m.stop.store(true);
  m.thread.join();
}

// 3. Signals that are not ours (kill, tgkill, sigqueue with another pointer, or with a pointer into
//    the table from another process) never capture and never consume an arm.
void TestForeign() {
  Monitored m;
  m.thread = std::thread([&] {
    m.Publish();
    m.ready.store(true);
    while (!m.stop.load()) SleepMs(1);
    m.Unpublish();
  });
  while (!m.ready.load()) std::this_thread::yield();
  const uint64_t foreign_before = g_foreign.load();
  const uint64_t captured_before = g_captured.load();
  m.slot->armed_seq.store(777, std::memory_order_release);  // armed while foreign signals arrive
  syscall(SYS_tgkill, getpid(), static_cast<pid_t>(m.slot->tid), g_signo);
  pthread_kill(m.pthread, g_signo);
  sigval other;
  other.sival_ptr = &other;
  pthread_sigqueue(m.pthread, g_signo, other);
  sigval null_value;
  null_value.sival_ptr = nullptr;
  pthread_sigqueue(m.pthread, g_signo, null_value);
  // Standard signals coalesce while one is pending: give each its own delivery.
  for (int i = 0; i < 50 && g_foreign.load() - foreign_before < 1; ++i) SleepMs(2);
  SleepMs(50);
  Check(g_foreign.load() - foreign_before >= 1, "foreign: the handler saw foreign signals");
  Check(g_captured.load() == captured_before, "foreign: no capture from a foreign signal");
  Check(m.slot->armed_seq.exchange(0) == 777, "foreign: the arm survived foreign signals");
  Check(SlotTable::IsOurCookie(SlotTable::CookieFor(0)) && SlotTable::IsOurCookie(SlotTable::CookieFor(kMaxMonitoredThreads - 1)),
        "cookies of the table are ours");
  Check(!SlotTable::IsOurCookie(&other) && !SlotTable::IsOurCookie(reinterpret_cast<char*>(SlotTable::CookieFor(kMaxMonitoredThreads - 1)) + sizeof(void*)),
        "pointers outside the table are not ours");
  m.stop.store(true);
  m.thread.join();
}

// 4. Churn: threads come and go (claim, publish, release, recycle) while the watchdog samples
//    whatever is published and another thread fires foreign signals at everyone. Threads block the
//    signal now and then, so late signals arrive after their slot was released and reused.
void TestChurn() {
  constexpr int kWorkers = 6;
  constexpr int kLifetimes = 25;
  struct Live {
    CaptureSlot* slot;
    int index;
    pthread_t pthread;
    int64_t tid;
  };
  std::mutex live_mutex;  // guards `live`; a thread leaves it before it unpublishes
  std::vector<Live> live;
  std::atomic<bool> done{false};
  std::atomic<int> finished{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      for (int life = 0; life < kLifetimes; ++life) {
        const bool blocks = (life + w) % 4 == 0;
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, g_signo);
        if (blocks) pthread_sigmask(SIG_BLOCK, &set, &old);
        Monitored m;
        m.Publish();
        if (m.index < 0) {
          m.Unpublish();
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(live_mutex);
          live.push_back({m.slot, m.index, m.pthread, m.slot->tid});
        }
        SleepMs(5 + (life * 7 + w) % 11);
        {
          std::lock_guard<std::mutex> lock(live_mutex);
          for (size_t i = 0; i < live.size(); ++i) {
            if (live[i].slot == m.slot) {
              live.erase(live.begin() + static_cast<long>(i));
              break;
            }
          }
        }
        {
          // Like TeardownRecord: the watchdog holds the registry lock for a whole capture, so a
          // thread never unpublishes in the middle of one.
          std::lock_guard<std::mutex> lock(g_registry);
          SlotTable::Release(m.index);
          SlotTable::RecycleSlot(m.slot);
        }
        // Late signals, if any, arrive now: after the slot went back to the free list (and may
        // already serve another thread).
        if (blocks) pthread_sigmask(SIG_SETMASK, &old, nullptr);
        SleepMs(1);
      }
      finished.fetch_add(1);
    });
  }
  std::thread foreign([&] {
    while (!done.load()) {
      {
        std::lock_guard<std::mutex> lock(live_mutex);
        for (auto& l : live) pthread_kill(l.pthread, g_signo);
      }
      SleepMs(3);
    }
  });
  int sampled = 0, timed_out = 0, abandoned = 0;
  while (finished.load() < kWorkers) {
    Live target{};
    {
      std::lock_guard<std::mutex> lock(live_mutex);
      if (!live.empty()) target = live[static_cast<size_t>(g_next_seq) % live.size()];
    }
    if (target.slot == nullptr) {
      SleepMs(1);
      continue;
    }
    std::lock_guard<std::mutex> registry(g_registry);
    // Under the registry lock the target is published (and its thread alive: it unpublishes under
    // this lock) or gone; the slot may serve another thread by now, hence the tid.
    if (SlotTable::FromCookie(SlotTable::CookieFor(target.index)) != target.slot || target.slot->tid != target.tid) continue;
    uint64_t seq = 0;
    switch (TakeOneSample(target.slot, target.pthread, target.index, 4, 20ull * 1000 * 1000, &seq)) {
      case Outcome::kSampled:
        ++sampled;
        Check(target.slot->sample.seq == seq, "churn: the sample is the one asked for");
        break;
      case Outcome::kTimedOut:
        ++timed_out;
        break;
      case Outcome::kAbandoned:
        ++abandoned;
        break;
      case Outcome::kSendFailed:
        break;
    }
  }
  done.store(true);
  foreign.join();
  for (auto& t : workers) t.join();
  std::fprintf(stderr, "churn: %d sampled, %d timed out (signal blocked), %d abandoned; late %llu, stray %llu\n", sampled,
               timed_out, abandoned, static_cast<unsigned long long>(g_late.load()),
               static_cast<unsigned long long>(g_stray.load()));
  Check(sampled > 0, "churn: some captures succeeded");
  Check(abandoned == 0, "churn: no handler ever ran past the bound");
}

// 5. A late signal whose cell now holds another thread's slot: the handler of the old thread reads
//    the cell while the new owner's thread publishes and then recycles that very slot. The tid
//    check keeps it from capturing; the question here is only whether those reads race.
void TestLateSignalOnRecycledSlot() {
  Monitored old_owner;
  std::atomic<int> phase{0};
  old_owner.thread = std::thread([&] {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, g_signo);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    old_owner.Publish();
    old_owner.ready.store(true);
    while (phase.load() < 1) SleepMs(1);
    old_owner.Unpublish();  // close(): cell and slot freed, the signal still pending
    phase.store(2);
    while (phase.load(std::memory_order_relaxed) < 3) SleepMs(1);
    SleepMs(1);  // inside the new owner's 2 ms publication
    pthread_sigmask(SIG_SETMASK, &old, nullptr);  // the late handler runs now, on this thread
    phase.store(4, std::memory_order_relaxed);
  });
  while (!old_owner.ready.load()) std::this_thread::yield();
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> registry(g_registry);
    Check(TakeOneSample(old_owner.slot, old_owner.pthread, old_owner.index, 4, 20ull * 1000 * 1000, &seq) ==
              Outcome::kTimedOut,
          "recycled: the blocked thread times out");
  }
  phase.store(1);
  while (phase.load() < 2) SleepMs(1);
  // A new thread subscribes: it gets the recycled slot and the freed cell. It keeps subscribing
  // and closing (each time the same slot and cell) while the old owner's late signal is handled,
  // with nothing ordering the two: in the addon they are unrelated threads.
  std::atomic<bool> stop_new_owner{false};
  std::thread new_owner([&] {
    for (int i = 0; !stop_new_owner.load(std::memory_order_relaxed); ++i) {
      Monitored m;
      m.Publish();
      if (i == 0) {
        Check(m.index == old_owner.index, "recycled: the new owner got the freed cell");
        phase.store(3, std::memory_order_relaxed);
      }
      SleepMs(2);
      m.Unpublish();
    }
  });
  while (phase.load() < 4) SleepMs(1);
  SleepMs(10);
  stop_new_owner.store(true, std::memory_order_relaxed);
  new_owner.join();
  old_owner.thread.join();
}

}  // namespace

int main() {
  alarm(120);  // a hang fails the test (SIGALRM's default action) instead of blocking the run
  int rtmin = 0, rtmax = 0;
  platform::RealtimeSignalRange(&rtmin, &rtmax);
  // A standard signal (coalesces while pending, like SIGURG/SIGUSR2/SIGPROF) and a real-time one
  // (queues every send, like SIGRTMIN+N).
  const int signals[] = {SIGURG, rtmin + 4};
  for (int signo : signals) {
    std::fprintf(stderr, "signal %d\n", signo);
    Install(signo);
    TestSampling();
    TestBlockedThenLate();
    TestForeign();
    TestChurn();
    TestLateSignalOnRecycledSlot();
  }
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures.load());
    return 1;
  }
  return 0;
}
