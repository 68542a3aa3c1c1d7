// The capture signal: installing and re-installing the handler (chaining to whatever was
// there before), and the handler itself.
//
// A signal is ours only when it carries the cookie of one of our slot-table cells (Linux,
// pthread_sigqueue) or, where the OS carries no cookie, when the calling thread's slot is
// armed. si_code/si_pid alone cannot tell us from V8's profiler or a second stallwatch.
//   - not ours:               forwarded to the previous handler, or its default action;
//   - ours, slot armed:       captured into the slot, then the watchdog is woken;
//   - ours, slot not armed:   a late signal after a timeout: dropped, never forwarded.
#pragma once

#include <signal.h>

#include <string>

namespace stallwatch {

class SignalCapture {
 public:
  // Any thread except inside a signal handler. Installs our handler for `signo` if it is not
  // the current one (libuv replaces handlers when the app adds process.on(<signal>)), saving
  // the current disposition to chain to. Never uninstalls: a late signal must always find us.
  // Returns false with a message on failure.
  static bool EnsureInstalled(int signo, std::string* error);

  // True if `signo` currently has our handler (checked before every send).
  static bool IsInstalled(int signo);

  // JS thread, before the first EnsureInstalled of a subscription: if the current handler of
  // `signo` is another stallwatch copy's, the two learn of each other (signal_peers.h).
  static void IntroduceToPeers(int signo);

  // The handler itself (async-signal-safe), and the disposition it forwards foreign `signo`
  // signals to (nullptr before it was first installed on signo).
  static void HandleSignal(int signo, siginfo_t* info, void* ucontext);
  static const struct sigaction* Previous(int signo);
};

}  // namespace stallwatch
