#include "thread_dump.h"

#include <dlfcn.h>
#include <errno.h>

#include <cstring>
#include <map>
#include <mutex>

#include "native_unwind.h"
#include "platform/platform.h"
#include "registry.h"
#include "signal_capture.h"
#include "thread_freeze.h"

namespace stallwatch {
namespace {

// How long a listed thread gets to take the freeze signal. A thread sleeping in the kernel
// takes it at once; one in an uninterruptible sleep (D) only when that ends.
constexpr int kFreezeWaitMs = 100;

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

std::string RunStateName(char letter) {
  switch (letter) {
    case 'R': return "running";
    case 'S': return "sleeping";
    case 'D': return "disk-sleep";
    case 'T': return "stopped";
    case 't': return "tracing-stop";
    case 'Z': return "zombie";
    case 'I': return "idle";
    default: return "";
  }
}

// The shared object this file is linked into: the calling thread's own dump frames are dropped.
const std::string& OwnModule() {
  static const std::string path = [] {
    Dl_info info;
    return dladdr(reinterpret_cast<void*>(&RunStateName), &info) != 0 && info.dli_fname != nullptr
               ? std::string(info.dli_fname)
               : std::string();
  }();
  return path;
}

// Frames of a walked stack. Code V8 generated at run time is not named here: a thread dump has
// no code map stamp to prove a JS name current (a stall report of that thread does).
std::vector<Frame> NameFrames(const uintptr_t* pcs, uint32_t count, NativeSymbolizer& symbolizer, bool* has_jit) {
  std::vector<Frame> frames;
  frames.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Frame f;
    f.address = pcs[i];
    // Return addresses point after the call: name the call itself.
    const NativeSymbol sym = symbolizer.Resolve(i == 0 ? pcs[i] : pcs[i] - 1);
    if (sym.in_module) {
      f.kind = StartsWith(sym.name, "Builtins_") ? FrameKind::kV8 : FrameKind::kNative;
      f.name = sym.name;
      f.module = sym.module;
      f.file = sym.source_file;
      f.line = sym.source_line;
    } else {
      f.kind = FrameKind::kV8;
      *has_jit = true;
    }
    frames.push_back(std::move(f));
  }
  return frames;
}

// What the thread is, from its name and the functions it started in.
std::string RoleOf(const ThreadStack& t) {
  if (t.thread_id == 0) return "main JS thread";
  if (t.thread_id > 0) return "worker thread " + std::to_string(t.thread_id);
  if (StartsWith(t.name, "stallwatch")) return "stallwatch";
  for (const Frame& f : t.frames) {
    if (f.name == "worker" || f.name == "uv__threadpool_worker") return "libuv threadpool";
    if (Contains(f.name, "WorkerThreadsTaskRunner") || Contains(f.name, "PlatformWorker")) return "V8 platform worker";
    if (Contains(f.name, "StartIoThreadMain")) return "inspector signal thread";
    if (Contains(f.name, "node::inspector")) return "inspector";
    if (Contains(f.name, "node::worker::Worker")) return "worker thread (not monitored)";
  }
  return "";
}

// Monitored JS threads by OS tid: their worker_threads id.
std::map<int64_t, int> JsThreads() {
  std::map<int64_t, int> ids;
  std::lock_guard<std::mutex> lock(Registry::mutex());
  for (const auto& rec : Registry::records()) {
    if (rec->alive) ids[rec->tid] = rec->thread_id;
  }
  return ids;
}

// Freezes `tid` and walks it. Returns false when the thread is gone (it is then left out).
bool WalkOtherThread(int64_t tid, int signo, uintptr_t* pcs, uint32_t max, UnwindResult* walk, std::string* partial) {
  auto lock = ThreadFreeze::Lock();
  ThreadFreeze::Arm(tid);
  const int rc = platform::SendSignalToTid(tid, signo, ThreadFreeze::Cookie());
  if (rc == ESRCH) {
    ThreadFreeze::Disarm();
    return false;
  }
  if (rc != 0) {
    ThreadFreeze::Disarm();
    *partial = std::string("no stack: the signal could not be sent (") + strerror(rc) + ")";
    return true;
  }
  std::string why;
  if (!ThreadFreeze::WaitFrozen(kFreezeWaitMs, &why)) {
    *partial = "no stack: " + why;
    return true;
  }
  *walk = NativeUnwinder::WalkOutsideHandler(ThreadFreeze::Context(), pcs, max);
  if (!ThreadFreeze::Release()) {
    *partial = "the thread stopped holding still before its walk ended: the outer frames may be wrong";
  }
  return true;
}

}  // namespace

ThreadDump ThreadDumper::DumpAll(int signo, int max_frames, NativeSymbolizer& symbolizer) {
  ThreadDump dump;
  dump.captured_at_ms = platform::EpochMs();
  std::vector<platform::ProcessThread> threads;
  if (!platform::ListProcessThreads(&threads)) {
    dump.partial = "thread dumps are not implemented on this OS";
    return dump;
  }
  std::string install_error;
  if (!SignalCapture::EnsureInstalled(signo, &install_error)) {
    dump.partial = "the capture signal handler could not be installed (" + install_error + "): no stacks";
  }
  NativeUnwinder::Initialize();
  const std::map<int64_t, int> js_threads = JsThreads();
  const int64_t self = platform::CurrentTid();
  const uint32_t max = static_cast<uint32_t>(max_frames > 0 ? max_frames : 1);
  std::vector<uintptr_t> pcs(max);

  for (const platform::ProcessThread& os_thread : threads) {
    ThreadStack t;
    t.tid = os_thread.tid;
    t.name = os_thread.name;
    t.run_state = RunStateName(os_thread.run_state);
    const auto js = js_threads.find(os_thread.tid);
    if (js != js_threads.end()) t.thread_id = js->second;

    UnwindResult walk;
    if (os_thread.tid == self) {
      walk = NativeUnwinder::WalkOutsideHandler(nullptr, pcs.data(), max);
      t.run_state = "running";  // it is dumping
    } else if (!dump.partial.empty()) {
      t.partial = "no stack: " + dump.partial;
    } else if (signo >= 1 && signo <= 64 && (os_thread.blocked_signals >> (signo - 1)) & 1) {
      t.partial = std::string("no stack: the thread blocks ") + (strsignal(signo) ? strsignal(signo) : "the signal") +
                  " (signal " + std::to_string(signo) + ")";
    } else if (!WalkOtherThread(os_thread.tid, signo, pcs.data(), max, &walk, &t.partial)) {
      continue;  // exited while we were dumping
    }

    bool has_jit = false;
    t.frames = NameFrames(pcs.data(), walk.count, symbolizer, &has_jit);
    if (os_thread.tid == self) {
      // Drop the dump's own frames: the stack starts where the caller entered stallwatch.
      size_t own = 0;
      while (own < t.frames.size() && !OwnModule().empty() && t.frames[own].module == OwnModule()) ++own;
      t.frames.erase(t.frames.begin(), t.frames.begin() + static_cast<std::ptrdiff_t>(own));
    }
    if (walk.count > 0 || t.partial.empty()) {
      std::string notes;
      if (walk.error < 0 && !NativeUnwinder::HasLibunwind()) {
        notes = std::string("only the interrupted instruction: ") + NativeUnwinder::UnavailableReason();
      } else if (walk.truncated) {
        notes = "truncated at " + std::to_string(max) + " frames";
      }
      if (has_jit) {
        if (!notes.empty()) notes += "; ";
        notes += "frames in code V8 generated are not named in a thread dump (a stall report of this thread names them)";
      }
      if (!notes.empty()) t.partial = t.partial.empty() ? notes : t.partial + "; " + notes;
    }
    t.role = RoleOf(t);
    dump.threads.push_back(std::move(t));
  }
  return dump;
}

}  // namespace stallwatch
