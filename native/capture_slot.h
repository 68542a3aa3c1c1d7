// Per-thread capture memory, preallocated outside the signal handler.
//
// Lock contract:
//   armed_seq    watchdog stores a sequence number before sending the signal; the handler
//                exchanges it with 0 (consumes it); the watchdog exchanges it with 0 to
//                disarm after a timeout. Whoever gets the non-zero value owns the capture.
//   sample       written only by the handler that consumed armed_seq, read by the
//                watchdog only after `done` was posted for that capture.
//   unwind_tail  read and written only by handlers on the slot's thread (one at a time: a
//                capture needs the armed slot), reset when the slot is recycled.
//   the rest     written by the owning JS thread before the slot is published in the
//                slot table, immutable while published.
// Slots are never freed (see slot_table.h): a late signal may still look one up.
#pragma once

#include <atomic>
#include <cstdint>

#include "js_sample.h"
#include "native_unwind.h"
#include "platform/platform.h"
#include "unwind_tail_cache.h"

namespace v8 {
class Isolate;
}

namespace stallwatch {

constexpr int kMaxCaptureFrames = 1024;
constexpr size_t kUnwindScratchBytes = 4096;  // libunwind's cursor and a restart context (native_unwind.cc asserts it)

// One raw sample, exactly as the handler left it.
struct RawSample {
  uint64_t seq = 0;
  // v8::StateTag as int; -1 = no isolate sample. JS corrected to EXTERNAL when the native
  // walk shows an API callback running (CorrectJsStateFromNativeWalk).
  int vm_state = -1;
  uintptr_t external_callback = 0;   // C++ API callback V8 was in, if any
  uint32_t js_count = 0;
  uint32_t native_count = 0;
  bool native_truncated = false;
  bool native_from_frame_pointers = false;  // libunwind unavailable or failed
  bool native_tail_replayed = false;  // the frames below V8 came from the slot's tail cache
  int unwind_error = 0;              // libunwind's error code when it stopped early
  int signal_frame = -1;             // index in native[] of a signal trampoline: another handler was interrupted
  uint64_t code_events_stamp = 0;    // code map event counter at capture time
  uint64_t handler_ns = 0;           // time spent inside the handler
  // Set by the watchdog when it keeps a copy: which stall episode, and when (epoch ms).
  uint64_t episode = 0;
  double captured_at_ms = 0;
  platform::MachineRegisters regs;
  uintptr_t js[kMaxCaptureFrames];
  uintptr_t native[kMaxCaptureFrames];
};

struct CaptureSlot {
  // Identity, immutable while the slot is published.
  std::atomic<int64_t> tid{0};  // read by late handlers on other threads while a JS thread reuses the slot
  v8::Isolate* isolate = nullptr;
  uintptr_t stack_low = 0;
  uintptr_t stack_high = 0;
  const std::atomic<uint64_t>* code_events = nullptr;  // CodeMap's event counter
  V8CodeRanges v8_code;  // where the native walk follows V8's frame pointers
  int max_frames = 128;
  // Filled by the thread's code event listener; cleared when the slot is recycled.
  ApiCallbackCode api_callbacks;

  std::atomic<uint64_t> armed_seq{0};
  platform::Semaphore done;
  RawSample sample;
  alignas(16) unsigned char unwind_scratch[kUnwindScratchBytes];
  // The native walk's tail from the last capture; only this thread's handler uses it. Reset
  // when the slot is recycled.
  UnwindTailCache unwind_tail;
  alignas(16) unsigned char code_pages_scratch[kCodePagesScratchBytes];
};

}  // namespace stallwatch
