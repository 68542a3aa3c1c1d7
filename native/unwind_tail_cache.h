// The native walk's tail, kept from one capture of a thread to the next.
//
// Below the C++ frame that called into V8 lie the same frames capture after capture while a
// loop runs (the callback's MakeCallback, uv_run, node::Start, main, ...), and libunwind spends
// about 2 µs on each of them: an FDE lookup through dl_iterate_phdr with all signals masked, a
// CFI parse, per frame, in a signal handler (bench/RESULTS.md, finding 1). So each capture slot
// keeps the last tail libunwind walked from a restart point, with every value that walk read
// from the stack to get from one frame to the next, and replays it when those values are all
// still in place.
//
// Why that is enough (x86-64, where it is used): from a frame's pc, sp and frame pointer,
// libunwind's step reads the caller's return address (at the canonical frame address minus 8,
// which is the caller's sp minus 8) and, when the frame saved it, the caller's frame pointer
// from a slot on the stack; the frame's rule for computing its canonical frame address comes
// from its pc's unwind tables, which do not change while that code is on the stack. Equal start
// registers and equal values at every recorded address therefore give the same frames, step by
// step. (Callee-saved registers other than the frame pointer are taken from the interrupted
// context on a restart, by design; no CFA rule at a call site uses them: GCC's stack-realigning
// prologues define the CFA through r10 only until the frame is set up.) A tail
// that ends in an error, passes a signal frame or another stretch of V8 code, or does not fit
// is never kept.
#pragma once

#include <cstdint>

#include "native_unwind.h"

namespace stallwatch {

class UnwindTailCache {
 public:
  static constexpr uint32_t kMaxFrames = 64;

  // A word the walk read from the stack to reach a frame. address 0: the value is the start
  // frame's own register (compared as part of the start), not read from memory.
  struct StackRead {
    uintptr_t address = 0;
    uintptr_t value = 0;
  };

  // The slot's thread changed (or never ran): nothing to replay.
  void Reset();

  // Async-signal-safe. If the kept tail starts at `start` and every word it read is still in
  // place (each inside [start.sp, stack_high)), appends its frames to out[] (up to `max`,
  // setting result->truncated when frames were left) and returns true.
  bool Replay(const platform::MachineRegisters& start, uintptr_t stack_high, uintptr_t* out, uint32_t max,
              UnwindResult* result) const;

  // Async-signal-safe. Recording a new tail from `start` (whose pc is its first frame): it
  // replaces the kept one only if committed.
  void Begin(const platform::MachineRegisters& start);
  // The next frame of the tail being recorded, and the reads that reached it. False (and the
  // recording is abandoned) when no recording is open or the tail does not fit.
  bool Add(uintptr_t pc, StackRead return_address, StackRead frame_pointer);
  // The walk reached the bottom of the stack cleanly: the recording becomes the kept tail.
  void Commit();
  // The walk went somewhere a tail is not kept for: the recording is dropped.
  void Abandon() { recording_ = false; }
  bool Recording() const { return recording_; }

 private:
  struct Frame {
    uintptr_t pc;
    StackRead return_address;
    StackRead frame_pointer;
  };
  // One walk from one start: the kept one, or the one being recorded. Two of them, so that a
  // recording that is abandoned (it led into V8 again, at a deeper restart) costs the kept walk
  // nothing.
  struct Walk {
    platform::MachineRegisters start;
    uint32_t count = 0;
    Frame frames[kMaxFrames];
  };
  Walk walks_[2];
  int kept_ = -1;       // index into walks_, or -1
  bool recording_ = false;  // into walks_[1 - kept_] (walks_[0] when none is kept)
  int RecordingIndex() const { return kept_ == 0 ? 1 : 0; }
};

}  // namespace stallwatch
