#include "unwind_tail_cache.h"

namespace stallwatch {
namespace {

bool SameStart(const platform::MachineRegisters& a, const platform::MachineRegisters& b) {
  return a.pc == b.pc && a.sp == b.sp && a.fp == b.fp;
}

// Whether the word at `read.address` still holds `read.value`. Only addresses inside the live
// part of the thread's stack (from the start frame's sp up) are ever dereferenced: that memory
// is mapped for as long as the start frame exists, and it does, since the walk starts there.
bool StillInPlace(const UnwindTailCache::StackRead& read, uintptr_t live_low, uintptr_t stack_high) {
  if (read.address == 0) return true;  // a start register, compared with the start
  if (read.address % sizeof(uintptr_t) != 0 || read.address < live_low || stack_high < sizeof(uintptr_t) ||
      read.address > stack_high - sizeof(uintptr_t)) {
    return false;
  }
  return *reinterpret_cast<const uintptr_t*>(read.address) == read.value;
}

}  // namespace

void UnwindTailCache::Reset() {
  kept_ = -1;
  recording_ = false;
}

bool UnwindTailCache::Replay(const platform::MachineRegisters& start, uintptr_t stack_high, uintptr_t* out,
                             uint32_t max, UnwindResult* result) const {
  if (kept_ < 0) return false;
  const Walk& kept = walks_[kept_];
  if (kept.count == 0 || !SameStart(start, kept.start)) return false;
  for (uint32_t i = 1; i < kept.count; ++i) {
    if (!StillInPlace(kept.frames[i].return_address, start.sp, stack_high) ||
        !StillInPlace(kept.frames[i].frame_pointer, start.sp, stack_high)) {
      return false;
    }
  }
  for (uint32_t i = 0; i < kept.count; ++i) {
    if (result->count == max) {
      result->truncated = true;
      break;
    }
    out[result->count++] = kept.frames[i].pc;
  }
  result->error = 0;
  result->tail_replayed = true;
  return true;
}

void UnwindTailCache::Begin(const platform::MachineRegisters& start) {
  Walk& walk = walks_[RecordingIndex()];
  walk.start = start;
  walk.count = 0;
  recording_ = true;
}

bool UnwindTailCache::Add(uintptr_t pc, StackRead return_address, StackRead frame_pointer) {
  if (!recording_) return false;
  Walk& walk = walks_[RecordingIndex()];
  if (walk.count == kMaxFrames) {
    recording_ = false;
    return false;
  }
  walk.frames[walk.count++] = Frame{pc, return_address, frame_pointer};
  return true;
}

void UnwindTailCache::Commit() {
  if (!recording_) return;
  recording_ = false;
  const int recorded = RecordingIndex();
  if (walks_[recorded].count > 0) kept_ = recorded;
}

}  // namespace stallwatch
