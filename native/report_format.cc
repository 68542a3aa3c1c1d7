#include "report_format.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

#if defined(__APPLE__)
#include <mach-o/dyld.h>
#endif

#include "json_writer.h"

namespace stallwatch {
namespace {

// Frames shown in full before folding starts when no culprit was found: enough to see where
// the thread is waiting without a page of node internals.
constexpr size_t kHeadFramesWithoutCulprit = 6;
// Shorter runs are cheaper to print than the line that would summarize them.
constexpr size_t kMinFoldRun = 3;

constexpr std::string_view kFoldSuffix = " frames in node, V8 and libuv internals";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view Basename(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view Dirname(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

// ---- Which code a frame belongs to -------------------------------------------------------

std::string ReadExecutablePath() {
  char buf[PATH_MAX];
#if defined(__linux__)
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return std::string();
  std::string path(buf, static_cast<size_t>(n));
  // The kernel appends this when the binary was replaced on disk (e.g. by an upgrade) while
  // running; the unwinder's module paths do not carry it.
  constexpr std::string_view kDeleted = " (deleted)";
  if (EndsWith(path, kDeleted)) path.resize(path.size() - kDeleted.size());
  return path;
#elif defined(__APPLE__)
  uint32_t size = sizeof(buf);
  if (_NSGetExecutablePath(buf, &size) != 0) return std::string();
  char resolved[PATH_MAX];
  return realpath(buf, resolved) != nullptr ? std::string(resolved) : std::string(buf);
#else
  (void)buf;
  return std::string();
#endif
}

// Read once: the executable does not change, and the first report may be produced while
// the process is short of file descriptors.
const std::string& ExecutablePath() {
  static const std::string path = ReadExecutablePath();
  return path;
}

// The stallwatch package directory when this code runs from a source checkout or an
// unpacked package (<root>/build/Release/stallwatch.node), else empty. Installed copies
// are recognized by their node_modules path instead, so this only matters in development,
// where the package's own scripts are not under node_modules.
std::string ReadPackageRoot() {
  static const char anchor = 0;
  Dl_info info;
  if (dladdr(&anchor, &info) == 0 || info.dli_fname == nullptr) return std::string();
  const std::string_view dir = Dirname(info.dli_fname);
  if (!EndsWith(dir, "/build/Release") && !EndsWith(dir, "/build/Debug")) return std::string();
  return std::string(Dirname(Dirname(dir)));
}

const std::string& PackageRoot() {
  static const std::string root = ReadPackageRoot();
  return root;
}

bool IsStallwatchScript(std::string_view file) {
  if (file.find("/node_modules/stallwatch/") != std::string_view::npos) return true;
  const std::string& root = PackageRoot();
  if (root.empty()) return false;
  if (StartsWith(file, "file://")) file.remove_prefix(7);
  if (!StartsWith(file, root)) return false;
  file.remove_prefix(root.size());
  return StartsWith(file, "/dist/") || StartsWith(file, "/lib/");
}

// The shared object this code is in: stallwatch's own addon. Its frames (V8 calling the code
// event handler during a compaction, say) are never the application's culprit.
const std::string& OwnModule() {
  static const std::string path = [] {
    Dl_info info;
    return dladdr(reinterpret_cast<void*>(&ReadPackageRoot), &info) != 0 && info.dli_fname != nullptr
               ? std::string(info.dli_fname)
               : std::string();
  }();
  return path;
}

bool IsNodeExecutable(std::string_view module) {
  const std::string_view base = Basename(module);
  // Basename checks cover modules reported through a symlink or a different path than
  // /proc/self/exe, and node built as a shared library.
  if (base == "node" || StartsWith(base, "libnode.")) return true;
  const std::string& exe = ExecutablePath();
  return !exe.empty() && module == exe;
}

bool IsSystemLibrary(std::string_view module) {
  const std::string_view base = Basename(module);
  for (std::string_view prefix : {"libc.", "libstdc++", "libpthread", "ld-linux", "libm.",
                                  "libunwind", "linux-vdso"}) {
    if (StartsWith(base, prefix)) return true;
  }
  // Global npm installs live under /usr/lib/node_modules: addons there are application code.
  if (module.find("/node_modules/") != std::string_view::npos) return false;
  for (std::string_view dir : {"/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/System/"}) {
    if (StartsWith(module, dir)) return true;
  }
  return false;
}

enum class Origin {
  kApp,       // the application's code, including its dependencies and addons
  kInternal,  // node, V8, libuv, libc and friends: foldable noise below the culprit
  kUnknown,   // not enough information, or stallwatch's own code: never culprit, never folded
};

Origin OriginOf(const Frame& f) {
  switch (f.kind) {
    case FrameKind::kV8:
      return Origin::kInternal;
    case FrameKind::kJs:
      if (f.file.empty()) return Origin::kUnknown;
      if (StartsWith(f.file, "node:") || StartsWith(f.file, "internal/")) return Origin::kInternal;
      return IsStallwatchScript(f.file) ? Origin::kUnknown : Origin::kApp;
    case FrameKind::kNative:
      if (f.module.empty() || f.module == OwnModule()) return Origin::kUnknown;
      if (IsNodeExecutable(f.module) || IsSystemLibrary(f.module)) return Origin::kInternal;
      return Origin::kApp;
  }
  return Origin::kUnknown;
}

// ---- Small value renderers ---------------------------------------------------------------

// Durations and timestamps arrive as doubles; NaN or absurd values must not reach llround
// (undefined result), so they render as 0.
int64_t ToInt64(double v) {
  if (!std::isfinite(v)) return 0;
  constexpr double kLimit = 9.0e15;  // ~285,000 years of milliseconds
  if (v > kLimit) v = kLimit;
  if (v < -kLimit) v = -kLimit;
  return static_cast<int64_t>(std::llround(v));
}

std::string Hex(uintptr_t v) {
  char buf[2 + 2 * sizeof(uintptr_t) + 1];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// ISO-8601 UTC with milliseconds. gmtime_r and integer fields only: no locale, no timezone
// database lookups (localtime would read TZ files on the reporter thread).
std::string IsoTime(double epoch_ms) {
  const int64_t ms = ToInt64(epoch_ms);
  int64_t secs = ms / 1000;
  int64_t millis = ms % 1000;
  if (millis < 0) {  // floor, not truncation, for the (theoretical) pre-1970 case
    millis += 1000;
    secs -= 1;
  }
  const time_t t = static_cast<time_t>(secs);
  struct tm tm;
  if (gmtime_r(&t, &tm) == nullptr) return "unknown time";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

void AppendText(std::string& out, std::string_view s) { AppendEscaped(out, s, EscapeMode::kText); }

// "main thread" or `worker 3 "name"`; the name is shown as a JSON string literal so that
// quotes inside it cannot be confused with the closing quote.
void AppendThreadLabel(std::string& out, int thread_id, const std::string& name) {
  if (thread_id == 0) {
    out += "main thread";
    return;
  }
  out += "worker ";
  out += std::to_string(thread_id);
  if (!name.empty()) {
    out += " \"";
    AppendEscaped(out, name, EscapeMode::kJson);
    out += '"';
  }
}

// ---- Frame lines -------------------------------------------------------------------------

void AppendJsFrame(std::string& out, const Frame& f) {
  AppendText(out, f.name.empty() ? std::string_view("(anonymous)") : std::string_view(f.name));
  if (f.file.empty()) return;
  out += " (";
  AppendText(out, f.file);
  if (f.line > 0) {
    out += ':' + std::to_string(f.line);
    if (f.column > 0) out += ':' + std::to_string(f.column);
  } else if (f.function_line > 0) {
    out += ", defined at line " + std::to_string(f.function_line);
  }
  out += ')';
}

void AppendNativeName(std::string& out, const Frame& f) {
  if (!f.name.empty()) {
    AppendText(out, f.name);
  } else if (f.address != 0) {
    out += Hex(f.address);
  } else {
    out += "??";
  }
}

void AppendNativeFrame(std::string& out, const Frame& f) {
  AppendNativeName(out, f);
  out += " (";
  if (f.module.empty()) {
    out += "unknown module";
  } else {
    AppendText(out, f.module);
  }
  if (!f.file.empty()) {
    out += ", ";
    AppendText(out, f.file);
    if (f.line > 0) out += ':' + std::to_string(f.line);
  }
  out += ')';
}

void AppendFrameLine(std::string& out, const Frame& f, bool culprit) {
  out += culprit ? "--> at " : "    at ";
  switch (f.kind) {
    case FrameKind::kJs:
      AppendJsFrame(out, f);
      break;
    case FrameKind::kNative:
      AppendNativeFrame(out, f);
      break;
    case FrameKind::kV8:
      AppendNativeName(out, f);
      out += " [v8]";
      break;
  }
  out += '\n';
}

bool IsV8Machinery(const Frame& f) {
  if (f.kind == FrameKind::kV8) return true;
  return f.kind == FrameKind::kNative && (f.name.rfind("v8::", 0) == 0 || f.name.rfind("Builtins_", 0) == 0);
}

void AppendFrames(std::string& out, const std::vector<Frame>& frames, int culprit) {
  const size_t n = frames.size();
  if (n == 0) {
    out += "    (no frames captured)\n";
    return;
  }
  // Down to the culprit, frames tell where the thread is stuck (the syscall, libuv, the
  // node binding), so only V8's own machinery is summarized there: its stubs and its C++
  // (the API-call and runtime plumbing between a JS call and the binding). Below the
  // culprit, anything not the application's is.
  const size_t head_end =
      culprit >= 0 ? static_cast<size_t>(culprit) + 1 : std::min(n, kHeadFramesWithoutCulprit);
  std::vector<bool> foldable(n);
  for (size_t i = 0; i < n; ++i) {
    foldable[i] = i < head_end ? IsV8Machinery(frames[i]) : OriginOf(frames[i]) == Origin::kInternal;
  }
  foldable[n - 1] = false;  // the outermost frame shows what started this stack

  size_t i = 0;
  while (i < n) {
    size_t end = i + 1;
    if (foldable[i]) {
      while (end < n && foldable[end]) ++end;
      if (end - i >= kMinFoldRun) {
        out += "    ... " + std::to_string(end - i);
        out += kFoldSuffix;
        out += '\n';
        i = end;
        continue;
      }
    }
    for (; i < end; ++i) AppendFrameLine(out, frames[i], static_cast<int>(i) == culprit);
  }
}

void AppendFrameJson(JsonWriter& w, const Frame& f) {
  w.BeginObject();
  w.String("kind", FrameKindName(f.kind));
  w.String("name", f.name);  // always present: `name: string` in the TypeScript contract
  if (!f.file.empty()) w.String("file", f.file);
  if (f.line > 0) w.Int("line", f.line);
  if (f.column > 0) w.Int("column", f.column);
  if (f.function_line > 0) w.Int("functionLine", f.function_line);
  if (!f.module.empty()) w.String("module", f.module);
  if (f.address != 0) w.String("address", Hex(f.address));
  w.EndObject();
}

// The fields a blocked and an unblocked event share, in contract order.
void AppendThreadJson(JsonWriter& w, const char* event, int64_t pid, int thread_id,
                      const std::string& thread_name, int64_t tid, double blocked_ms) {
  w.String("event", event);
  w.Int("pid", pid);
  w.Int("threadId", thread_id);
  if (!thread_name.empty()) w.String("threadName", thread_name);
  w.Int("tid", tid);
  w.Decimal1("blockedMs", blocked_ms);
}

// ---- Thread dumps (allThreads, starvation, dumpThreads()) ---------------------------------

// `  thread <tid> "<name>" (<role>, <state>)` then its partial line and frames, indented like
// a report's own frames so a dump reads as a list of small reports.
void AppendThreadsText(std::string& out, const ThreadDump& dump) {
  out += "  all threads (" + std::to_string(dump.threads.size()) + "):\n";
  for (const ThreadStack& t : dump.threads) {
    out += "  thread " + std::to_string(t.tid) + " \"";
    AppendEscaped(out, t.name, EscapeMode::kJson);
    out += '"';
    std::string detail = t.role;
    if (!t.run_state.empty()) detail += (detail.empty() ? "" : ", ") + t.run_state;
    if (!detail.empty()) {
      out += " (";
      AppendText(out, detail);
      out += ')';
    }
    out += '\n';
    if (!t.partial.empty()) {
      out += "    partial: ";
      AppendText(out, t.partial);
      out += '\n';
    }
    if (!t.frames.empty()) AppendFrames(out, t.frames, -1);
  }
}

void AppendThreadsJson(JsonWriter& w, const ThreadDump& dump) {
  w.BeginArray("threads");
  for (const ThreadStack& t : dump.threads) {
    w.BeginObject();
    w.Int("tid", t.tid);
    w.String("name", t.name);
    if (!t.role.empty()) w.String("role", t.role);
    if (!t.run_state.empty()) w.String("runState", t.run_state);
    if (t.thread_id >= 0) w.Int("threadId", t.thread_id);
    w.BeginArray("frames");
    for (const Frame& f : t.frames) AppendFrameJson(w, f);
    w.EndArray();
    if (!t.partial.empty()) w.String("partial", t.partial);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

int FindCulprit(const Report& r) {
  for (size_t i = 0; i < r.frames.size(); ++i) {
    if (OriginOf(r.frames[i]) == Origin::kApp) return static_cast<int>(i);
  }
  return -1;
}

std::string FormatReportText(const Report& r) {
  std::string out = "stallwatch: ";
  AppendThreadLabel(out, r.thread_id, r.thread_name);
  out += " (tid " + std::to_string(r.tid) + ") blocked for ";
  out += std::to_string(ToInt64(r.blocked_ms));
  out += " ms, state ";
  out += VmStateName(r.state);
  out += ", at " + IsoTime(r.captured_at_ms) + '\n';
  if (!r.partial.empty()) {
    out += "  partial: ";
    AppendText(out, r.partial);
    out += '\n';
  }
  if (r.suppressed > 0) {
    out += "  " + std::to_string(r.suppressed);
    out += r.suppressed == 1 ? " earlier stall was" : " earlier stalls were";
    out += " not reported (maxReportsPerMinute)\n";
  }
  AppendFrames(out, r.frames, FindCulprit(r));
  if (r.all_threads) AppendThreadsText(out, *r.all_threads);
  out += '\n';
  return out;
}

std::string FormatReportJson(const Report& r) {
  JsonWriter w;
  w.BeginObject();
  AppendThreadJson(w, "blocked", r.pid, r.thread_id, r.thread_name, r.tid, r.blocked_ms);
  w.Int("capturedAt", ToInt64(r.captured_at_ms));
  w.String("state", VmStateName(r.state));
  w.BeginArray("frames");
  for (const Frame& f : r.frames) AppendFrameJson(w, f);
  w.EndArray();
  if (!r.partial.empty()) w.String("partial", r.partial);
  if (r.suppressed > 0) w.Int("suppressed", r.suppressed);
  if (r.all_threads) AppendThreadsJson(w, *r.all_threads);
  w.EndObject();
  std::string out = w.Take();
  out += '\n';
  return out;
}

std::string FormatUnblockedText(const UnblockedEvent& e) {
  std::string out = "stallwatch: ";
  AppendThreadLabel(out, e.thread_id, e.thread_name);
  out += " (tid " + std::to_string(e.tid) + ") unblocked after ";
  out += std::to_string(ToInt64(e.blocked_ms));
  out += " ms\n";
  // sampleIntervalMs: where the time went, as the stack most samples showed (the whole
  // profile is in the JSON log and the 'unblocked' event).
  if (e.profile && !e.profile->stacks.empty()) {
    const StallProfile& p = *e.profile;
    const StallProfile::Stack& top = p.stacks.front();
    out += "  profile: " + std::to_string(p.samples) + (p.samples == 1 ? " sample" : " samples") + " every " +
           std::to_string(ToInt64(p.interval_ms)) + " ms, " + std::to_string(p.stacks.size()) +
           (p.stacks.size() == 1 ? " distinct stack" : " distinct stacks") + "; the hottest, in " +
           std::to_string(top.count) + ":\n";
    Report hottest;
    hottest.frames = top.frames;
    AppendFrames(out, hottest.frames, FindCulprit(hottest));
  }
  out += '\n';
  return out;
}

std::string FormatUnblockedJson(const UnblockedEvent& e) {
  JsonWriter w;
  w.BeginObject();
  AppendThreadJson(w, "unblocked", e.pid, e.thread_id, e.thread_name, e.tid, e.blocked_ms);
  if (e.profile) {
    const StallProfile& p = *e.profile;
    w.BeginObject("profile");
    w.Decimal1("intervalMs", p.interval_ms);
    w.Int("startedAt", ToInt64(p.started_at_ms));
    w.Int("endedAt", ToInt64(p.ended_at_ms));
    w.Int("samples", static_cast<int64_t>(p.samples));
    w.BeginArray("stacks");
    for (const StallProfile::Stack& stack : p.stacks) {
      w.BeginObject();
      w.BeginArray("frames");
      for (const Frame& f : stack.frames) AppendFrameJson(w, f);
      w.EndArray();
      w.Int("count", static_cast<int64_t>(stack.count));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  std::string out = w.Take();
  out += '\n';
  return out;
}

std::string FormatStarvationText(const StarvationReport& r) {
  std::string out = "stallwatch: ";
  AppendThreadLabel(out, r.thread_id, r.thread_name);
  out += " (tid " + std::to_string(r.tid) + ") starved: waited ";
  out += std::to_string(ToInt64(r.waiting_ms));
  out += " ms with " + std::to_string(r.requests_in_flight);
  out += r.requests_in_flight == 1 ? " request" : " requests";
  out += " in flight and no I/O event, at " + IsoTime(r.captured_at_ms) + '\n';
  if (!r.partial.empty()) {
    out += "  partial: ";
    AppendText(out, r.partial);
    out += '\n';
  }
  if (r.all_threads) AppendThreadsText(out, *r.all_threads);
  out += '\n';
  return out;
}

std::string FormatStarvationJson(const StarvationReport& r) {
  JsonWriter w;
  w.BeginObject();
  w.String("event", "starvation");
  w.Int("pid", r.pid);
  w.Int("threadId", r.thread_id);
  if (!r.thread_name.empty()) w.String("threadName", r.thread_name);
  w.Int("tid", r.tid);
  w.Decimal1("waitingMs", r.waiting_ms);
  w.Int("requestsInFlight", r.requests_in_flight);
  w.Int("capturedAt", ToInt64(r.captured_at_ms));
  if (r.all_threads) AppendThreadsJson(w, *r.all_threads);
  if (!r.partial.empty()) w.String("partial", r.partial);
  w.EndObject();
  std::string out = w.Take();
  out += '\n';
  return out;
}

std::string FormatThreadDumpText(const ThreadDump& dump) {
  std::string out = "stallwatch: thread dump of pid " + std::to_string(static_cast<long long>(getpid()));
  out += " at " + IsoTime(dump.captured_at_ms) + '\n';
  if (!dump.partial.empty()) {
    out += "  partial: ";
    AppendText(out, dump.partial);
    out += '\n';
  }
  AppendThreadsText(out, dump);
  out += '\n';
  return out;
}

}  // namespace stallwatch
