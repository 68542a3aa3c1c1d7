// sources: thread_freeze.cc platform/linux.cc
// The thread-dump freeze protocol (thread_freeze.h) with real threads and real signals: a target
// thread frozen in its handler while the dumper reads its context, release, a target that gives
// up waiting on its own (kMaxHoldMs), a target that blocks the signal (the dumper times out and
// the late signal is dropped), and signals meant for another thread. The handler here does what
// SignalCapture::HandleSignal (signal_capture.cc, which needs V8) does for freeze cookies. Built plain,
// with ASan and with TSan (npm run test:tsan).
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "platform/platform.h"
#include "thread_freeze.h"

using namespace stallwatch;

namespace {

int failures = 0;
void Expect(const char* what, bool ok) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what);
    ++failures;
  }
}

constexpr int kSignal = SIGURG;
std::atomic<int> g_handled{0};

void Handler(int, siginfo_t* info, void* ucontext) {
  void* cookie = platform::CookieOf(info);
  if (cookie != nullptr && ThreadFreeze::IsFreezeCookie(cookie)) {
    ThreadFreeze::OnSignal(ucontext);
    g_handled.fetch_add(1);
  }
}

// A target thread: publishes its tid and stack bounds, then sleeps in short naps until told to stop.
struct Target {
  std::atomic<int64_t> tid{0};
  std::atomic<uintptr_t> low{0}, high{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> block_signal{false};
  std::thread thread;

  void Start() {
    thread = std::thread([this] {
      if (block_signal) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, kSignal);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
      }
      uintptr_t l = 0, h = 0;
      platform::CurrentThreadStack(&l, &h);
      low = l;
      high = h;
      tid = platform::CurrentTid();
      while (!stop) {
        timespec ts{0, 1000 * 1000};
        nanosleep(&ts, nullptr);
      }
    });
    while (tid == 0) std::this_thread::yield();
  }
  void Join() {
    stop = true;
    thread.join();
  }
};

void TestFreezeAndRelease() {
  Target target;
  target.Start();
  auto lock = ThreadFreeze::Lock();
  for (int round = 0; round < 50; ++round) {
    ThreadFreeze::Arm(target.tid);
    Expect("signal sent", platform::SendSignalToTid(target.tid, kSignal, ThreadFreeze::Cookie()) == 0);
    std::string why;
    const bool frozen = ThreadFreeze::WaitFrozen(1000, &why);
    Expect("target froze", frozen);
    if (!frozen) {
      std::fprintf(stderr, "  why: %s\n", why.c_str());
      break;
    }
    // The context is the target's own: its stack pointer lies in the target's stack.
    const platform::MachineRegisters regs = platform::RegistersFromContext(ThreadFreeze::Context());
    Expect("context sp inside the target's stack", regs.sp >= target.low && regs.sp < target.high);
    Expect("released while still held", ThreadFreeze::Release());
  }
  lock.unlock();
  target.Join();
  Expect("every freeze reached the handler", g_handled.load() == 50);
}

void TestTargetGivesUp() {
  Target target;
  target.Start();
  auto lock = ThreadFreeze::Lock();
  ThreadFreeze::Arm(target.tid);
  platform::SendSignalToTid(target.tid, kSignal, ThreadFreeze::Cookie());
  std::string why;
  Expect("froze", ThreadFreeze::WaitFrozen(1000, &why));
  // The dumper takes longer than the target is willing to wait.
  std::this_thread::sleep_for(std::chrono::milliseconds(ThreadFreeze::kMaxHoldMs + 100));
  Expect("release reports the target left on its own", !ThreadFreeze::Release());
  // The slot is usable again at once.
  ThreadFreeze::Arm(target.tid);
  platform::SendSignalToTid(target.tid, kSignal, ThreadFreeze::Cookie());
  Expect("froze again", ThreadFreeze::WaitFrozen(1000, &why));
  Expect("released", ThreadFreeze::Release());
  lock.unlock();
  target.Join();
}

void TestBlockedSignalTimesOutAndLateSignalIsDropped() {
  Target blocked;
  blocked.block_signal = true;
  blocked.Start();
  Target other;
  other.Start();
  auto lock = ThreadFreeze::Lock();
  ThreadFreeze::Arm(blocked.tid);
  platform::SendSignalToTid(blocked.tid, kSignal, ThreadFreeze::Cookie());
  std::string why;
  Expect("a thread that blocks the signal never freezes", !ThreadFreeze::WaitFrozen(100, &why));
  Expect("and the reason says so", why.find("did not take the signal") != std::string::npos);
  // Freeze another thread; the blocked one's pending signal arrives late (when it exits and
  // unblocks, or never): it must not act on this arm.
  const int before = g_handled.load();
  ThreadFreeze::Arm(other.tid);
  platform::SendSignalToTid(other.tid, kSignal, ThreadFreeze::Cookie());
  Expect("the other thread froze", ThreadFreeze::WaitFrozen(1000, &why));
  Expect("released", ThreadFreeze::Release());
  lock.unlock();
  blocked.Join();
  other.Join();
  Expect("only the armed thread handled a freeze", g_handled.load() == before + 1);
}

void TestSignalForAnotherThreadIsIgnored() {
  Target a, b;
  a.Start();
  b.Start();
  auto lock = ThreadFreeze::Lock();
  ThreadFreeze::Arm(a.tid);
  // b gets the freeze cookie, but the arm is for a: b drops it and does not consume the arm.
  platform::SendSignalToTid(b.tid, kSignal, ThreadFreeze::Cookie());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  platform::SendSignalToTid(a.tid, kSignal, ThreadFreeze::Cookie());
  std::string why;
  Expect("the armed thread still freezes", ThreadFreeze::WaitFrozen(1000, &why));
  const platform::MachineRegisters regs = platform::RegistersFromContext(ThreadFreeze::Context());
  Expect("with its own context", regs.sp >= a.low && regs.sp < a.high);
  Expect("released", ThreadFreeze::Release());
  lock.unlock();
  a.Join();
  b.Join();
}

}  // namespace

int main() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_sigaction = Handler;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&action.sa_mask);
  sigaction(kSignal, &action, nullptr);

  TestFreezeAndRelease();
  TestTargetGivesUp();
  TestBlockedSignalTimesOutAndLateSignalIsDropped();
  TestSignalForAnotherThreadIsIgnored();
  if (failures > 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("thread_freeze_test: all passed\n");
  return 0;
}
