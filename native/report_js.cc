#include "report_js.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include <unistd.h>

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

// Builds one plain object; the first failed call makes every later one a no-op.
class ObjectBuilder {
 public:
  explicit ObjectBuilder(napi_env env) : env_(env) { ok_ = napi_create_object(env, &object_) == napi_ok; }
  ObjectBuilder& String(const char* key, const std::string& value) {
    napi_value v = nullptr;
    if (ok_) ok_ = napi_create_string_utf8(env_, value.data(), value.size(), &v) == napi_ok;
    return Value(key, v);
  }
  ObjectBuilder& Number(const char* key, double value) {
    napi_value v = nullptr;
    if (ok_) ok_ = napi_create_double(env_, value, &v) == napi_ok;
    return Value(key, v);
  }
  ObjectBuilder& Value(const char* key, napi_value v) {
    if (ok_) ok_ = v != nullptr && napi_set_named_property(env_, object_, key, v) == napi_ok;
    return *this;
  }
  napi_value Finish() const { return ok_ ? object_ : nullptr; }

 private:
  napi_env env_;
  napi_value object_ = nullptr;
  bool ok_ = false;
};

napi_value FrameToJs(napi_env env, const Frame& f) {
  ObjectBuilder o(env);
  o.String("kind", FrameKindName(f.kind)).String("name", f.name);
  if (!f.file.empty()) o.String("file", f.file);
  if (f.line > 0) o.Number("line", f.line);
  if (f.column > 0) o.Number("column", f.column);
  if (f.function_line > 0) o.Number("functionLine", f.function_line);
  if (!f.module.empty()) o.String("module", f.module);
  if (f.address != 0) o.String("address", HexAddress(f.address));
  return o.Finish();
}

}  // namespace

napi_value FramesToJs(napi_env env, const std::vector<Frame>& frames);

napi_value ThreadsToJs(napi_env env, const ThreadDump& dump) {
  napi_value array = nullptr;
  if (napi_create_array_with_length(env, dump.threads.size(), &array) != napi_ok) return nullptr;
  for (size_t i = 0; i < dump.threads.size(); ++i) {
    const ThreadStack& t = dump.threads[i];
    ObjectBuilder o(env);
    o.Number("tid", static_cast<double>(t.tid)).String("name", t.name);
    if (!t.role.empty()) o.String("role", t.role);
    if (!t.run_state.empty()) o.String("runState", t.run_state);
    if (t.thread_id >= 0) o.Number("threadId", t.thread_id);
    o.Value("frames", FramesToJs(env, t.frames));
    if (!t.partial.empty()) o.String("partial", t.partial);
    napi_value value = o.Finish();
    if (value == nullptr || napi_set_element(env, array, static_cast<uint32_t>(i), value) != napi_ok) return nullptr;
  }
  return array;
}

napi_value ThreadDumpToJs(napi_env env, const ThreadDump& dump) {
  ObjectBuilder o(env);
  o.Number("pid", static_cast<double>(getpid())).Number("capturedAt", dump.captured_at_ms).Value("threads", ThreadsToJs(env, dump));
  if (!dump.partial.empty()) o.String("partial", dump.partial);
  return o.Finish();
}

napi_value StarvationToJs(napi_env env, const StarvationReport& r) {
  ObjectBuilder o(env);
  o.Number("threadId", r.thread_id);
  if (!r.thread_name.empty()) o.String("threadName", r.thread_name);
  o.Number("tid", static_cast<double>(r.tid))
      .Number("pid", static_cast<double>(r.pid))
      .Number("waitingMs", r.waiting_ms)
      .Number("requestsInFlight", r.requests_in_flight)
      .Number("capturedAt", r.captured_at_ms);
  if (r.all_threads) o.Value("threads", ThreadsToJs(env, *r.all_threads));
  if (!r.partial.empty()) o.String("partial", r.partial);
  return o.Finish();
}

napi_value ReportToJs(napi_env env, const Report& r, uint32_t suppressed) {
  napi_value frames = FramesToJs(env, r.frames);
  if (frames == nullptr) return nullptr;
  ObjectBuilder o(env);
  o.Number("threadId", r.thread_id);
  if (!r.thread_name.empty()) o.String("threadName", r.thread_name);
  o.Number("tid", static_cast<double>(r.tid))
      .Number("pid", static_cast<double>(r.pid))
      .Number("blockedMs", r.blocked_ms)
      .Number("capturedAt", r.captured_at_ms)
      .String("state", VmStateName(r.state))
      .Value("frames", frames);
  if (!r.partial.empty()) o.String("partial", r.partial);
  if (suppressed > 0) o.Number("suppressed", suppressed);
  if (r.all_threads) o.Value("threads", ThreadsToJs(env, *r.all_threads));
  return o.Finish();
}

napi_value FramesToJs(napi_env env, const std::vector<Frame>& frames) {
  napi_value array = nullptr;
  if (napi_create_array_with_length(env, frames.size(), &array) != napi_ok) return nullptr;
  for (size_t i = 0; i < frames.size(); ++i) {
    napi_value frame = FrameToJs(env, frames[i]);
    if (frame == nullptr || napi_set_element(env, array, static_cast<uint32_t>(i), frame) != napi_ok) return nullptr;
  }
  return array;
}

napi_value ProfileToJs(napi_env env, const StallProfile& p) {
  napi_value stacks = nullptr;
  if (napi_create_array_with_length(env, p.stacks.size(), &stacks) != napi_ok) return nullptr;
  for (size_t i = 0; i < p.stacks.size(); ++i) {
    ObjectBuilder stack(env);
    stack.Value("frames", FramesToJs(env, p.stacks[i].frames)).Number("count", static_cast<double>(p.stacks[i].count));
    napi_value value = stack.Finish();
    if (value == nullptr || napi_set_element(env, stacks, static_cast<uint32_t>(i), value) != napi_ok) return nullptr;
  }
  ObjectBuilder o(env);
  o.Number("intervalMs", p.interval_ms)
      .Number("startedAt", p.started_at_ms)
      .Number("endedAt", p.ended_at_ms)
      .Number("samples", static_cast<double>(p.samples))
      .Value("stacks", stacks);
  return o.Finish();
}

napi_value UnblockedToJs(napi_env env, const UnblockedEvent& e) {
  ObjectBuilder o(env);
  o.Number("threadId", e.thread_id);
  if (!e.thread_name.empty()) o.String("threadName", e.thread_name);
  o.Number("tid", static_cast<double>(e.tid)).Number("pid", static_cast<double>(e.pid)).Number("blockedMs", e.blocked_ms);
  if (e.profile) o.Value("profile", ProfileToJs(env, *e.profile));
  return o.Finish();
}

namespace {

std::vector<Frame> FramesFromJs(const Napi::Value& frames) {
  std::vector<Frame> out;
  if (!frames.IsArray()) return out;
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
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

UnblockedEvent UnblockedFromJs(const Napi::Object& o) {
  UnblockedEvent e;
  e.thread_id = static_cast<int>(NumberField(o, "threadId"));
  e.thread_name = StringField(o, "threadName");
  e.tid = static_cast<int64_t>(NumberField(o, "tid"));
  e.pid = static_cast<int64_t>(NumberField(o, "pid"));
  e.blocked_ms = NumberField(o, "blockedMs");
  Napi::Value profile = o.Get("profile");
  if (profile.IsObject()) {
    Napi::Object po = profile.As<Napi::Object>();
    auto p = std::make_shared<StallProfile>();
    p->interval_ms = NumberField(po, "intervalMs");
    p->started_at_ms = NumberField(po, "startedAt");
    p->ended_at_ms = NumberField(po, "endedAt");
    p->samples = static_cast<uint64_t>(NumberField(po, "samples"));
    Napi::Value stacks = po.Get("stacks");
    if (stacks.IsArray()) {
      Napi::Array a = stacks.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Value v = a.Get(i);
        if (!v.IsObject()) continue;
        Napi::Object so = v.As<Napi::Object>();
        p->stacks.push_back({FramesFromJs(so.Get("frames")), static_cast<uint64_t>(NumberField(so, "count"))});
      }
    }
    e.profile = p;
  }
  return e;
}

StarvationReport StarvationFromJs(const Napi::Object& o) {
  StarvationReport r;
  r.thread_id = static_cast<int>(NumberField(o, "threadId"));
  r.thread_name = StringField(o, "threadName");
  r.tid = static_cast<int64_t>(NumberField(o, "tid"));
  r.pid = static_cast<int64_t>(NumberField(o, "pid"));
  r.waiting_ms = NumberField(o, "waitingMs");
  r.requests_in_flight = static_cast<uint32_t>(NumberField(o, "requestsInFlight"));
  r.captured_at_ms = NumberField(o, "capturedAt");
  r.partial = StringField(o, "partial");
  if (o.Get("threads").IsArray()) r.all_threads = std::make_shared<ThreadDump>(ThreadDumpFromJs(o));
  return r;
}

ThreadDump ThreadDumpFromJs(const Napi::Object& o) {
  ThreadDump dump;
  dump.captured_at_ms = NumberField(o, "capturedAt");
  dump.partial = StringField(o, "partial");
  Napi::Value threads = o.Get("threads");
  if (!threads.IsArray()) return dump;
  Napi::Array a = threads.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value v = a.Get(i);
    if (!v.IsObject()) continue;
    Napi::Object to = v.As<Napi::Object>();
    ThreadStack t;
    t.tid = static_cast<int64_t>(NumberField(to, "tid"));
    t.name = StringField(to, "name");
    t.role = StringField(to, "role");
    t.run_state = StringField(to, "runState");
    t.thread_id = to.Get("threadId").IsNumber() ? static_cast<int>(NumberField(to, "threadId")) : -1;
    t.frames = FramesFromJs(to.Get("frames"));
    t.partial = StringField(to, "partial");
    dump.threads.push_back(std::move(t));
  }
  return dump;
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
  r.frames = FramesFromJs(o.Get("frames"));
  if (o.Get("threads").IsArray()) r.all_threads = std::make_shared<ThreadDump>(ThreadDumpFromJs(o));
  return r;
}

}  // namespace stallwatch
