// A dump of every thread of the process, like a JVM thread dump or Go's SIGQUIT dump: the
// native stack of each thread (libuv's threadpool, V8's platform workers, other addons'
// threads, the JS threads themselves) with its OS name and scheduler state.
//
// Each thread is frozen in turn (thread_freeze.h) and walked from the dumping thread, so only
// one thread at a time is held, each for about as long as its walk (well under a millisecond
// for a typical stack, at most ThreadFreeze::kMaxHoldMs). Threads that block the signal
// (stallwatch's own threads, Node's inspector signal thread) are listed without a stack.
#pragma once

#include "report.h"
#include "symbolize.h"

namespace stallwatch {

class ThreadDumper {
 public:
  // An ordinary thread: dumpThreads() on a JS thread, or the reporter thread (allThreads, the
  // starvation check). Never the watchdog: it reads /proc and takes locks. `signo` is the
  // capture signal to freeze threads with (its handler is installed if needed).
  static ThreadDump DumpAll(int signo, int max_frames, NativeSymbolizer& symbolizer);
};

}  // namespace stallwatch
