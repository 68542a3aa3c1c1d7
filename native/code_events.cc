#include "code_events.h"

#include <v8-profiler.h>
#include <v8.h>

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

// Installed only so that V8 logs code and bytecode moves to every code event listener
// (it does so only while something listens for JIT code events). It does no work.
void IgnoreJitCodeEvent(const v8::JitCodeEvent*) {}

}  // namespace

class CodeEventListener::Handler : public v8::CodeEventHandler {
 public:
  Handler(v8::Isolate* isolate, std::shared_ptr<CodeMap> map, ApiCallbackCode* api_code)
      : v8::CodeEventHandler(isolate), isolate_(isolate), map_(std::move(map)), api_code_(api_code) {}

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
  v8::Isolate* isolate_;
  std::shared_ptr<CodeMap> map_;
  ApiCallbackCode* api_code_;
};

CodeEventListener::CodeEventListener(v8::Isolate* isolate, std::shared_ptr<CodeMap> map, ApiCallbackCode* api_code)
    : handler_(new Handler(isolate, std::move(map), api_code)), isolate_(isolate) {
  v8::HandleScope scope(isolate);
  isolate->SetJitCodeEventHandler(v8::kJitCodeEventDefault, IgnoreJitCodeEvent);
  installed_jit_handler_ = true;
  handler_->Enable();
}

CodeEventListener::~CodeEventListener() {
  handler_->Disable();
  if (installed_jit_handler_) isolate_->SetJitCodeEventHandler(v8::kJitCodeEventDefault, nullptr);
}

}  // namespace stallwatch
