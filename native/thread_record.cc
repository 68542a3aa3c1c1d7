#include "thread_record.h"

#include <algorithm>

namespace stallwatch {

bool Subscriber::TakeReportBudget(uint64_t now_ns) {
  constexpr uint64_t kMinuteNs = 60ull * 1000000000ull;
  if (recent_report_ns.empty()) return false;
  // The ring holds the last N report times; the slot about to be overwritten is the oldest.
  const uint64_t oldest = recent_report_ns[recent_next];
  if (oldest != 0 && now_ns - oldest < kMinuteNs) return false;
  replaced_report_ns = oldest;
  recent_report_ns[recent_next] = now_ns;
  recent_next = (recent_next + 1) % recent_report_ns.size();
  return true;
}

void Subscriber::RefundReportBudget() {
  if (recent_report_ns.empty()) return;
  recent_next = (recent_next + recent_report_ns.size() - 1) % recent_report_ns.size();
  recent_report_ns[recent_next] = replaced_report_ns;
}

bool ThreadRecord::Monitored() const {
  for (const auto& s : subscribers) {
    if (!s->config.sink) return true;
  }
  return false;
}

uint32_t ThreadRecord::MinThresholdMs() const {
  uint32_t min = UINT32_MAX;
  for (const auto& s : subscribers) {
    if (!s->config.sink) min = std::min(min, static_cast<uint32_t>(s->config.threshold_ms));
  }
  return min;
}

int ThreadRecord::MaxFrames() const {
  int max = 1;
  for (const auto& s : subscribers) max = std::max(max, s->config.max_frames);
  return std::min(max, kMaxCaptureFrames);
}

}  // namespace stallwatch

namespace stallwatch {

std::atomic<int64_t> ThreadRecord::live_count{0};

ThreadRecord::ThreadRecord() { live_count.fetch_add(1, std::memory_order_relaxed); }

ThreadRecord::~ThreadRecord() {
  live_count.fetch_sub(1, std::memory_order_relaxed);
  delete spare_sample.load();
  delete handoff_sample;
  for (RawSample* s : profile_free) delete s;
  for (RawSample* s : profile_ready) delete s;
}

namespace {
int SmallestNonZero(const std::vector<std::shared_ptr<Subscriber>>& subs, int SubscriberConfig::*field) {
  int best = 0;
  for (const auto& s : subs) {
    const int v = s->config.*field;
    if (v > 0 && (best == 0 || v < best)) best = v;
  }
  return best;
}
}  // namespace

int ThreadRecord::ProfileIntervalMs() const { return SmallestNonZero(subscribers, &SubscriberConfig::sample_interval_ms); }
int ThreadRecord::TerminateAfterMs() const { return SmallestNonZero(subscribers, &SubscriberConfig::terminate_after_ms); }
int ThreadRecord::AbortAfterMs() const { return SmallestNonZero(subscribers, &SubscriberConfig::abort_after_ms); }
int ThreadRecord::StarvationMs() const { return SmallestNonZero(subscribers, &SubscriberConfig::starvation_ms); }

bool ThreadRecord::SampleNative() const {
  for (const auto& s : subscribers) {
    if (s->config.sample_native) return true;
  }
  return false;
}

}  // namespace stallwatch
