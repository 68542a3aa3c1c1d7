// The watchdog: one pthread per process, created with every signal blocked, never on an
// event loop. It decides when a loop has stalled (from each loop's progress signal), signals
// the stuck thread, waits (bounded) for the handler's raw sample and hands it to the
// reporter. It never blocks on I/O, never calls dladdr or reads symbols, and takes no lock a
// stalled thread may hold; it sleeps until the earliest moment any loop could cross its
// threshold (about once per threshold while loops are idle).
#pragma once

#include <cstdint>

namespace stallwatch {

class Watchdog {
 public:
  // Starts the thread once per process (it is never stopped: a process singleton).
  static bool EnsureStarted();

  // An onStall hook asked to terminate the worker with OS thread id `tid` (a JS thread, not
  // the watchdog). Acts only while that worker's stall is still going on, under the registry
  // lock like terminateWorkerAfterMs. Returns "terminated", "not-terminable" (stuck in native
  // code: it exits when that call returns), "not-stalled", "already-terminating",
  // "main-thread" or "unknown-thread".
  static const char* TerminateStalledWorker(int64_t tid);
};

}  // namespace stallwatch
