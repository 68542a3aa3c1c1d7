#include "symbolize.h"

#include <cxxabi.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

#include "dwarf_lines.h"
#include "elf_symbols.h"

#if defined(__linux__)
#include <link.h>
#include <unistd.h>
#endif

namespace stallwatch {

namespace {

// Where pc is mapped: module path (as the loader names it) and load base.
struct ModuleHit {
  uintptr_t pc = 0;
  bool found = false;
  bool is_executable = false;
  std::string name;    // as the loader has it
  uintptr_t base = 0;  // same value dladdr reports as dli_fbase
  uintptr_t bias = 0;  // runtime minus link-time address (dlpi_addr); Linux only
  bool has_bias = false;
  int modules_seen = 0;
};

#if defined(__linux__)
// dl_iterate_phdr rather than dladdr: dladdr takes glibc's dl_load_lock, which a thread
// stalled inside dlopen (say, a slow addon constructor) holds for the whole stall, while
// dl_iterate_phdr only takes the short-lived dl_load_write_lock. It is also cheap: a walk
// over the loaded modules, where dladdr scans a module's whole dynamic symbol table
// (node: ~0.5 ms per call).
int FindModuleSegment(struct dl_phdr_info* info, size_t, void* data) {
  auto* hit = static_cast<ModuleHit*>(data);
  // The main program is reported first (named "" by glibc, argv[0] by musl).
  bool is_executable = hit->modules_seen++ == 0;
  uintptr_t lowest = UINTPTR_MAX;
  bool contains = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD) continue;
    if (segment.p_vaddr < lowest) lowest = segment.p_vaddr;
    if (hit->pc - (info->dlpi_addr + segment.p_vaddr) < segment.p_memsz) contains = true;
  }
  if (!contains) return 0;
  hit->found = true;
  hit->is_executable = is_executable;
  hit->name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  hit->base = info->dlpi_addr + (lowest & ~(page - 1));
  hit->bias = info->dlpi_addr;
  hit->has_bias = true;
  return 1;
}

ModuleHit FindModule(uintptr_t pc) {
  ModuleHit hit;
  hit.pc = pc;
  dl_iterate_phdr(FindModuleSegment, &hit);
  return hit;
}
#else
ModuleHit FindModule(uintptr_t pc) {
  ModuleHit hit;
  hit.pc = pc;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(pc), &info) != 0 && info.dli_fbase != nullptr) {
    hit.found = true;
    hit.name = info.dli_fname != nullptr ? info.dli_fname : "";
    hit.base = reinterpret_cast<uintptr_t>(info.dli_fbase);
  }
  return hit;
}
#endif

}  // namespace

std::string Demangle(const char* mangled) {
  if (mangled == nullptr) return "";
  // Only "_Z..." is a mangled function name; __cxa_demangle would also turn a plain C
  // name such as "i" into a type ("int").
  if (strncmp(mangled, "_Z", 2) != 0) return mangled;
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status != 0 || demangled == nullptr) return mangled;
  std::string result(demangled);
  free(demangled);
  return result;
}

NativeSymbolizer::NativeSymbolizer() = default;
NativeSymbolizer::~NativeSymbolizer() = default;

void NativeSymbolizer::Clear() { tables_.clear(); }

void NativeSymbolizer::ReleaseResidentNames() {
  for (const auto& entry : tables_) {
    if (entry.second != nullptr) entry.second->ReleaseNamePages();
  }
}

void NativeSymbolizer::BeginReport(std::chrono::milliseconds source_line_budget) {
  source_deadline_ = std::chrono::steady_clock::now() + source_line_budget;
}

const std::string& NativeSymbolizer::ExecutablePath() {
#if defined(__linux__)
  if (executable_path_.empty()) {
    char buffer[4096];
    ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
    if (length > 0) executable_path_.assign(buffer, static_cast<size_t>(length));
  }
#endif
  return executable_path_;
}

const ElfSymbolTable* NativeSymbolizer::TableFor(const std::string& module) {
  // Relative names ("linux-vdso.so.1") are not files we could open.
  if (module.empty() || module[0] != '/') return nullptr;
  auto cached = tables_.find(module);
  if (cached != tables_.end()) return cached->second.get();
  return tables_.emplace(module, ElfSymbolTable::Load(module)).first->second.get();
}

NativeSymbol NativeSymbolizer::Resolve(uintptr_t pc) {
  NativeSymbol result;
  ModuleHit module = FindModule(pc);
  if (!module.found) return result;  // anonymous memory: JIT code, stubs
  result.in_module = true;
  result.module_base = module.base;
  // The loader's name for the main program is "" or argv[0] (maybe relative, maybe just
  // "node"); the kernel's link is a path we can open. Other relative names are pseudo
  // modules such as linux-vdso.so.1 and are kept as they are.
  result.module = module.is_executable && !ExecutablePath().empty() ? ExecutablePath() : module.name;

  const char* raw_name = nullptr;
  uintptr_t symbol_start = 0;
  // The executable is read through /proc/self/exe, which stays the running inode even if
  // the path was replaced since (node upgraded under a live server). Libraries are read by
  // path and would give wrong names in that case; comparing GNU build ids would catch it.
  const ElfSymbolTable* table = TableFor(module.is_executable ? "/proc/self/exe" : result.module);
  if (table != nullptr) {
    // .symtab holds every function with its size, so a hit there is exact. No hit means pc
    // is between functions or in a hidden function of a stripped module: left unnamed
    // rather than credited to the nearest export at some large offset.
    uintptr_t bias = table->LoadBias(result.module_base);
    ElfSymbolTable::Hit hit;
    if (table->Lookup(pc - bias, &hit)) {
      raw_name = hit.name;
      symbol_start = hit.start + bias;
    }
  } else {
    // Only when the file cannot be read (deleted, not ELF, macOS). dladdr takes glibc's
    // dl_load_lock, so this blocks while another thread is inside dlopen; it reports the
    // nearest export at or below pc, ignoring sizes.
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(pc), &info) != 0 && info.dli_sname != nullptr &&
        info.dli_saddr != nullptr) {
      raw_name = info.dli_sname;
      symbol_start = reinterpret_cast<uintptr_t>(info.dli_saddr);
    }
  }
  if (raw_name != nullptr) {
    result.name = Demangle(raw_name);
    result.symbol_offset = pc - symbol_start;
  }
  if (module.has_bias) {
    SourceLine line;
    const DwarfLines::Status status = DwarfLines::Lookup(module.is_executable ? DwarfLines::kExecutable : result.module,
                                                         module.bias, pc, source_deadline_, &line);
    if (status == DwarfLines::Status::kFound) {
      result.source_file = std::move(line.file);
      result.source_line = line.line;
      result.inlined_file = std::move(line.inlined_file);
      result.inlined_line = line.inlined_line;
    } else {
      result.source_pending = status == DwarfLines::Status::kNotYet;
    }
  }
  return result;
}

}  // namespace stallwatch
