// Other copies of stallwatch in this process, whatever signal they capture with: another version
// in another node_modules, or the same addon loaded again under another name.
//
// They share two things that V8 and the kernel give to one owner only:
// - The JIT code event handler. V8 keeps one per isolate: a second copy's SetJitCodeEventHandler
//   silently replaces the first's, whose code map then misses new code (unnamed frames) and,
//   worse, code moves (a name that was right for the old address could be shown for whatever
//   moved there, while the event counter still calls it provable). So each copy's handler also
//   serves every other copy listening on that isolate, and a copy that removes its handler hands
//   the isolate over to one that still listens instead of leaving none.
// - The thread itself: one copy's signal can land while the thread runs the other copy's capture
//   code (its exact-stack interrupt callback), which is over within milliseconds. The watchdog
//   samples again then (InPeerCode), as it does for a sample taken inside another signal handler.
//
// Found by walking the loaded modules for the one symbol each copy exports,
// stallwatch_peer_v1(). (The signal chain has its own introduction: signal_peers.h.)
#pragma once

#include <cstdint>

namespace v8 {
class Isolate;
struct JitCodeEvent;
}  // namespace v8

namespace stallwatch {

// Version 1 of the descriptor every copy exports. Append fields only; never reorder. Every
// function may be called on any thread that V8 sends code events on; none of them block for
// long (a map lookup under the copy's own mutex).
struct StallwatchPeerV1 {
  uint32_t version;  // 1
  // The handler this copy installs: serves this copy and every copy it knows.
  void (*jit_handler)(const v8::JitCodeEvent* event);
  // Serves this copy's own listener of event->isolate only, if it has one.
  void (*deliver_jit_event)(const v8::JitCodeEvent* event);
  // Whether this copy listens to `isolate`'s code events.
  bool (*listens_to)(v8::Isolate* isolate);
  // Another copy introduces itself, with the span of its code. JS thread.
  void (*introduce)(const StallwatchPeerV1* peer, uintptr_t code_start, uintptr_t code_end);
};

class PeerCopies {
 public:
  // JS thread (walks the loaded modules, takes the loader's locks): finds the copies loaded so
  // far and introduces this one to each of them. Cheap enough for every listener creation.
  static void Discover();

  // Any thread V8 sends code events on: hands `event` to `own` (this copy's listener) and to
  // every known copy that listens to its isolate, each with its own user_data through a line
  // info recording.
  static void DispatchJitEvent(const v8::JitCodeEvent* event, void (*own)(const v8::JitCodeEvent*));

  // JS thread of `isolate`: the handler of a known copy that still listens to it, to install
  // when this copy removes its own; nullptr if none does.
  static void (*SuccessorJitHandler(v8::Isolate* isolate))(const v8::JitCodeEvent*);

  // Any thread, lock-free, no loader calls (the watchdog): whether `pc` is in a known copy's code.
  static bool InPeerCode(uintptr_t pc);

  // How many other copies are known (tests, diagnostics).
  static int Count();
};

}  // namespace stallwatch
