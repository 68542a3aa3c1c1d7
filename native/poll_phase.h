// Where a loop is in its poll phase, from two readings of libuv's idle time (a pure function,
// so that the cases below can be tested without a loop).
//
// libuv's idle time includes the poll call in progress: it grows, nanosecond for nanosecond,
// while the thread sits in the kernel poll call, and stands still otherwise. So, for a loop
// whose last hook was the prepare hook (it is in its poll phase):
//   - parked since the hook: the idle time gained since the hook reaches (almost) now;
//   - parked, but the poll call began late: the idle time grows between two readings. The
//     thread was not running between our hook and the call (a machine short of CPU), or
//     another prepare callback ran first. Reading it as "progress stopped at the hook"
//     reported a loop parked in epoll_pwait as stalled (seen in a chaos run: a worker whose
//     thread had waited 139 ms for a CPU);
//   - neither: an I/O callback, or the code before the poll call, is running. The loop last
//     moved when it left the poll call: the hook plus the idle time gained since.
#pragma once

#include <cstdint>

namespace stallwatch {

struct PollPhase {
  bool parked = false;
  uint64_t last_progress_ns = 0;
};

// hook_ns and idle_at_hook: the prepare hook's clock and idle time; idle_now read just before
// now_ns, idle_again just after it (both from uv_metrics_idle_time).
inline PollPhase ReadPollPhase(uint64_t hook_ns, uint64_t idle_at_hook, uint64_t idle_now, uint64_t now_ns,
                               uint64_t idle_again) {
  constexpr uint64_t kSlackNs = 1000000;  // the hook and the poll call are this close, or closer
  const uint64_t parked_ns = idle_now > idle_at_hook ? idle_now - idle_at_hook : 0;
  const uint64_t left_poll_ns = hook_ns + parked_ns;
  PollPhase phase;
  phase.parked = left_poll_ns + kSlackNs >= now_ns || idle_again > idle_now;
  phase.last_progress_ns = phase.parked ? now_ns : left_poll_ns;
  return phase;
}

}  // namespace stallwatch
