// Process-wide capture statistics: how long monitored threads spent inside the handler and
// how long the watchdog waited from sending the signal to holding the sample. Written by the
// watchdog only; read by JS threads (stats()) under the registry mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stallwatch {

struct CaptureStats {
  static constexpr size_t kRecent = 1024;  // the most recent samples kept
  uint64_t samples = 0;                    // handler runs that produced a sample
  uint64_t failures = 0;                   // signals that produced no sample (timeout, send error)
  uint64_t tail_replays = 0;               // samples whose native tail was replayed (unwind_tail_cache.h)
  std::vector<uint64_t> handler_ns;        // ring, kRecent
  std::vector<uint64_t> signal_to_sample_ns;

  void Record(uint64_t handler, uint64_t signal_to_sample, bool tail_replayed = false);
};

// Registry mutex held.
CaptureStats& TheCaptureStats();

}  // namespace stallwatch
