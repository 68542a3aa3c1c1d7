// One stack out of two views of the same thread: the native walk (libunwind, every physical
// frame including V8's generated code) and V8's sample (one entry per JS frame). Pure
// functions over plain data, unit-tested on their own (test/native/stack_merge_test.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report.h"

namespace stallwatch {

// One entry of the native walk, classified.
struct NativeEntry {
  enum class Role {
    kNative,  // C++/C code in a module: shown as is
    kV8,      // V8 builtins, stubs, trampolines: shown as kind v8
    kJsCode,  // stands for one JS frame: JIT code of a JS function, or an interpreter entry
  };
  Role role = Role::kNative;
  Frame frame;              // kNative/kV8: the frame to show
  uintptr_t code_start = 0; // kJsCode in JIT code: start of its code object; 0 = not known
  // kJsCode for generated code the code map does not know. It may be a JS function's code,
  // or V8's own (a builtin running from V8's remapped copy of the embedded builtins).
  bool unknown_code = false;
};

// One frame of V8's sample.
struct SampledJsFrame {
  Frame frame;              // kind js, named from the code map when provable
  uintptr_t code_start = 0; // start of the code object (or bytecode) it points into; 0 = unknown
  // Non-empty when the sample points into a module rather than generated code: an API
  // callback (a C++ function called from JS) or a builtin. Its native twin is in the walk.
  std::string native_symbol;
  // Interpreted frames: the line and column of the bytecode the frame's sampled offset names,
  // from the code map's line table (0 when there is none). Only true for a frame that called
  // out (report_builder.cc decides which).
  int bytecode_line = 0;
  int bytecode_column = 0;
};

// Interleaves: walking the native stack innermost first, each kJsCode entry takes the next
// sampled JS frame (checked by code object when both sides know it), and a sampled frame
// that is native code is absorbed by the native entry with the same symbol. If the two
// views cannot be aligned, falls back to placing every JS frame at the first kJsCode entry
// and sets *interleaved to false.
//
// `native_cut`: the walk stopped at its frame limit, so the sample's outermost JS frames may
// have no entry in it. They are left out (the stack is cut there) instead of making the two
// views unalignable: with 120 JS frames under a few C++ ones, the walk's 128 entries end
// before the sample's JS frames do. Without the two views' frame counts to choose among the
// readings of the innermost end, a cut stack is interleaved only when they all agree.
std::vector<Frame> MergeStacks(const std::vector<NativeEntry>& native, const std::vector<SampledJsFrame>& js,
                               bool native_cut, bool* interleaved);

// Replaces the sampled JS frames of `frames` by the exact ones (StackTrace::CurrentStackTrace,
// which has inlined frames and lines) when the sample is consistent with them: every named
// sampled JS frame appears in the exact stack, in order, and the outermost frames agree.
// Exact frames with no sampled twin (inlined functions) go right before the physical frame
// they were inlined into. Sampled frames lend their definition line and address. Returns
// whether the exact frames were used.
//
// A sample without JS frames (it landed in GC) cannot vouch for any name, and the interrupt
// that took the exact stack may have run after the stalled function returned (same loop
// iteration, so the tick check passes). Then `walk_js_frames`, the JS frames the native walk
// crossed at the sample, bounds the exact stack: it must have at least that many frames (it
// has more only through inlining). A shallower one was taken elsewhere, and so is an exact
// stack for a walk that crossed no JS frame: both are rejected.
bool MergeExactJsFrames(std::vector<Frame>& frames, const std::vector<Frame>& exact, size_t walk_js_frames);

}  // namespace stallwatch
