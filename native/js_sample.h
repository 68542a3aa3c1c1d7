// V8's view of the interrupted thread: Isolate::GetStackSample, from the signal handler.
#pragma once

#include <cstdint>

#include "platform/platform.h"
#include "report.h"

namespace v8 {
class Isolate;
}

namespace stallwatch {

struct JsSampleResult {
  uint32_t count = 0;
  int vm_state = -1;
  uintptr_t external_callback = 0;
};

// Async-signal-safe (GetStackSample is designed for signal handlers); must run on the
// isolate's own thread while it is interrupted.
JsSampleResult SampleJsStack(v8::Isolate* isolate, const platform::MachineRegisters& regs, uintptr_t* frames,
                             uint32_t max);

// V8 StateTag (as int) to the report's state.
VmState VmStateFromV8(int state_tag);

// True for V8's EXTERNAL state: the thread is inside a C++ callback (a native call or syscall).
bool StateIsNativeCode(int state_tag);

// True if a sample in this state may be retried for a more complete one (it cannot have
// interrupted a syscall: the thread is running V8 code).
bool StateIsWorthResampling(int state_tag);

}  // namespace stallwatch
