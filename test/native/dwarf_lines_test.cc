// sources: dwarf_lines.cc symbolize.cc elf_symbols.cc thread_util.cc
// Source lines from DWARF (this binary is built with -g): exact file:line of a call in this
// file, the line inside the named function for inlined code, the per-report budget (an
// expired deadline never waits, the background thread fills the cache for later lookups),
// modules without DWARF, and the background thread's name and signal mask.
// Needs libdw's headers at build time and libdw.so.1 at run time; without them every lookup
// is kNone and this test fails, saying so.
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "dwarf_lines.h"
#include "symbolize.h"

using stallwatch::DwarfLines;
using stallwatch::NativeSymbol;
using stallwatch::NativeSymbolizer;
using stallwatch::SourceLine;
using Clock = std::chrono::steady_clock;

// SANITIZE=address: LeakSanitizer's tracer crashes scanning the dynamic TLS that libdw (loaded
// with dlopen, used on the background thread) allocates, on glibc >= 2.32 with GCC 12's
// runtime (google/sanitizers#1322). Not intercepting __tls_get_addr avoids that; leak
// checking of everything else stays on. An unused function in other builds.
extern "C" const char* __asan_default_options() { return "intercept_tls_get_addr=0"; }

namespace {

int failures = 0;

void Check(bool ok, const std::string& what) {
  if (!ok) {
    fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
  }
}

const char* StatusName(DwarfLines::Status s) {
  switch (s) {
    case DwarfLines::Status::kFound: return "found";
    case DwarfLines::Status::kNotYet: return "not-yet";
    case DwarfLines::Status::kNone: return "none";
  }
  return "?";
}

std::string Describe(DwarfLines::Status s, const SourceLine& line) {
  return std::string(StatusName(s)) + " " + line.file + ":" + std::to_string(line.line) +
         (line.inlined_file.empty() ? "" : " (inlined " + line.inlined_file + ":" + std::to_string(line.inlined_line) + ")");
}

std::string Describe(const NativeSymbol& s) {
  return "{name='" + s.name + "' source=" + s.source_file + ":" + std::to_string(s.source_line) + " inlined=" +
         s.inlined_file + ":" + std::to_string(s.inlined_line) + " pending=" + (s.source_pending ? "true" : "false") +
         "}";
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string ExecutablePath() {
  char buffer[4096];
  ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return length > 0 ? std::string(buffer, static_cast<size_t>(length)) : "";
}

// The main program's load bias (a PIE or not, depending on the toolchain's default). The main
// program is the first module dl_iterate_phdr reports.
uintptr_t ExecutableBias() {
  uintptr_t bias = 0;
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* data) {
        *static_cast<uintptr_t*>(data) = info->dlpi_addr;
        return 1;
      },
      &bias);
  return bias;
}

volatile uintptr_t sink;

__attribute__((noinline)) uintptr_t ReturnAddress() {
  sink = sink + 1;
  return reinterpret_cast<uintptr_t>(__builtin_return_address(0));
}

// The address of the call below, whose line is *line. Return addresses point after the call,
// so the call itself is at ra - 1 (what the reporter looks up for caller frames).
__attribute__((noinline)) uintptr_t CallOnKnownLine(int* line) {
  *line = __LINE__ + 1;
  const uintptr_t ra = ReturnAddress();
  sink = ra;
  return ra - 1;
}

// Inlined into OuterWithInlinedCall: the pc of the call to ReturnAddress is in the outer
// function's code but on this function's line.
__attribute__((always_inline)) inline uintptr_t InlinedHelper(int* inner_line) {
  *inner_line = __LINE__ + 1;
  const uintptr_t ra = ReturnAddress();
  sink = ra;
  return ra - 1;
}

__attribute__((noinline)) uintptr_t OuterWithInlinedCall(int* outer_line, int* inner_line) {
  *outer_line = __LINE__ + 1;
  const uintptr_t pc = InlinedHelper(inner_line);
  sink = pc;
  return pc;
}

// Polls with an expired deadline (never waits inside Lookup) until the background thread has
// the answer.
DwarfLines::Status PollUntilKnown(const std::string& module, uintptr_t bias, uintptr_t pc, SourceLine* out,
                                  double timeout_ms) {
  const Clock::time_point start = Clock::now();
  for (;;) {
    const DwarfLines::Status s = DwarfLines::Lookup(module, bias, pc, Clock::time_point{}, out);
    if (s != DwarfLines::Status::kNotYet || MsSince(start) > timeout_ms) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void TestBudgetAndPrefetch(int* call_line, uintptr_t* call_pc) {
  // Start the background thread first (on a file with no DWARF) and take one lookup through
  // every call, so the timing below is the lookup's own: not thread creation's (slow under
  // sanitizers), nor lazy symbol binding's, which waits for the loader lock while the
  // background thread is inside dlopen("libdw.so.1").
  DwarfLines::Prefetch("/dev/null");
  SourceLine ignored;
  DwarfLines::Lookup("/dev/null", 0, 0x1000, Clock::now() + std::chrono::seconds(10), &ignored);
  // Keyed by the executable's real path: nothing has asked about this module yet.
  const std::string exe = ExecutablePath();
  *call_pc = CallOnKnownLine(call_line);
  SourceLine line;
  Clock::time_point start = Clock::now();
  DwarfLines::Status s = DwarfLines::Lookup(exe, ExecutableBias(), *call_pc, Clock::now() - std::chrono::seconds(1), &line);
  const double expired_ms = MsSince(start);
  // The status proves it: with an expired deadline Lookup never re-checks after queueing.
  // The time bound is loose on purpose: the woken background thread may preempt this one
  // for a scheduler slice (a few ms), which is not waiting for DWARF.
  Check(s == DwarfLines::Status::kNotYet, "expired deadline on an unloaded module is not-yet: " + Describe(s, line));
  Check(expired_ms < 100, "expired deadline does not block (" + std::to_string(expired_ms) + " ms)");

  DwarfLines::Prefetch(exe);
  start = Clock::now();
  s = DwarfLines::Lookup(exe, ExecutableBias(), *call_pc, Clock::now() + std::chrono::seconds(10), &line);
  const double loaded_ms = MsSince(start);
  Check(s == DwarfLines::Status::kFound, "after Prefetch the line is found: " + Describe(s, line));
  Check(EndsWith(line.file, "/dwarf_lines_test.cc") && line.file[0] == '/',
        "file is this test, absolute: " + Describe(s, line));
  Check(line.line == *call_line, "line is the call's line " + std::to_string(*call_line) + ": " + Describe(s, line));
  Check(line.inlined_file.empty() && line.inlined_line == 0, "not inlined: " + Describe(s, line));

  // Cached now: an expired deadline answers at once.
  start = Clock::now();
  SourceLine again;
  s = DwarfLines::Lookup(exe, ExecutableBias(), *call_pc, Clock::time_point{}, &again);
  const double cached_ms = MsSince(start);
  Check(s == DwarfLines::Status::kFound && again.line == *call_line, "cached answer with expired deadline: " + Describe(s, again));
  printf("  test binary: expired lookup %.3f ms; load + first lookup %.2f ms; cached lookup %.4f ms\n", expired_ms,
         loaded_ms, cached_ms);
}

void TestSymbolizerFillsSourceLine(int call_line, uintptr_t call_pc) {
  NativeSymbolizer symbolizer;
  symbolizer.BeginReport(std::chrono::seconds(10));
  NativeSymbol s = symbolizer.Resolve(call_pc);
  Check(s.name == "(anonymous namespace)::CallOnKnownLine(int*)", "named: " + Describe(s));
  Check(EndsWith(s.source_file, "/dwarf_lines_test.cc") && s.source_line == call_line,
        "symbolizer source line " + std::to_string(call_line) + ": " + Describe(s));
  Check(!s.source_pending, "not pending: " + Describe(s));
}

void TestInlinedCodeReportsLineInNamedFunction() {
  int outer_line = 0, inner_line = 0;
  const uintptr_t pc = OuterWithInlinedCall(&outer_line, &inner_line);
  NativeSymbolizer symbolizer;
  symbolizer.BeginReport(std::chrono::seconds(10));
  NativeSymbol s = symbolizer.Resolve(pc);
  Check(s.name == "(anonymous namespace)::OuterWithInlinedCall(int*, int*)", "outer function named: " + Describe(s));
  Check(EndsWith(s.source_file, "/dwarf_lines_test.cc") && s.source_line == outer_line,
        "source line is the inlined call in the named function (" + std::to_string(outer_line) + "): " + Describe(s));
  Check(EndsWith(s.inlined_file, "/dwarf_lines_test.cc") && s.inlined_line == inner_line,
        "inlined line is the helper's own line (" + std::to_string(inner_line) + "): " + Describe(s));
}

void TestZeroBudgetDoesNotWaitButQueues() {
  // A fresh symbolizer has no budget until BeginReport: uncached lines come back pending and
  // arrive for a later report.
  int line = 0;
  const uintptr_t pc = CallOnKnownLine(&line);  // the call site asked about before: cached
  NativeSymbolizer symbolizer;
  NativeSymbol s = symbolizer.Resolve(pc);
  Check(s.source_line == line, "cached line without a budget: " + Describe(s));
  // An address nobody asked about (a few bytes into ReturnAddress).
  const uintptr_t fresh = reinterpret_cast<uintptr_t>(reinterpret_cast<void*>(&ReturnAddress)) + 1;
  const Clock::time_point start = Clock::now();
  s = symbolizer.Resolve(fresh);
  const double ms = MsSince(start);
  Check(ms < 100, "no budget: Resolve does not wait (" + std::to_string(ms) + " ms)");
  if (s.source_line == 0) {
    Check(s.source_pending, "uncached line is pending: " + Describe(s));
    SourceLine later;
    const DwarfLines::Status st = PollUntilKnown("/proc/self/exe", ExecutableBias(), fresh, &later, 10000);
    Check(st == DwarfLines::Status::kFound && EndsWith(later.file, "/dwarf_lines_test.cc"),
          "queued line arrives for a later lookup: " + Describe(st, later));
  }
}

// Premise of the no-DWARF check: the file has no .debug_info / .zdebug_info section.
bool FileHasDebugSection(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!f.read(reinterpret_cast<char*>(&eh), sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shoff == 0 || eh.e_shstrndx >= eh.e_shnum) {
    return true;  // unknown: treat as "may have DWARF"
  }
  std::string sections(static_cast<size_t>(eh.e_shnum) * sizeof(Elf64_Shdr), '\0');
  f.seekg(static_cast<std::streamoff>(eh.e_shoff));
  if (!f.read(sections.data(), static_cast<std::streamsize>(sections.size()))) return true;
  const auto* sh = reinterpret_cast<const Elf64_Shdr*>(sections.data());
  std::string names(sh[eh.e_shstrndx].sh_size, '\0');
  f.seekg(static_cast<std::streamoff>(sh[eh.e_shstrndx].sh_offset));
  if (!f.read(names.data(), static_cast<std::streamsize>(names.size()))) return true;
  for (int i = 0; i < eh.e_shnum; ++i) {
    if (sh[i].sh_name >= names.size()) continue;
    const char* name = names.c_str() + sh[i].sh_name;
    if (strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0) return true;
  }
  return false;
}

// Premise too: no separate debug file for it under /usr/lib/debug/.build-id.
bool HasSeparateDebugFile(const char* loaded_name_part) {
  struct Query {
    const char* part;
    std::string path;
  } q{loaded_name_part, ""};
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* data) {
        auto* q = static_cast<Query*>(data);
        if (info->dlpi_name == nullptr || strstr(info->dlpi_name, q->part) == nullptr) return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_NOTE) continue;
          const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
          const char* end = p + ph.p_memsz;
          while (p + sizeof(ElfW(Nhdr)) <= end) {
            const auto* n = reinterpret_cast<const ElfW(Nhdr)*>(p);
            const char* name = p + sizeof(*n);
            const auto* desc = reinterpret_cast<const unsigned char*>(name + ((n->n_namesz + 3) & ~3u));
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 && n->n_descsz > 1) {
              char hex[3];
              q->path = "/usr/lib/debug/.build-id/";
              for (unsigned j = 0; j < n->n_descsz; ++j) {
                snprintf(hex, sizeof(hex), "%02x", desc[j]);
                q->path += hex;
                if (j == 0) q->path += '/';
              }
              q->path += ".debug";
              return 1;
            }
            p = reinterpret_cast<const char*>(desc) + ((n->n_descsz + 3) & ~3u);
          }
        }
        return 1;
      },
      &q);
  return !q.path.empty() && access(q.path.c_str(), F_OK) == 0;
}

void TestModuleWithoutDwarfIsNone() {
  void* lib = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_NOLOAD);
  Check(lib != nullptr, "libstdc++.so.6 is loaded");
  if (lib == nullptr) return;
  void* fn = dlsym(lib, "_ZSt9terminatev");  // std::terminate()
  Dl_info info{};
  Check(fn != nullptr && dladdr(fn, &info) != 0 && info.dli_fname != nullptr, "locate std::terminate");
  dlclose(lib);
  if (fn == nullptr || info.dli_fname == nullptr) return;
  const std::string path = info.dli_fname;
  if (FileHasDebugSection(path) || HasSeparateDebugFile("libstdc++")) {
    printf("  skipped the no-DWARF check: %s has debug info on this machine\n", path.c_str());
    return;
  }
  NativeSymbolizer symbolizer;
  symbolizer.BeginReport(std::chrono::seconds(10));
  NativeSymbol s = symbolizer.Resolve(reinterpret_cast<uintptr_t>(fn) + 1);
  Check(s.source_file.empty() && s.source_line == 0 && !s.source_pending, "no DWARF: no line, not pending: " + Describe(s));
  // Known now: later lookups answer none at once, even with an expired deadline.
  SourceLine line;
  const DwarfLines::Status st = DwarfLines::Lookup(path, 0, 0x1000, Clock::time_point{}, &line);
  Check(st == DwarfLines::Status::kNone, path + " without DWARF is none: " + Describe(st, line));
  Check(DwarfLines::ModuleStatus(path) == "no DWARF", "status: " + DwarfLines::ModuleStatus(path));
}

void TestNotAFileIsNone() {
  SourceLine line;
  DwarfLines::Status st = DwarfLines::Lookup("linux-vdso.so.1", 0, 0x1000, Clock::now() + std::chrono::seconds(10), &line);
  Check(st == DwarfLines::Status::kNone, "relative pseudo-module is none: " + Describe(st, line));
  st = DwarfLines::Lookup("/dev/null", 0, 0x1000, Clock::now() + std::chrono::seconds(10), &line);
  Check(st == DwarfLines::Status::kNone, "a non-ELF file is none: " + Describe(st, line));
  Check(DwarfLines::ModuleStatus("/dev/null") == "not a readable 64-bit little-endian ELF file",
        "status of /dev/null: " + DwarfLines::ModuleStatus("/dev/null"));
  st = DwarfLines::Lookup("/nonexistent/libx.so", 0, 0x1000, Clock::now() + std::chrono::seconds(10), &line);
  Check(st == DwarfLines::Status::kNone, "a missing file is none: " + Describe(st, line));
}

void TestAddressOutsideAnyUnitIsNone() {
  // Inside this binary's DWARF-covered module but far past its code.
  SourceLine line;
  const DwarfLines::Status st = DwarfLines::Lookup("/proc/self/exe", 0, 0x7fffffff0000, Clock::now() + std::chrono::seconds(10), &line);
  Check(st == DwarfLines::Status::kNone, "address outside every unit is none: " + Describe(st, line));
}

void TestDwarfSizeLimit(uintptr_t call_pc) {
  // The executable again under a path nobody has used, so it is loaded anew.
  const std::string path = "/proc/" + std::to_string(getpid()) + "/exe";
  DwarfLines::SetMaxDwarfBytes(1024);
  SourceLine line;
  const DwarfLines::Status st = DwarfLines::Lookup(path, ExecutableBias(), call_pc, Clock::now() + std::chrono::seconds(10), &line);
  DwarfLines::SetMaxDwarfBytes(uint64_t{256} << 20);
  const std::string status = DwarfLines::ModuleStatus(path);
  Check(st == DwarfLines::Status::kNone, "module over the DWARF size limit is none: " + Describe(st, line));
  Check(status.rfind("DWARF too large: ", 0) == 0 && status.find("(limit 1 KiB)") != std::string::npos,
        "status says why: " + status);
  Check(DwarfLines::ModuleStatus("/proc/self/exe") == "loaded", "executable loaded: " + DwarfLines::ModuleStatus("/proc/self/exe"));
  Check(DwarfLines::ModuleStatus("/nowhere") == "not asked about", "unknown module: " + DwarfLines::ModuleStatus("/nowhere"));
}

void TestWorkerThreadNamedWithSignalsBlocked() {
  bool found = false;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string base = std::string("/proc/self/task/") + e->d_name;
    std::ifstream comm(base + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name != "stallwatch-dw") continue;
    found = true;
    std::ifstream status(base + "/status");
    std::string l;
    while (std::getline(status, l)) {
      if (l.rfind("SigBlk:", 0) != 0) continue;
      // Every signal the kernel knows except SIGKILL/SIGSTOP (which cannot be blocked).
      const unsigned long long blocked = strtoull(l.c_str() + 7, nullptr, 16);
      Check((blocked & 0xfffffffe7ffbfeffULL) == 0xfffffffe7ffbfeffULL,
            "dwarf thread blocks all signals: " + l);
    }
  }
  closedir(dir);
  Check(found, "a thread named stallwatch-dw exists");
}

}  // namespace

int main() {
  const char* reason = DwarfLines::UnavailableReason();
  if (reason != nullptr) {
    fprintf(stderr, "FAIL: source lines unavailable: %s\n", reason);
    return 1;
  }
  int call_line = 0;
  uintptr_t call_pc = 0;
  TestBudgetAndPrefetch(&call_line, &call_pc);
  TestSymbolizerFillsSourceLine(call_line, call_pc);
  TestInlinedCodeReportsLineInNamedFunction();
  TestZeroBudgetDoesNotWaitButQueues();
  TestModuleWithoutDwarfIsNone();
  TestNotAFileIsNone();
  TestAddressOutsideAnyUnitIsNone();
  TestDwarfSizeLimit(call_pc);
  TestWorkerThreadNamedWithSignalsBlocked();
  reason = DwarfLines::UnavailableReason();
  if (reason != nullptr) fprintf(stderr, "FAIL: source lines unavailable: %s\n", reason), ++failures;
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  return 0;
}
