// One monitored thread (a main thread or worker_thread with its own isolate and loop) and
// the subscribers (supervise() handles) watching it.
//
// Lock contract, field by field:
//   [const]     written by the owning JS thread before the record is published in the
//               registry, never changed after.
//   [js]        owning JS thread only.
//   [registry]  Registry::mutex() held.
//   [watchdog]  watchdog thread only (it holds the registry lock while it runs).
//   [reporter]  reporter thread only.
//   [atomic]    any thread.
#pragma once

#include <node_api.h>
#include <pthread.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capture_slot.h"
#include "code_events.h"
#include "code_map.h"
#include "exact_stack.h"
#include "log_writer.h"
#include "loop_probe.h"
#include "report.h"

namespace stallwatch {

struct SubscriberConfig {
  int threshold_ms = 500;
  int signo = 0;
  int max_frames = 128;
  int max_reports_per_minute = 10;
  std::shared_ptr<LogSink> log;  // null: no log
  bool watch_workers = false;    // also receives the reports of forwarded threads (workers: true)
  int sample_interval_ms = 0;    // keep sampling a stall this often; 0 = off
  bool sample_native = false;    // also re-sample a thread stuck in native code
  int terminate_after_ms = 0;    // workers: TerminateExecution after this long; 0 = off
  int abort_after_ms = 0;        // abort() after this long; 0 = off
  bool sink = false;             // a reporter worker's subscription: receives, is never monitored
  bool all_threads = false;      // its blocked reports carry every thread's stack (allThreads)
  int starvation_ms = 0;         // report a loop parked this long with requests in flight; 0 = off
};

struct Subscriber {
  uint32_t id = 0;                  // [const]
  SubscriberConfig config;          // [const]
  std::vector<uint64_t> recent_report_ns;  // [registry] ring, one slot per allowed report
  size_t recent_next = 0;           // [registry]
  uint32_t suppressed = 0;          // [registry] stalls not reported since the last report
  uint64_t owed_episode = 0;        // [registry] episode whose blocked report this subscriber gets
  bool blocked_sent = false;        // [registry] that report went out
  uint32_t owed_suppressed = 0;     // [registry] `suppressed` to show in that report
  bool suppressed_this_episode = false;  // [registry] rate limit withheld the episode's report
  uint32_t sink_id = 0;             // [registry] the reporter worker subscription that also gets its events

  uint64_t replaced_report_ns = 0;  // [registry] the ring entry the last take overwrote
  // Rate limit: true (and the report time recorded) if one more report fits in the last minute.
  bool TakeReportBudget(uint64_t now_ns);
  // Undoes the last TakeReportBudget: the capture it was for was dropped, nothing was reported.
  void RefundReportBudget();
};

struct Episode {
  uint64_t id = 0;
  bool open = false;
  uint64_t start_ns = 0;   // last progress before the stall
  uint64_t tick = 0;       // loop tick when the stall was detected
  int signo = 0;           // the signal its capture used
  int first_vm_state = -1; // V8 state of its first sample (-1: none)
  bool profiling = false;  // sampled repeatedly (sampleIntervalMs)
  uint64_t next_profile_ns = 0;
  uint32_t profile_samples = 0;
  bool terminate_decided = false;
};

// Stall profile samples: preallocated buffers the watchdog fills and the reporter drains.
constexpr size_t kProfileBuffers = 32;
// At most this many samples per stall (each one a signal to the stuck thread).
constexpr uint32_t kMaxProfileSamples = 10000;

struct ThreadRecord : std::enable_shared_from_this<ThreadRecord> {
  // [const]
  napi_env env = nullptr;
  v8::Isolate* isolate = nullptr;
  void* node_env = nullptr;  // node::Environment, for StopNodeEnvironment (terminateWorkerAfterMs)
  uv_loop_t* loop = nullptr;
  pthread_t pthread{};
  int64_t tid = 0;
  int64_t pid = 0;
  int thread_id = 0;
  std::string thread_name;
  std::shared_ptr<CodeMap> code_map;

  // [js]
  std::unique_ptr<CodeEventListener> code_listener;
  napi_threadsafe_function tsfn = nullptr;
  bool tsfn_reffed = false;   // a stall ended and its delivery is pending: keep the loop alive
  std::map<uint32_t, napi_ref> callbacks;
  LoopProbe probe;            // hooks run on the JS thread; Read() from any thread

  // [registry]
  bool alive = true;          // false once the JS thread tore the record down
  bool forward = false;       // reports also go to every watch_workers subscriber (a covered worker)
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  CaptureSlot* slot = nullptr;
  int slot_index = -1;
  bool slot_abandoned = false;  // a handler never finished: the slot is never touched again

  // [watchdog]
  Episode episode;

  // [atomic] set by the loop thread's hook when the loop moves during an open episode.
  std::atomic<uint64_t> episode_end_ns{0};

  // Hand-off from the watchdog to the reporter. [registry]
  RawSample* handoff_sample = nullptr;  // a capture to turn into a report
  uint64_t handoff_episode = 0;
  double handoff_blocked_ms = 0;
  double handoff_captured_at_ms = 0;
  std::string handoff_partial;          // what the watchdog could not get
  bool handoff_owed = false;            // some subscriber is owed the episode's report
  bool handoff_closed = false;          // the episode ended
  uint64_t closed_episode = 0;
  double closed_blocked_ms = 0;

  // Starvation hand-off (starvationMs). [registry]
  bool handoff_starvation = false;
  double handoff_starvation_waited_ms = 0;
  uint32_t handoff_starvation_requests = 0;
  // [watchdog] the probe's requests epoch when starvation was last reported: reported again
  // only once a request has completed since.
  uint64_t starvation_reported_epoch = UINT64_MAX;

  // [registry] stall profile buffers: free ones, and filled ones waiting for the reporter.
  // Both reserved to kProfileBuffers so the watchdog never allocates.
  std::vector<RawSample*> profile_free;
  std::vector<RawSample*> profile_ready;
  bool handoff_profiled = false;        // the handed-off capture starts a profile

  // [reporter] the profile being aggregated.
  struct ProfileBuild {
    uint64_t episode = 0;
    double interval_ms = 0;
    double started_at_ms = 0;
    double ended_at_ms = 0;
    uint64_t samples = 0;
    std::map<std::string, StallProfile::Stack> stacks;  // keyed by the stack's frames
  } profile;

  // [atomic] the preallocated sample buffer the watchdog copies the best capture into; the
  // reporter gives it back when done. nullptr while the reporter holds it.
  std::atomic<RawSample*> spare_sample{nullptr};

  // The exact JS stack requested from the thread itself (its own lock contract inside).
  ExactStackChannel exact;

  // [reporter] the name its parent gave this worker (supervise({ workers: true })).
  std::string coverage_name;

  // [reporter] the last report built, for subscribers whose threshold is crossed later.
  std::shared_ptr<const Report> last_report;
  uint64_t last_report_episode = 0;

  ThreadRecord();
  ~ThreadRecord();
  // Records not yet destroyed, for stats(): a leak of torn-down threads shows here.
  static std::atomic<int64_t> live_count;
  bool Monitored() const;           // [registry] has a subscriber that is not a sink
  uint32_t MinThresholdMs() const;  // [registry] over monitoring subscribers
  int ProfileIntervalMs() const;    // [registry] smallest sampleIntervalMs asked for, 0 = none
  bool SampleNative() const;        // [registry]
  int TerminateAfterMs() const;     // [registry] smallest nonzero, 0 = none
  int AbortAfterMs() const;         // [registry] smallest nonzero, 0 = none
  int StarvationMs() const;         // [registry] smallest nonzero, 0 = none
  int MaxFrames() const;            // [registry]
};

}  // namespace stallwatch
