// Names native instruction addresses of this process: module, demangled symbol, offset.
// Allocates, takes loader locks (dl_iterate_phdr's, briefly held) and reads files, so call
// it only from an ordinary thread (the reporter), never from a signal handler or the
// watchdog thread. Names come from each module file's .symtab, else its .dynsym.
#pragma once

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

 private:
  const ElfSymbolTable* TableFor(const std::string& module);
  const std::string& ExecutablePath();

  // One entry per module ever asked about, nullptr when its file has no readable symbol
  // table, so each file is parsed once. See elf_symbols.cc for the cost of each table.
  std::unordered_map<std::string, std::unique_ptr<ElfSymbolTable>> tables_;
  std::string executable_path_;  // from /proc/self/exe, read on first need
};

// abi::__cxa_demangle; returns the input unchanged when it is not a mangled C++ name.
std::string Demangle(const char* mangled);

}  // namespace stallwatch
