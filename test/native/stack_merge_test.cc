// sources: report.cc stack_merge.cc
// The two views of a stalled thread (native walk, V8 sample) merged into one stack.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "stack_merge.h"
#include "expect.h"

using namespace stallwatch;

namespace {

using stallwatch_test::Expect;

NativeEntry Native(const char* name) {
  NativeEntry e;
  e.role = NativeEntry::Role::kNative;
  e.frame.kind = FrameKind::kNative;
  e.frame.name = name;
  return e;
}

NativeEntry V8(const char* name) {
  NativeEntry e = Native(name);
  e.role = NativeEntry::Role::kV8;
  e.frame.kind = FrameKind::kV8;
  return e;
}

NativeEntry Jit(uintptr_t code_start) {
  NativeEntry e;
  e.role = NativeEntry::Role::kJsCode;
  e.frame.kind = FrameKind::kV8;
  e.code_start = code_start;
  return e;
}

SampledJsFrame Js(const char* name, uintptr_t code_start) {
  SampledJsFrame s;
  s.frame.kind = FrameKind::kJs;
  s.frame.name = name;
  s.frame.file = "/app.js";
  s.frame.function_line = 1;
  s.code_start = code_start;
  return s;
}

SampledJsFrame ApiCallback(const char* symbol) {
  SampledJsFrame s;
  s.native_symbol = symbol;
  return s;
}

std::string Names(const std::vector<Frame>& frames) {
  std::string out;
  for (const Frame& f : frames) out += (out.empty() ? "" : ",") + (f.name.empty() ? std::string("?") : f.name);
  return out;
}

void TestJsNativeJsChainIsInterleaved() {
  // inner JS -> trampolines -> addon C++ -> API callback -> outer JS -> uv_run
  std::vector<NativeEntry> native = {Jit(0x100), Jit(0), V8("Builtins_JSEntry"), Native("CallIntoJs"),
                                     Native("CallbackWrapper"), V8("Builtins_CEntry"), Jit(0x300), Native("uv_run")};
  std::vector<SampledJsFrame> js = {Js("spin", 0x100), Js("inCallback", 0x200), ApiCallback("CallbackWrapper"),
                                    Js("outer", 0x300)};
  bool interleaved = false;
  std::vector<Frame> merged = MergeStacks(native, js, false, &interleaved);
  Expect(interleaved, "a consistent JS -> native -> JS chain is interleaved");
  Expect(Names(merged) == "spin,inCallback,Builtins_JSEntry,CallIntoJs,CallbackWrapper,Builtins_CEntry,outer,uv_run",
         ("interleaved order, got " + Names(merged)).c_str());
}

void TestMismatchFallsBackToBlock() {
  // The walk's JIT code belongs to another code object than the sample says: do not guess.
  std::vector<NativeEntry> native = {Jit(0x999), Native("CallIntoJs"), Jit(0x300), Native("uv_run")};
  std::vector<SampledJsFrame> js = {Js("spin", 0x100), Js("outer", 0x300)};
  bool interleaved = true;
  std::vector<Frame> merged = MergeStacks(native, js, false, &interleaved);
  Expect(!interleaved, "a code-object mismatch is not interleaved");
  Expect(Names(merged) == "spin,outer,CallIntoJs,uv_run", ("block placement, got " + Names(merged)).c_str());
}

void TestMoreSampledThanWalkedFallsBack() {
  // Two sampled frames more than the walk has: more than the one-frame race at the innermost end.
  std::vector<NativeEntry> native = {Jit(0), Native("uv_run")};
  std::vector<SampledJsFrame> js = {Js("a", 0), Js("b", 0), Js("c", 0)};
  bool interleaved = true;
  std::vector<Frame> merged = MergeStacks(native, js, false, &interleaved);
  Expect(!interleaved && Names(merged) == "a,b,c,uv_run", ("leftover JS frames, got " + Names(merged)).c_str());
}

void TestUnknownGeneratedCodeIsNotAJsFrameWhenTheNextOneIsKnown() {
  // A builtin running from V8's remapped copy is generated code the map does not know.
  NativeEntry remapped = Jit(0);
  remapped.unknown_code = true;
  std::vector<NativeEntry> native = {Native("Runtime_DateCurrentTime"), remapped, Jit(0x100), Native("uv_run")};
  std::vector<SampledJsFrame> js = {Js("culprit", 0x100)};
  bool interleaved = false;
  std::vector<Frame> merged = MergeStacks(native, js, false, &interleaved);
  Expect(interleaved, "unknown generated code does not take a known JS frame");
  Expect(merged.size() == 4 && merged[1].kind == FrameKind::kV8 && merged[2].name == "culprit",
         ("remapped builtin shown as v8, got " + Names(merged)).c_str());
}

void TestOffByOneAtTheInnermostFrameIsAligned() {
  // The walk caught an interpreter entry being set up that the sample does not show yet.
  std::vector<NativeEntry> native = {Jit(0), Jit(0), Jit(0), Native("uv_run")};
  std::vector<SampledJsFrame> js = {Js("culprit", 0), Js("caller", 0)};
  bool interleaved = false;
  std::vector<Frame> merged = MergeStacks(native, js, false, &interleaved);
  Expect(interleaved, "one extra innermost JS-code entry in the walk is tolerated");
  Expect(Names(merged) == "?,culprit,caller,uv_run", ("extra walk entry shown as v8, got " + Names(merged)).c_str());
  // The sample shows an innermost frame the walk missed.
  std::vector<NativeEntry> native2 = {V8("Builtins_Handler"), Jit(0), Native("uv_run")};
  merged = MergeStacks(native2, js, false, &interleaved);
  Expect(interleaved && Names(merged) == "Builtins_Handler,culprit,caller,uv_run",
         ("sampled innermost frame placed first, got " + Names(merged)).c_str());
  // A difference anywhere else is not aligned.
  std::vector<NativeEntry> native3 = {Jit(0), Native("CallIntoJs"), Native("uv_run")};
  std::vector<SampledJsFrame> js3 = {Js("a", 0), Js("b", 0), Js("c", 0)};
  merged = MergeStacks(native3, js3, false, &interleaved);
  Expect(!interleaved, "two missing frames are not aligned");
}

void TestCutWalkLeavesOutTheSamplesOuterFrames() {
  // 120 JS frames under a few C++ ones: the walk's frame limit ends it before the sample's JS
  // frames end. Those outer frames lie beyond the cut.
  std::vector<NativeEntry> native = {Native("AllocateRaw"), Native("Runtime_X"), V8("Builtins_CEntry"), Jit(0x100),
                                     Jit(0), Jit(0x300)};
  std::vector<SampledJsFrame> js = {Js("spin", 0x100), Js("rec", 0), Js("rec", 0x300), Js("rec", 0x300),
                                    Js("main", 0x500)};
  bool interleaved = false;
  std::vector<Frame> merged = MergeStacks(native, js, true, &interleaved);
  Expect(interleaved, "a cut walk is aligned with the sample's frames it reaches");
  Expect(Names(merged) == "AllocateRaw,Runtime_X,Builtins_CEntry,spin,rec,rec", ("cut where the walk ends, got " + Names(merged)).c_str());
  // Not cut: the same leftover frames mean the views disagree.
  merged = MergeStacks(native, js, false, &interleaved);
  Expect(!interleaved, "leftover sampled frames without a cut are not aligned");
}

void TestCutWalkStillChecksCodeObjects() {
  // The cut excuses only frames beyond it: a code-object mismatch inside it still falls back.
  std::vector<NativeEntry> native = {Jit(0x100), Jit(0x999)};
  std::vector<SampledJsFrame> js = {Js("spin", 0x100), Js("rec", 0x200), Js("main", 0x300)};
  bool interleaved = true;
  MergeStacks(native, js, true, &interleaved);
  Expect(!interleaved, "a cut walk with a mismatched code object is not aligned");
}

void TestCutWalkWithJsOnTopMustBeUnambiguous() {
  // JS on top of a cut walk, none of it checkable by code object: the plain reading and "the walk
  // caught a frame being set up" both align, and place the frames differently. Not guessed.
  std::vector<NativeEntry> native = {Jit(0), Jit(0), Native("CallIntoJs"), Jit(0)};
  std::vector<SampledJsFrame> js = {Js("a", 0), Js("b", 0), Js("c", 0), Js("d", 0)};
  bool interleaved = true;
  MergeStacks(native, js, true, &interleaved);
  Expect(!interleaved, "a cut walk whose readings disagree is not interleaved");
  // Known code objects leave one reading: interleaved.
  std::vector<NativeEntry> known = {Jit(0x100), Jit(0x200), Native("CallIntoJs"), Jit(0x300)};
  std::vector<SampledJsFrame> js_known = {Js("a", 0x100), Js("b", 0x200), Js("c", 0x300), Js("d", 0x400)};
  std::vector<Frame> merged = MergeStacks(known, js_known, true, &interleaved);
  Expect(interleaved && Names(merged) == "a,b,CallIntoJs,c", ("one reading left, got " + Names(merged)).c_str());
  // C++ above the innermost JS frame: no frame was being set up, the plain reading is the one.
  std::vector<NativeEntry> under_cpp = {Native("nanosleep"), V8("Builtins_CEntry"), Jit(0), Jit(0)};
  merged = MergeStacks(under_cpp, js, true, &interleaved);
  Expect(interleaved && Names(merged) == "nanosleep,Builtins_CEntry,a,b", ("under C++, got " + Names(merged)).c_str());
}

void TestNoJsAtAll() {
  std::vector<NativeEntry> native = {Native("read"), Native("uv_run")};
  bool interleaved = false;
  std::vector<Frame> merged = MergeStacks(native, {}, false, &interleaved);
  Expect(interleaved && Names(merged) == "read,uv_run", "a native-only stack is unchanged");
}

Frame Exact(const char* name, int line) {
  Frame f;
  f.kind = FrameKind::kJs;
  f.name = name;
  f.file = "/app.js";
  f.line = line;
  f.column = 3;
  return f;
}

void TestExactAddsInlinedFramesBeforeTheirPhysicalFrame() {
  std::vector<Frame> frames = {Js("handler", 1).frame, Native("CallIntoJs").frame, Js("main", 1).frame};
  frames[0].address = 0xabc;
  // spinFor was inlined into handler; helper inlined into main.
  std::vector<Frame> exact = {Exact("spinFor", 5), Exact("handler", 9), Exact("helper", 20), Exact("main", 30)};
  Expect(MergeExactJsFrames(frames, exact, 2), "consistent exact stack is used");
  Expect(Names(frames) == "spinFor,handler,CallIntoJs,helper,main", ("exact order, got " + Names(frames)).c_str());
  Expect(frames[1].line == 9 && frames[1].function_line == 1 && frames[1].address == 0xabc,
         "a matched frame takes the exact line and keeps the sampled definition line and address");
  Expect(frames[0].function_line == 0, "an inlined frame has no definition line from the sample");
}

void TestExactInconsistentIsRejected() {
  std::vector<Frame> frames = {Js("handler", 1).frame, Js("main", 1).frame};
  const std::vector<Frame> before = frames;
  Expect(!MergeExactJsFrames(frames, {Exact("other", 1), Exact("main", 2)}, 2), "a missing sampled frame rejects");
  Expect(!MergeExactJsFrames(frames, {Exact("handler", 1), Exact("elsewhere", 2)}, 2), "different outermost rejects");
  Expect(Names(frames) == Names(before), "a rejected exact stack changes nothing");
}

void TestExactWithoutSampledJsGoesWhereV8Starts() {
  std::vector<Frame> frames = {Native("GC").frame, V8("Builtins_JSEntry").frame, Native("uv_run").frame};
  const std::vector<Frame> before = frames;
  Expect(!MergeExactJsFrames(frames, {Exact("alloc", 3)}, 0), "a walk that crossed no JS frame vouches for nothing");
  Expect(!MergeExactJsFrames(frames, {Exact("caller", 3)}, 2),
         "an exact stack shallower than the walk's JS was taken after the stalled function returned");
  Expect(Names(frames) == Names(before), "rejected: nothing changes");
  Expect(MergeExactJsFrames(frames, {Exact("alloc", 3), Exact("caller", 4)}, 2), "exact frames fill a GC-only sample");
  Expect(Names(frames) == "GC,alloc,caller,Builtins_JSEntry,uv_run", ("placement, got " + Names(frames)).c_str());
}

}  // namespace

int main() {
  TestJsNativeJsChainIsInterleaved();
  TestMismatchFallsBackToBlock();
  TestMoreSampledThanWalkedFallsBack();
  TestUnknownGeneratedCodeIsNotAJsFrameWhenTheNextOneIsKnown();
  TestOffByOneAtTheInnermostFrameIsAligned();
  TestCutWalkLeavesOutTheSamplesOuterFrames();
  TestCutWalkStillChecksCodeObjects();
  TestCutWalkWithJsOnTopMustBeUnambiguous();
  TestNoJsAtAll();
  TestExactAddsInlinedFramesBeforeTheirPhysicalFrame();
  TestExactInconsistentIsRejected();
  TestExactWithoutSampledJsGoesWhereV8Starts();
  return stallwatch_test::Summary("stack_merge_test");
}
