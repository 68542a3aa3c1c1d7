// Delivery of reports to JS listeners on the monitored thread, through one thread-safe
// function per thread record. The thread-safe function is unref'd (stallwatch never keeps a
// loop alive) except between the end of a stall and the delivery of its events, so that a
// report pending when a script or worker is about to exit is delivered before it does.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "report.h"
#include "thread_record.h"

namespace stallwatch {

struct Delivery {
  enum class Kind { kBlocked, kUnblocked, kLoopRelease, kStarved };
  Kind kind = Kind::kBlocked;
  std::shared_ptr<const Report> report;              // kBlocked
  std::shared_ptr<const StarvationReport> starvation;  // kStarved
  UnblockedEvent unblocked;                          // kUnblocked
  std::vector<std::pair<uint32_t, uint32_t>> targets;  // subscriber id, suppressed count
  // An unblocked event that ends this thread's own episode releases the loop hold; one
  // forwarded from another thread must not.
  bool releases_loop = true;
};

// JS thread: creates the record's thread-safe function (unref'd).
bool CreateDeliveryChannel(napi_env env, const std::shared_ptr<ThreadRecord>& record);
// JS thread: releases it; pending deliveries are dropped.
void CloseDeliveryChannel(ThreadRecord& record);
// Reporter thread, registry mutex held: queues `delivery` (takes ownership). Non-blocking.
void PostDelivery(ThreadRecord& record, std::unique_ptr<Delivery> delivery);
// JS thread, from the loop hook when a stall ends: keep the loop alive until its events are in.
void HoldLoopForDelivery(ThreadRecord& record);

}  // namespace stallwatch
