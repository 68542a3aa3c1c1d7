#include "reporter.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "exact_stack.h"
#include "js_delivery.h"
#include "log_writer.h"
#include "registry.h"
#include "report_builder.h"
#include "report_format.h"
#include "platform/platform.h"
#include "stack_merge.h"
#include "thread_dump.h"
#include "thread_util.h"
#include "worker_coverage.h"

namespace stallwatch {
namespace {

struct WakeState {
  std::mutex mutex;
  std::condition_variable cv;
  std::condition_variable idle_cv;
  bool pending = false;
  bool running = false;
  uint64_t posted_to_sinks = 0;  // [mutex]
  uint64_t acked_by_sinks = 0;   // [mutex]
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
  bool profiled = false;                 // the new capture starts a stall profile
  std::vector<RawSample*> profile_samples;  // further samples of the stall
  bool closed = false;
  uint64_t closed_episode = 0;
  double closed_blocked_ms = 0;
  double profile_interval_ms = 0;
  std::vector<uint32_t> unblocked_targets;
  std::vector<uint32_t> unblocked_sinks;
  std::vector<std::shared_ptr<Subscriber>> unblocked_logs;
  // starvationMs: the loop waited with requests in flight and no I/O event.
  bool starvation = false;
  double starvation_waited_ms = 0;
  uint32_t starvation_requests = 0;
  std::vector<std::shared_ptr<Subscriber>> starvation_subscribers;
};

// Registry mutex held.
std::vector<Job> TakeJobs() {
  std::vector<Job> jobs;
  auto& records = Registry::records();
  for (auto it = records.begin(); it != records.end();) {
    ThreadRecord& rec = **it;
    if (rec.handoff_owed || rec.handoff_closed || !rec.profile_ready.empty() || rec.handoff_starvation) {
      Job job;
      job.record = *it;
      job.profile_samples.swap(rec.profile_ready);
      rec.profile_ready.reserve(kProfileBuffers);
      job.profile_interval_ms = rec.ProfileIntervalMs();
      if (rec.handoff_owed) {
        rec.handoff_owed = false;
        job.episode = rec.handoff_episode;
        if (rec.handoff_sample != nullptr || !rec.handoff_partial.empty()) {
          job.new_capture = true;
          job.sample = rec.handoff_sample;
          job.blocked_ms = rec.handoff_blocked_ms;
          job.captured_at_ms = rec.handoff_captured_at_ms;
          job.partial = std::move(rec.handoff_partial);
          job.profiled = rec.handoff_profiled;
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
      if (rec.handoff_starvation) {
        rec.handoff_starvation = false;
        job.starvation = true;
        job.starvation_waited_ms = rec.handoff_starvation_waited_ms;
        job.starvation_requests = rec.handoff_starvation_requests;
        for (auto& sub : rec.subscribers) {
          if (sub->config.starvation_ms > 0 && sub->config.starvation_ms <= job.starvation_waited_ms) {
            job.starvation_subscribers.push_back(sub);
          }
        }
      }
      if (rec.handoff_closed) {
        rec.handoff_closed = false;
        job.closed = true;
        job.closed_episode = rec.closed_episode;
        job.closed_blocked_ms = rec.closed_blocked_ms;
        for (auto& sub : rec.subscribers) {
          if (sub->owed_episode == rec.closed_episode && sub->blocked_sent && !sub->suppressed_this_episode) {
            job.unblocked_targets.push_back(sub->id);
            if (sub->sink_id != 0) job.unblocked_sinks.push_back(sub->sink_id);
            if (sub->config.log) job.unblocked_logs.push_back(sub);
          }
        }
      }
      jobs.push_back(std::move(job));
    }
    // A torn-down record leaves the table once nothing of it is pending.
    if (!rec.alive && !rec.handoff_owed && !rec.handoff_closed && rec.profile_ready.empty() && !rec.handoff_starvation) {
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
    if (!o.subscriber->config.all_threads) copy.all_threads = nullptr;
    const int max_frames = o.subscriber->config.max_frames;
    if (static_cast<int>(copy.frames.size()) > max_frames) copy.frames.resize(static_cast<size_t>(max_frames));
    LogWriter::Enqueue(log, log->json() ? FormatReportJson(copy) : FormatReportText(copy));
  }
}

// Registry mutex held. A covered worker's events also go to every subscriber that watches
// workers (on the main thread, typically), at once: they arrive there even if the worker
// stays stuck forever.
void ForwardToSinks(const std::vector<uint32_t>& sink_ids, Delivery::Kind kind,
                    const std::shared_ptr<const Report>& report, const UnblockedEvent& unblocked);

void ForwardToWatchers(const ThreadRecord& from, Delivery::Kind kind, const std::shared_ptr<const Report>& report,
                       const UnblockedEvent& unblocked) {
  if (!from.forward) return;
  std::vector<uint32_t> watcher_sinks;  // their reporter modules get the worker's events too
  for (auto& watcher : Registry::records()) {
    if (watcher.get() == &from || !watcher->alive) continue;
    auto delivery = std::make_unique<Delivery>();
    for (const auto& sub : watcher->subscribers) {
      if (!sub->config.watch_workers) continue;
      delivery->targets.emplace_back(sub->id, 0);
      if (sub->sink_id != 0) watcher_sinks.push_back(sub->sink_id);
    }
    if (delivery->targets.empty()) continue;
    delivery->kind = kind;
    delivery->report = report;
    delivery->unblocked = unblocked;
    delivery->releases_loop = false;
    PostDelivery(*watcher, std::move(delivery));
  }
  ForwardToSinks(watcher_sinks, kind, report, unblocked);
}

// Registry mutex held. Sends a blocked report (or an unblocked event) to the reporter
// workers named by the subscribers it was delivered to.
void ForwardToSinks(const std::vector<uint32_t>& sink_ids, Delivery::Kind kind,
                    const std::shared_ptr<const Report>& report, const UnblockedEvent& unblocked) {
  for (uint32_t sink_id : sink_ids) {
    for (auto& holder : Registry::records()) {
      if (!holder->alive) continue;
      for (const auto& sub : holder->subscribers) {
        if (sub->id != sink_id || !sub->config.sink) continue;
        auto delivery = std::make_unique<Delivery>();
        delivery->kind = kind;
        delivery->report = report;
        delivery->unblocked = unblocked;
        delivery->releases_loop = false;
        delivery->targets.emplace_back(sink_id, 0);
        if (kind == Delivery::Kind::kBlocked) {
          std::lock_guard<std::mutex> lock(TheWake().mutex);
          ++TheWake().posted_to_sinks;
        }
        PostDelivery(*holder, std::move(delivery));
      }
    }
  }
}

// A covered worker's name is recorded by its parent and forgotten when the worker exits; the
// first lookup keeps it with the record, so a report built after the exit still has it.
std::string NameOf(ThreadRecord& rec) {
  if (!rec.thread_name.empty()) return rec.thread_name;
  if (rec.coverage_name.empty()) rec.coverage_name = WorkerCoverage::ThreadName(rec.thread_id);
  return rec.coverage_name;
}

// The identity of a frame in a profile: what it is, not where exactly (addresses and lines
// vary from sample to sample within one function).
std::string StackKey(const std::vector<Frame>& frames) {
  std::string key;
  for (const Frame& f : frames) {
    key += FrameKindName(f.kind);
    key += '\x1f';
    key += f.name;
    key += '\x1f';
    key += f.file;
    key += '\x1f';
    key += f.module;
    key += '\x1e';
  }
  return key;
}

constexpr size_t kMaxProfileStacks = 2000;

void AddToProfile(ThreadRecord& rec, uint64_t episode, double interval_ms, double at_ms, std::vector<Frame> frames) {
  ThreadRecord::ProfileBuild& p = rec.profile;
  if (p.episode != episode) {
    p = ThreadRecord::ProfileBuild();
    p.episode = episode;
    p.interval_ms = interval_ms;
    p.started_at_ms = at_ms;
  }
  for (Frame& f : frames) {
    f.address = 0;
    f.line = 0;
    f.column = 0;
  }
  const std::string key = StackKey(frames);
  auto it = p.stacks.find(key);
  if (it == p.stacks.end()) {
    if (p.stacks.size() >= kMaxProfileStacks) return;
    it = p.stacks.emplace(key, StallProfile::Stack{std::move(frames), 0}).first;
  }
  ++it->second.count;
  ++p.samples;
  p.ended_at_ms = std::max(p.ended_at_ms, at_ms);
}

std::shared_ptr<const StallProfile> FinishProfile(ThreadRecord& rec, uint64_t episode) {
  ThreadRecord::ProfileBuild& p = rec.profile;
  if (p.episode != episode || p.samples == 0) return nullptr;
  auto profile = std::make_shared<StallProfile>();
  profile->interval_ms = p.interval_ms;
  profile->started_at_ms = p.started_at_ms;
  profile->ended_at_ms = p.ended_at_ms;
  profile->samples = p.samples;
  for (auto& [key, stack] : p.stacks) profile->stacks.push_back(std::move(stack));
  std::sort(profile->stacks.begin(), profile->stacks.end(),
            [](const StallProfile::Stack& a, const StallProfile::Stack& b) { return a.count > b.count; });
  rec.profile = ThreadRecord::ProfileBuild();
  return profile;
}

// A starved loop is parked, so its own listeners get the report at once; the log gets it too.
void ReportStarvation(Job& job, NativeSymbolizer& symbolizer) {
  ThreadRecord& rec = *job.record;
  auto report = std::make_shared<StarvationReport>();
  report->thread_id = rec.thread_id;
  report->thread_name = NameOf(rec);
  report->tid = rec.tid;
  report->pid = rec.pid;
  report->waiting_ms = job.starvation_waited_ms;
  report->requests_in_flight = job.starvation_requests;
  report->captured_at_ms = platform::EpochMs();
  const SubscriberConfig& first = job.starvation_subscribers.front()->config;
  symbolizer.BeginReport();
  auto dump = std::make_shared<ThreadDump>(ThreadDumper::DumpAll(first.signo, first.max_frames, symbolizer));
  report->partial = dump->partial;
  report->all_threads = dump;
  auto delivery = std::make_unique<Delivery>();
  delivery->kind = Delivery::Kind::kStarved;
  delivery->starvation = report;
  delivery->releases_loop = false;
  for (const auto& sub : job.starvation_subscribers) {
    delivery->targets.emplace_back(sub->id, 0);
    if (sub->config.log) {
      LogWriter::Enqueue(sub->config.log,
                         sub->config.log->json() ? FormatStarvationJson(*report) : FormatStarvationText(*report));
    }
  }
  std::lock_guard<std::mutex> lock(Registry::mutex());
  PostDelivery(rec, std::move(delivery));
}

void RunJob(Job& job, NativeSymbolizer& symbolizer) {
  ThreadRecord& rec = *job.record;
  if (job.new_capture) {
    const ThreadIdentity identity{rec.thread_id, NameOf(rec), rec.tid, rec.pid};
    int max_frames = 1;
    for (const Owed& o : job.owed) max_frames = std::max(max_frames, o.subscriber->config.max_frames);
    // Native source lines get a bounded budget per report (profile samples get none: they use
    // what is already loaded).
    symbolizer.BeginReport();
    auto report = std::make_shared<Report>(BuildReport(job.sample, identity, *rec.code_map, symbolizer, job.blocked_ms,
                                                       job.captured_at_ms, job.partial, max_frames));
    std::vector<Frame> exact;
    if (job.sample != nullptr && StateRunsInterruptsSoon(job.sample->vm_state) &&
        WaitForExactStack(rec, job.episode, kExactStackWaitMs, &exact) &&
        MergeExactJsFrames(report->frames, exact, CountWalkJsFrames(*job.sample, *rec.code_map, symbolizer))) {
      DropGcOnlyNote(*report);
      CapFrames(*report, max_frames);
    }
    // allThreads: every other thread too, as they are now (the stalled one again, among them).
    for (const Owed& o : job.owed) {
      if (!o.subscriber->config.all_threads) continue;
      report->all_threads = std::make_shared<ThreadDump>(
          ThreadDumper::DumpAll(o.subscriber->config.signo, o.subscriber->config.max_frames, symbolizer));
      break;
    }
    rec.last_report = report;
    rec.last_report_episode = job.episode;
    if (job.profiled && job.sample != nullptr) {
      AddToProfile(rec, job.episode, job.profile_interval_ms, job.sample->captured_at_ms,
                   BuildReport(job.sample, identity, *rec.code_map, symbolizer, 0, 0, "", max_frames).frames);
    }
    if (job.sample != nullptr) rec.spare_sample.store(job.sample, std::memory_order_release);
  }
  if (!job.profile_samples.empty()) {
    const ThreadIdentity identity{rec.thread_id, NameOf(rec), rec.tid, rec.pid};
    for (RawSample* sample : job.profile_samples) {
      AddToProfile(rec, sample->episode, job.profile_interval_ms, sample->captured_at_ms,
                   BuildReport(sample, identity, *rec.code_map, symbolizer, 0, 0, "", kMaxCaptureFrames).frames);
    }
    std::lock_guard<std::mutex> lock(Registry::mutex());
    for (RawSample* sample : job.profile_samples) rec.profile_free.push_back(sample);
  }
  if (!job.owed.empty() && rec.last_report && rec.last_report_episode == job.episode) {
    WriteLogs(*rec.last_report, job.owed);
    auto delivery = std::make_unique<Delivery>();
    delivery->kind = Delivery::Kind::kBlocked;
    delivery->report = rec.last_report;
    for (const Owed& o : job.owed) delivery->targets.emplace_back(o.subscriber->id, o.suppressed);
    std::lock_guard<std::mutex> lock(Registry::mutex());
    PostDelivery(rec, std::move(delivery));
    // Watchers get each episode's report once, when it is first built (later deliveries to
    // subscribers with longer thresholds would otherwise repeat it).
    if (job.new_capture) ForwardToWatchers(rec, Delivery::Kind::kBlocked, rec.last_report, UnblockedEvent{});
    std::vector<uint32_t> sinks;
    for (const Owed& o : job.owed) {
      if (o.subscriber->sink_id != 0) sinks.push_back(o.subscriber->sink_id);
    }
    ForwardToSinks(sinks, Delivery::Kind::kBlocked, rec.last_report, UnblockedEvent{});
  }
  if (job.starvation && !job.starvation_subscribers.empty()) ReportStarvation(job, symbolizer);
  if (job.closed) {
    UnblockedEvent event{rec.thread_id, NameOf(rec), rec.tid, rec.pid, job.closed_blocked_ms,
                         FinishProfile(rec, job.closed_episode)};
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
    ForwardToSinks(job.unblocked_sinks, Delivery::Kind::kUnblocked, nullptr, event);
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
      wake.running = true;
    }
    std::vector<Job> jobs;
    {
      std::lock_guard<std::mutex> lock(Registry::mutex());
      jobs = TakeJobs();
    }
    for (Job& job : jobs) RunJob(job, symbolizer);
    // Between batches, not per report: a burst (profile samples, many workers stalling at
    // once) refaults each name page once. Without this the page-cache pages of every symbol
    // name ever reported stay in RSS (measured: +2 MB over 500 worker lifetimes).
    symbolizer.ReleaseResidentNames();
    {
      std::lock_guard<std::mutex> lock(wake.mutex);
      wake.running = false;
      if (!wake.pending) wake.idle_cv.notify_all();
    }
  }
}

}  // namespace

bool Reporter::EnsureStarted() {
  static std::once_flag once;
  static bool started = false;
  std::call_once(once, [] { started = StartDetachedThread(ReporterMain, "stallwatch-rep"); });
  return started;
}

void Reporter::SinkAcknowledged() {
  WakeState& wake = TheWake();
  std::lock_guard<std::mutex> lock(wake.mutex);
  ++wake.acked_by_sinks;
  wake.idle_cv.notify_all();
}

bool Reporter::WaitForSinks(int timeout_ms) {
  WakeState& wake = TheWake();
  std::unique_lock<std::mutex> lock(wake.mutex);
  return wake.idle_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                               [&] { return wake.acked_by_sinks >= wake.posted_to_sinks; });
}

bool Reporter::WaitIdle(int timeout_ms) {
  WakeState& wake = TheWake();
  std::unique_lock<std::mutex> lock(wake.mutex);
  return wake.idle_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return !wake.pending && !wake.running; });
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
