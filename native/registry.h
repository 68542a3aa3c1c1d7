// The one process-wide table: every monitored thread, guarded by one mutex.
//
// Who takes the mutex: JS threads in supervise()/close()/environment cleanup (briefly);
// the watchdog for each evaluation, including a bounded capture; the reporter to pick up
// hand-offs and to call a thread-safe function (non-blocking). Nobody blocks on I/O or
// waits for a stalled thread while holding it, except the watchdog's bounded signal wait.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "thread_record.h"

namespace stallwatch {

class Registry {
 public:
  static std::mutex& mutex();
  // [registry] Records stay listed after teardown until the reporter has drained them.
  static std::vector<std::shared_ptr<ThreadRecord>>& records();
  // Wakes the watchdog (a new subscriber, or a stall just ended). Safe without the mutex.
  static void WakeWatchdog();
  static std::condition_variable& watchdog_wake();
  // Wakes the reporter thread (a hand-off is ready). Safe with or without the registry mutex.
  static void WakeReporter();
};

}  // namespace stallwatch
