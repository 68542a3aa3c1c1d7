// Names native instruction addresses of this process: module, demangled symbol, offset.
// Allocates, takes loader locks (dl_iterate_phdr's, briefly held) and reads files, so call
// it only from an ordinary thread (the reporter), never from a signal handler or the
// watchdog thread. Names come from each module file's .symtab, else its .dynsym; source
// file:line from the module's DWARF when it has some (see dwarf_lines.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace stallwatch {

class ElfSymbolTable;

struct NativeSymbol {
  std::string module;           // path of the shared object / executable; "" when none (JIT code)
  uintptr_t module_base = 0;    // load base (dli_fbase)
  std::string name;             // demangled symbol, "" if unknown
  uintptr_t symbol_offset = 0;  // pc - symbol start, when name is known
  bool in_module = false;       // pc lies in a mapped file known to the dynamic loader
  // From DWARF, when the module has it: the line executing in the function `name` names
  // (for inlined code, the line of the outermost inlined call). "" / 0 when unknown.
  std::string source_file;
  int source_line = 0;
  // When pc is in inlined code: the innermost location (the inlined callee's own line).
  std::string inlined_file;
  int inlined_line = 0;
  // No line yet because the module's DWARF was still being read when this report's line
  // budget ran out; later reports will have it.
  bool source_pending = false;
};

// Return addresses point after the call; callers naming caller frames usually pass pc - 1
// so a call that is the last instruction of a function is not credited to the next one.
class NativeSymbolizer {  // not thread-safe: one instance per thread; caches per module
 public:
  NativeSymbolizer();
  ~NativeSymbolizer();
  NativeSymbolizer(const NativeSymbolizer&) = delete;
  NativeSymbolizer& operator=(const NativeSymbolizer&) = delete;

  NativeSymbol Resolve(uintptr_t pc);
  // Frees cached tables (used by tests).
  void Clear();
  // Gives back the resident pages of the names read so far (see
  // ElfSymbolTable::ReleaseNamePages); the reporter calls it once its queue is empty.
  void ReleaseResidentNames();

  // Source lines are read from DWARF on a background thread; Resolve waits for them at most
  // until a deadline shared by all Resolve calls of one report. BeginReport() starts that
  // budget. Until it is first called the budget is zero: Resolve returns only lines already
  // known and queues the rest (a later report gets them).
  static constexpr std::chrono::milliseconds kSourceLineBudget{50};
  void BeginReport(std::chrono::milliseconds source_line_budget = kSourceLineBudget);

 private:
  const ElfSymbolTable* TableFor(const std::string& module);
  const std::string& ExecutablePath();

  // One entry per module ever asked about, nullptr when its file has no readable symbol
  // table, so each file is parsed once. See elf_symbols.cc for the cost of each table.
  std::unordered_map<std::string, std::unique_ptr<ElfSymbolTable>> tables_;
  std::string executable_path_;  // from /proc/self/exe, read on first need
  std::chrono::steady_clock::time_point source_deadline_{};  // see BeginReport
};

// abi::__cxa_demangle; returns the input unchanged when it is not a mangled C++ name.
std::string Demangle(const char* mangled);

}  // namespace stallwatch
