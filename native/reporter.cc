#include "reporter.h"

#include <condition_variable>
#include <mutex>

#include "exact_stack.h"
#include "js_delivery.h"
#include "log_writer.h"
#include "registry.h"
#include "report_builder.h"
#include "report_format.h"
#include "stack_merge.h"
#include "thread_util.h"
#include "worker_coverage.h"

namespace stallwatch {
namespace {

struct WakeState {
  std::mutex mutex;
  std::condition_variable cv;
  bool pending = false;
};
WakeState& TheWake() {
  static WakeState* state = new WakeState();  // leaked process singleton
  return *state;
}

// An interrupt runs within a few milliseconds on a thread in JS or Atomics.wait; a thread
// paused in a long GC may take longer. Past this, the report goes out with sampled frames.
constexpr int kExactStackWaitMs = 100;

struct Owed {
  std::shared_ptr<Subscriber> subscriber;
  uint32_t suppressed;
};

// What one pass takes from one record under the registry lock.
struct Job {
  std::shared_ptr<ThreadRecord> record;
  bool new_capture = false;
  RawSample* sample = nullptr;
  uint64_t episode = 0;
  double blocked_ms = 0;
  double captured_at_ms = 0;
  std::string partial;
  std::vector<Owed> owed;
  bool closed = false;
  double closed_blocked_ms = 0;
  std::vector<uint32_t> unblocked_targets;
  std::vector<std::shared_ptr<Subscriber>> unblocked_logs;
};

// Registry mutex held.
std::vector<Job> TakeJobs() {
  std::vector<Job> jobs;
  auto& records = Registry::records();
  for (auto it = records.begin(); it != records.end();) {
    ThreadRecord& rec = **it;
    if (rec.handoff_owed || rec.handoff_closed) {
      Job job;
      job.record = *it;
      if (rec.handoff_owed) {
        rec.handoff_owed = false;
        job.episode = rec.handoff_episode;
        if (rec.handoff_sample != nullptr || !rec.handoff_partial.empty()) {
          job.new_capture = true;
          job.sample = rec.handoff_sample;
          job.blocked_ms = rec.handoff_blocked_ms;
          job.captured_at_ms = rec.handoff_captured_at_ms;
          job.partial = std::move(rec.handoff_partial);
          rec.handoff_sample = nullptr;
          rec.handoff_partial.clear();
        }
        for (auto& sub : rec.subscribers) {
          if (sub->owed_episode == job.episode && !sub->blocked_sent) {
            sub->blocked_sent = true;
            job.owed.push_back({sub, sub->owed_suppressed});
          }
        }
      }
      if (rec.handoff_closed) {
        rec.handoff_closed = false;
        job.closed = true;
        job.closed_blocked_ms = rec.closed_blocked_ms;
        for (auto& sub : rec.subscribers) {
          if (sub->owed_episode == rec.closed_episode && sub->blocked_sent && !sub->suppressed_this_episode) {
            job.unblocked_targets.push_back(sub->id);
            if (sub->config.log) job.unblocked_logs.push_back(sub);
          }
        }
      }
      jobs.push_back(std::move(job));
    }
    // A torn-down record leaves the table once nothing of it is pending.
    if (!rec.alive && !rec.handoff_owed && !rec.handoff_closed) {
      it = records.erase(it);
    } else {
      ++it;
    }
  }
  return jobs;
}

void WriteLogs(const Report& report, const std::vector<Owed>& owed) {
  for (const Owed& o : owed) {
    const auto& log = o.subscriber->config.log;
    if (!log) continue;
    Report copy = report;
    copy.suppressed = o.suppressed;
    const int max_frames = o.subscriber->config.max_frames;
    if (static_cast<int>(copy.frames.size()) > max_frames) copy.frames.resize(static_cast<size_t>(max_frames));
    LogWriter::Enqueue(log, log->json() ? FormatReportJson(copy) : FormatReportText(copy));
  }
}

// Registry mutex held. A covered worker's events also go to every subscriber that watches
// workers (on the main thread, typically), at once: they arrive there even if the worker
// stays stuck forever.
void ForwardToWatchers(const ThreadRecord& from, Delivery::Kind kind, const std::shared_ptr<const Report>& report,
                       const UnblockedEvent& unblocked) {
  if (!from.forward) return;
  for (auto& watcher : Registry::records()) {
    if (watcher.get() == &from || !watcher->alive) continue;
    auto delivery = std::make_unique<Delivery>();
    for (const auto& sub : watcher->subscribers) {
      if (sub->config.watch_workers) delivery->targets.emplace_back(sub->id, 0);
    }
    if (delivery->targets.empty()) continue;
    delivery->kind = kind;
    delivery->report = report;
    delivery->unblocked = unblocked;
    delivery->releases_loop = false;
    PostDelivery(*watcher, std::move(delivery));
  }
}

std::string NameOf(const ThreadRecord& rec) {
  return rec.thread_name.empty() ? WorkerCoverage::ThreadName(rec.thread_id) : rec.thread_name;
}

void RunJob(Job& job, NativeSymbolizer& symbolizer) {
  ThreadRecord& rec = *job.record;
  if (job.new_capture) {
    const ThreadIdentity identity{rec.thread_id, NameOf(rec), rec.tid, rec.pid};
    int max_frames = 1;
    for (const Owed& o : job.owed) max_frames = std::max(max_frames, o.subscriber->config.max_frames);
    auto report = std::make_shared<Report>(BuildReport(job.sample, identity, *rec.code_map, symbolizer, job.blocked_ms,
                                                       job.captured_at_ms, job.partial, max_frames));
    std::vector<Frame> exact;
    if (job.sample != nullptr && StateRunsInterruptsSoon(job.sample->vm_state) &&
        WaitForExactStack(rec, job.episode, kExactStackWaitMs, &exact) && MergeExactJsFrames(report->frames, exact)) {
      DropGcOnlyNote(*report);
    }
    rec.last_report = report;
    rec.last_report_episode = job.episode;
    if (job.sample != nullptr) rec.spare_sample.store(job.sample, std::memory_order_release);
  }
  if (!job.owed.empty() && rec.last_report && rec.last_report_episode == job.episode) {
    WriteLogs(*rec.last_report, job.owed);
    auto delivery = std::make_unique<Delivery>();
    delivery->kind = Delivery::Kind::kBlocked;
    delivery->report = rec.last_report;
    for (const Owed& o : job.owed) delivery->targets.emplace_back(o.subscriber->id, o.suppressed);
    std::lock_guard<std::mutex> lock(Registry::mutex());
    PostDelivery(rec, std::move(delivery));
    ForwardToWatchers(rec, Delivery::Kind::kBlocked, rec.last_report, UnblockedEvent{});
  }
  if (job.closed) {
    UnblockedEvent event{rec.thread_id, NameOf(rec), rec.tid, rec.pid, job.closed_blocked_ms};
    for (const auto& sub : job.unblocked_logs) {
      LogWriter::Enqueue(sub->config.log, sub->config.log->json() ? FormatUnblockedJson(event) : FormatUnblockedText(event));
    }
    auto delivery = std::make_unique<Delivery>();
    delivery->kind = job.unblocked_targets.empty() ? Delivery::Kind::kLoopRelease : Delivery::Kind::kUnblocked;
    delivery->unblocked = event;
    for (uint32_t id : job.unblocked_targets) delivery->targets.emplace_back(id, 0);
    std::lock_guard<std::mutex> lock(Registry::mutex());
    PostDelivery(rec, std::move(delivery));
    if (!job.unblocked_targets.empty()) ForwardToWatchers(rec, Delivery::Kind::kUnblocked, nullptr, event);
  }
}

void ReporterMain() {
  NativeSymbolizer symbolizer;
  WakeState& wake = TheWake();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(wake.mutex);
      wake.cv.wait(lock, [&] { return wake.pending; });
      wake.pending = false;
    }
    std::vector<Job> jobs;
    {
      std::lock_guard<std::mutex> lock(Registry::mutex());
      jobs = TakeJobs();
    }
    for (Job& job : jobs) RunJob(job, symbolizer);
  }
}

}  // namespace

bool Reporter::EnsureStarted() {
  static std::once_flag once;
  static bool started = false;
  std::call_once(once, [] { started = StartDetachedThread(ReporterMain, "stallwatch-rep"); });
  return started;
}

void Reporter::Wake() {
  WakeState& wake = TheWake();
  {
    std::lock_guard<std::mutex> lock(wake.mutex);
    wake.pending = true;
  }
  wake.cv.notify_one();
}

}  // namespace stallwatch
