#include "report.h"

namespace stallwatch {

const char* FrameKindName(FrameKind kind) {
  switch (kind) {
    case FrameKind::kJs: return "js";
    case FrameKind::kNative: return "native";
    case FrameKind::kV8: return "v8";
  }
  return "native";
}

const char* VmStateName(VmState state) {
  switch (state) {
    case VmState::kJs: return "js";
    case VmState::kGc: return "gc";
    case VmState::kCompiler: return "compiler";
    case VmState::kNative: return "native";
    case VmState::kAtomicsWait: return "atomics-wait";
    case VmState::kOther: return "other";
  }
  return "other";
}

}  // namespace stallwatch
