// The OS seam. Everything that differs between Linux and macOS lives behind this header,
// with one implementation file per OS (linux.cc, darwin.cc). Functions marked
// "async-signal-safe" are called from the capture signal handler.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#if defined(__APPLE__)
#include <mach/semaphore.h>
#else
#include <semaphore.h>
#endif

namespace stallwatch::platform {

// OS thread id of the calling thread. Async-signal-safe.
int64_t CurrentTid();

// CLOCK_MONOTONIC in nanoseconds. Async-signal-safe.
uint64_t MonotonicNs();

// Wall clock, epoch milliseconds.
double EpochMs();

// Registers of the interrupted context, as V8's RegisterState and the frame-pointer walker need them.
struct MachineRegisters {
  uintptr_t pc = 0;
  uintptr_t sp = 0;
  uintptr_t fp = 0;
  uintptr_t lr = 0;  // arm64 only
};

// Reads pc/sp/fp(/lr) out of the ucontext the kernel passed to a SA_SIGINFO handler.
// Async-signal-safe.
MachineRegisters RegistersFromContext(const void* ucontext);

// Writes pc, sp and the frame pointer into a ucontext (a copy to restart an unwinder from).
// Async-signal-safe. Unused where libunwind is not (macOS): a no-op there.
void SetContextRegisters(void* ucontext, const MachineRegisters& regs);

// A counting semaphore whose Post() is async-signal-safe and whose wait is bounded.
// Linux: an unnamed POSIX semaphore. macOS has no working unnamed POSIX semaphores:
// a Mach semaphore.
class Semaphore {
 public:
  Semaphore();
  ~Semaphore();
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  void Post();                         // async-signal-safe
  bool WaitFor(uint64_t timeout_ns);   // true if posted within the timeout

 private:
#if defined(__APPLE__)
  semaphore_t sem_;
#else
  sem_t sem_;
#endif
};

// Sends `signo` to `thread`, carrying `cookie` where the OS can (Linux: pthread_sigqueue,
// so the handler can tell our signals from anyone else's). Returns 0 or an errno value.
int SendSignal(pthread_t thread, int signo, void* cookie);

// The cookie of a signal sent by SendSignal from this process, or nullptr when the
// signal did not come from SendSignal in this process (kill(1), V8's profiler, another
// library) or the OS cannot carry cookies. Async-signal-safe.
void* CookieOf(const siginfo_t* info);

// Bounds of the calling thread's stack [low, high).
bool CurrentThreadStack(uintptr_t* low, uintptr_t* high);

// Real-time signal range (Linux). Returns false where there are none (macOS).
bool RealtimeSignalRange(int* min, int* max);

// Raises `signo` on the calling thread with its default disposition, the way the
// kernel would have acted had no handler been installed. Async-signal-safe.
void RaiseWithDefaultAction(int signo);

// Name of the OS thread, for reports ("" when unknown).
void CurrentThreadName(char* out, size_t size);

// One thread of this process as the OS lists it (thread dumps).
struct ProcessThread {
  int64_t tid = 0;
  std::string name;              // the OS thread name; "" when unknown
  char run_state = '?';          // Linux /proc letter: R running, S sleeping, D uninterruptible, T stopped, ...
  uint64_t blocked_signals = 0;  // bit (signo - 1) set: the thread blocks signo
};

// Every thread of this process. Reads files (Linux: /proc/self/task): never from a signal
// handler or the watchdog. False where the OS offers no such list here (macOS: not built).
bool ListProcessThreads(std::vector<ProcessThread>* out);

// Sends `signo` with `cookie` to thread `tid` of this process (Linux: rt_tgsigqueueinfo, which
// needs no pthread_t, so threads other libraries created can be reached). 0 or an errno
// value; ENOSYS where not implemented (macOS).
int SendSignalToTid(int64_t tid, int signo, void* cookie);

// Copies `length` bytes at `address` of this process into `out` without faulting: false
// when any of it is unmapped or unreadable (Linux: process_vm_readv on ourselves), or where
// that cannot be done (macOS; a seccomp policy that forbids the call). JS thread.
bool SafeRead(uintptr_t address, void* out, size_t length);

// The readable mappings of this process that overlap [low, high), clipped to it, from the
// highest down. Reads a file (Linux: /proc/self/maps): JS thread only. Empty where unknown.
struct MemoryRange {
  uintptr_t start;
  uintptr_t end;
};
std::vector<MemoryRange> ReadableMappings(uintptr_t low, uintptr_t high);

// Whether [address, address + length) lies inside one loaded segment of a module (the
// executable or a shared library): mapped and readable for as long as that module stays
// loaded. Takes the loader's locks (Linux: dl_iterate_phdr's short one): JS thread only, never
// from a signal handler or the watchdog.
bool InLoadedModuleSegment(uintptr_t address, size_t length);

// A loaded module with a file (the executable's own entry has none on Linux and is left out)
// and the span of its executable segments.
struct LoadedModule {
  std::string path;
  uintptr_t code_start;
  uintptr_t code_end;
};
// Every loaded shared library. Takes the loader's locks: JS thread only. Empty where not built
// (macOS: other copies of stallwatch are then not found, see peer_copies.h).
std::vector<LoadedModule> LoadedModules();

}  // namespace stallwatch::platform
