#include "peer_copies.h"

#include <v8.h>

#include <atomic>
#include <mutex>

#include "code_events.h"
#include "peer_descriptor.h"
#include "platform/platform.h"

namespace stallwatch {
namespace {

constexpr int kMaxPeers = 8;

// A known copy. Written once by a JS thread under g_write_mutex (range first, then the
// descriptor with release); read lock-free by code event threads and the watchdog.
struct PeerCell {
  std::atomic<const StallwatchPeerV1*> peer{nullptr};
  std::atomic<uintptr_t> code_start{0};
  std::atomic<uintptr_t> code_end{0};
};
PeerCell g_peers[kMaxPeers];
std::mutex g_write_mutex;

void Introduce(const StallwatchPeerV1* peer, uintptr_t code_start, uintptr_t code_end);

const StallwatchPeerV1 g_self{1, &OnJitCodeEvent, &DeliverJitCodeEvent, &ListensToCodeEvents, &Introduce};

void Introduce(const StallwatchPeerV1* peer, uintptr_t code_start, uintptr_t code_end) {
  if (peer == nullptr || peer == &g_self || peer->version < 1) return;
  std::lock_guard<std::mutex> lock(g_write_mutex);
  for (auto& cell : g_peers) {
    const StallwatchPeerV1* known = cell.peer.load(std::memory_order_relaxed);
    if (known == peer) return;
    if (known != nullptr) continue;
    cell.code_start.store(code_start, std::memory_order_relaxed);
    cell.code_end.store(code_end, std::memory_order_relaxed);
    cell.peer.store(peer, std::memory_order_release);
    return;
  }
}

bool Known(uintptr_t code_start) {
  for (const auto& cell : g_peers) {
    if (cell.peer.load(std::memory_order_acquire) != nullptr &&
        cell.code_start.load(std::memory_order_relaxed) == code_start) {
      return true;
    }
  }
  return false;
}

// The descriptor `module` exports, if it is another copy of stallwatch.
const StallwatchPeerV1* Load(const platform::LoadedModule& module) {
  return OpenPeerDescriptor<StallwatchPeerV1>(
      module.path.c_str(), "stallwatch_peer_v1", [&module](const StallwatchPeerV1& peer, uintptr_t exported_at) {
        return &peer != &g_self && exported_at >= module.code_start && exported_at < module.code_end;
      });
}

}  // namespace

void PeerCopies::Discover() {
  const std::vector<platform::LoadedModule> modules = platform::LoadedModules();
  const auto self_pc = reinterpret_cast<uintptr_t>(&OnJitCodeEvent);
  uintptr_t self_start = 0;
  uintptr_t self_end = 0;
  for (const auto& module : modules) {
    if (self_pc >= module.code_start && self_pc < module.code_end) {
      self_start = module.code_start;
      self_end = module.code_end;
    }
  }
  for (const auto& module : modules) {
    if (module.code_start == self_start || Known(module.code_start)) continue;
    const StallwatchPeerV1* peer = Load(module);
    if (peer == nullptr) continue;
    Introduce(peer, module.code_start, module.code_end);
    peer->introduce(&g_self, self_start, self_end);
  }
}

namespace {

// What user_data holds between a line info recording's start and end while other copies listen.
// Each receiver sets its own user_data at the start and gets it back with every position and at
// the end, so the copies cannot share the one field: the start gives each of them its own, kept
// here. With no other copy listening (the common case) the events go to this copy's listener
// as they are, and nothing is allocated.
struct SharedLineRecording {
  void* own = nullptr;
  int count = 0;
  struct {
    const StallwatchPeerV1* peer;
    void* user_data;
  } peers[kMaxPeers];
};

// A recording is one logging call on one thread, from its start to its end, with nothing logged
// in between (V8's CodeLinePosInfoRecordEvent: start, the positions, end, under
// DisallowGarbageCollection), so recordings do not nest. The thread's current shared recording
// tells it apart from this copy's own user_data (which is what user_data holds when no other
// copy listened at the start) by address, never by reading through it.
thread_local SharedLineRecording* t_shared_recording = nullptr;

bool AnyPeerListensTo(v8::Isolate* isolate) {
  for (const auto& cell : g_peers) {
    const StallwatchPeerV1* peer = cell.peer.load(std::memory_order_acquire);
    if (peer != nullptr && peer->listens_to(isolate)) return true;
  }
  return false;
}

}  // namespace

void PeerCopies::DispatchJitEvent(const v8::JitCodeEvent* event, void (*own)(const v8::JitCodeEvent*)) {
  auto* mutable_event = const_cast<v8::JitCodeEvent*>(event);  // V8's documented use of user_data
  v8::JitCodeEvent copy = *event;
  switch (event->type) {
    case v8::JitCodeEvent::CODE_START_LINE_INFO_RECORDING: {
      if (!AnyPeerListensTo(event->isolate)) {
        own(event);  // sets event->user_data to its own recording
        return;
      }
      auto* recording = new SharedLineRecording();
      copy.user_data = nullptr;
      own(&copy);
      recording->own = copy.user_data;
      for (const auto& cell : g_peers) {
        const StallwatchPeerV1* peer = cell.peer.load(std::memory_order_acquire);
        if (peer == nullptr || !peer->listens_to(event->isolate) || recording->count == kMaxPeers) continue;
        copy.user_data = nullptr;
        peer->deliver_jit_event(&copy);
        recording->peers[recording->count++] = {peer, copy.user_data};
      }
      t_shared_recording = recording;
      mutable_event->user_data = recording;
      return;
    }
    case v8::JitCodeEvent::CODE_ADD_LINE_POS_INFO:
    case v8::JitCodeEvent::CODE_END_LINE_INFO_RECORDING: {
      SharedLineRecording* recording = t_shared_recording;
      if (recording == nullptr || event->user_data != recording) {
        own(event);  // this copy's own recording (or none)
        return;
      }
      copy.user_data = recording->own;
      own(&copy);
      // The copies that got the start, whether or not their user_data is set: a recording is
      // one logging call on the JS thread, so none of them stopped listening since.
      for (int i = 0; i < recording->count; ++i) {
        copy.user_data = recording->peers[i].user_data;
        recording->peers[i].peer->deliver_jit_event(&copy);
      }
      if (event->type == v8::JitCodeEvent::CODE_END_LINE_INFO_RECORDING) {
        t_shared_recording = nullptr;
        delete recording;
        mutable_event->user_data = nullptr;
      }
      return;
    }
    default:
      own(event);
      for (const auto& cell : g_peers) {
        const StallwatchPeerV1* peer = cell.peer.load(std::memory_order_acquire);
        if (peer != nullptr && peer->listens_to(event->isolate)) peer->deliver_jit_event(event);
      }
      return;
  }
}

void (*PeerCopies::SuccessorJitHandler(v8::Isolate* isolate))(const v8::JitCodeEvent*) {
  for (const auto& cell : g_peers) {
    const StallwatchPeerV1* peer = cell.peer.load(std::memory_order_acquire);
    if (peer != nullptr && peer->listens_to(isolate)) return peer->jit_handler;
  }
  return nullptr;
}

bool PeerCopies::InPeerCode(uintptr_t pc) {
  for (const auto& cell : g_peers) {
    if (cell.peer.load(std::memory_order_acquire) == nullptr) continue;
    if (pc >= cell.code_start.load(std::memory_order_relaxed) && pc < cell.code_end.load(std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

int PeerCopies::Count() {
  int count = 0;
  for (const auto& cell : g_peers) count += cell.peer.load(std::memory_order_acquire) != nullptr ? 1 : 0;
  return count;
}

}  // namespace stallwatch

// The one symbol a copy exports for this: how other copies find its descriptor.
extern "C" __attribute__((visibility("default"))) const stallwatch::StallwatchPeerV1* stallwatch_peer_v1() {
  return &stallwatch::g_self;
}
