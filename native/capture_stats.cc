#include "capture_stats.h"

namespace stallwatch {

void CaptureStats::Record(uint64_t handler, uint64_t signal_to_sample, bool tail_replayed) {
  if (tail_replayed) ++tail_replays;
  if (handler_ns.size() < kRecent) {
    handler_ns.push_back(handler);
    signal_to_sample_ns.push_back(signal_to_sample);
  } else {
    handler_ns[samples % kRecent] = handler;
    signal_to_sample_ns[samples % kRecent] = signal_to_sample;
  }
  ++samples;
}

CaptureStats& TheCaptureStats() {
  static CaptureStats* stats = [] {
    auto* s = new CaptureStats();  // leaked process singleton
    s->handler_ns.reserve(CaptureStats::kRecent);
    s->signal_to_sample_ns.reserve(CaptureStats::kRecent);
    return s;
  }();
  return *stats;
}

}  // namespace stallwatch
