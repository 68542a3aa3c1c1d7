// sources: capture_stats.cc
// CaptureStats as the addon uses it (capture_stats.h): the watchdog records under the registry
// mutex, JS threads copy it out under the same mutex (stats()), and the singleton may be first
// touched by any of them. Checks the ring keeps exactly the most recent kRecent samples. Built
// plain, with ASan and with TSan (npm run test:tsan).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "capture_stats.h"

using namespace stallwatch;

namespace {

std::atomic<int> failures{0};

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
  }
}

void TestRing() {
  CaptureStats stats;
  for (uint64_t i = 1; i <= 10; ++i) stats.Record(i, i * 10);
  Check(stats.samples == 10 && stats.handler_ns.size() == 10, "ring: grows until full");
  for (uint64_t i = 11; i <= 3000; ++i) stats.Record(i, i * 10);
  Check(stats.samples == 3000, "ring: counts every sample");
  Check(stats.handler_ns.size() == CaptureStats::kRecent && stats.signal_to_sample_ns.size() == CaptureStats::kRecent,
        "ring: bounded at kRecent");
  std::vector<uint64_t> handler = stats.handler_ns;
  std::sort(handler.begin(), handler.end());
  Check(handler.front() == 3000 - CaptureStats::kRecent + 1 && handler.back() == 3000, "ring: keeps the most recent samples");
  Check(std::set<uint64_t>(handler.begin(), handler.end()).size() == CaptureStats::kRecent, "ring: no duplicates");
  for (size_t i = 0; i < CaptureStats::kRecent; ++i) {
    Check(stats.signal_to_sample_ns[i] == stats.handler_ns[i] * 10, "ring: the two series stay paired");
  }
}

// The watchdog records under the "registry" mutex, JS threads read under it, all starting at once.
void TestConcurrent() {
  std::mutex registry;
  std::atomic<bool> go{false}, done{false};
  constexpr uint64_t kSamples = 20000;
  std::thread watchdog([&] {
    while (!go.load()) std::this_thread::yield();
    for (uint64_t i = 1; i <= kSamples; ++i) {
      std::lock_guard<std::mutex> lock(registry);
      CaptureStats& stats = TheCaptureStats();
      stats.Record(i, i + 1);
      if (i % 10 == 0) ++stats.failures;
    }
    done.store(true);
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      uint64_t last = 0;
      while (!done.load()) {
        std::vector<uint64_t> handler, signal_to_sample;
        uint64_t samples = 0, failed = 0;
        {
          std::lock_guard<std::mutex> lock(registry);
          const CaptureStats& stats = TheCaptureStats();
          handler = stats.handler_ns;
          signal_to_sample = stats.signal_to_sample_ns;
          samples = stats.samples;
          failed = stats.failures;
        }
        Check(samples >= last, "concurrent: samples never go back");
        Check(handler.size() == std::min<uint64_t>(samples, CaptureStats::kRecent), "concurrent: ring size matches the count");
        Check(failed == samples / 10, "concurrent: a consistent snapshot");
        last = samples;
      }
    });
  }
  go.store(true);
  watchdog.join();
  for (auto& t : readers) t.join();
  Check(TheCaptureStats().samples == kSamples, "concurrent: every sample counted");
}

}  // namespace

int main() {
  TestRing();
  TestConcurrent();
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures.load());
    return 1;
  }
  return 0;
}
