// The progress signal of one event loop.
//
// A loop makes progress when its iteration tick moves (prepare/check hooks) or when
// libuv's idle time grows (it grows while the loop is parked in the kernel poll call,
// including the current call). I/O callbacks run *inside* the poll phase, between
// prepare and check, so the tick alone would call a stalled HTTP handler idle; idle
// time alone would miss a stall in a timer. Together they say exactly when the loop
// last moved:
//   - last hook was check (timers, immediates, closing handles run next): that moment;
//   - last hook was prepare (the loop is in the poll phase): the moment it entered poll
//     plus the time it has spent parked in the kernel since, which stops growing as soon
//     as an I/O callback starts running.
// The hooks are unref'd handles that only write a few words: no timers, no wake-ups.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>

namespace stallwatch {

class LoopProbe {
 public:
  struct Progress {
    uint64_t tick = 0;              // iteration hooks run so far
    uint64_t last_progress_ns = 0;  // MonotonicNs of the last moment the loop moved
    bool parked = false;            // inside the kernel poll call right now
    // Starvation watch (when enabled): libuv requests in flight at the last prepare hook, and
    // since when the loop has had requests in flight without processing any I/O event (the
    // moment of the first such prepare hook); 0 when it has none in flight.
    uint32_t requests_in_flight = 0;
    uint64_t starving_since_ns = 0;
    // Moves when a request completes (the count drops) or none are left: a starvation that
    // was reported is reported again only after this moved.
    uint64_t requests_epoch = 0;
  };
  using ProgressHook = void (*)(void* data);

  // Loop thread. `on_progress` runs on the loop thread at the first hook after `attention`
  // was set (used to close a stall episode the moment the loop moves again); the hook
  // clears `attention` itself.
  bool Start(uv_loop_t* loop, ProgressHook on_progress, void* data);
  // Loop thread, outside the loop's own phases: the loop has run out of work (beforeExit),
  // which is progress too. libuv runs timers at the end of an iteration, so a stall in the
  // last timer of a script is followed by no hook at all before the loop ends.
  void MarkProgress();
  // Loop thread. Closes the handles; their memory is released by libuv's close callback.
  void Stop();

  // Any thread. Thread-safe; bounded (a seqlock read and uv_metrics_idle_time, whose
  // mutex the loop thread only holds for a few instructions around the poll call).
  Progress Read() const;

  void SetAttention(bool on) { attention_.store(on, std::memory_order_release); }

  // starvationMs needs libuv's event counter (uv_metrics_info, libuv 1.45, Node 20+), looked
  // up at run time so one build also loads on older Node versions.
  static bool StarvationWatchSupported();
  // JS thread. From the next iteration on, the prepare hook also records requests in flight
  // and I/O events processed (two loads and a call that copies three counters).
  void EnableStarvationWatch() { starvation_watch_.store(true, std::memory_order_relaxed); }

 private:
  struct Handles;
  void OnHook(bool is_prepare);
  static void OnPrepare(uv_prepare_t* handle);
  static void OnCheck(uv_check_t* handle);

  uv_loop_t* loop_ = nullptr;
  Handles* handles_ = nullptr;  // loop thread only
  ProgressHook on_progress_ = nullptr;
  void* on_progress_data_ = nullptr;
  std::atomic<bool> attention_{false};

  // Seqlock-published state: written by the loop thread, read by the watchdog.
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint64_t> tick_{0};
  std::atomic<uint64_t> hook_ns_{0};
  std::atomic<uint64_t> idle_at_prepare_ns_{0};
  std::atomic<bool> in_poll_phase_{false};
  std::atomic<uint32_t> requests_in_flight_{0};
  std::atomic<uint64_t> starving_since_ns_{0};
  std::atomic<uint64_t> requests_epoch_{0};

  // Starvation watch, loop thread only apart from the flag.
  std::atomic<bool> starvation_watch_{false};
  uint64_t last_events_ = 0;
  uint32_t epoch_baseline_ = 0;  // requests in flight when the current epoch began
};

}  // namespace stallwatch
