#include "loop_probe.h"

#include <dlfcn.h>

#include "platform/platform.h"
#include "poll_phase.h"

namespace stallwatch {
namespace {

// uv_metrics_t as libuv 1.45 defines it (public and ABI-stable); declared here so that the
// addon also builds against the headers of Node 18, whose libuv lacks it.
struct UvMetrics {
  uint64_t loop_count;
  uint64_t events;
  uint64_t events_waiting;
  uint64_t* reserved[13];
};
using MetricsInfoFn = int (*)(uv_loop_t*, UvMetrics*);

MetricsInfoFn MetricsInfo() {
  static const MetricsInfoFn fn = reinterpret_cast<MetricsInfoFn>(dlsym(RTLD_DEFAULT, "uv_metrics_info"));
  return fn;
}

}  // namespace

bool LoopProbe::StarvationWatchSupported() { return MetricsInfo() != nullptr; }

struct LoopProbe::Handles {
  uv_prepare_t prepare;
  uv_check_t check;
  LoopProbe* owner;
  int open_count;
};

bool LoopProbe::Start(uv_loop_t* loop, ProgressHook on_progress, void* data) {
  loop_ = loop;
  on_progress_ = on_progress;
  on_progress_data_ = data;
  // Node enables idle-time metrics on its loops (they back eventLoopUtilization); an
  // embedder may not have. Without them idle time stays 0 and a parked loop would look
  // stalled, so turn them on. Safe to repeat; must run on the loop thread.
  uv_loop_configure(loop, UV_METRICS_IDLE_TIME);

  hook_ns_.store(platform::MonotonicNs(), std::memory_order_relaxed);
  handles_ = new Handles();
  handles_->owner = this;
  handles_->open_count = 2;
  if (uv_prepare_init(loop, &handles_->prepare) != 0 || uv_check_init(loop, &handles_->check) != 0) {
    delete handles_;
    handles_ = nullptr;
    return false;
  }
  handles_->prepare.data = handles_;
  handles_->check.data = handles_;
  uv_prepare_start(&handles_->prepare, OnPrepare);
  uv_check_start(&handles_->check, OnCheck);
  // Unref'd: the probe must never keep a loop (and so a process or worker) alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(&handles_->prepare));
  uv_unref(reinterpret_cast<uv_handle_t*>(&handles_->check));
  return true;
}

void LoopProbe::Stop() {
  if (handles_ == nullptr) return;
  Handles* handles = handles_;
  handles_ = nullptr;
  handles->owner = nullptr;
  auto on_closed = [](uv_handle_t* handle) {
    auto* h = static_cast<Handles*>(handle->data);
    if (--h->open_count == 0) delete h;
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&handles->prepare), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&handles->check), on_closed);
}

void LoopProbe::OnPrepare(uv_prepare_t* handle) {
  auto* h = static_cast<Handles*>(handle->data);
  if (h->owner != nullptr) h->owner->OnHook(true);
}

void LoopProbe::OnCheck(uv_check_t* handle) {
  auto* h = static_cast<Handles*>(handle->data);
  if (h->owner != nullptr) h->owner->OnHook(false);
}

void LoopProbe::MarkProgress() { OnHook(false); }

void LoopProbe::OnHook(bool is_prepare) {
  // Take `attention` before publishing the tick: the watchdog closes an episode once it sees
  // the tick move, and must not be able to clear the flag before this hook has acted on it.
  const bool attention = attention_.exchange(false, std::memory_order_acq_rel);
  const uint64_t now = platform::MonotonicNs();
  // Read before entering poll; the watchdog subtracts it from the idle time it reads later.
  const uint64_t idle = is_prepare ? uv_metrics_idle_time(loop_) : 0;
  // Starvation: requests in flight and no I/O event processed (threadpool completions arrive
  // as events) since the first prepare hook that saw them. Read before the loop parks.
  uint32_t requests = requests_in_flight_.load(std::memory_order_relaxed);
  uint64_t starving_since = starving_since_ns_.load(std::memory_order_relaxed);
  uint64_t requests_epoch = requests_epoch_.load(std::memory_order_relaxed);
  if (is_prepare && starvation_watch_.load(std::memory_order_relaxed)) {
    UvMetrics metrics{};
    const bool have_events = MetricsInfo() != nullptr && MetricsInfo()(loop_, &metrics) == 0;
    requests = loop_->active_reqs.count;
    if (requests == 0 || !have_events) {
      starving_since = 0;
    } else if (starving_since == 0 || metrics.events != last_events_) {
      starving_since = now;
    }
    // Our own report delivery wakes the loop too (an event), and a listener's write adds and
    // completes a request of its own: only the count falling below where this epoch began (a
    // request that was in flight completed), or none left, makes a new starvation reportable.
    if (requests == 0 || requests < epoch_baseline_) {
      ++requests_epoch;
      epoch_baseline_ = requests;
    } else if (epoch_baseline_ == 0) {
      epoch_baseline_ = requests;
    }
    last_events_ = metrics.events;
  }
  const uint32_t s = seq_.load(std::memory_order_relaxed);
  seq_.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  tick_.store(tick_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  hook_ns_.store(now, std::memory_order_relaxed);
  idle_at_prepare_ns_.store(idle, std::memory_order_relaxed);
  in_poll_phase_.store(is_prepare, std::memory_order_relaxed);
  requests_in_flight_.store(requests, std::memory_order_relaxed);
  starving_since_ns_.store(starving_since, std::memory_order_relaxed);
  requests_epoch_.store(requests_epoch, std::memory_order_relaxed);
  seq_.store(s + 2, std::memory_order_release);

  if (attention && on_progress_ != nullptr) on_progress_(on_progress_data_);
}

LoopProbe::Progress LoopProbe::Read() const {
  uint64_t tick = 0, hook_ns = 0, idle_at_prepare = 0, starving_since = 0, requests_epoch = 0;
  uint32_t requests = 0;
  bool in_poll = false;
  // The writer holds the odd state for a handful of stores; a reader that keeps seeing it
  // is looking at a thread that was interrupted right there, so stop retrying after a
  // bounded number of attempts and use what was read.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint32_t before = seq_.load(std::memory_order_acquire);
    tick = tick_.load(std::memory_order_relaxed);
    hook_ns = hook_ns_.load(std::memory_order_relaxed);
    idle_at_prepare = idle_at_prepare_ns_.load(std::memory_order_relaxed);
    in_poll = in_poll_phase_.load(std::memory_order_relaxed);
    requests = requests_in_flight_.load(std::memory_order_relaxed);
    starving_since = starving_since_ns_.load(std::memory_order_relaxed);
    requests_epoch = requests_epoch_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((before & 1) == 0 && seq_.load(std::memory_order_relaxed) == before) break;
  }
  Progress p;
  p.tick = tick;
  p.last_progress_ns = hook_ns;
  p.requests_in_flight = requests;
  p.starving_since_ns = starving_since;
  p.requests_epoch = requests_epoch;
  if (in_poll) {
    // Parked is never a stall (poll_phase.h says how the two readings tell).
    const uint64_t idle_now = uv_metrics_idle_time(loop_);
    const uint64_t now = platform::MonotonicNs();
    const uint64_t idle_again = uv_metrics_idle_time(loop_);
    const PollPhase phase = ReadPollPhase(hook_ns, idle_at_prepare, idle_now, now, idle_again);
    p.parked = phase.parked;
    p.last_progress_ns = phase.last_progress_ns;
  }
  return p;
}

}  // namespace stallwatch
