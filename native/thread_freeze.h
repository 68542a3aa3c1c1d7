// Holding another thread of this process still for a moment, so that an ordinary thread can
// walk its stack (thread dumps: dumpThreads(), allThreads, the starvation check).
//
// Why not capture in the target's own signal handler, as stall captures do: a thread that is
// not a monitored JS thread never warmed up libunwind (its per-thread cache would be allocated
// for the first time inside the handler), and it may have been interrupted while holding the
// malloc or loader lock that libunwind's first walk needs. Here the target's handler only
// copies its interrupted context and waits (nanosleep, bounded); the walk, with all its
// allocations and locks, runs on the dumping thread against the frozen stack.
//
// Protocol, one target at a time (callers hold Lock()):
//   dumper: Arm(tid) -> send the signal with Cookie() -> WaitFrozen() -> walk Context() -> Release()
//   target: its handler sees Cookie(), consumes the arm, copies the context, publishes
//           "frozen", then waits until released or until kMaxHoldMs passed, and returns.
// A late signal (the dumper gave up, or the arm was for another thread) is dropped.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace stallwatch {

class ThreadFreeze {
 public:
  // The longest a target waits in its handler for the dumper to finish walking.
  static constexpr int kMaxHoldMs = 250;

  // Async-signal-safe. True if `cookie` is the freeze protocol's: the signal is ours, and
  // OnSignal decides whether to act on it or drop it.
  static bool IsFreezeCookie(const void* cookie);
  // Async-signal-safe: the target's side, from the capture signal handler.
  static void OnSignal(const void* ucontext);

  // The dumper's side. One freeze at a time in the process.
  static std::unique_lock<std::mutex> Lock();
  static void* Cookie();
  // Lock held. Prepares the slot for `tid`; the caller then sends the signal.
  static void Arm(int64_t tid);
  // Lock held. The signal could not be sent: forget the arm.
  static void Disarm();
  // Lock held. Waits (bounded) for the target to enter its handler. False with `why` when it
  // did not; the slot is then disarmed and a late signal will be dropped.
  static bool WaitFrozen(int timeout_ms, std::string* why);
  // Lock held, after WaitFrozen succeeded: the target's interrupted context (a ucontext_t).
  static const void* Context();
  // Lock held, after WaitFrozen succeeded. Lets the target go and waits (bounded) until it has
  // left the handler. False if the target stopped waiting on its own before this call (its
  // stack may have changed under the walk).
  static bool Release();
};

}  // namespace stallwatch
