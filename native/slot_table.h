// The process-wide table of capture slots that the signal handler can reach without TLS.
//
// A signal carries the address of its table cell as its cookie (Linux), so the handler
// knows it is ours by a pointer comparison; where the OS carries no cookie (macOS) the
// handler searches the table for the calling thread's armed slot. Cells are claimed and
// released by JS threads under the registry lock; slots are immortal (reused, never freed)
// because a late signal may read a cell just as it is released.
#pragma once

#include <atomic>

#include "capture_slot.h"

namespace stallwatch {

constexpr int kMaxMonitoredThreads = 1024;

class SlotTable {
 public:
  // Registry lock held. Returns the cell index, or -1 when the table is full.
  static int Claim(CaptureSlot* slot);
  static void Release(int index);
  static void* CookieFor(int index);

  // Async-signal-safe.
  static bool IsOurCookie(const void* cookie);
  static CaptureSlot* FromCookie(const void* cookie);
  static CaptureSlot* FindArmedForTid(int64_t tid);

  // Registry lock held: a free slot to reuse, or a new one.
  static CaptureSlot* AcquireSlot();
  static void RecycleSlot(CaptureSlot* slot);
};

}  // namespace stallwatch
