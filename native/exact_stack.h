// The exact JS stack, from the stalled thread itself.
//
// A signal-time sample (GetStackSample) shows physical frames: a function inlined by the
// optimizing compiler is invisible, and there is no current line. For a thread that is
// running JS, waiting in Atomics.wait, or in a GC or compile pause that will return to JS,
// V8 runs an interrupt within milliseconds; from there StackTrace::CurrentStackTrace gives
// every logical frame with its executing line and column. The result is kept only if the
// loop has not moved since the stall was detected (else it belongs to other code) and if the
// sampled frames appear in it in order. A thread in native code never runs the interrupt
// while stuck, so none is requested for it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "report.h"

namespace stallwatch {

struct ThreadRecord;

struct ExactStackChannel {
  std::mutex mutex;
  std::condition_variable ready_cv;
  uint64_t requested_episode = 0;  // [mutex]
  uint64_t ready_episode = 0;      // [mutex] episode whose frames are below
  bool valid = false;              // [mutex] the loop had not moved when they were taken
  std::vector<Frame> frames;       // [mutex]
};

// Watchdog, registry mutex held, record alive (so its isolate is too). Non-blocking.
void RequestExactStack(const std::shared_ptr<ThreadRecord>& record, uint64_t episode, uint64_t tick,
                       int max_frames);

// Reporter: waits up to `timeout_ms` for the episode's exact frames. Returns false if none
// came in time or they were taken after the loop moved on.
bool WaitForExactStack(ThreadRecord& record, uint64_t episode, int timeout_ms, std::vector<Frame>* frames);

// The V8 states in which an interrupt runs soon (as opposed to native code, which never
// runs it while stuck).
bool StateRunsInterruptsSoon(int v8_state_tag);

}  // namespace stallwatch
