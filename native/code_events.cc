#include "code_events.h"

#include <v8-profiler.h>
#include <v8.h>

#include "jit_code_name.h"
#include "peer_copies.h"

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

// Where names come from. V8 10 (Node 18): v8::CodeEventHandler, whose events carry names as
// V8 strings. V8 11 on (Node 20-24): the JIT code event handler alone, because a
// v8::CodeEventHandler installed there can crash the process: V8's listener behind it
// (ExternalLogEventListener::CodeMoveEvent) reads the Code object of every InstructionStream a
// compacting GC moves, including one still being built (allocated, its Code not yet linked),
// and faults on a GC thread. Seen on Node 24, whose Sparkplug compiles on background threads
// (1 run in ~20 of the churn and compaction fixtures); the unguarded read is in Node 20's and
// 22's V8 too. The JIT logger checks for exactly that case (JitLogger::CodeMoveEvent skips a
// stream without Code: no event was ever sent for it), and its events carry the same names, as
// text (jit_code_name.h).
#if V8_MAJOR_VERSION >= 11
#define STALLWATCH_NAMES_FROM_JIT_EVENTS 1
#else
#define STALLWATCH_NAMES_FROM_JIT_EVENTS 0
#endif

namespace stallwatch {
namespace {

#if !STALLWATCH_NAMES_FROM_JIT_EVENTS
std::string ToUtf8(v8::Isolate* isolate, v8::Local<v8::String> s) {
  if (s.IsEmpty()) return std::string();
  v8::String::Utf8Value utf8(isolate, s);
  return *utf8 ? std::string(*utf8, utf8.length()) : std::string();
}

CodeKind KindOf(v8::CodeEventType type) {
  switch (type) {
    case v8::kFunctionType:
    case v8::kInterpretedFunctionType:
    case v8::kLazyCompileType:
    case v8::kEvalType:
    case v8::kScriptType: return CodeKind::kJsFunction;
    case v8::kBuiltinType:
    case v8::kBytecodeHandlerType:
    case v8::kHandlerType:
    case v8::kStubType: return CodeKind::kBuiltin;
    case v8::kRegExpType: return CodeKind::kRegExp;
    default: return CodeKind::kOther;
  }
}
#endif

// Where V8 reports a bytecode's positions relative to its code event (checked per major by
// test/call-lines.test.js): after it in V8 10 (Node 18), before it from V8 11 on.
#if V8_MAJOR_VERSION >= 11
constexpr CodeMap::LinesOrder kLinesOrder = CodeMap::LinesOrder::kBeforeCodeEvent;
#else
constexpr CodeMap::LinesOrder kLinesOrder = CodeMap::LinesOrder::kAfterCodeEvent;
#endif

// One source position reported for a bytecode offset (JitCodeEvent line info).
struct RawPosition {
  uint32_t offset;
  int position;  // character offset in the script
};

}  // namespace

class CodeEventListener::Handler {
 public:
  Handler(v8::Isolate* isolate, std::shared_ptr<CodeMap> map, ApiCallbackCode* api_code)
      : isolate_(isolate), map_(std::move(map)), api_code_(api_code) {}

  // JIT code events of this isolate: on its JS thread, except moves, which a GC may log from its
  // helper threads while the JS thread waits for them. From V8 11 on they name all code (see
  // STALLWATCH_NAMES_FROM_JIT_EVENTS); before, they give bytecode line tables only (see
  // code_map.h), and installing the handler makes V8 collect source positions eagerly.
  void OnJitEvent(const v8::JitCodeEvent* event) {
    switch (event->type) {
      case v8::JitCodeEvent::CODE_START_LINE_INFO_RECORDING:
        // V8 hands back whatever user_data holds after this call with each position and at the
        // end: the documented way to collect one table per code object. V8 does not initialize
        // it, so it must be set on every start, to nullptr for code whose lines we do not keep
        // (optimized code), or garbage comes back with that code's positions.
        const_cast<v8::JitCodeEvent*>(event)->user_data =
            event->code_type == v8::JitCodeEvent::BYTE_CODE ? new std::vector<RawPosition>() : nullptr;
        break;
      case v8::JitCodeEvent::CODE_ADD_LINE_POS_INFO:
        if (event->user_data != nullptr) {
          static_cast<std::vector<RawPosition>*>(event->user_data)
              ->push_back(RawPosition{static_cast<uint32_t>(event->line_info.offset),
                                      static_cast<int>(event->line_info.pos)});
        }
        break;
      case v8::JitCodeEvent::CODE_END_LINE_INFO_RECORDING: {
        std::unique_ptr<std::vector<RawPosition>> positions(static_cast<std::vector<RawPosition>*>(event->user_data));
        if (positions != nullptr && event->code_type == v8::JitCodeEvent::BYTE_CODE) {
          ended_start_ = reinterpret_cast<uintptr_t>(event->code_start);
          ended_ = std::move(positions);
        }
        break;
      }
      case v8::JitCodeEvent::CODE_ADDED:
        // The positions end right before this JIT event for the same bytecode; the code map
        // pairs the table with the adjacent code event on the side kLinesOrder says.
        if (event->code_type == v8::JitCodeEvent::BYTE_CODE && ended_ != nullptr &&
            ended_start_ == reinterpret_cast<uintptr_t>(event->code_start) && !event->script.IsEmpty()) {
          map_->OfferLines(ended_start_, ToLines(event->script, *ended_), kLinesOrder);
        }
        ended_.reset();
#if STALLWATCH_NAMES_FROM_JIT_EVENTS
        AddJitCode(event);
#endif
        break;
#if STALLWATCH_NAMES_FROM_JIT_EVENTS
      case v8::JitCodeEvent::CODE_MOVED:
        map_->Move(reinterpret_cast<uintptr_t>(event->code_start), reinterpret_cast<uintptr_t>(event->new_code_start));
        break;
#endif
      default:
        break;
    }
  }

#if !STALLWATCH_NAMES_FROM_JIT_EVENTS
  // v8::CodeEventHandler's events (V8 10), on the JS thread; moves also on GC helper threads.
  void OnCodeEvent(v8::CodeEvent* event) {
    const uintptr_t start = event->GetCodeStartAddress();
    if (event->GetCodeType() == v8::kRelocationType) {
      map_->Move(event->GetPreviousCodeStartAddress(), start);
      return;
    }
    std::string name = ToUtf8(isolate_, event->GetFunctionName());
    if (name.empty() && event->GetComment() != nullptr) name = event->GetComment();
    AddCode(start, event->GetCodeSize(), KindOf(event->GetCodeType()), std::move(name),
            ToUtf8(isolate_, event->GetScriptName()), event->GetScriptLine(), event->GetScriptColumn());
  }
#endif

 private:
  void AddCode(uintptr_t start, size_t size, CodeKind kind, std::string name, std::string script, int line, int column) {
    if (api_code_ != nullptr && kind == CodeKind::kBuiltin && ApiCallbackCode::IsApiCallbackBuiltin(name)) {
      api_code_->Add(start, size);
    }
    map_->Add(start, size, kind, std::move(name), std::move(script), line, column);
  }

#if STALLWATCH_NAMES_FROM_JIT_EVENTS
  // Names new code from its JIT event. Runs inside V8's code logging, where V8 may not collect
  // garbage: only calls that do not allocate on the V8 heap (a handle, the script's name's
  // length; the name itself is read from the event's text). Code whose name does not parse is
  // still added, unnamed, so that no older entry at its address keeps naming it.
  void AddJitCode(const v8::JitCodeEvent* event) {
    size_t script_length = kNoScript;
    if (!event->script.IsEmpty()) {
      v8::HandleScope scope(isolate_);
      v8::Local<v8::Value> script_name = event->script->GetScriptName();
      script_length = !script_name.IsEmpty() && script_name->IsString() ? script_name.As<v8::String>()->Length() : 0;
    }
    JitCodeName parsed = ParseJitCodeName(std::string_view(event->name.str, event->name.len), script_length);
    AddCode(reinterpret_cast<uintptr_t>(event->code_start), event->code_len, parsed.kind, std::move(parsed.name),
            std::move(parsed.script), parsed.line, parsed.column);
  }
#endif

  // Positions to 1-based lines and columns, one row per bytecode offset (the last position
  // reported for an offset is the one V8 uses). The same conversion V8 makes for a code
  // event's line, in the same place.
  std::shared_ptr<const LineTable> ToLines(v8::Local<v8::UnboundScript> script, const std::vector<RawPosition>& raw) {
    v8::HandleScope scope(isolate_);
    auto table = std::make_shared<LineTable>();
    table->reserve(raw.size());
    int last_position = -1;
    LineTableRow last_row{0, 0, 0};
    for (const RawPosition& p : raw) {
      LineTableRow row{p.offset, last_row.line, last_row.column};
      if (p.position != last_position) {
        row.line = script->GetLineNumber(p.position) + 1;
#if V8_MAJOR_VERSION >= 11
        row.column = script->GetColumnNumber(p.position) + 1;
#else
        row.column = 0;  // V8 10 (Node 18) has no UnboundScript::GetColumnNumber: line only
#endif
        last_position = p.position;
      }
      if (!table->empty() && table->back().offset == row.offset) {
        table->back() = row;
      } else {
        table->push_back(row);
      }
      last_row = row;
    }
    table->shrink_to_fit();  // V8 reports most offsets twice (statement and expression)
    return table;
  }

  v8::Isolate* isolate_;
  std::shared_ptr<CodeMap> map_;
  ApiCallbackCode* api_code_;
  // JIT events (JS thread only): the positions of the bytecode whose line info just ended.
  uintptr_t ended_start_ = 0;
  std::unique_ptr<std::vector<RawPosition>> ended_;
};

namespace {

// JIT code event handlers are per isolate but take no closure: find the listener by isolate.
std::mutex g_jit_handlers_mutex;
std::unordered_map<v8::Isolate*, CodeEventListener::Handler*>& JitHandlers() {
  static auto* handlers = new std::unordered_map<v8::Isolate*, CodeEventListener::Handler*>();  // never freed
  return *handlers;
}

}  // namespace

void DeliverJitCodeEvent(const v8::JitCodeEvent* event) {
  CodeEventListener::Handler* handler = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_jit_handlers_mutex);
    auto it = JitHandlers().find(event->isolate);
    if (it != JitHandlers().end()) handler = it->second;
  }
  // Events come on the isolate's JS thread, which is also the only one that destroys its
  // listener, or (moves, V8 11 on) on GC helper threads while that JS thread waits inside the
  // GC: either way the handler cannot go away under us. The same holds when another copy of
  // stallwatch forwards the event: it comes on the same threads.
  if (handler != nullptr) handler->OnJitEvent(event);
}

void OnJitCodeEvent(const v8::JitCodeEvent* event) { PeerCopies::DispatchJitEvent(event, &DeliverJitCodeEvent); }

bool ListensToCodeEvents(v8::Isolate* isolate) {
  std::lock_guard<std::mutex> lock(g_jit_handlers_mutex);
  return JitHandlers().count(isolate) != 0;
}

#if !STALLWATCH_NAMES_FROM_JIT_EVENTS
// V8 10: v8::CodeEventHandler is where names and moves come from.
class CodeEventListener::NameSource : public v8::CodeEventHandler {
 public:
  NameSource(v8::Isolate* isolate, Handler* handler) : v8::CodeEventHandler(isolate), handler_(handler) {}
  void Handle(v8::CodeEvent* event) override { handler_->OnCodeEvent(event); }

 private:
  Handler* handler_;
};
#else
class CodeEventListener::NameSource {  // never made from V8 11 on
 public:
  void Disable() {}
};
#endif

CodeEventListener::CodeEventListener(v8::Isolate* isolate, std::shared_ptr<CodeMap> map, ApiCallbackCode* api_code)
    : handler_(new Handler(isolate, std::move(map), api_code)), isolate_(isolate) {
  v8::HandleScope scope(isolate);
  {
    std::lock_guard<std::mutex> lock(g_jit_handlers_mutex);
    JitHandlers()[isolate] = handler_.get();
  }
  // V8 keeps one JIT code event handler per isolate: ours replaces any other copy's, so it must
  // serve those copies too. Find them first.
  PeerCopies::Discover();
#if STALLWATCH_NAMES_FROM_JIT_EVENTS
  // Logs all existing code first (a heap walk: milliseconds, more with a large heap). V8 sends
  // that replay to every code event listener of the isolate, not only to this handler (a CPU
  // profiler running, --perf-basic-prof): to them it repeats what they were told already.
  isolate->SetJitCodeEventHandler(v8::kJitCodeEventEnumExisting, OnJitCodeEvent);
#else
  isolate->SetJitCodeEventHandler(v8::kJitCodeEventDefault, OnJitCodeEvent);
  names_.reset(new NameSource(isolate, handler_.get()));
  names_->Enable();  // logs all existing code to this handler first
#endif
  installed_jit_handler_ = true;
}

CodeEventListener::~CodeEventListener() {
  if (names_ != nullptr) names_->Disable();
  {
    std::lock_guard<std::mutex> lock(g_jit_handlers_mutex);
    auto it = JitHandlers().find(isolate_);
    if (it != JitHandlers().end() && it->second == handler_.get()) JitHandlers().erase(it);
  }
  // Whichever copy's handler is installed now, one that still listens takes over; only the last
  // copy to leave removes the handler.
  if (installed_jit_handler_) {
    isolate_->SetJitCodeEventHandler(v8::kJitCodeEventDefault, PeerCopies::SuccessorJitHandler(isolate_));
  }
}

}  // namespace stallwatch
