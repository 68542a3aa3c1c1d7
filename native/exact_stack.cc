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


}  // namespace

bool StateRunsInterruptsSoon(int tag) {
  switch (static_cast<v8::StateTag>(tag)) {
    case v8::JS:
    case v8::GC:
    case v8::PARSER:
    case v8::BYTECODE_COMPILER:
    case v8::COMPILER:
    case v8::OTHER:
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

}  // namespace stallwatch
