#include "js_sample.h"

#include <v8.h>

#include "capture_slot.h"

namespace stallwatch {

bool ApiCallbackCode::IsApiCallbackBuiltin(const std::string& name) {
  for (const char* builtin : {"CallApiCallback", "CallApiGetter", "InvokeFunctionCallback",
                              "InvokeAccessorGetterCallback"}) {
    if (name.find(builtin) != std::string::npos) return true;
  }
  return false;
}

void ApiCallbackCode::Add(uintptr_t start, size_t size) {
  const int n = count_.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i) {
    if (start_[i].load(std::memory_order_relaxed) == start) return;  // logged again
  }
  if (n >= kMax || size == 0) return;
  // The entry is complete before the count that publishes it.
  start_[n].store(start, std::memory_order_relaxed);
  end_[n].store(start + size, std::memory_order_relaxed);
  count_.store(n + 1, std::memory_order_release);
}

bool ApiCallbackCode::Contains(uintptr_t pc) const {
  const int n = count_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    if (pc >= start_[i].load(std::memory_order_relaxed) && pc < end_[i].load(std::memory_order_relaxed)) return true;
  }
  return false;
}

bool CorrectJsStateFromNativeWalk(v8::Isolate* isolate, const ApiCallbackCode& api_code, RawSample& sample,
                                  void* code_pages_scratch) {
  if (isolate == nullptr || sample.vm_state != static_cast<int>(v8::JS)) return false;
  static_assert(sizeof(v8::MemoryRange) * kCodePagesCapacity <= kCodePagesScratchBytes, "scratch too small");
  auto* pages = static_cast<v8::MemoryRange*>(code_pages_scratch);
  const size_t total = isolate->CopyCodePages(kCodePagesCapacity, pages);
  // A partial list could hide the JS code between the callback and the interrupted pc.
  if (total > kCodePagesCapacity) return false;
  auto in_generated_code = [&](uintptr_t pc) {
    for (size_t i = 0; i < total; ++i) {
      const uintptr_t start = reinterpret_cast<uintptr_t>(pages[i].start);
      if (pc >= start && pc - start < pages[i].length_in_bytes) return true;
    }
    return false;
  };
  const uint32_t first = sample.signal_frame >= 0 ? static_cast<uint32_t>(sample.signal_frame) + 1 : 0;
  for (uint32_t i = first; i < sample.native_count; ++i) {
    // Outer frames hold return addresses, which may point just past their code.
    const uintptr_t pc = i == first ? sample.native[i] : sample.native[i] - 1;
    if (api_code.Contains(pc)) {
      if (i == first) return false;  // interrupted in the builtin itself: V8's own code
      sample.vm_state = static_cast<int>(v8::EXTERNAL);
      return true;
    }
    if (in_generated_code(pc)) return false;  // JS, or V8's own generated code, runs innermost
  }
  return false;
}

JsSampleResult SampleJsStack(v8::Isolate* isolate, const platform::MachineRegisters& regs, uintptr_t* frames,
                             uint32_t max) {
  JsSampleResult result;
  if (isolate == nullptr) return result;
  v8::RegisterState state;
  state.pc = reinterpret_cast<void*>(regs.pc);
  state.sp = reinterpret_cast<void*>(regs.sp);
  state.fp = reinterpret_cast<void*>(regs.fp);
#if defined(__aarch64__)
  state.lr = reinterpret_cast<void*>(regs.lr);
#endif
  v8::SampleInfo info{};
  isolate->GetStackSample(state, reinterpret_cast<void**>(frames), max, &info);
  result.count = static_cast<uint32_t>(info.frames_count);
  result.vm_state = static_cast<int>(info.vm_state);
  result.external_callback = reinterpret_cast<uintptr_t>(info.external_callback_entry);
  return result;
}

VmState VmStateFromV8(int state_tag) {
  switch (static_cast<v8::StateTag>(state_tag)) {
    case v8::JS: return VmState::kJs;
    case v8::GC: return VmState::kGc;
    case v8::PARSER:
    case v8::BYTECODE_COMPILER:
    case v8::COMPILER: return VmState::kCompiler;
    case v8::EXTERNAL: return VmState::kNative;
    case v8::ATOMICS_WAIT: return VmState::kAtomicsWait;
    default: return VmState::kOther;
  }
}

bool StateIsNativeCode(int state_tag) { return state_tag == static_cast<int>(v8::EXTERNAL); }

bool StateIsWorthResampling(int state_tag) {
  switch (static_cast<v8::StateTag>(state_tag)) {
    case v8::JS:
    case v8::GC:
    case v8::PARSER:
    case v8::BYTECODE_COMPILER:
    case v8::COMPILER:
    case v8::OTHER: return true;  // V8's own work (fast API calls, runtime): not a syscall
    default: return false;
  }
}

}  // namespace stallwatch
