#include "js_sample.h"

#include <v8.h>

namespace stallwatch {

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
