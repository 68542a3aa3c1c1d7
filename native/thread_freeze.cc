#include "thread_freeze.h"

#include <time.h>
#include <sys/ucontext.h>  // ucontext_t on Linux and macOS

#include <atomic>
#include <cstring>

#include "platform/platform.h"

namespace stallwatch {
namespace {

enum Phase : int {
  kIdle = 0,
  kFrozen = 1,    // the target copied its context and waits
  kReleased = 2,  // the dumper is done with the stack
  kLeft = 3,      // the target is leaving its handler and touches the slot no more
  kGaveUp = 4,    // the target stopped waiting (kMaxHoldMs) before it was released
};

struct FreezeSlot {
  std::atomic<int64_t> tid{0};
  std::atomic<uint64_t> armed_seq{0};
  std::atomic<int> phase{kIdle};
  alignas(16) unsigned char context[sizeof(ucontext_t)];
};

FreezeSlot g_slot;          // immortal: a late signal may read it at any time
std::mutex g_mutex;         // one dumper at a time
uint64_t g_next_seq = 0;    // [g_mutex]

// Async-signal-safe short sleep.
void Nap() {
  timespec ts{0, 20 * 1000};
  nanosleep(&ts, nullptr);
}

bool WaitForPhase(int wanted, int timeout_ms) {
  const uint64_t deadline = platform::MonotonicNs() + static_cast<uint64_t>(timeout_ms) * 1000000ull;
  while (g_slot.phase.load(std::memory_order_acquire) != wanted) {
    if (platform::MonotonicNs() >= deadline) return false;
    Nap();
  }
  return true;
}

}  // namespace

bool ThreadFreeze::IsFreezeCookie(const void* cookie) { return cookie == &g_slot; }
void* ThreadFreeze::Cookie() { return &g_slot; }

void ThreadFreeze::OnSignal(const void* ucontext) {
  if (g_slot.tid.load(std::memory_order_acquire) != platform::CurrentTid()) return;  // meant for another thread
  if (g_slot.armed_seq.exchange(0, std::memory_order_acq_rel) == 0) return;        // late: the dumper gave up
  memcpy(g_slot.context, ucontext, sizeof(ucontext_t));
  g_slot.phase.store(kFrozen, std::memory_order_release);
  // Hold still while the dumper walks this stack; bounded, so a dumper that never comes back
  // cannot keep this thread here.
  const uint64_t deadline = platform::MonotonicNs() + static_cast<uint64_t>(kMaxHoldMs) * 1000000ull;
  while (g_slot.phase.load(std::memory_order_acquire) == kFrozen) {
    if (platform::MonotonicNs() >= deadline) {
      int expected = kFrozen;
      if (g_slot.phase.compare_exchange_strong(expected, kGaveUp, std::memory_order_acq_rel)) return;
      break;  // released just now
    }
    Nap();
  }
  g_slot.phase.store(kLeft, std::memory_order_release);
}

std::unique_lock<std::mutex> ThreadFreeze::Lock() { return std::unique_lock<std::mutex>(g_mutex); }

void ThreadFreeze::Arm(int64_t tid) {
  // A target from an earlier freeze that froze only after its dumper gave up still waits:
  // let it go before the slot is reused, or its exit would overwrite the new phase.
  int stale = kFrozen;
  if (g_slot.phase.compare_exchange_strong(stale, kReleased, std::memory_order_acq_rel)) WaitForPhase(kLeft, 100);
  g_slot.phase.store(kIdle, std::memory_order_relaxed);
  g_slot.tid.store(tid, std::memory_order_relaxed);
  g_slot.armed_seq.store(++g_next_seq, std::memory_order_release);
}

bool ThreadFreeze::WaitFrozen(int timeout_ms, std::string* why) {
  if (WaitForPhase(kFrozen, timeout_ms)) return true;
  if (g_slot.armed_seq.exchange(0, std::memory_order_acq_rel) != 0) {
    *why = "the thread did not take the signal within " + std::to_string(timeout_ms) +
           " ms (it sits in an uninterruptible sleep, or blocked the signal after it was listed)";
    g_slot.tid.store(0, std::memory_order_release);
    return false;
  }
  // The handler consumed the arm just now: it is about to publish.
  if (WaitForPhase(kFrozen, timeout_ms)) return true;
  *why = "the thread entered the handler but never froze";
  return false;
}

void ThreadFreeze::Disarm() {
  g_slot.armed_seq.store(0, std::memory_order_release);
  g_slot.tid.store(0, std::memory_order_release);
}

const void* ThreadFreeze::Context() { return g_slot.context; }

bool ThreadFreeze::Release() {
  int expected = kFrozen;
  const bool released = g_slot.phase.compare_exchange_strong(expected, kReleased, std::memory_order_acq_rel);
  // Released: the target notices within one nap and leaves.
  if (released) WaitForPhase(kLeft, 100);
  g_slot.tid.store(0, std::memory_order_release);
  return released;
}

}  // namespace stallwatch
