#include "code_events.h"

#include <v8-profiler.h>
#include <v8.h>

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stallwatch {
namespace {

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

class CodeEventListener::Handler : public v8::CodeEventHandler {
 public:
  Handler(v8::Isolate* isolate, std::shared_ptr<CodeMap> map, ApiCallbackCode* api_code)
      : v8::CodeEventHandler(isolate), isolate_(isolate), map_(std::move(map)), api_code_(api_code) {}

  // JIT code events of this isolate, on its JS thread. Installing the handler at all makes V8
  // log code and bytecode moves to every code event listener (and collect source positions
  // eagerly); the handler itself keeps only bytecode line tables (see code_map.h).
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
        break;
      default:
        break;
    }
  }

  void Handle(v8::CodeEvent* event) override {
    const uintptr_t start = event->GetCodeStartAddress();
    if (event->GetCodeType() == v8::kRelocationType) {
      map_->Move(event->GetPreviousCodeStartAddress(), start);
      return;
    }
    std::string name = ToUtf8(isolate_, event->GetFunctionName());
    if (name.empty() && event->GetComment() != nullptr) name = event->GetComment();
    const CodeKind kind = KindOf(event->GetCodeType());
    if (api_code_ != nullptr && kind == CodeKind::kBuiltin && ApiCallbackCode::IsApiCallbackBuiltin(name)) {
      api_code_->Add(start, event->GetCodeSize());
    }
    map_->Add(start, event->GetCodeSize(), kind, std::move(name),
              ToUtf8(isolate_, event->GetScriptName()), event->GetScriptLine(), event->GetScriptColumn());
  }

 private:
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

void OnJitCodeEvent(const v8::JitCodeEvent* event) {
  CodeEventListener::Handler* handler = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_jit_handlers_mutex);
    auto it = JitHandlers().find(event->isolate);
    if (it != JitHandlers().end()) handler = it->second;
  }
  // Events come on the isolate's JS thread, which is also the only one that destroys its
  // listener: the handler cannot go away under us.
  if (handler != nullptr) handler->OnJitEvent(event);
}

}  // namespace

CodeEventListener::CodeEventListener(v8::Isolate* isolate, std::shared_ptr<CodeMap> map, ApiCallbackCode* api_code)
    : handler_(new Handler(isolate, std::move(map), api_code)), isolate_(isolate) {
  v8::HandleScope scope(isolate);
  {
    std::lock_guard<std::mutex> lock(g_jit_handlers_mutex);
    JitHandlers()[isolate] = handler_.get();
  }
  isolate->SetJitCodeEventHandler(v8::kJitCodeEventDefault, OnJitCodeEvent);
  installed_jit_handler_ = true;
  handler_->Enable();
}

CodeEventListener::~CodeEventListener() {
  handler_->Disable();
  if (installed_jit_handler_) isolate_->SetJitCodeEventHandler(v8::kJitCodeEventDefault, nullptr);
  std::lock_guard<std::mutex> lock(g_jit_handlers_mutex);
  auto it = JitHandlers().find(isolate_);
  if (it != JitHandlers().end() && it->second == handler_.get()) JitHandlers().erase(it);
}

}  // namespace stallwatch
