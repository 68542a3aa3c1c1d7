// Linux implementation of platform.h.
#if defined(__linux__)

#include "platform.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <dirent.h>
#include <link.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace stallwatch::platform {

int64_t CurrentTid() { return static_cast<int64_t>(syscall(SYS_gettid)); }

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

double EpochMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

MachineRegisters RegistersFromContext(const void* ucontext) {
  MachineRegisters regs;
  const auto* uc = static_cast<const ucontext_t*>(ucontext);
#if defined(__x86_64__)
  regs.pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  regs.sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  regs.fp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RBP]);
#elif defined(__aarch64__)
  regs.pc = static_cast<uintptr_t>(uc->uc_mcontext.pc);
  regs.sp = static_cast<uintptr_t>(uc->uc_mcontext.sp);
  regs.fp = static_cast<uintptr_t>(uc->uc_mcontext.regs[29]);
  regs.lr = static_cast<uintptr_t>(uc->uc_mcontext.regs[30]);
#else
#error "stallwatch: unsupported CPU architecture"
#endif
  return regs;
}

void SetContextRegisters(void* ucontext, const MachineRegisters& regs) {
  auto* uc = static_cast<ucontext_t*>(ucontext);
#if defined(__x86_64__)
  uc->uc_mcontext.gregs[REG_RIP] = static_cast<greg_t>(regs.pc);
  uc->uc_mcontext.gregs[REG_RSP] = static_cast<greg_t>(regs.sp);
  uc->uc_mcontext.gregs[REG_RBP] = static_cast<greg_t>(regs.fp);
#elif defined(__aarch64__)
  uc->uc_mcontext.pc = regs.pc;
  uc->uc_mcontext.sp = regs.sp;
  uc->uc_mcontext.regs[29] = regs.fp;
  uc->uc_mcontext.regs[30] = regs.pc;  // lr: a return address, as pc is here
#endif
}

Semaphore::Semaphore() { sem_init(&sem_, 0, 0); }
Semaphore::~Semaphore() { sem_destroy(&sem_); }
void Semaphore::Post() { sem_post(&sem_); }

bool Semaphore::WaitFor(uint64_t timeout_ns) {
  // sem_clockwait on CLOCK_MONOTONIC: a wall-clock jump must not stretch or cut the wait.
  timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  uint64_t ns = static_cast<uint64_t>(deadline.tv_nsec) + timeout_ns;
  deadline.tv_sec += static_cast<time_t>(ns / 1000000000ull);
  deadline.tv_nsec = static_cast<long>(ns % 1000000000ull);
  for (;;) {
    if (sem_clockwait(&sem_, CLOCK_MONOTONIC, &deadline) == 0) return true;
    if (errno != EINTR) return false;
  }
}

int SendSignal(pthread_t thread, int signo, void* cookie) {
  sigval value;
  value.sival_ptr = cookie;
  return pthread_sigqueue(thread, signo, value);
}

void* CookieOf(const siginfo_t* info) {
  // pthread_sigqueue arrives as SI_QUEUE with our pid; kill(2), tgkill(2) and V8's
  // profiler (pthread_kill) arrive as SI_USER/SI_TKILL and carry no value.
  if (info == nullptr || info->si_code != SI_QUEUE || info->si_pid != getpid()) return nullptr;
  return info->si_value.sival_ptr;
}

bool CurrentThreadStack(uintptr_t* low, uintptr_t* high) {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return false;
  void* addr = nullptr;
  size_t size = 0;
  bool ok = pthread_attr_getstack(&attr, &addr, &size) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) return false;
  *low = reinterpret_cast<uintptr_t>(addr);
  *high = *low + size;
  return true;
}

bool RealtimeSignalRange(int* min, int* max) {
  *min = SIGRTMIN;
  *max = SIGRTMAX;
  return true;
}

void RaiseWithDefaultAction(int signo) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signo, &dfl, nullptr);
  // The signal is blocked while its handler runs; it stays pending and takes its default
  // action as soon as the handler returns and the mask is restored.
  syscall(SYS_tgkill, getpid(), CurrentTid(), signo);
}

void CurrentThreadName(char* out, size_t size) {
  if (size == 0) return;
  char name[16] = {0};
  if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0) name[0] = 0;
  strncpy(out, name, size - 1);
  out[size - 1] = 0;
}

bool ListProcessThreads(std::vector<ProcessThread>* out) {
  out->clear();
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return false;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long long tid = strtoll(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != 0 || tid <= 0) continue;
    ProcessThread thread;
    thread.tid = tid;
    const std::string base = std::string("/proc/self/task/") + entry->d_name;
    std::ifstream comm(base + "/comm");
    std::getline(comm, thread.name);
    // A thread that exits between readdir and here leaves an empty status: it is skipped by
    // its caller when the signal cannot be sent (ESRCH).
    std::ifstream status(base + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("State:", 0) == 0) {
        std::istringstream fields(line.substr(6));
        std::string letter;
        fields >> letter;
        if (!letter.empty()) thread.run_state = letter[0];
      } else if (line.rfind("SigBlk:", 0) == 0) {
        thread.blocked_signals = strtoull(line.c_str() + 7, nullptr, 16);
      }
    }
    out->push_back(std::move(thread));
  }
  closedir(dir);
  return true;
}

int SendSignalToTid(int64_t tid, int signo, void* cookie) {
  // What pthread_sigqueue sends, addressed by tid: SI_QUEUE from our own pid, which is what
  // CookieOf recognizes.
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = signo;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_ptr = cookie;
  if (syscall(SYS_rt_tgsigqueueinfo, getpid(), static_cast<pid_t>(tid), signo, &info) != 0) return errno;
  return 0;
}

namespace {
struct SegmentQuery {
  uintptr_t address;
  size_t length;
  bool inside;
};

int CheckModuleSegments(struct dl_phdr_info* info, size_t, void* data) {
  auto* query = static_cast<SegmentQuery*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || !(segment.p_flags & PF_R)) continue;
    const uintptr_t offset = query->address - (info->dlpi_addr + segment.p_vaddr);
    if (offset < segment.p_memsz && query->length <= segment.p_memsz - offset) {
      query->inside = true;
      return 1;
    }
  }
  return 0;
}
}  // namespace

bool SafeRead(uintptr_t address, void* out, size_t length) {
  iovec local{out, length};
  iovec remote{reinterpret_cast<void*>(address), length};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(length);
}

std::vector<MemoryRange> ReadableMappings(uintptr_t low, uintptr_t high) {
  std::vector<MemoryRange> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // "start-end perms offset dev inode [path]", addresses in hex.
    char* rest = nullptr;
    const uintptr_t start = strtoull(line.c_str(), &rest, 16);
    if (rest == nullptr || *rest != '-') continue;
    const uintptr_t end = strtoull(rest + 1, &rest, 16);
    if (rest == nullptr || rest[0] != ' ' || rest[1] != 'r') continue;
    if (end <= low || start >= high) continue;
    out.push_back({std::max(start, low), std::min(end, high)});
  }
  std::reverse(out.begin(), out.end());
  return out;
}

namespace {
int AddModule(struct dl_phdr_info* info, size_t, void* data) {
  if (info->dlpi_name == nullptr || info->dlpi_name[0] == '\0') return 0;
  LoadedModule module{info->dlpi_name, UINTPTR_MAX, 0};
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || !(segment.p_flags & PF_X)) continue;
    const uintptr_t start = info->dlpi_addr + segment.p_vaddr;
    module.code_start = std::min(module.code_start, start);
    module.code_end = std::max(module.code_end, start + segment.p_memsz);
  }
  if (module.code_start < module.code_end) static_cast<std::vector<LoadedModule>*>(data)->push_back(std::move(module));
  return 0;
}
}  // namespace

std::vector<LoadedModule> LoadedModules() {
  std::vector<LoadedModule> modules;
  dl_iterate_phdr(AddModule, &modules);
  return modules;
}

bool InLoadedModuleSegment(uintptr_t address, size_t length) {
  SegmentQuery query{address, length, false};
  dl_iterate_phdr(CheckModuleSegments, &query);
  return query.inside;
}

}  // namespace stallwatch::platform

#endif  // __linux__
