// V8's view of the interrupted thread: Isolate::GetStackSample, from the signal handler.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "platform/platform.h"
#include "report.h"

namespace v8 {
class Isolate;
}

namespace stallwatch {

struct RawSample;

// Where one isolate's API callback builtins (CallApiCallback*, CallApiGetter,
// InvokeFunctionCallback*, the code through which V8 calls a C++ function bound to JS) sit.
// Written by the isolate's JS thread from its code events, read by the capture signal
// handler (async-signal-safe: atomics only). A handful of entries per isolate.
class ApiCallbackCode {
 public:
  static bool IsApiCallbackBuiltin(const std::string& name);
  void Add(uintptr_t start, size_t size);  // JS thread
  bool Contains(uintptr_t pc) const;       // any thread, signal handlers included
  // While no handler can read it (the slot is being recycled). Inline: the slot table,
  // which has no V8 dependency, calls it.
  void Clear() { count_.store(0, std::memory_order_release); }

 private:
  static constexpr int kMax = 16;
  std::atomic<uintptr_t> start_[kMax] = {};
  std::atomic<uintptr_t> end_[kMax] = {};
  std::atomic<int> count_{0};
};

// Scratch for the isolate's code page list, preallocated in the slot (the handler must not
// allocate, and 8 KB is too much for a stack that may be nearly full).
constexpr size_t kCodePagesCapacity = 512;
constexpr size_t kCodePagesScratchBytes = kCodePagesCapacity * 2 * sizeof(void*);

// From V8 12 (Node 22) on, V8 sets its EXTERNAL state around an API callback only while its
// CPU profiler runs; otherwise a thread stuck in readFileSync, execSync or an addon samples
// as JS. The native walk tells: if the innermost frame in V8's generated code is an API
// callback builtin, the thread is in C++ that JS called (what EXTERNAL means), and the
// sample's vm_state is set to EXTERNAL. Async-signal-safe; runs in the handler after the
// native walk. Returns whether it changed the state.
bool CorrectJsStateFromNativeWalk(v8::Isolate* isolate, const ApiCallbackCode& api_code, RawSample& sample,
                                  void* code_pages_scratch);

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
