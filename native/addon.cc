// Exports and per-environment state only. Each environment (the main thread, each worker)
// keeps its thread record in napi instance data and removes it in its cleanup hook, which
// Node runs before a worker's isolate is disposed.
#include <dlfcn.h>
#include <napi.h>
#include <unistd.h>
#include <v8.h>

#include <mutex>

#include "capture_stats.h"
#include "dwarf_lines.h"
#include "embedded_builtins.h"
#include "js_delivery.h"
#include "log_writer.h"
#include "native_unwind.h"
#include "node_environment.h"
#include "platform/platform.h"
#include "registry.h"
#include "report_format.h"
#include "report_js.h"
#include "reporter.h"
#include "signal_capture.h"
#include "slot_table.h"
#include "symbolize.h"
#include "thread_dump.h"
#include "watchdog.h"
#include "worker_coverage.h"

namespace stallwatch {
namespace {

struct EnvState {
  napi_env env = nullptr;
  std::shared_ptr<ThreadRecord> record;  // null while nothing is monitored on this thread
  bool cleanup_hook_added = false;
};

std::atomic<uint32_t> g_next_subscriber_id{0};

// A worker that loaded the addon and exits could otherwise unload this shared object while
// the watchdog and reporter threads still run its code.
void PinThisLibrary() {
  static std::once_flag once;
  std::call_once(once, [] {
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&PinThisLibrary), &info) != 0 && info.dli_fname != nullptr) {
      dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    }
  });
}

// Loop thread: the loop moved during an open stall episode.
void OnLoopProgress(void* data) {
  auto* record = static_cast<ThreadRecord*>(data);
  record->episode_end_ns.store(platform::MonotonicNs(), std::memory_order_release);
  HoldLoopForDelivery(*record);
  Registry::WakeWatchdog();
}

// The isolate's code range (JIT code; the builtins' copy, if any) and its embedded blob.
V8CodeRanges V8CodeOf(v8::Isolate* isolate) {
  V8CodeRanges ranges;
  void* code = nullptr;
  size_t code_length = 0;
  isolate->GetCodeRange(&code, &code_length);
  ranges.code_low = reinterpret_cast<uintptr_t>(code);
  ranges.code_high = ranges.code_low + code_length;
  const void* blob = nullptr;
  size_t blob_length = 0;
  isolate->GetEmbeddedCodeRange(&blob, &blob_length);
  ranges.blob_low = reinterpret_cast<uintptr_t>(blob);
  ranges.blob_high = ranges.blob_low + blob_length;
  return ranges;
}

std::shared_ptr<ThreadRecord> CreateRecord(napi_env env, int thread_id, const std::string& thread_name,
                                           std::string* error) {
  auto record = std::make_shared<ThreadRecord>();
  record->env = env;
  record->isolate = v8::Isolate::GetCurrent();
  if (record->isolate != nullptr) record->node_env = CurrentNodeEnvironment(record->isolate);
  if (napi_get_uv_event_loop(env, &record->loop) != napi_ok || record->loop == nullptr || record->isolate == nullptr) {
    *error = "stallwatch: could not get this thread's event loop or isolate";
    return nullptr;
  }
  record->pthread = pthread_self();
  record->tid = platform::CurrentTid();
  record->pid = getpid();
  record->thread_id = thread_id;
  // A covered worker cannot tell its own name on Node < 22.20: its parent recorded it
  // (nameThread) and forgets it when the worker exits, possibly before the reporter builds this
  // thread's last report. Keep it with the record from the start.
  record->thread_name = !thread_name.empty() || thread_id == 0 ? thread_name : WorkerCoverage::ThreadName(thread_id);
  record->code_map = std::make_shared<CodeMap>();
  record->spare_sample.store(new RawSample());

  NativeUnwinder::WarmUpThisThread();
  uintptr_t stack_low = 0, stack_high = 0;
  platform::CurrentThreadStack(&stack_low, &stack_high);
  {
    std::lock_guard<std::mutex> lock(Registry::mutex());
    CaptureSlot* slot = SlotTable::AcquireSlot();
    slot->tid = record->tid;
    slot->isolate = record->isolate;
    slot->stack_low = stack_low;
    slot->stack_high = stack_high;
    slot->code_events = record->code_map->event_counter();
    slot->v8_code = V8CodeOf(record->isolate);
    const int index = SlotTable::Claim(slot);
    if (index < 0) {
      SlotTable::RecycleSlot(slot);
      *error = "stallwatch: too many monitored threads (the limit is " + std::to_string(kMaxMonitoredThreads) + ")";
      return nullptr;
    }
    record->slot = slot;
    record->slot_index = index;
  }
  // Code events first: names of code compiled from now on are provable.
  record->code_listener =
      std::make_unique<CodeEventListener>(record->isolate, record->code_map, &record->slot->api_callbacks);
  // False leaves a builtin copy (if V8 runs one) unnamed: a report meeting it says so in `partial`.
  NameCopiedBuiltins(record->isolate, *record->code_map);
  if (!record->probe.Start(record->loop, OnLoopProgress, record.get()) || !CreateDeliveryChannel(env, record)) {
    *error = "stallwatch: could not attach to this thread's event loop";
    record->probe.Stop();
    record->code_listener.reset();
    std::lock_guard<std::mutex> lock(Registry::mutex());
    SlotTable::Release(record->slot_index);
    SlotTable::RecycleSlot(record->slot);
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(Registry::mutex());
  Registry::records().push_back(record);
  return record;
}

// JS thread. After this returns the watchdog never touches the thread again: it only
// evaluates and signals records that are alive, under the registry mutex, and a capture in
// flight holds that mutex until it is over.
void TeardownRecord(EnvState& state) {
  std::shared_ptr<ThreadRecord> record = std::move(state.record);
  if (!record) return;
  {
    std::lock_guard<std::mutex> lock(Registry::mutex());
    record->alive = false;
    SlotTable::Release(record->slot_index);
    // A slot whose handler never finished is leaked on purpose: it may still be written.
    if (!record->slot_abandoned) SlotTable::RecycleSlot(record->slot);
    record->slot = nullptr;
  }
  record->probe.Stop();
  record->code_listener.reset();
  CloseDeliveryChannel(*record);
  for (auto& [id, ref] : record->callbacks) napi_delete_reference(state.env, ref);
  record->callbacks.clear();
  Registry::WakeReporter();  // lets it drop the record from the table
}

void OnEnvCleanup(void* data) { TeardownRecord(*static_cast<EnvState*>(data)); }

void DeleteEnvState(napi_env, void* data, void*) { delete static_cast<EnvState*>(data); }

EnvState* GetEnvState(napi_env env) {
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) == napi_ok && data != nullptr) return static_cast<EnvState*>(data);
  auto* state = new EnvState();
  state->env = env;
  napi_set_instance_data(env, state, DeleteEnvState, nullptr);
  return state;
}

// Reads subscribe()'s config with raw N-API. In a worker being terminated, property reads fail
// (JS can no longer run) and node-addon-api's error path would abort the whole process; here a
// failed read just marks the reader broken, and the caller returns without subscribing.
class ConfigReader {
 public:
  ConfigReader(napi_env env, napi_value object) : env_(env), object_(object) {}
  bool broken() const { return broken_; }
  bool failed() const { return broken_ || thrown_; }

  napi_value Get(const char* key) {
    napi_value v = nullptr;
    if (!broken_ && napi_get_named_property(env_, object_, key, &v) != napi_ok) broken_ = true;
    return broken_ ? nullptr : v;
  }
  bool IsUndefined(const char* key) { return TypeOf(Get(key)) == napi_undefined; }
  bool Bool(const char* key) {
    napi_value v = Get(key);
    napi_value coerced = nullptr;
    bool result = false;
    if (v != nullptr && napi_coerce_to_bool(env_, v, &coerced) == napi_ok) napi_get_value_bool(env_, coerced, &result);
    return result;
  }
  bool String(napi_value v, std::string* out) {
    if (TypeOf(v) != napi_string) return false;
    size_t length = 0;
    if (napi_get_value_string_utf8(env_, v, nullptr, 0, &length) != napi_ok) return false;
    out->assign(length, '\0');
    return napi_get_value_string_utf8(env_, v, out->data(), length + 1, &length) == napi_ok;
  }
  // The TS layer validates options with precise messages; this re-checks cheaply so the
  // native side never runs on nonsense.
  int Int(const char* key, int min, int max) {
    napi_value v = Get(key);
    double d = 0;
    if (v == nullptr) return min;
    if (TypeOf(v) != napi_number || napi_get_value_double(env_, v, &d) != napi_ok) {
      Throw(napi_throw_type_error, std::string("stallwatch: ") + key + " must be a number");
      return min;
    }
    if (!(d >= min && d <= max)) {
      Throw(napi_throw_range_error, std::string("stallwatch: ") + key + " is out of range");
      return min;
    }
    return static_cast<int>(d);
  }
  int OptionalInt(const char* key, int min, int max) { return IsUndefined(key) ? 0 : Int(key, min, max); }
  napi_valuetype TypeOf(napi_value v) {
    napi_valuetype type = napi_undefined;
    if (v != nullptr) napi_typeof(env_, v, &type);
    return type;
  }
  void Throw(napi_status (*thrower)(napi_env, const char*, const char*), const std::string& message) {
    if (!thrown_) thrower(env_, nullptr, message.c_str());
    thrown_ = true;
  }

 private:
  napi_env env_;
  napi_value object_;
  bool broken_ = false;
  bool thrown_ = false;
};

// The TS layer validates options with precise messages; this re-checks cheaply so the
// native side never runs on nonsense.
Napi::Value Subscribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    napi_throw_type_error(env, nullptr, "stallwatch: subscribe(config, onEvent)");
    return env.Undefined();
  }
  ConfigReader config(env, info[0]);
  SubscriberConfig sub_config;
  sub_config.threshold_ms = config.Int("thresholdMs", 1, 3600000);
  sub_config.signo = config.Int("signal", 1, 64);
  sub_config.max_frames = config.Int("maxFrames", 1, kMaxCaptureFrames);
  sub_config.max_reports_per_minute = config.Int("maxReportsPerMinute", 1, 100000);
  const int thread_id = config.Int("threadId", 0, INT32_MAX);
  std::string thread_name;
  config.String(config.Get("threadName"), &thread_name);
  sub_config.watch_workers = config.Bool("watchWorkers");
  sub_config.sample_native = config.Bool("sampleNative");
  sub_config.sink = config.Bool("sink");
  sub_config.sample_interval_ms = config.OptionalInt("sampleIntervalMs", 0, 60000);
  sub_config.all_threads = config.Bool("allThreads");
  // A covered worker's first subscription: its record forwards from the start, so a stall
  // inside supervise() itself (code map set-up in a fresh worker) still reaches the parent.
  const bool forward = config.Bool("forward");
  sub_config.starvation_ms = config.OptionalInt("starvationMs", 0, 3600000);
  sub_config.terminate_after_ms = config.OptionalInt("terminateWorkerAfterMs", 0, 86400000);
  sub_config.abort_after_ms = config.OptionalInt("abortAfterMs", 0, 86400000);
  std::string format;
  const bool json = config.String(config.Get("logFormat"), &format) && format == "json";
  napi_value log = config.Get("log");
  std::string log_string;
  std::string error;
  if (config.String(log, &log_string) && log_string == "stderr") {
    sub_config.log = LogSink::Stderr(json);
  } else if (config.TypeOf(log) == napi_object) {
    ConfigReader log_config(env, log);
    std::string path;
    if (!log_config.String(log_config.Get("path"), &path)) {
      if (!log_config.broken()) config.Throw(napi_throw_type_error, "stallwatch: log.path must be a string");
      return env.Undefined();
    }
    double max_bytes = 0, keep = 5;
    napi_value max_bytes_value = log_config.Get("maxBytes");
    napi_value keep_value = log_config.Get("keep");
    if (log_config.TypeOf(max_bytes_value) == napi_number) napi_get_value_double(env, max_bytes_value, &max_bytes);
    if (log_config.TypeOf(keep_value) == napi_number) napi_get_value_double(env, keep_value, &keep);
    if (log_config.broken()) return env.Undefined();
    sub_config.log = LogSink::OpenFile(path, json, max_bytes > 0 ? static_cast<uint64_t>(max_bytes) : 0,
                                       keep < 1 ? 1 : static_cast<int>(keep), &error);
    if (!sub_config.log) {
      config.Throw(napi_throw_error, "stallwatch: " + error);
      return env.Undefined();
    }
  }
  if (config.failed()) return env.Undefined();
  if (sub_config.starvation_ms > 0 && !LoopProbe::StarvationWatchSupported()) {
    napi_throw_error(env, nullptr,
                     "stallwatch: option \"starvationMs\" needs libuv's uv_metrics_info (libuv 1.45, Node 20 or "
                     "newer); this Node's libuv does not have it");
    return env.Undefined();
  }

  PinThisLibrary();
  NativeUnwinder::Initialize();
  // Queued, not waited for: node's line tables load in the background before the first stall.
  DwarfLines::Prefetch(DwarfLines::kExecutable);
  SignalCapture::IntroduceToPeers(sub_config.signo);
  if (!SignalCapture::EnsureInstalled(sub_config.signo, &error)) {
    napi_throw_error(env, nullptr, ("stallwatch: cannot install the capture signal handler: " + error).c_str());
    return env.Undefined();
  }
  if (!Watchdog::EnsureStarted() || !Reporter::EnsureStarted()) {
    napi_throw_error(env, nullptr, "stallwatch: could not start its threads");
    return env.Undefined();
  }

  EnvState* state = GetEnvState(env);
  if (!state->cleanup_hook_added) {
    napi_add_env_cleanup_hook(env, OnEnvCleanup, state);
    state->cleanup_hook_added = true;
  }
  if (!state->record) {
    state->record = CreateRecord(env, thread_id, thread_name, &error);
    if (!state->record) {
      napi_throw_error(env, nullptr, error.c_str());
      return env.Undefined();
    }
  }

  auto subscriber = std::make_shared<Subscriber>();
  subscriber->id = ++g_next_subscriber_id;
  subscriber->config = sub_config;
  subscriber->recent_report_ns.assign(static_cast<size_t>(sub_config.max_reports_per_minute), 0);
  napi_ref callback = nullptr;
  napi_create_reference(env, info[1], 1, &callback);
  state->record->callbacks[subscriber->id] = callback;
  {
    std::lock_guard<std::mutex> lock(Registry::mutex());
    ThreadRecord& record = *state->record;
    if (sub_config.sample_interval_ms > 0 && record.profile_free.empty() && record.profile_ready.empty()) {
      // Preallocated here, on the JS thread: the watchdog never allocates.
      record.profile_free.reserve(kProfileBuffers);
      record.profile_ready.reserve(kProfileBuffers);
      for (size_t i = 0; i < kProfileBuffers; ++i) record.profile_free.push_back(new RawSample());
    }
    record.subscribers.push_back(subscriber);
    if (forward) record.forward = true;
  }
  if (sub_config.starvation_ms > 0) state->record->probe.EnableStarvationWatch();
  Registry::WakeWatchdog();
  return Napi::Number::New(env, subscriber->id);
}

Napi::Value Unsubscribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "stallwatch: unsubscribe(id)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  EnvState* state = GetEnvState(env);
  if (!state->record) return Napi::Boolean::New(env, false);
  ThreadRecord& record = *state->record;
  auto it = record.callbacks.find(id);
  if (it == record.callbacks.end()) return Napi::Boolean::New(env, false);
  napi_delete_reference(env, it->second);
  record.callbacks.erase(it);
  bool now_empty = false;
  {
    std::lock_guard<std::mutex> lock(Registry::mutex());
    auto& subs = record.subscribers;
    for (auto s = subs.begin(); s != subs.end(); ++s) {
      if ((*s)->id == id) {
        subs.erase(s);
        break;
      }
    }
    now_empty = subs.empty();
  }
  if (now_empty) TeardownRecord(*state);
  return Napi::Boolean::New(env, true);
}

// Marks the calling thread as a covered worker: its reports also go to workers:true watchers.
Napi::Value ForwardThisThread(const Napi::CallbackInfo& info) {
  EnvState* state = GetEnvState(info.Env());
  if (!state->record) return Napi::Boolean::New(info.Env(), false);
  std::lock_guard<std::mutex> lock(Registry::mutex());
  state->record->forward = true;
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value SetWorkerDefaults(const Napi::CallbackInfo& info) {
  WorkerCoverage::SetDefaults(info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "");
  return info.Env().Undefined();
}

Napi::Value WorkerDefaults(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), WorkerCoverage::Defaults());
}

Napi::Value NameThread(const Napi::CallbackInfo& info) {
  if (info.Length() >= 2 && info[0].IsNumber() && info[1].IsString()) {
    WorkerCoverage::NameThread(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::String>().Utf8Value());
  }
  return info.Env().Undefined();
}

// Main side of `reporter`: the subscriber's events also go to the reporter worker's sink.
Napi::Value SetReporterSink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) return Napi::Boolean::New(env, false);
  const uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  const uint32_t sink = info[1].As<Napi::Number>().Uint32Value();
  std::lock_guard<std::mutex> lock(Registry::mutex());
  for (auto& rec : Registry::records()) {
    for (auto& sub : rec->subscribers) {
      if (sub->id == id) {
        sub->sink_id = sink;
        return Napi::Boolean::New(env, true);
      }
    }
  }
  return Napi::Boolean::New(env, false);
}

// Reporter worker side: its handler has finished with one report.
Napi::Value SinkAcknowledge(const Napi::CallbackInfo& info) {
  Reporter::SinkAcknowledged();
  return info.Env().Undefined();
}

// Called from 'beforeExit': the loop ran out of work. Counts as progress (closing an open
// stall episode) and, if that episode's events are still to come, keeps the loop alive
// until they are delivered.
Napi::Value MarkProgress(const Napi::CallbackInfo& info) {
  EnvState* state = GetEnvState(info.Env());
  if (state->record) state->record->probe.MarkProgress();
  return info.Env().Undefined();
}

Napi::Value FormatReport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "stallwatch: formatReport(report) needs a report object").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::String::New(env, FormatReportText(ReportFromJs(info[0].As<Napi::Object>())));
}

// dumpThreads(signo, maxFrames): every thread's native stack, now. Runs on the calling JS
// thread, which is held for as long as the walks take (each other thread is frozen only for
// its own walk). The TS layer validates the arguments.
Napi::Value DumpThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "stallwatch: dumpThreads(signo, maxFrames)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // One symbolizer for every dumpThreads() call in the process (its tables are large); the
  // reporter thread has its own.
  static std::mutex symbolizer_mutex;
  static NativeSymbolizer* symbolizer = new NativeSymbolizer();  // process lifetime
  ThreadDump dump;
  {
    std::lock_guard<std::mutex> lock(symbolizer_mutex);
    symbolizer->BeginReport();
    dump = ThreadDumper::DumpAll(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                                 *symbolizer);
  }
  napi_value result = ThreadDumpToJs(env, dump);
  if (result == nullptr) return env.Undefined();
  return Napi::Value(env, result);
}

// onStall hooks (reporter worker): terminate the stalled worker a report came from.
Napi::Value TerminateStalledWorker(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "stallwatch: terminateStalledWorker(tid)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::String::New(env, Watchdog::TerminateStalledWorker(info[0].As<Napi::Number>().Int64Value()));
}

// onStall hooks: abort() for a core dump, once the log has what was queued (bounded).
Napi::Value AbortProcess(const Napi::CallbackInfo& info) {
  LogWriter::Flush(2000);
  abort();
  return info.Env().Undefined();
}

// formatLogEntry(kind, entry): the text log entry of an 'unblocked' event or a starvation
// report, as the text log writes it (stallwatch format uses it for JSON logs).
Napi::Value FormatLogEntry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
    Napi::TypeError::New(env, "stallwatch: formatLogEntry(kind, entry)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const std::string kind = info[0].As<Napi::String>().Utf8Value();
  const Napi::Object entry = info[1].As<Napi::Object>();
  if (kind == "unblocked") return Napi::String::New(env, FormatUnblockedText(UnblockedFromJs(entry)));
  if (kind == "starvation") return Napi::String::New(env, FormatStarvationText(StarvationFromJs(entry)));
  Napi::RangeError::New(env, "stallwatch: formatLogEntry() kind must be \"unblocked\" or \"starvation\"")
      .ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value FormatThreadDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "stallwatch: formatThreadDump(dump) needs a thread dump object").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::String::New(env, FormatThreadDumpText(ThreadDumpFromJs(info[0].As<Napi::Object>())));
}

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NativeUnwinder::Initialize();
  Napi::Object o = Napi::Object::New(env);
#if defined(__linux__)
  o.Set("platform", "linux");
#elif defined(__APPLE__)
  o.Set("platform", "darwin");
#endif
#if defined(__x86_64__)
  o.Set("arch", "x64");
#elif defined(__aarch64__)
  o.Set("arch", "arm64");
#endif
  o.Set("libunwind", NativeUnwinder::HasLibunwind());
  if (const char* reason = NativeUnwinder::UnavailableReason()) o.Set("libunwindReason", reason);
  const char* no_lines = DwarfLines::CheckAvailable();
  o.Set("sourceLines", no_lines == nullptr);
  if (no_lines != nullptr) o.Set("sourceLinesReason", no_lines);
  int rtmin = 0, rtmax = 0;
  if (platform::RealtimeSignalRange(&rtmin, &rtmax)) {
    o.Set("sigrtmin", rtmin);
    o.Set("sigrtmax", rtmax);
  }
  return o;
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint64_t> handler, signal_to_sample;
  uint64_t samples = 0, failures = 0, tail_replays = 0;
  {
    std::lock_guard<std::mutex> lock(Registry::mutex());
    const CaptureStats& stats = TheCaptureStats();
    handler = stats.handler_ns;
    signal_to_sample = stats.signal_to_sample_ns;
    samples = stats.samples;
    failures = stats.failures;
    tail_replays = stats.tail_replays;
  }
  auto to_array = [&](const std::vector<uint64_t>& values) {
    Napi::Array a = Napi::Array::New(env, values.size());
    for (size_t i = 0; i < values.size(); ++i) a.Set(static_cast<uint32_t>(i), static_cast<double>(values[i]));
    return a;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("samples", static_cast<double>(samples));
  o.Set("failedSignals", static_cast<double>(failures));
  o.Set("tailReplays", static_cast<double>(tail_replays));
  o.Set("liveThreadRecords", static_cast<double>(ThreadRecord::live_count.load()));
  o.Set("handlerNs", to_array(handler));
  o.Set("signalToSampleNs", to_array(signal_to_sample));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("stats", Napi::Function::New(env, Stats, "stats"));
  exports.Set("markProgress", Napi::Function::New(env, MarkProgress, "markProgress"));
  exports.Set("forwardThisThread", Napi::Function::New(env, ForwardThisThread, "forwardThisThread"));
  exports.Set("setWorkerDefaults", Napi::Function::New(env, SetWorkerDefaults, "setWorkerDefaults"));
  exports.Set("workerDefaults", Napi::Function::New(env, WorkerDefaults, "workerDefaults"));
  exports.Set("nameThread", Napi::Function::New(env, NameThread, "nameThread"));
  exports.Set("setReporterSink", Napi::Function::New(env, SetReporterSink, "setReporterSink"));
  exports.Set("sinkAcknowledge", Napi::Function::New(env, SinkAcknowledge, "sinkAcknowledge"));
  exports.Set("subscribe", Napi::Function::New(env, Subscribe, "subscribe"));
  exports.Set("unsubscribe", Napi::Function::New(env, Unsubscribe, "unsubscribe"));
  exports.Set("formatReport", Napi::Function::New(env, FormatReport, "formatReport"));
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  exports.Set("dumpThreads", Napi::Function::New(env, DumpThreads, "dumpThreads"));
  exports.Set("formatThreadDump", Napi::Function::New(env, FormatThreadDump, "formatThreadDump"));
  exports.Set("formatLogEntry", Napi::Function::New(env, FormatLogEntry, "formatLogEntry"));
  exports.Set("terminateStalledWorker", Napi::Function::New(env, TerminateStalledWorker, "terminateStalledWorker"));
  exports.Set("abortProcess", Napi::Function::New(env, AbortProcess, "abortProcess"));
  return exports;
}

}  // namespace
}  // namespace stallwatch

static Napi::Object InitStallwatch(Napi::Env env, Napi::Object exports) { return stallwatch::Init(env, exports); }

NODE_API_MODULE(stallwatch, InitStallwatch)
