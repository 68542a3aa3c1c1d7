#include "thread_record.h"

#include <algorithm>

namespace stallwatch {

bool Subscriber::TakeReportBudget(uint64_t now_ns) {
  constexpr uint64_t kMinuteNs = 60ull * 1000000000ull;
  if (recent_report_ns.empty()) return false;
  // The ring holds the last N report times; the slot about to be overwritten is the oldest.
  const uint64_t oldest = recent_report_ns[recent_next];
  if (oldest != 0 && now_ns - oldest < kMinuteNs) return false;
  recent_report_ns[recent_next] = now_ns;
  recent_next = (recent_next + 1) % recent_report_ns.size();
  return true;
}

uint32_t ThreadRecord::MinThresholdMs() const {
  uint32_t min = UINT32_MAX;
  for (const auto& s : subscribers) min = std::min(min, static_cast<uint32_t>(s->config.threshold_ms));
  return min;
}

int ThreadRecord::MaxFrames() const {
  int max = 1;
  for (const auto& s : subscribers) max = std::max(max, s->config.max_frames);
  return std::min(max, kMaxCaptureFrames);
}

}  // namespace stallwatch

namespace stallwatch {

ThreadRecord::~ThreadRecord() {
  delete spare_sample.load();
  delete handoff_sample;
}

}  // namespace stallwatch
