// The report of one stall, as built by the reporter thread and handed to every sink
// (log writer, JS delivery). Plain data: no V8 types, so it can be built, formatted and
// unit-tested off any JS thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stallwatch {

enum class FrameKind { kJs, kNative, kV8 };

// From V8's StateTag at the moment of the sample (see js_sample.cc for the mapping).
enum class VmState { kJs, kGc, kCompiler, kNative, kAtomicsWait, kOther };

struct Frame {
  FrameKind kind = FrameKind::kNative;
  std::string name;          // demangled symbol or JS function name; empty if unknown
  std::string file;          // JS script, or native source file when debug info says so
  int line = 0;              // 1-based line executing now; 0 = unknown (never the definition line)
  int column = 0;            // 1-based; 0 = unknown
  int function_line = 0;     // JS: 1-based line where the function is defined; 0 = unknown
  std::string module;        // native/v8: path of the shared object or executable
  uintptr_t address = 0;     // instruction address (native), code address (JS); 0 = none
};

// One thread of the process in a thread dump (dumpThreads(), allThreads, starvation).
struct ThreadStack {
  int64_t tid = 0;           // OS thread id
  std::string name;          // the OS thread name (/proc/self/task/<tid>/comm)
  std::string role;          // what stallwatch recognizes it as ("libuv threadpool", ...); "" if unknown
  std::string run_state;     // the OS scheduler state: "running", "sleeping", "disk-sleep", ...
  int thread_id = -1;        // worker_threads threadId when it is a monitored JS thread, else -1
  std::vector<Frame> frames; // innermost first; empty when the stack could not be taken
  std::string partial;       // empty when complete, else what is missing and why
};

struct ThreadDump {
  double captured_at_ms = 0;
  std::vector<ThreadStack> threads;
  std::string partial;       // the dump as a whole: e.g. not supported on this OS
};

struct Report {
  int thread_id = 0;         // worker_threads threadId; 0 = main thread
  std::string thread_name;   // worker name, empty when none
  int64_t tid = 0;           // OS thread id
  int64_t pid = 0;
  double blocked_ms = 0;     // how long the loop had made no progress when captured
  double captured_at_ms = 0; // epoch milliseconds
  VmState state = VmState::kOther;
  std::vector<Frame> frames; // innermost first
  std::string partial;       // empty when complete, else what is missing and why
  uint32_t suppressed = 0;   // stalls not reported since the previous report (rate limit)
  std::shared_ptr<const ThreadDump> all_threads;  // allThreads: every thread of the process
};

// starvationMs: a loop that stayed parked, with requests in flight and no I/O event, this long.
struct StarvationReport {
  int thread_id = 0;
  std::string thread_name;
  int64_t tid = 0;
  int64_t pid = 0;
  double waiting_ms = 0;       // how long it had waited with requests in flight and no event
  uint32_t requests_in_flight = 0;  // libuv requests (fs, dns, work, writes, ...) at the last look
  double captured_at_ms = 0;
  std::shared_ptr<const ThreadDump> all_threads;
  std::string partial;         // empty when the dump is complete, else what is missing and why
};

// Stacks sampled over a whole stall (sampleIntervalMs), aggregated by identical stack.
struct StallProfile {
  double interval_ms = 0;
  double started_at_ms = 0;  // epoch ms of the first sample
  double ended_at_ms = 0;    // epoch ms of the last sample
  uint64_t samples = 0;
  struct Stack {
    std::vector<Frame> frames;  // innermost first
    uint64_t count = 0;
  };
  std::vector<Stack> stacks;    // most samples first
};

// Emitted once per stall episode when the loop makes progress again.
struct UnblockedEvent {
  int thread_id = 0;
  std::string thread_name;
  int64_t tid = 0;
  int64_t pid = 0;
  double blocked_ms = 0;     // full length of the stall
  std::shared_ptr<const StallProfile> profile;  // when the stall was sampled repeatedly
};

const char* FrameKindName(FrameKind kind);
const char* VmStateName(VmState state);

}  // namespace stallwatch
