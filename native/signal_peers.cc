#include "signal_peers.h"

#include <dlfcn.h>

#include <atomic>

#include "peer_descriptor.h"
#include "signal_capture.h"

namespace stallwatch {
namespace {

constexpr int kMaxPeers = 8;
constexpr int kMaxChain = 8;  // copies stacked on one signal; deeper chains are not followed
std::atomic<const StallwatchSignalPeerV1*> g_peers[kMaxPeers];

void Remember(const StallwatchSignalPeerV1* peer);

const StallwatchSignalPeerV1 g_self{1, &SignalCapture::HandleSignal, &SignalCapture::Previous, &Remember};

void Remember(const StallwatchSignalPeerV1* peer) {
  if (peer == nullptr || peer == &g_self || peer->version < 1) return;
  for (auto& cell : g_peers) {
    const StallwatchSignalPeerV1* expected = nullptr;
    if (cell.compare_exchange_strong(expected, peer) || expected == peer) return;
  }
}

const StallwatchSignalPeerV1* Known(SigactionHandler handler) {
  for (const auto& cell : g_peers) {
    const StallwatchSignalPeerV1* peer = cell.load(std::memory_order_acquire);
    if (peer != nullptr && peer->handler == handler) return peer;
  }
  return nullptr;
}

// The descriptor of the copy whose code holds `handler`, if it is a stallwatch copy.
const StallwatchSignalPeerV1* Load(SigactionHandler handler) {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(handler), &info) == 0 || info.dli_fname == nullptr) return nullptr;
  return OpenPeerDescriptor<StallwatchSignalPeerV1>(
      info.dli_fname, "stallwatch_signal_peer_v1",
      [handler](const StallwatchSignalPeerV1& peer, uintptr_t) { return &peer != &g_self && peer.handler == handler; });
}

bool IsSigaction(const struct sigaction* action) {
  return action != nullptr && (action->sa_flags & SA_SIGINFO) != 0 && action->sa_sigaction != nullptr;
}

}  // namespace

void SignalPeers::Discover(int signo, const struct sigaction& action) {
  const struct sigaction* next = &action;
  for (int depth = 0; depth < kMaxChain && IsSigaction(next); ++depth) {
    if (next->sa_sigaction == &SignalCapture::HandleSignal) return;
    const StallwatchSignalPeerV1* peer = Known(next->sa_sigaction);
    if (peer == nullptr) {
      peer = Load(next->sa_sigaction);
      if (peer == nullptr) return;
      Remember(peer);
      peer->introduce(&g_self);
    }
    next = peer->previous(signo);
  }
}

bool SignalPeers::ChainReachesUs(int signo, const struct sigaction& action) {
  const struct sigaction* next = &action;
  for (int depth = 0; depth < kMaxChain && IsSigaction(next); ++depth) {
    if (next->sa_sigaction == &SignalCapture::HandleSignal) return depth > 0;
    const StallwatchSignalPeerV1* peer = Known(next->sa_sigaction);
    if (peer == nullptr) return false;
    next = peer->previous(signo);
  }
  return false;
}

int SignalPeers::Count() {
  int count = 0;
  for (const auto& cell : g_peers) count += cell.load(std::memory_order_acquire) != nullptr ? 1 : 0;
  return count;
}

}  // namespace stallwatch

// The one symbol a copy exports: how other copies find its descriptor (dlsym on its handle).
extern "C" __attribute__((visibility("default"))) const stallwatch::StallwatchSignalPeerV1* stallwatch_signal_peer_v1() {
  return &stallwatch::g_self;
}
