// Source file:line of native instruction addresses, from DWARF line tables read with elfutils'
// libdw (libdwfl). Linux only, and only where stallwatch was compiled with libdw's headers;
// libdw.so.1 itself is loaded with dlopen at run time, so the addon loads without it and
// every lookup then answers kNone.
//
// All libdw work (dlopen, opening files, parsing DWARF) runs on one background thread,
// 'stallwatch-dw' (all signals blocked, nice 10; Linux thread names hold 15 characters).
// Callers never parse DWARF: Lookup() answers from a cache, or queues the address and waits
// for the background thread at most until the caller's deadline. A report therefore never
// waits longer than its budget, even for a binary whose DWARF takes seconds to read; a
// lookup that missed the deadline is still completed in the background, so later reports
// get the line. Answers (found or none) are cached per module and address.
//
// Separate debug files are found only by build ID under /usr/lib/debug (distro -dbg/-dbgsym
// packages), never through debuginfod: no network access from the supervised process.
//
// Never call from a signal handler or the watchdog thread: Lookup takes a mutex and
// allocates. Prefetch only queues work, so any ordinary thread may call it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace stallwatch {

struct SourceLine {
  // The line executing in the function that contains pc (the one .symtab names). When pc is
  // in code inlined into that function, this is the line of the outermost inlined call, so
  // file:line always lies in the named function.
  std::string file;
  int line = 0;  // 1-based
  // When pc is in inlined code: the innermost location (the inlined callee's own line,
  // what `addr2line` prints without -i). Empty / 0 otherwise.
  std::string inlined_file;
  int inlined_line = 0;
};

// File names: as the compiler recorded them, joined with the compilation directory when
// relative, then "." and ".." removed lexically. node's "../deps/uv/src/unix/fs.c"
// (compiled in /home/iojs/build/ws/out) becomes "/home/iojs/build/ws/deps/uv/src/unix/fs.c":
// an absolute path that opens in an editor when the source is on this machine and, when
// not, still names the file within its project. (`addr2line` prints the same path without
// the ".." removed.) A relative compilation directory leaves the name relative: Debian's
// libc (comp dir "./misc") gives "sysdeps/unix/sysv/linux/epoll_wait.c".

class DwarfLines {
 public:
  enum class Status {
    kFound,   // *out filled
    kNotYet,  // not known by the deadline; queued, a later lookup will have the answer
    kNone,    // no line: module without DWARF, address outside it, libdw unavailable
  };

  // The running executable: /proc/self/exe still opens the running file if its path was
  // replaced since (node upgraded under a live server).
  static constexpr const char* kExecutable = "/proc/self/exe";

  // `module_path` is the file mapped at `pc` (kExecutable for the main program), `module_bias`
  // its load bias (dl_phdr_info::dlpi_addr: runtime address minus link-time address; 0 for
  // non-PIE executables). Waits for the background thread at most until `deadline`; a past
  // deadline never waits and answers from the cache only. Thread-safe.
  static Status Lookup(const std::string& module_path, uintptr_t module_bias, uintptr_t pc,
                       std::chrono::steady_clock::time_point deadline, SourceLine* out);

  // Queues loading `module_path`'s DWARF (and starts the background thread) without waiting,
  // so lines are ready by the first report. Call it for kExecutable when a thread is first
  // supervised. Repeated calls are no-ops.
  static void Prefetch(const std::string& module_path);

  // nullptr while lines may be available; else why there are none (not built with libdw's
  // headers, libdw.so.1 missing, not Linux). Before the background thread has tried to load
  // libdw this is nullptr even if loading will fail.
  static const char* UnavailableReason();

  // For capabilities(): whether native source lines can be had at all, answered now (it
  // loads libdw.so.1 if the background thread has not yet). nullptr when they can; else why.
  // Not for the watchdog: dlopen takes the loader lock.
  static const char* CheckAvailable();

  // For diagnostics and tests: "not asked about", "loading", "loaded", or why the module
  // has no lines ("no DWARF", "DWARF too large: ...", ...).
  static std::string ModuleStatus(const std::string& module_path);

  // Modules whose DWARF (uncompressed, with its separate debug file and dwz file) exceeds
  // this many bytes are not read: libdw keeps compressed sections decompressed in memory,
  // and a debug build of node carries gigabytes. Default 256 MiB; applies to later loads.
  static void SetMaxDwarfBytes(uint64_t bytes);
};

}  // namespace stallwatch
