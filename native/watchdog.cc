#include "watchdog.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>

#include <v8.h>

#include "capture_stats.h"
#include "exact_stack.h"
#include "js_sample.h"
#include "node_environment.h"
#include "peer_copies.h"
#include "platform/platform.h"
#include "registry.h"
#include "reporter.h"
#include "signal_capture.h"
#include "slot_table.h"
#include "thread_util.h"

namespace stallwatch {
namespace {

constexpr uint64_t kMsNs = 1000000ull;
// How long a signalled thread gets to enter the handler: delivery takes tens of
// microseconds; a thread that does not take it within this bound has the signal blocked or
// sits in an uninterruptible sleep.
constexpr uint64_t kSignalDeliveryTimeoutNs = 200 * kMsNs;
// Once the handler has consumed the arm it only walks two bounded stacks.
constexpr uint64_t kHandlerFinishTimeoutNs = 1000 * kMsNs;
// The watchdog wakes within about a millisecond of a deadline on a machine with CPU to spare.
constexpr uint64_t kLateWatchdogNs = 50 * kMsNs;
// A sample that lands in GC or the compiler carries no JS frames; try again shortly.
constexpr int kMaxSamplesPerStall = 3;
// Escalating: a full GC pause under compaction lasts tens of milliseconds.
constexpr uint64_t kResampleDelaysNs[kMaxSamplesPerStall - 1] = {4 * kMsNs, 20 * kMsNs};

uint64_t g_next_seq = 0;  // [watchdog]

void SleepNs(uint64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

// Whether the thread was running another copy of stallwatch's C++ code (state EXTERNAL), most
// likely that copy's exact-stack interrupt callback: over within milliseconds, after which the
// thread is back in the code that stalls. Lock-free: the peers' code spans are plain atomics.
bool InsidePeerCopy(const RawSample& s) {
  if (s.vm_state != v8::EXTERNAL || PeerCopies::Count() == 0) return false;
  for (uint32_t i = 0; i < s.native_count; ++i) {
    if (PeerCopies::InPeerCode(s.native[i])) return true;
  }
  return false;
}

// A sample outside another signal handler, then outside another copy's capture code, beats one
// inside; then more JS frames; then a sample outside GC beats one inside it.
bool IsBetter(const RawSample& candidate, const RawSample& best) {
  if (best.seq == 0) return true;
  if ((candidate.signal_frame < 0) != (best.signal_frame < 0)) return candidate.signal_frame < 0;
  const bool candidate_in_peer = InsidePeerCopy(candidate);
  if (candidate_in_peer != InsidePeerCopy(best)) return !candidate_in_peer;
  if (candidate.js_count != best.js_count) return candidate.js_count > best.js_count;
  return best.vm_state == 1 /* v8::GC */ && candidate.vm_state != 1;
}

bool SampleLooksComplete(const RawSample& s) {
  if (s.signal_frame >= 0) return false;  // inside another handler: it returns within microseconds
  if (InsidePeerCopy(s)) return false;    // not native code that stalls: sample again
  return !StateIsWorthResampling(s.vm_state) || (s.js_count > 0 && s.vm_state != 1 /* v8::GC */);
}

// Signals the thread and waits for one sample. Returns false with `why` when no sample came.
bool TakeOneSample(ThreadRecord& rec, int signo, int max_frames, std::string* why) {
  CaptureSlot* slot = rec.slot;
  std::string install_error;
  // libuv replaces our handler when the app adds process.on(<signal>), and resets it to the
  // default when the listener goes: re-install (chaining to what is there) before each send,
  // or this very signal could reach a default action that kills the process.
  if (!SignalCapture::EnsureInstalled(signo, &install_error)) {
    *why = "the capture signal handler could not be installed (" + install_error + ")";
    return false;
  }
  slot->max_frames = max_frames;
  const uint64_t seq = ++g_next_seq;
  slot->armed_seq.store(seq, std::memory_order_release);
  const uint64_t sent_ns = platform::MonotonicNs();
  const int rc = platform::SendSignal(rec.pthread, signo, SlotTable::CookieFor(rec.slot_index));
  if (rc != 0) {
    slot->armed_seq.store(0, std::memory_order_release);
    ++TheCaptureStats().failures;
    *why = std::string("the capture signal could not be sent (") + strerror(rc) + ")";
    return false;
  }
  // Standard signals do not queue: an instance of `signo` from another sender (a Go runtime's
  // preemption, V8's profiler, a second stallwatch, kill(1)) already pending on the thread
  // absorbs ours, and the handler only sees that sender's siginfo. Resend while the slot stays
  // armed. Real-time signals queue, and a duplicate would cost a second EINTR: never resent.
  int rtmin = 0, rtmax = 0;
  const bool queued = platform::RealtimeSignalRange(&rtmin, &rtmax) && signo >= rtmin && signo <= rtmax;
  const uint64_t step = queued ? kSignalDeliveryTimeoutNs : 10 * kMsNs;
  for (uint64_t waited = 0; waited < kSignalDeliveryTimeoutNs; waited += step) {
    if (slot->done.WaitFor(std::min(step, kSignalDeliveryTimeoutNs - waited))) {
      TheCaptureStats().Record(slot->sample.handler_ns, platform::MonotonicNs() - sent_ns,
                               slot->sample.native_tail_replayed);
      return true;
    }
    if (!queued && slot->armed_seq.load(std::memory_order_acquire) == seq) {
      platform::SendSignal(rec.pthread, signo, SlotTable::CookieFor(rec.slot_index));
    }
  }
  ++TheCaptureStats().failures;
  if (slot->armed_seq.exchange(0, std::memory_order_acq_rel) == seq) {
    // Disarmed before the handler consumed it: a late signal will be dropped.
    *why = "the thread did not take the capture signal within 200 ms (it blocks the signal, or sits in an "
           "uninterruptible sleep)";
    return false;
  }
  // The handler is running: it will post. Wait for it, bounded.
  if (slot->done.WaitFor(kHandlerFinishTimeoutNs)) {
    --TheCaptureStats().failures;
    TheCaptureStats().Record(slot->sample.handler_ns, platform::MonotonicNs() - sent_ns,
                             slot->sample.native_tail_replayed);
    return true;
  }
  rec.slot_abandoned = true;
  *why = "the capture handler did not finish within 1 s; this thread will not be sampled again";
  return false;
}

// When the watchdog itself noticed the stall well after the threshold, the machine was short
// of CPU: a thread that then does not take the signal in time was likely runnable but not
// running, rather than blocking the signal. Said in the report, which helps tell the two apart.
std::string LatenessNote(const ThreadRecord& rec, uint64_t stalled_ns) {
  const uint64_t threshold_ns = static_cast<uint64_t>(rec.MinThresholdMs()) * kMsNs;
  if (stalled_ns < threshold_ns + kLateWatchdogNs) return std::string();
  return ". The watchdog itself noticed the stall " + std::to_string((stalled_ns - threshold_ns) / kMsNs) +
         " ms after the threshold: the machine was short of CPU, so the thread may have been waiting for one.";
}

// Captures the stalled thread into the record's spare sample buffer and hands it over.
void CaptureAndHandOff(ThreadRecord& rec, uint64_t stalled_ns, int signo) {
  RawSample* best = rec.spare_sample.exchange(nullptr, std::memory_order_acq_rel);
  std::string partial;
  if (best == nullptr) {
    partial = "no stack: the previous report of this thread was still being prepared";
  } else if (rec.slot_abandoned) {
    partial = "no stack: an earlier capture on this thread never finished";
  }
  const uint64_t tick_before = rec.episode.tick;
  if (partial.empty()) {
    best->seq = 0;
    const int max_frames = rec.MaxFrames();
    for (int i = 0; i < kMaxSamplesPerStall; ++i) {
      std::string why;
      if (!TakeOneSample(rec, signo, max_frames, &why)) {
        if (best->seq == 0) partial = "no stack: " + why + LatenessNote(rec, stalled_ns);
        break;
      }
      // Only a sample taken while the loop is still stuck shows the stall: once it moved on,
      // keep what was taken before (samples of a stall are never thrown away for a later one).
      if (rec.probe.Read().tick != tick_before) break;
      if (IsBetter(rec.slot->sample, *best)) {
        std::memcpy(best, &rec.slot->sample, sizeof(RawSample));
        best->captured_at_ms = platform::EpochMs();  // when the kept sample was taken
      }
      // A thread in native code is sampled once: each signal cuts a non-restartable
      // syscall short with EINTR.
      if (SampleLooksComplete(*best) || i + 1 == kMaxSamplesPerStall) break;
      SleepNs(kResampleDelaysNs[i]);
    }
  }
  if (best != nullptr && best->seq == 0 && partial.empty() && rec.probe.Read().tick != tick_before) {
    // The loop moved on before the first sample: it would show healthy code. No report.
    rec.spare_sample.store(best, std::memory_order_release);
    for (auto& sub : rec.subscribers) {
      if (sub->owed_episode != rec.episode.id) continue;
      sub->owed_episode = 0;
      // Nothing is reported for this stall: it must not use up the rate limit either.
      if (sub->suppressed_this_episode) {
        --sub->suppressed;
      } else {
        sub->RefundReportBudget();
        sub->suppressed += sub->owed_suppressed;
      }
      sub->suppressed_this_episode = false;
    }
    return;
  }
  if (best != nullptr && best->seq == 0) {
    rec.spare_sample.store(best, std::memory_order_release);
    best = nullptr;
  }
  if (best != nullptr && StateRunsInterruptsSoon(best->vm_state)) {
    RequestExactStack(rec.shared_from_this(), rec.episode.id, tick_before, rec.MaxFrames());
  }
  rec.episode.signo = signo;
  rec.episode.first_vm_state = best != nullptr ? best->vm_state : -1;
  const int interval_ms = rec.ProfileIntervalMs();
  // A thread in native code is sampled once unless asked: each signal can cut its syscall
  // short with EINTR. JS, GC and compiler states cannot be in a syscall.
  rec.episode.profiling = interval_ms > 0 && best != nullptr &&
                          (StateIsWorthResampling(best->vm_state) || rec.SampleNative());
  rec.episode.next_profile_ns = platform::MonotonicNs() + static_cast<uint64_t>(interval_ms) * kMsNs;
  rec.episode.profile_samples = rec.episode.profiling ? 1 : 0;
  if (best != nullptr) best->episode = rec.episode.id;
  rec.handoff_profiled = rec.episode.profiling;
  rec.handoff_sample = best;
  rec.handoff_episode = rec.episode.id;
  rec.handoff_blocked_ms = static_cast<double>(stalled_ns) / 1e6;
  rec.handoff_captured_at_ms = best != nullptr ? best->captured_at_ms : platform::EpochMs();
  rec.handoff_partial = partial;
  rec.handoff_owed = true;
  Registry::WakeReporter();
}

// Decides which subscribers get this episode's report now: their threshold is crossed and
// their rate limit allows it. Returns true if at least one newly does.
bool AssignOwed(ThreadRecord& rec, uint64_t stalled_ns, uint64_t now) {
  bool any = false;
  for (auto& sub : rec.subscribers) {
    if (sub->config.sink || sub->owed_episode == rec.episode.id) continue;
    if (stalled_ns < static_cast<uint64_t>(sub->config.threshold_ms) * kMsNs) continue;
    if (sub->TakeReportBudget(now)) {
      sub->owed_episode = rec.episode.id;
      sub->blocked_sent = false;
      sub->owed_suppressed = sub->suppressed;
      sub->suppressed = 0;
      sub->suppressed_this_episode = false;
      any = true;
    } else {
      sub->owed_episode = rec.episode.id;  // decided for this episode: suppressed
      sub->blocked_sent = true;            // nothing to send
      sub->suppressed_this_episode = true;
      ++sub->suppressed;
    }
  }
  return any;
}

void CloseEpisode(ThreadRecord& rec, uint64_t end_ns) {
  rec.episode.open = false;
  rec.probe.SetAttention(false);
  rec.episode_end_ns.store(0, std::memory_order_release);
  rec.handoff_closed = true;
  rec.closed_episode = rec.episode.id;
  rec.closed_blocked_ms = end_ns > rec.episode.start_ns ? static_cast<double>(end_ns - rec.episode.start_ns) / 1e6 : 0;
  Registry::WakeReporter();
}

// One more sample of a stall being profiled, into a preallocated buffer for the reporter.
void TakeProfileSample(ThreadRecord& rec) {
  if (rec.profile_free.empty() || rec.slot_abandoned) return;  // the reporter is behind: skip one
  std::string why;
  if (!TakeOneSample(rec, rec.episode.signo, rec.MaxFrames(), &why)) return;
  RawSample* buffer = rec.profile_free.back();
  rec.profile_free.pop_back();
  std::memcpy(buffer, &rec.slot->sample, sizeof(RawSample));
  buffer->episode = rec.episode.id;
  buffer->captured_at_ms = platform::EpochMs();
  rec.profile_ready.push_back(buffer);  // capacity reserved: no allocation
  ++rec.episode.profile_samples;
  Registry::WakeReporter();
}

// A line for a subscriber's log about an action taken, in that log's format.
void LogAction(const ThreadRecord& rec, bool (*wants)(const SubscriberConfig&), const char* action, bool done,
               uint64_t stalled_ns, const char* text) {
  for (const auto& sub : rec.subscribers) {
    if (!sub->config.log || !wants(sub->config)) continue;
    char line[400];
    if (sub->config.log->json()) {
      snprintf(line, sizeof line,
               "{\"event\":\"%s\",\"done\":%s,\"pid\":%lld,\"threadId\":%d,\"tid\":%lld,\"blockedMs\":%llu}\n", action,
               done ? "true" : "false", static_cast<long long>(rec.pid), rec.thread_id, static_cast<long long>(rec.tid),
               static_cast<unsigned long long>(stalled_ns / kMsNs));
    } else {
      snprintf(line, sizeof line, "stallwatch: %s %d (tid %lld) %s after a %llu ms stall\n\n",
               rec.thread_id == 0 ? "main thread" : "worker", rec.thread_id, static_cast<long long>(rec.tid), text,
               static_cast<unsigned long long>(stalled_ns / kMsNs));
    }
    LogWriter::Enqueue(sub->config.log, line);
  }
}

// terminateWorkerAfterMs: node::Stop, what worker.terminate() does (it marks the environment
// stopping, calls V8's TerminateExecution, and stops the loop through a thread-safe
// immediate), so the Worker emits 'exit' and a pool can replace it. Called with the registry
// lock held and the record alive, so the environment cannot be going away. It cannot
// interrupt native code or a syscall: such a worker exits only when that call returns.
bool WantsTerminateLog(const SubscriberConfig& c) { return c.terminate_after_ms > 0; }
bool WantsEveryLog(const SubscriberConfig&) { return true; }

// `why` names what decided it (the option, or an onStall hook); `wants` picks the logs told.
bool TerminateWorker(ThreadRecord& rec, uint64_t stalled_ns, const char* why, bool (*wants)(const SubscriberConfig&)) {
  rec.episode.terminate_decided = true;
  const bool in_native = StateIsNativeCode(rec.episode.first_vm_state);
  StopNodeEnvironment(rec.node_env);
  const std::string text = in_native ? std::string("is stuck in native code and cannot be terminated (") + why +
                                           "); it will exit when that call returns"
                                     : std::string("terminated (") + why + ")";
  LogAction(rec, wants, "terminate", !in_native, stalled_ns, text.c_str());
  return !in_native;
}

// abortAfterMs: the report goes out first (reporter, then the log writer, each waited for with
// a bound), then abort() for a core dump. The only place the watchdog waits on I/O: the
// process is about to end anyway.
[[noreturn]] void AbortProcess(ThreadRecord& rec, uint64_t stalled_ns, std::unique_lock<std::mutex>& lock) {
  auto wants = [](const SubscriberConfig& c) { return c.abort_after_ms > 0; };
  std::shared_ptr<ThreadRecord> keep = rec.shared_from_this();
  lock.unlock();
  Reporter::WaitIdle(2000);
  // A reporter worker ships the report itself (to a collector, say): give it time to finish.
  Reporter::WaitForSinks(5000);
  lock.lock();
  LogAction(rec, wants, "abort", true, stalled_ns, "stalled: aborting the process (abortAfterMs)");
  lock.unlock();
  LogWriter::Flush(2000);
  abort();
}

// starvationMs: a parked loop with requests in flight that has processed no I/O event for
// that long is handed to the reporter, then not again until a request completes (the
// reporter dumps every thread: the watchdog only flags it). Returns when to look again.
uint64_t CheckStarvation(ThreadRecord& rec, const LoopProbe::Progress& progress, uint64_t now) {
  const int starvation_ms = rec.StarvationMs();
  const uint64_t never = now + 3600ull * 1000 * kMsNs;
  if (starvation_ms <= 0 || progress.starving_since_ns == 0) return never;
  const uint64_t due = progress.starving_since_ns + static_cast<uint64_t>(starvation_ms) * kMsNs;
  if (now < due) return due;
  if (rec.starvation_reported_epoch != progress.requests_epoch) {
    rec.starvation_reported_epoch = progress.requests_epoch;
    rec.handoff_starvation = true;
    rec.handoff_starvation_waited_ms = static_cast<double>(now - progress.starving_since_ns) / 1e6;
    rec.handoff_starvation_requests = progress.requests_in_flight;
    Registry::WakeReporter();
  }
  return never;
}

// Evaluates one record; returns the monotonic time at which it next needs a look.
uint64_t Evaluate(ThreadRecord& rec, uint64_t now, std::unique_lock<std::mutex>& lock) {
  const uint64_t threshold_ns = static_cast<uint64_t>(rec.MinThresholdMs()) * kMsNs;
  const LoopProbe::Progress progress = rec.probe.Read();

  if (rec.episode.open) {
    const uint64_t end_ns = rec.episode_end_ns.load(std::memory_order_acquire);
    if (end_ns != 0 || progress.tick != rec.episode.tick || progress.last_progress_ns > rec.episode.start_ns) {
      CloseEpisode(rec, end_ns != 0 ? end_ns : progress.last_progress_ns);
      return progress.last_progress_ns + threshold_ns;
    }
    // Still stalled: subscribers with longer thresholds get the same capture when crossed.
    const uint64_t stalled_ns = now - rec.episode.start_ns;
    const int abort_ms = rec.AbortAfterMs();
    if (abort_ms > 0 && stalled_ns >= static_cast<uint64_t>(abort_ms) * kMsNs) AbortProcess(rec, stalled_ns, lock);
    const int terminate_ms = rec.TerminateAfterMs();
    if (terminate_ms > 0 && rec.thread_id != 0 && !rec.episode.terminate_decided &&
        stalled_ns >= static_cast<uint64_t>(terminate_ms) * kMsNs) {
      TerminateWorker(rec, stalled_ns, "terminateWorkerAfterMs", WantsTerminateLog);
    }
    if (rec.episode.profiling && now >= rec.episode.next_profile_ns &&
        rec.episode.profile_samples < kMaxProfileSamples) {
      TakeProfileSample(rec);
      rec.episode.next_profile_ns = platform::MonotonicNs() + static_cast<uint64_t>(rec.ProfileIntervalMs()) * kMsNs;
    }
    if (AssignOwed(rec, stalled_ns, now)) {
      rec.handoff_owed = true;
      Registry::WakeReporter();
    }
    uint64_t next = now + threshold_ns;
    for (auto& sub : rec.subscribers) {
      if (sub->owed_episode != rec.episode.id) {
        next = std::min(next, rec.episode.start_ns + static_cast<uint64_t>(sub->config.threshold_ms) * kMsNs);
      }
    }
    if (rec.episode.profiling) next = std::min(next, rec.episode.next_profile_ns);
    if (abort_ms > 0) next = std::min(next, rec.episode.start_ns + static_cast<uint64_t>(abort_ms) * kMsNs);
    if (terminate_ms > 0 && !rec.episode.terminate_decided) {
      next = std::min(next, rec.episode.start_ns + static_cast<uint64_t>(terminate_ms) * kMsNs);
    }
    return std::max(next, now + kMsNs / 2);
  }

  const uint64_t stalled_ns = now > progress.last_progress_ns ? now - progress.last_progress_ns : 0;
  if (stalled_ns < threshold_ns) {
    const uint64_t next = progress.last_progress_ns + threshold_ns;
    return progress.parked ? std::min(next, CheckStarvation(rec, progress, now)) : next;
  }

  // A new stall episode.
  rec.episode.id += 1;
  rec.episode.open = true;
  rec.episode.start_ns = progress.last_progress_ns;
  rec.episode.tick = progress.tick;
  rec.episode.profiling = false;
  rec.episode.terminate_decided = false;
  rec.episode.first_vm_state = -1;
  rec.episode_end_ns.store(0, std::memory_order_release);
  rec.probe.SetAttention(true);
  if (AssignOwed(rec, stalled_ns, now)) {
    int signo = 0;
    for (auto& sub : rec.subscribers) {
      if (sub->owed_episode == rec.episode.id && !sub->blocked_sent) {
        signo = sub->config.signo;
        break;
      }
    }
    CaptureAndHandOff(rec, stalled_ns, signo);
  }
  return rec.episode.profiling ? std::min(now + threshold_ns, rec.episode.next_profile_ns) : now + threshold_ns;
}

void WatchdogMain() {
  std::unique_lock<std::mutex> lock(Registry::mutex());
  for (;;) {
    const uint64_t now = platform::MonotonicNs();
    uint64_t next = now + 3600ull * 1000 * kMsNs;
    for (auto& rec : Registry::records()) {
      // A reporter worker's thread (sink subscriptions only) is never a blocking victim.
      if (!rec->alive || !rec->Monitored()) continue;
      next = std::min(next, Evaluate(*rec, now, lock));
    }
    // Never spin: at least 1 ms between rounds.
    const uint64_t wait_ns = next > now + kMsNs ? next - now : kMsNs;
    Registry::watchdog_wake().wait_for(lock, std::chrono::nanoseconds(wait_ns));
  }
}

}  // namespace

const char* Watchdog::TerminateStalledWorker(int64_t tid) {
  std::lock_guard<std::mutex> lock(Registry::mutex());
  for (auto& rec : Registry::records()) {
    if (!rec->alive || rec->tid != tid || !rec->Monitored()) continue;
    if (rec->thread_id == 0) return "main-thread";
    // The episode fields are the watchdog's, which only touches them under this lock.
    if (!rec->episode.open) return "not-stalled";
    if (rec->episode.terminate_decided) return "already-terminating";
    const uint64_t stalled_ns = platform::MonotonicNs() - rec->episode.start_ns;
    return TerminateWorker(*rec, stalled_ns, "an onStall hook", WantsEveryLog) ? "terminated" : "not-terminable";
  }
  return "unknown-thread";
}

bool Watchdog::EnsureStarted() {
  static std::once_flag once;
  static bool started = false;
  std::call_once(once, [] { started = StartDetachedThread(WatchdogMain, "stallwatch-dog"); });
  return started;
}

}  // namespace stallwatch
