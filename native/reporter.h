// The reporter: a stallwatch thread that turns hand-offs from the watchdog into reports
// (symbolizing, which may take loader locks and read files), queues them for the log writer
// at once, and posts them to the monitored thread's JS listeners, which run once that
// thread's loop runs again.
#pragma once

namespace stallwatch {

class Reporter {
 public:
  static bool EnsureStarted();
  // Any thread, with or without the registry mutex.
  static void Wake();
  // Waits (bounded) until the reporter has nothing pending. Registry mutex NOT held.
  static bool WaitIdle(int timeout_ms);
  // Reporter workers acknowledge each report once their handler has finished with it.
  static void SinkAcknowledged();
  // Waits (bounded) until every report posted to a reporter worker was acknowledged.
  static bool WaitForSinks(int timeout_ms);
};

}  // namespace stallwatch
