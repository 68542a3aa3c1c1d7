// macOS implementation of platform.h.
// NOT TESTED: no macOS machine has built or run this file. It is written against Apple's
// documented APIs so that the port has a starting point; treat it as unverified.
#if defined(__APPLE__)

#include "platform.h"

#include <errno.h>
#include <mach/mach.h>
#include <mach/mach_time.h>
#include <sys/time.h>
#include <sys/ucontext.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

namespace stallwatch::platform {

int64_t CurrentTid() {
  uint64_t tid = 0;
  pthread_threadid_np(nullptr, &tid);
  return static_cast<int64_t>(tid);
}

uint64_t MonotonicNs() { return clock_gettime_nsec_np(CLOCK_UPTIME_RAW); }

double EpochMs() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
}

MachineRegisters RegistersFromContext(const void* ucontext) {
  MachineRegisters regs;
  const auto* uc = static_cast<const ucontext_t*>(ucontext);
#if defined(__x86_64__)
  regs.pc = uc->uc_mcontext->__ss.__rip;
  regs.sp = uc->uc_mcontext->__ss.__rsp;
  regs.fp = uc->uc_mcontext->__ss.__rbp;
#elif defined(__aarch64__)
  regs.pc = __darwin_arm_thread_state64_get_pc(uc->uc_mcontext->__ss);
  regs.sp = __darwin_arm_thread_state64_get_sp(uc->uc_mcontext->__ss);
  regs.fp = __darwin_arm_thread_state64_get_fp(uc->uc_mcontext->__ss);
  regs.lr = __darwin_arm_thread_state64_get_lr(uc->uc_mcontext->__ss);
#endif
  return regs;
}

Semaphore::Semaphore() { semaphore_create(mach_task_self(), &sem_, SYNC_POLICY_FIFO, 0); }
Semaphore::~Semaphore() { semaphore_destroy(mach_task_self(), sem_); }
void Semaphore::Post() { semaphore_signal(sem_); }

bool Semaphore::WaitFor(uint64_t timeout_ns) {
  uint64_t deadline = MonotonicNs() + timeout_ns;
  for (;;) {
    uint64_t now = MonotonicNs();
    if (now >= deadline) return false;
    uint64_t left = deadline - now;
    mach_timespec_t ts{static_cast<unsigned int>(left / 1000000000ull),
                       static_cast<clock_res_t>(left % 1000000000ull)};
    kern_return_t kr = semaphore_timedwait(sem_, ts);
    if (kr == KERN_SUCCESS) return true;
    if (kr != KERN_ABORTED) return false;
  }
}

// macOS has no pthread_sigqueue: the cookie cannot travel with the signal, and the handler
// falls back to the armed per-thread slot alone (see signal_capture.cc).
int SendSignal(pthread_t thread, int signo, void*) { return pthread_kill(thread, signo); }

void* CookieOf(const siginfo_t*) { return nullptr; }

bool CurrentThreadStack(uintptr_t* low, uintptr_t* high) {
  pthread_t self = pthread_self();
  *high = reinterpret_cast<uintptr_t>(pthread_get_stackaddr_np(self));
  *low = *high - pthread_get_stacksize_np(self);
  return true;
}

bool RealtimeSignalRange(int*, int*) { return false; }

void RaiseWithDefaultAction(int signo) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signo, &dfl, nullptr);
  pthread_kill(pthread_self(), signo);
}

void CurrentThreadName(char* out, size_t size) {
  if (size == 0) return;
  if (pthread_getname_np(pthread_self(), out, size) != 0) out[0] = 0;
}

// Thread dumps on macOS would need the Mach thread APIs (task_threads, thread_get_state):
// not built. dumpThreads() reports that instead of a stack.
bool ListProcessThreads(std::vector<ProcessThread>* out) {
  out->clear();
  return false;
}

int SendSignalToTid(int64_t, int, void*) { return ENOSYS; }

void SetContextRegisters(void*, const MachineRegisters&) {}

// Would need mach_vm_read_overwrite and mach_vm_region: not built. Without them the builtin
// copy is not searched for (see embedded_builtins.h).
bool SafeRead(uintptr_t, void*, size_t) { return false; }
std::vector<MemoryRange> ReadableMappings(uintptr_t, uintptr_t) { return {}; }

// Would need the dyld image list (_dyld_get_image_header and the segment load commands): not
// built. Builtins V8 runs from a copy then stay unnamed (see embedded_builtins.h).
bool InLoadedModuleSegment(uintptr_t, size_t) { return false; }

// Would need the dyld image list too: not built, so copies of stallwatch do not find each other
// there (peer_copies.h).
std::vector<LoadedModule> LoadedModules() { return {}; }

}  // namespace stallwatch::platform

#endif  // __APPLE__
