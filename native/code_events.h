// Feeds a CodeMap from one isolate's code events: names, moves and bytecode line tables from the
// JIT code event handler (V8 11 on); on V8 10, names and moves from v8::CodeEventHandler and line
// tables from the JIT code event handler. Why not v8::CodeEventHandler everywhere: code_events.cc.
#pragma once

#include <memory>

#include "code_map.h"
#include "js_sample.h"

namespace v8 {
class Isolate;
struct JitCodeEvent;
}

namespace stallwatch {

// The JIT code event callbacks, also offered to other copies of stallwatch (peer_copies.h).
// The one installed: serves this copy's listener of event->isolate and every other copy's.
void OnJitCodeEvent(const v8::JitCodeEvent* event);
// This copy's listener of event->isolate only, if there is one.
void DeliverJitCodeEvent(const v8::JitCodeEvent* event);
// Whether this copy has a listener on `isolate`.
bool ListensToCodeEvents(v8::Isolate* isolate);

class CodeEventListener {
 public:
  // Enables V8's code event logging for `isolate` into `map`. Logs all existing code first
  // (milliseconds in a fresh process, more with a large heap). The API callback builtins
  // also go to `api_code` (may be null), which must outlive the listener.
  CodeEventListener(v8::Isolate* isolate, std::shared_ptr<CodeMap> map, ApiCallbackCode* api_code = nullptr);
  // JS thread, before the isolate is disposed.
  ~CodeEventListener();
  CodeEventListener(const CodeEventListener&) = delete;
  CodeEventListener& operator=(const CodeEventListener&) = delete;

  class Handler;     // code_events.cc; public so the JIT event callback can reach it
  class NameSource;  // code_events.cc, V8 10 only

 private:
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<NameSource> names_;  // V8 10 only
  v8::Isolate* isolate_;
  bool installed_jit_handler_ = false;
};

}  // namespace stallwatch
