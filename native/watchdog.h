// The watchdog: one pthread per process, created with every signal blocked, never on an
// event loop. It decides when a loop has stalled (from each loop's progress signal), signals
// the stuck thread, waits (bounded) for the handler's raw sample and hands it to the
// reporter. It never blocks on I/O, never calls dladdr or reads symbols, and takes no lock a
// stalled thread may hold; it sleeps until the earliest moment any loop could cross its
// threshold (about once per threshold while loops are idle).
#pragma once

namespace stallwatch {

class Watchdog {
 public:
  // Starts the thread once per process (it is never stopped: a process singleton).
  static bool EnsureStarted();
};

}  // namespace stallwatch
