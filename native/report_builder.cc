#include "report_builder.h"

#include <cstring>

#include "js_sample.h"
#include "native_unwind.h"

namespace stallwatch {
namespace {

enum class NativeClass { kNative, kV8, kJsCode };

struct Classified {
  NativeClass cls;
  Frame frame;
};

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Native walk entries that stand for a JS frame are replaced by GetStackSample's JS frames:
// interpreter entry frames (one per interpreted JS frame) and JIT code of JS functions.
Classified Classify(uintptr_t pc, bool innermost, const CodeMap& code_map, uint64_t stamp,
                    NativeSymbolizer& symbolizer) {
  Classified c{NativeClass::kNative, Frame{}};
  c.frame.address = pc;
  // Return addresses point after the call instruction; name the call itself.
  const NativeSymbol sym = symbolizer.Resolve(innermost ? pc : pc - 1);
  if (sym.in_module) {
    c.frame.module = sym.module;
    c.frame.name = sym.name;
    if (StartsWith(sym.name, "Builtins_")) {
      c.cls = sym.name.find("InterpreterEntryTrampoline") != std::string::npos ? NativeClass::kJsCode : NativeClass::kV8;
      c.frame.kind = FrameKind::kV8;
    } else {
      c.frame.kind = FrameKind::kNative;
    }
    return c;
  }
  // Not in any mapped file: code V8 generated at run time.
  const CodeMap::Lookup code = code_map.Find(pc, stamp);
  c.frame.kind = FrameKind::kV8;
  if (!code.found || code.kind == CodeKind::kJsFunction) {
    c.cls = NativeClass::kJsCode;
  } else {
    c.cls = NativeClass::kV8;
    if (code.provable) c.frame.name = code.name;
  }
  return c;
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

}  // namespace

const char* const kGcOnlyNote = "Every sample landed in garbage collection, which shows no JS frames.";

void DropGcOnlyNote(Report& report) {
  const std::string note = kGcOnlyNote;
  const size_t at = report.partial.find(note);
  if (at == std::string::npos) return;
  report.partial.erase(at, note.size());
  while (!report.partial.empty() && report.partial.front() == ' ') report.partial.erase(0, 1);
  while (!report.partial.empty() && report.partial.back() == ' ') report.partial.pop_back();
}

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
  std::vector<Frame> js;
  int unknown = 0, unprovable = 0;
  uintptr_t first_js_code = 0;
  for (uint32_t i = 0; i < sample->js_count; ++i) {
    const CodeMap::Lookup code = code_map.Find(sample->js[i], sample->code_events_stamp);
    if (i == 0) first_js_code = code.start;
    if (!code.found) {
      ++unknown;
    } else if (!code.provable) {
      ++unprovable;
    }
    js.push_back(JsFrame(sample->js[i], code));
  }
  // GetStackSample drops the innermost frame when the signal lands in a JS function's own
  // optimized code (its frame is not fully set up or is treated as frameless there). The
  // interrupted pc itself says which code was running: if it is a JS function's code other
  // than the sample's first frame, that function is the innermost frame.
  const CodeMap::Lookup interrupted = code_map.Find(sample->regs.pc, sample->code_events_stamp);
  if (interrupted.found && interrupted.provable && interrupted.kind == CodeKind::kJsFunction &&
      interrupted.start != first_js_code && !symbolizer.Resolve(sample->regs.pc).in_module) {
    js.insert(js.begin(), JsFrame(sample->regs.pc, interrupted));
  }
  if (unknown > 0) {
    AddPartial(report, std::to_string(unknown) + " JS frame(s) are not in the code map, so they are unnamed.");
  }
  if (unprovable > 0) {
    AddPartial(report, std::to_string(unprovable) +
                           " JS frame(s) are unnamed: their code was created or moved after the sample was taken, "
                           "so a name could be wrong.");
  }

  bool js_placed = false;
  for (uint32_t i = 0; i < sample->native_count; ++i) {
    Classified c = Classify(sample->native[i], i == 0, code_map, sample->code_events_stamp, symbolizer);
    if (c.cls == NativeClass::kJsCode) {
      if (!js_placed) {
        report.frames.insert(report.frames.end(), js.begin(), js.end());
        js_placed = true;
      }
      continue;
    }
    report.frames.push_back(std::move(c.frame));
  }
  if (!js_placed) report.frames.insert(report.frames.end(), js.begin(), js.end());

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
    AddPartial(report, "The stack is deeper than maxFrames (" + std::to_string(max_frames) + ") and was cut.");
  }
  if (sample->js_count == 0 && report.state == VmState::kGc) AddPartial(report, kGcOnlyNote);
  if (static_cast<int>(report.frames.size()) > max_frames) report.frames.resize(static_cast<size_t>(max_frames));
  return report;
}

}  // namespace stallwatch
