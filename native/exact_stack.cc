#include "exact_stack.h"

#include <v8.h>

#include <chrono>

#include "thread_record.h"

namespace stallwatch {
namespace {

struct InterruptRequest {
  std::weak_ptr<ThreadRecord> record;
  uint64_t episode;
  uint64_t tick;
  int max_frames;
};

std::string ToUtf8(v8::Isolate* isolate, v8::Local<v8::String> s) {
  if (s.IsEmpty()) return std::string();
  v8::String::Utf8Value utf8(isolate, s);
  return *utf8 ? std::string(*utf8, utf8.length()) : std::string();
}

// Runs on the monitored thread, inside V8's interrupt check: V8 APIs are allowed here.
void OnInterrupt(v8::Isolate* isolate, void* data) {
  std::unique_ptr<InterruptRequest> request(static_cast<InterruptRequest*>(data));
  std::shared_ptr<ThreadRecord> record = request->record.lock();
  if (!record) return;
  const bool loop_still_stalled = record->probe.Read().tick == request->tick;
  std::vector<Frame> frames;
  if (loop_still_stalled) {
    v8::HandleScope scope(isolate);
    v8::Local<v8::StackTrace> trace = v8::StackTrace::CurrentStackTrace(isolate, request->max_frames);
    for (int i = 0; i < trace->GetFrameCount(); ++i) {
      v8::Local<v8::StackFrame> sf = trace->GetFrame(isolate, i);
      Frame f;
      f.kind = FrameKind::kJs;
      f.name = ToUtf8(isolate, sf->GetFunctionName());
      f.file = ToUtf8(isolate, sf->GetScriptName());
      f.line = sf->GetLineNumber() > 0 ? sf->GetLineNumber() : 0;
      f.column = sf->GetColumn() > 0 ? sf->GetColumn() : 0;
      frames.push_back(std::move(f));
    }
  }
  ExactStackChannel& channel = record->exact;
  std::lock_guard<std::mutex> lock(channel.mutex);
  if (channel.requested_episode != request->episode) return;
  channel.ready_episode = request->episode;
  channel.valid = loop_still_stalled && !frames.empty();
  channel.frames = std::move(frames);
  channel.ready_cv.notify_all();
}

bool SameFunction(const Frame& sampled, const Frame& exact) {
  // An unnamed sampled frame (name withheld or unknown) matches any frame.
  if (sampled.name.empty()) return true;
  return sampled.name == exact.name && sampled.file == exact.file;
}

}  // namespace

bool StateRunsInterruptsSoon(int tag) {
  switch (static_cast<v8::StateTag>(tag)) {
    case v8::JS:
    case v8::GC:
    case v8::PARSER:
    case v8::BYTECODE_COMPILER:
    case v8::COMPILER:
    case v8::ATOMICS_WAIT: return true;
    default: return false;
  }
}

void RequestExactStack(const std::shared_ptr<ThreadRecord>& record, uint64_t episode, uint64_t tick,
                       int max_frames) {
  {
    std::lock_guard<std::mutex> lock(record->exact.mutex);
    record->exact.requested_episode = episode;
  }
  // If the isolate is disposed before the interrupt runs, V8 drops it and the request leaks
  // (a few bytes, once per stall of a thread that exited mid-stall).
  record->isolate->RequestInterrupt(OnInterrupt, new InterruptRequest{record, episode, tick, max_frames});
}

bool WaitForExactStack(ThreadRecord& record, uint64_t episode, int timeout_ms, std::vector<Frame>* frames) {
  ExactStackChannel& channel = record.exact;
  std::unique_lock<std::mutex> lock(channel.mutex);
  if (channel.requested_episode != episode) return false;
  if (!channel.ready_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                 [&] { return channel.ready_episode == episode; })) {
    return false;
  }
  if (!channel.valid) return false;
  *frames = channel.frames;
  return true;
}

bool MergeExactJsFrames(Report& report, const std::vector<Frame>& exact) {
  if (exact.empty()) return false;
  size_t first = report.frames.size(), last = 0;
  for (size_t i = 0; i < report.frames.size(); ++i) {
    if (report.frames[i].kind != FrameKind::kJs) continue;
    first = std::min(first, i);
    last = i;
  }
  std::vector<Frame> merged = exact;
  if (first < report.frames.size()) {
    // The sampled JS frames form one block (see report_builder.cc); match it against the exact
    // stack from the outermost frame inwards.
    for (size_t i = first; i <= last; ++i) {
      if (report.frames[i].kind != FrameKind::kJs) return false;
    }
    if (!SameFunction(report.frames[last], exact.back())) return false;
    size_t e = exact.size();
    for (size_t s = last + 1; s-- > first;) {
      const Frame& sampled = report.frames[s];
      while (e > 0 && !SameFunction(sampled, exact[e - 1])) --e;
      if (e == 0) return false;
      --e;
      merged[e].function_line = sampled.function_line;
      merged[e].address = sampled.address;
      if (merged[e].name.empty()) merged[e].name = sampled.name;
    }
    report.frames.erase(report.frames.begin() + static_cast<long>(first),
                        report.frames.begin() + static_cast<long>(last) + 1);
  } else {
    // The sample had no JS frames (it landed in GC): they go where V8 code starts.
    first = 0;
    while (first < report.frames.size() && report.frames[first].kind != FrameKind::kV8) ++first;
  }
  report.frames.insert(report.frames.begin() + static_cast<long>(first), merged.begin(), merged.end());
  return true;
}

}  // namespace stallwatch
