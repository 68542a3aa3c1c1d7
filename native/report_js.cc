#include "report_js.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace stallwatch {
namespace {

std::string HexAddress(uintptr_t address) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%" PRIxPTR, address);
  return buf;
}

FrameKind FrameKindFrom(const std::string& s) {
  if (s == "js") return FrameKind::kJs;
  if (s == "v8") return FrameKind::kV8;
  return FrameKind::kNative;
}

VmState VmStateFrom(const std::string& s) {
  if (s == "js") return VmState::kJs;
  if (s == "gc") return VmState::kGc;
  if (s == "compiler") return VmState::kCompiler;
  if (s == "native") return VmState::kNative;
  if (s == "atomics-wait") return VmState::kAtomicsWait;
  return VmState::kOther;
}

std::string StringField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

double NumberField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0;
}

}  // namespace

Napi::Object ReportToJs(Napi::Env env, const Report& r, uint32_t suppressed) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("threadId", r.thread_id);
  if (!r.thread_name.empty()) o.Set("threadName", r.thread_name);
  o.Set("tid", static_cast<double>(r.tid));
  o.Set("pid", static_cast<double>(r.pid));
  o.Set("blockedMs", r.blocked_ms);
  o.Set("capturedAt", r.captured_at_ms);
  o.Set("state", VmStateName(r.state));
  Napi::Array frames = Napi::Array::New(env, r.frames.size());
  for (size_t i = 0; i < r.frames.size(); ++i) {
    const Frame& f = r.frames[i];
    Napi::Object fo = Napi::Object::New(env);
    fo.Set("kind", FrameKindName(f.kind));
    fo.Set("name", f.name);
    if (!f.file.empty()) fo.Set("file", f.file);
    if (f.line > 0) fo.Set("line", f.line);
    if (f.column > 0) fo.Set("column", f.column);
    if (f.function_line > 0) fo.Set("functionLine", f.function_line);
    if (!f.module.empty()) fo.Set("module", f.module);
    if (f.address != 0) fo.Set("address", HexAddress(f.address));
    frames.Set(static_cast<uint32_t>(i), fo);
  }
  o.Set("frames", frames);
  if (!r.partial.empty()) o.Set("partial", r.partial);
  if (suppressed > 0) o.Set("suppressed", suppressed);
  return o;
}

Napi::Object UnblockedToJs(Napi::Env env, const UnblockedEvent& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("threadId", e.thread_id);
  if (!e.thread_name.empty()) o.Set("threadName", e.thread_name);
  o.Set("tid", static_cast<double>(e.tid));
  o.Set("pid", static_cast<double>(e.pid));
  o.Set("blockedMs", e.blocked_ms);
  return o;
}

Report ReportFromJs(const Napi::Object& o) {
  Report r;
  r.thread_id = static_cast<int>(NumberField(o, "threadId"));
  r.thread_name = StringField(o, "threadName");
  r.tid = static_cast<int64_t>(NumberField(o, "tid"));
  r.pid = static_cast<int64_t>(NumberField(o, "pid"));
  r.blocked_ms = NumberField(o, "blockedMs");
  r.captured_at_ms = NumberField(o, "capturedAt");
  r.state = VmStateFrom(StringField(o, "state"));
  r.partial = StringField(o, "partial");
  r.suppressed = static_cast<uint32_t>(NumberField(o, "suppressed"));
  Napi::Value frames = o.Get("frames");
  if (frames.IsArray()) {
    Napi::Array a = frames.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value v = a.Get(i);
      if (!v.IsObject()) continue;
      Napi::Object fo = v.As<Napi::Object>();
      Frame f;
      f.kind = FrameKindFrom(StringField(fo, "kind"));
      f.name = StringField(fo, "name");
      f.file = StringField(fo, "file");
      f.line = static_cast<int>(NumberField(fo, "line"));
      f.column = static_cast<int>(NumberField(fo, "column"));
      f.function_line = static_cast<int>(NumberField(fo, "functionLine"));
      f.module = StringField(fo, "module");
      const std::string address = StringField(fo, "address");
      f.address = address.empty() ? 0 : static_cast<uintptr_t>(strtoull(address.c_str(), nullptr, 16));
      r.frames.push_back(std::move(f));
    }
  }
  return r;
}

}  // namespace stallwatch
