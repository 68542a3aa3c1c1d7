#include "signal_capture.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <atomic>
#include <mutex>

#include <v8.h>

#include "capture_slot.h"
#include "js_sample.h"
#include "native_unwind.h"
#include "platform/platform.h"
#include "signal_peers.h"
#include "slot_table.h"
#include "thread_freeze.h"

namespace stallwatch {
namespace {

constexpr int kMaxSignal = 65;

// The disposition we replaced, per signal. Each install publishes a fresh, never-freed copy,
// so a handler running on another thread never reads a half-written sigaction.
std::atomic<const struct sigaction*> g_previous[kMaxSignal];
std::mutex g_install_mutex;  // never taken in the handler

// Chaining can loop back to us (a second stallwatch copy that chains to us, which we chain
// to). The guard records, per thread, that we are already forwarding this signal; a re-entry
// ends the chain. Fixed table, lock-free: no TLS in a handler of a dlopen'ed library.
constexpr int kGuardCells = 256;
std::atomic<int64_t> g_forwarding_tids[kGuardCells];

bool DefaultActionIsIgnore(int signo) {
  return signo == SIGURG || signo == SIGCHLD || signo == SIGWINCH || signo == SIGCONT;
}

bool IsOurHandler(const struct sigaction& action) {
  return (action.sa_flags & SA_SIGINFO) != 0 && action.sa_sigaction == &SignalCapture::HandleSignal;
}

int EnterForwarding(int64_t tid) {
  for (int i = 0; i < kGuardCells; ++i) {
    if (g_forwarding_tids[i].load(std::memory_order_relaxed) == tid) return -2;  // re-entered
  }
  for (int i = 0; i < kGuardCells; ++i) {
    int64_t expected = 0;
    if (g_forwarding_tids[i].compare_exchange_strong(expected, tid)) return i;
  }
  return -1;  // table full: forward without a guard
}

void ForwardToPrevious(int signo, siginfo_t* info, void* ucontext) {
  const struct sigaction* previous = g_previous[signo].load(std::memory_order_acquire);
  const int64_t tid = platform::CurrentTid();
  const int cell = EnterForwarding(tid);
  if (cell == -2) return;  // a chaining loop brought the signal back: it has been handled
  if (previous == nullptr || (!(previous->sa_flags & SA_SIGINFO) && previous->sa_handler == SIG_DFL)) {
    if (!DefaultActionIsIgnore(signo)) platform::RaiseWithDefaultAction(signo);
  } else if (previous->sa_flags & SA_SIGINFO) {
    if (previous->sa_sigaction != &SignalCapture::HandleSignal) previous->sa_sigaction(signo, info, ucontext);
  } else if (previous->sa_handler != SIG_IGN) {
    previous->sa_handler(signo);
  }
  if (cell >= 0) g_forwarding_tids[cell].store(0, std::memory_order_release);
}

// Everything here is async-signal-safe: atomics, clock_gettime, libunwind's local walk
// (warmed up beforehand), V8's GetStackSample (documented for signal handlers), sem_post.
void Capture(CaptureSlot* slot, void* ucontext) {
  const uint64_t start = platform::MonotonicNs();
  RawSample& sample = slot->sample;
  sample.regs = platform::RegistersFromContext(ucontext);
  const uint32_t max = static_cast<uint32_t>(slot->max_frames);

  // The code map stamp first: any code event after this point makes an entry unprovable.
  sample.code_events_stamp = slot->code_events ? slot->code_events->load(std::memory_order_acquire) : 0;
  JsSampleResult js = SampleJsStack(slot->isolate, sample.regs, sample.js, max);
  sample.js_count = js.count;
  sample.vm_state = js.vm_state;
  sample.external_callback = js.external_callback;

  UnwindResult native = NativeUnwinder::Walk(ucontext, sample.regs, slot->stack_low, slot->stack_high, slot->v8_code,
                                             sample.native, max, slot->unwind_scratch, sizeof slot->unwind_scratch,
                                             &slot->unwind_tail);
  sample.native_count = native.count;
  sample.native_truncated = native.truncated;
  sample.native_from_frame_pointers = native.used_frame_pointers;
  sample.native_tail_replayed = native.tail_replayed;
  sample.unwind_error = native.error;
  sample.signal_frame = native.signal_frame;
  CorrectJsStateFromNativeWalk(slot->isolate, slot->api_callbacks, sample, slot->code_pages_scratch);
  sample.handler_ns = platform::MonotonicNs() - start;
}

}  // namespace

void SignalCapture::HandleSignal(int signo, siginfo_t* info, void* ucontext) {
  const int saved_errno = errno;
  CaptureSlot* slot = nullptr;
  void* cookie = platform::CookieOf(info);
  if (cookie != nullptr && ThreadFreeze::IsFreezeCookie(cookie)) {
    ThreadFreeze::OnSignal(ucontext);  // a thread dump: hold still while another thread walks this stack
    errno = saved_errno;
    return;
  }
  if (cookie != nullptr) {
    if (!SlotTable::IsOurCookie(cookie)) {
      ForwardToPrevious(signo, info, ucontext);  // another stallwatch copy or a sigqueue user
      errno = saved_errno;
      return;
    }
    slot = SlotTable::FromCookie(cookie);
  } else {
#if defined(__linux__)
    // On Linux every signal we send carries a cookie: this one is someone else's.
    ForwardToPrevious(signo, info, ucontext);
    errno = saved_errno;
    return;
#else
    slot = SlotTable::FindArmedForTid(platform::CurrentTid());
    if (slot == nullptr) {
      ForwardToPrevious(signo, info, ucontext);
      errno = saved_errno;
      return;
    }
#endif
  }
  // Ours. Capture only if the slot belongs to this thread and is armed; otherwise the signal
  // is late (the watchdog gave up and disarmed) and is dropped.
  if (slot != nullptr && slot->tid == platform::CurrentTid()) {
    const uint64_t seq = slot->armed_seq.exchange(0, std::memory_order_acq_rel);
    if (seq != 0) {
      slot->sample.seq = seq;
      Capture(slot, ucontext);
      slot->done.Post();
    }
  }
  errno = saved_errno;
}

const struct sigaction* SignalCapture::Previous(int signo) {
  return signo > 0 && signo < kMaxSignal ? g_previous[signo].load(std::memory_order_acquire) : nullptr;
}

void SignalCapture::IntroduceToPeers(int signo) {
  struct sigaction current;
  if (signo > 0 && signo < kMaxSignal && sigaction(signo, nullptr, &current) == 0) SignalPeers::Discover(signo, current);
}

bool SignalCapture::IsInstalled(int signo) {
  struct sigaction current;
  if (sigaction(signo, nullptr, &current) != 0) return false;
  return IsOurHandler(current);
}

bool SignalCapture::EnsureInstalled(int signo, std::string* error) {
  if (signo <= 0 || signo >= kMaxSignal) {
    *error = "signal number out of range";
    return false;
  }
  std::lock_guard<std::mutex> lock(g_install_mutex);
  struct sigaction current;
  if (sigaction(signo, nullptr, &current) != 0) {
    *error = std::string("sigaction failed: ") + strerror(errno);
    return false;
  }
  if (IsOurHandler(current)) return true;
  // Another stallwatch copy on top that forwards to us (directly or through other copies)
  // already delivers our signals; taking its place would close a cycle (signal_peers.h).
  if (SignalPeers::ChainReachesUs(signo, current)) return true;
  // Publish what we replace before our handler can run, so it can forward from the start.
  g_previous[signo].store(new struct sigaction(current), std::memory_order_release);
  struct sigaction ours;
  memset(&ours, 0, sizeof ours);
  ours.sa_sigaction = &SignalCapture::HandleSignal;
  // SA_RESTART: without it an interrupted open() of a FIFO makes readFileSync throw EINTR.
  // SA_ONSTACK: use the thread's alternate stack if it has one (the handler keeps its large
  // buffers in the slot, not on the stack).
  ours.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  // Nothing may interrupt a capture: another sampler's handler would run inside ours and show
  // up in (and confuse) the walk.
  sigfillset(&ours.sa_mask);
  if (sigaction(signo, &ours, nullptr) != 0) {
    *error = std::string("sigaction failed: ") + strerror(errno);
    return false;
  }
  return true;
}

}  // namespace stallwatch
