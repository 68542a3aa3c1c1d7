#include "report_builder.h"

#include <cstring>
#include <initializer_list>

#include <unistd.h>

#include "js_sample.h"
#include "native_unwind.h"
#include "stack_merge.h"

namespace stallwatch {
namespace {

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Interpreter entry frames (one per interpreted JS frame) and JIT code of JS functions stand
// for JS frames; builtins and stubs are V8's own; everything else in a module is native.
NativeEntry Classify(uintptr_t pc, bool innermost, const CodeMap& code_map, uint64_t stamp,
                     NativeSymbolizer& symbolizer) {
  NativeEntry entry;
  entry.frame.address = pc;
  // Return addresses point after the call instruction; name the call itself.
  const NativeSymbol sym = symbolizer.Resolve(innermost ? pc : pc - 1);
  if (sym.in_module) {
    entry.frame.module = sym.module;
    entry.frame.name = sym.name;
    entry.frame.file = sym.source_file;  // from DWARF, when the module has it
    entry.frame.line = sym.source_line;
    if (StartsWith(sym.name, "Builtins_")) {
      entry.frame.kind = FrameKind::kV8;
      entry.role = sym.name.find("InterpreterEntryTrampoline") != std::string::npos ? NativeEntry::Role::kJsCode
                                                                                    : NativeEntry::Role::kV8;
    } else {
      entry.frame.kind = FrameKind::kNative;
      entry.role = NativeEntry::Role::kNative;
    }
    return entry;
  }
  // Not in any mapped file: code V8 generated at run time.
  const CodeMap::Lookup code = code_map.Find(pc, stamp);
  entry.frame.kind = FrameKind::kV8;
  if (!code.found || code.kind == CodeKind::kJsFunction) {
    entry.role = NativeEntry::Role::kJsCode;
    entry.code_start = code.found && code.provable ? code.start : 0;
    entry.unknown_code = !code.found;
  } else if (code.kind == CodeKind::kBuiltin && code.name.find("InterpreterEntryTrampoline") != std::string::npos) {
    // Node 22+ runs builtins from V8's remapped code range, where the code map (not the binary)
    // names them: an interpreter entry still stands for one JS frame.
    entry.role = NativeEntry::Role::kJsCode;
  } else {
    entry.role = NativeEntry::Role::kV8;
    if (code.provable) entry.frame.name = code.name;
  }
  return entry;
}

Frame JsFrame(uintptr_t address, const CodeMap::Lookup& code) {
  Frame f;
  f.kind = FrameKind::kJs;
  f.address = address;
  if (code.found && code.provable) {
    f.name = code.name;
    f.file = code.script;
    f.function_line = code.line > 0 ? code.line : 0;
  }
  return f;
}

// --- The VM state, checked against the native stack ---------------------------------------
// V8 sets its EXTERNAL state around API callbacks (a C++ function called from JS) only while
// its CPU profiler runs from V8 12 on (Node 22+); otherwise a thread stuck in readFileSync,
// execSync or an addon reads as JS. The native walk shows it: the frames V8 called into.

bool StartsWithAny(const std::string& s, std::initializer_list<const char*> prefixes) {
  for (const char* p : prefixes) {
    if (StartsWith(s, p)) return true;
  }
  return false;
}

// V8 itself: generated code, or its C++ (and the libraries it embeds for its own work: ICU
// for Intl and string functions, cppgc for the C++ heap).
bool IsV8Side(const NativeEntry& e) {
  if (e.role != NativeEntry::Role::kNative) return true;
  return StartsWithAny(e.frame.name, {"v8::", "cppgc::", "heap::base::", "icu_", "Builtins_"});
}

// The C runtime: what V8 calls directly for its own work (memcpy, malloc, mmap, ...).
bool IsCRuntime(const std::string& module) {
  const size_t slash = module.rfind('/');
  const std::string base = slash == std::string::npos ? module : module.substr(slash + 1);
  return StartsWithAny(base, {"libc.so", "libc-", "libc.musl", "ld-linux", "ld-musl", "libm.so", "libpthread",
                              "libdl", "librt", "libstdc++", "libc++", "libgcc_s", "libsystem_", "libdyld"});
}

// Where V8 hands control to embedder C++: the API callback builtins and their C++ twins, or
// JIT code of a JS function (fast API calls go straight from optimized code to the callback).
bool CallsIntoEmbedder(const NativeEntry& e) {
  if (e.role == NativeEntry::Role::kJsCode) return true;
  const std::string& name = e.frame.name;
  return name.find("CallApiCallback") != std::string::npos || name.find("CallApiGetter") != std::string::npos ||
         name.find("InvokeFunctionCallback") != std::string::npos ||
         name.find("InvokeAccessorGetterCallback") != std::string::npos ||
         name.find("CallbackArguments::Call") != std::string::npos;
}

// The running executable, as the symbolizer names its module ("" when unknown). Reporter
// thread only.
const std::string& ExecutableModule() {
  static const std::string path = [] {
    std::string p;
#if defined(__linux__)
    char buffer[4096];
    const ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
    if (length > 0) p.assign(buffer, static_cast<size_t>(length));
#endif
    return p;
  }();
  return path;
}

// True when the innermost frames are embedder code (Node's C++, libuv, an addon, and what
// they call) that V8 called through an API callback: the thread is in native code whatever
// V8's state says. Frames V8 calls for its own work (libc's memcpy under a runtime function,
// ICU under Intl) do not count, nor a frame without a name in the executable (it could be
// V8's own C++).
bool InEmbedderCode(const std::vector<NativeEntry>& native, const std::string& executable) {
  size_t v8_at = 0;
  while (v8_at < native.size() && !IsV8Side(native[v8_at])) ++v8_at;
  if (v8_at == 0 || v8_at == native.size()) return false;  // interrupted in V8, or no V8 frame at all
  if (!CallsIntoEmbedder(native[v8_at])) return false;
  const Frame& callee = native[v8_at - 1].frame;
  if (callee.module.empty() || IsCRuntime(callee.module)) return false;
  if (callee.name.empty() && (executable.empty() || callee.module == executable)) return false;
  return true;
}

// The line of an interpreted frame that called out: the bytecode offset V8 sampled for it is
// the one the interpreter saved in the frame at its last call (every call out of a bytecode
// handler saves it first), so for a frame below a call it names that call, exactly. The
// innermost JS frame of a thread running JS may be inside a bytecode handler with a newer
// offset not yet saved: its line would be a guess, so it gets none (the interrupt-time exact
// stack gives it one when it can). In native code, Atomics.wait, GC or the compiler, the
// innermost JS frame is below a call too.
void ApplyCallLines(std::vector<SampledJsFrame>& js, VmState state) {
  const bool innermost_called_out =
      state == VmState::kNative || state == VmState::kAtomicsWait || state == VmState::kGc || state == VmState::kCompiler;
  for (size_t i = 0; i < js.size(); ++i) {
    SampledJsFrame& f = js[i];
    if (f.bytecode_line <= 0 || (i == 0 && !innermost_called_out)) continue;
    f.frame.line = f.bytecode_line;
    f.frame.column = f.bytecode_column > 0 ? f.bytecode_column : 0;
  }
}

}  // namespace

const char* const kGcOnlyNote = "Every sample landed in garbage collection, which shows no JS frames.";
const char* const kNoJsNote = "Every sample landed in V8's own work (state other), which shows no JS frames.";

void DropGcOnlyNote(Report& report) {
  for (const std::string note : {kGcOnlyNote, kNoJsNote}) {
    const size_t at = report.partial.find(note);
    if (at == std::string::npos) continue;
    report.partial.erase(at, note.size());
  }
  while (!report.partial.empty() && report.partial.front() == ' ') report.partial.erase(0, 1);
  while (!report.partial.empty() && report.partial.back() == ' ') report.partial.pop_back();
}

namespace {
std::string CutNote(int max_frames) {
  return "The stack is deeper than maxFrames (" + std::to_string(max_frames) + ") and was cut.";
}
}  // namespace

void AddPartial(Report& report, const std::string& sentence) {
  if (sentence.empty()) return;
  if (!report.partial.empty()) report.partial += " ";
  report.partial += sentence;
}

Report BuildReport(const RawSample* sample, const ThreadIdentity& thread, const CodeMap& code_map,
                   NativeSymbolizer& symbolizer, double blocked_ms, double captured_at_ms,
                   const std::string& watchdog_partial, int max_frames) {
  Report report;
  report.thread_id = thread.thread_id;
  report.thread_name = thread.thread_name;
  report.tid = thread.tid;
  report.pid = thread.pid;
  report.blocked_ms = blocked_ms;
  report.captured_at_ms = captured_at_ms;
  AddPartial(report, watchdog_partial);
  if (sample == nullptr) return report;

  report.state = sample->vm_state >= 0 ? VmStateFromV8(sample->vm_state) : VmState::kOther;

  // JS frames, innermost first. A name is given only if the code map entry was already in
  // place when the sample was taken; otherwise it could belong to other code now.
  std::vector<SampledJsFrame> js;
  int unknown = 0, unprovable = 0;
  for (uint32_t i = 0; i < sample->js_count; ++i) {
    SampledJsFrame sampled;
    const NativeSymbol sym = symbolizer.Resolve(sample->js[i]);
    if (sym.in_module) {
      // A C++ API callback or a builtin, reported by V8 as a frame of the JS stack: the native
      // walk shows the same code under its own name.
      sampled.native_symbol = sym.name.empty() ? "?" : sym.name;
      js.push_back(std::move(sampled));
      continue;
    }
    const CodeMap::Lookup code = code_map.Find(sample->js[i], sample->code_events_stamp);
    if (code.found && code.kind == CodeKind::kBuiltin) {
      // The same, from V8's remapped copy of the builtins (Node 22+), which no module holds:
      // e.g. CallApiCallbackGeneric under an addon that called back into JS.
      sampled.native_symbol = code.name.empty() ? "?" : code.name;
      js.push_back(std::move(sampled));
      continue;
    }
    if (!code.found && !code.moved_since) {
      ++unknown;
    } else if (!code.provable) {
      ++unprovable;
    }
    sampled.frame = JsFrame(sample->js[i], code);
    sampled.code_start = code.found && code.provable ? code.start : 0;
    if (code.found && code.provable && code.lines != nullptr) {  // found: js[i] is at or after code.start
      LineAt(*code.lines, static_cast<uint32_t>(sample->js[i] - code.start), &sampled.bytecode_line,
             &sampled.bytecode_column);
    }
    js.push_back(std::move(sampled));
  }
  // GetStackSample drops the innermost frame when the signal lands in a JS function's own
  // optimized code (its frame is not fully set up or is treated as frameless there). The
  // interrupted pc itself says which code was running: if it is a JS function's code other
  // than the sample's first frame, that function is the innermost frame.
  const CodeMap::Lookup interrupted = code_map.Find(sample->regs.pc, sample->code_events_stamp);
  if (interrupted.found && interrupted.provable && interrupted.kind == CodeKind::kJsFunction &&
      (js.empty() || js.front().code_start != interrupted.start) && !symbolizer.Resolve(sample->regs.pc).in_module) {
    SampledJsFrame innermost;
    innermost.frame = JsFrame(sample->regs.pc, interrupted);
    innermost.code_start = interrupted.start;
    js.insert(js.begin(), std::move(innermost));
  }
  if (unknown > 0) {
    AddPartial(report, std::to_string(unknown) + " JS frame(s) are not in the code map, so they are unnamed.");
  }
  if (unprovable > 0) {
    AddPartial(report, std::to_string(unprovable) +
                           " JS frame(s) are unnamed: their code was created or moved after the sample was taken, "
                           "so a name could be wrong.");
  }

  std::vector<NativeEntry> native;
  native.reserve(sample->native_count);
  // Captured inside another signal handler (after every re-sample too): show what it interrupted.
  const uint32_t first = sample->signal_frame >= 0 ? static_cast<uint32_t>(sample->signal_frame) + 1 : 0;
  if (first > 0) {
    AddPartial(report, "The thread was running another signal handler (a profiler's?) when sampled; its frames are "
                       "left out.");
  }
  for (uint32_t i = first; i < sample->native_count; ++i) {
    native.push_back(Classify(sample->native[i], i == first, code_map, sample->code_events_stamp, symbolizer));
  }
  // Only JS is corrected: the other states (GC, compiler, Atomics.wait, EXTERNAL) are set by V8
  // on every version.
  if (report.state == VmState::kJs && InEmbedderCode(native, ExecutableModule())) report.state = VmState::kNative;
  ApplyCallLines(js, report.state);
  bool interleaved = false;
  report.frames = MergeStacks(native, js, sample->native_truncated, &interleaved);
  if (!interleaved && sample->native_count > 0 && !js.empty()) {
    AddPartial(report, "The JS frames could not be matched one by one to the native stack, so they are shown "
                       "together where V8 code starts.");
  }

  if (sample->native_from_frame_pointers) {
    const char* reason = NativeUnwinder::UnavailableReason();
    AddPartial(report, std::string("Native frames come from a frame-pointer walk, which skips functions built "
                                   "without frame pointers (") +
                           (reason ? reason : "libunwind could not walk this stack") + ").");
  } else if (sample->unwind_error < 0) {
    AddPartial(report, "The native stack walk stopped early (libunwind error " + std::to_string(sample->unwind_error) +
                           ").");
  }
  if (sample->native_truncated || sample->js_count >= static_cast<uint32_t>(max_frames)) {
    AddPartial(report, CutNote(max_frames));
  }
  if (sample->js_count == 0 && report.state == VmState::kGc) AddPartial(report, kGcOnlyNote);
  if (sample->js_count == 0 && report.state == VmState::kOther) AddPartial(report, kNoJsNote);
  CapFrames(report, max_frames);
  return report;
}

void CapFrames(Report& report, int max_frames) {
  if (static_cast<int>(report.frames.size()) <= max_frames) return;
  report.frames.resize(static_cast<size_t>(max_frames));
  if (report.partial.find(CutNote(max_frames)) == std::string::npos) AddPartial(report, CutNote(max_frames));
}

size_t CountWalkJsFrames(const RawSample& sample, const CodeMap& code_map, NativeSymbolizer& symbolizer) {
  size_t count = 0;
  const uint32_t first = sample.signal_frame >= 0 ? static_cast<uint32_t>(sample.signal_frame) + 1 : 0;
  for (uint32_t i = first; i < sample.native_count; ++i) {
    const NativeEntry entry = Classify(sample.native[i], i == first, code_map, sample.code_events_stamp, symbolizer);
    if (entry.role == NativeEntry::Role::kJsCode && !entry.unknown_code) ++count;
  }
  return count;
}

}  // namespace stallwatch
