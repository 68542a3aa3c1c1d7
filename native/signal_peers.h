// Other copies of stallwatch in this process that use the same capture signal: another version
// in another node_modules, or the same addon loaded again under another name.
//
// Each copy installs its handler over whatever is there and forwards the signals that are not
// its own to what it replaced; and each re-installs itself before every capture (libuv replaces
// handlers when the app adds process.on(<signal>)). Two copies doing that blindly take turns on
// top, each recording the other as what it replaced: a cycle, after which a signal that is
// neither's (an external kill, the app's own listener) goes round it and never reaches the
// disposition below both. So the copies introduce themselves to each other: each exports
// stallwatch_signal_peer_v1(), a descriptor with its handler and what it forwards to per signal.
// A copy on top whose forwarding chain reaches our handler already delivers our signals: we leave
// it there, and the chain stays a line ending at the original disposition.
#pragma once

#include <signal.h>

#include <cstdint>

namespace stallwatch {

using SigactionHandler = void (*)(int, siginfo_t*, void*);

// Version 1 of the descriptor every copy exports. Append fields only; never reorder.
struct StallwatchSignalPeerV1 {
  uint32_t version;  // 1
  SigactionHandler handler;
  // What this copy forwards foreign `signo` signals to: nullptr if it never installed on signo.
  // Any thread; lock-free.
  const struct sigaction* (*previous)(int signo);
  // Another copy introduces itself. Called on the caller's JS thread.
  void (*introduce)(const StallwatchSignalPeerV1* peer);
};

class SignalPeers {
 public:
  // JS thread only (dladdr and dlopen take the loader lock): for each handler down the chain
  // from `action` that belongs to another copy, remember that copy and introduce ourselves.
  static void Discover(int signo, const struct sigaction& action);

  // Any thread, lock-free, no loader calls (the watchdog uses it before every capture): whether
  // `action` is another known copy whose forwarding chain reaches our handler.
  static bool ChainReachesUs(int signo, const struct sigaction& action);

  // How many other copies we know (tests, diagnostics).
  static int Count();
};

}  // namespace stallwatch
