// Native stack walking from a signal context.
//
// libunwind is loaded with dlopen(RTLD_LOCAL) rather than linked: Debian's static archive
// is not position-independent (it cannot go into a shared object), and a hard dependency
// would make the addon fail to load on a machine without libunwind8. RTLD_LOCAL also keeps
// libunwind's _Unwind_* symbols from interposing on the process's C++ exception runtime.
// Without libunwind, a bounded frame-pointer walk is used and reports say so.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/platform.h"

namespace stallwatch {

class UnwindTailCache;

struct UnwindResult {
  uint32_t count = 0;
  bool truncated = false;
  bool used_frame_pointers = false;
  bool tail_replayed = false;  // the frames below V8 were replayed from the thread's last capture
  int error = 0;  // libunwind's (negative) error code if it stopped early
  int signal_frame = -1;  // index of the first signal trampoline frame: we interrupted another handler
};

// Where V8's own machine code lives for one isolate: its code range (JIT code, and the copy of
// the builtins V8 may run from) and the embedded blob (the builtins in the binary). V8 keeps a
// frame-pointer chain through all of it; none of it has unwind tables.
struct V8CodeRanges {
  uintptr_t code_low = 0, code_high = 0;
  uintptr_t blob_low = 0, blob_high = 0;
  bool Contains(uintptr_t pc) const {
    return (pc - code_low < code_high - code_low) || (pc - blob_low < blob_high - blob_low);
  }
};

class NativeUnwinder {
 public:
  // Once per process, on a JS thread, before any capture: loads libunwind and warms it up
  // (its first walk takes loader locks and fills caches: never do that in the handler).
  static void Initialize();
  // On each thread that may be sampled, before it can be: allocates libunwind's per-thread
  // cache (thread-local storage must never be first touched inside a signal handler).
  static void WarmUpThisThread();
  static bool HasLibunwind();
  static const char* UnavailableReason();  // nullptr when libunwind is in use

  // Async-signal-safe. Walks from the interrupted context into `out`, innermost first.
  // `scratch` holds libunwind's cursor and a context to restart it from (kept off the possibly
  // small signal stack). libunwind walks the C and C++ frames; frames in `v8` code are followed
  // along their frame-pointer chain instead, where libunwind, finding no unwind tables, would
  // fall back to the same chain after a failed table search through every loaded module and a
  // validation of each address with system calls (most of a capture's time; bench/RESULTS.md).
  // `tail` (the capture slot's, or nullptr) keeps the frames below the C++ frame that called
  // into V8 from one capture of the thread to the next (unwind_tail_cache.h).
  static UnwindResult Walk(void* ucontext, const platform::MachineRegisters& regs, uintptr_t stack_low,
                           uintptr_t stack_high, const V8CodeRanges& v8, uintptr_t* out, uint32_t max,
                           void* scratch, size_t scratch_size, UnwindTailCache* tail);

  // Ordinary thread only (takes libunwind's locks, may allocate). Walks another thread's
  // interrupted context, copied while that thread holds still (thread_freeze.h), or, when
  // `ucontext` is null, the calling thread from here. Without libunwind there is no safe walk
  // of another thread's stack (its bounds are unknown): the result then holds only the
  // interrupted pc and `error` is set.
  static UnwindResult WalkOutsideHandler(const void* ucontext, uintptr_t* out, uint32_t max);

 private:
  static UnwindResult WalkFramePointers(const platform::MachineRegisters& regs, uintptr_t stack_low,
                                        uintptr_t stack_high, uintptr_t* out, uint32_t max);
};

}  // namespace stallwatch
