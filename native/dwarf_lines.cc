#include "dwarf_lines.h"

// STALLWATCH_HAVE_LIBDW=1 compiles the libdw path, =0 leaves it out; when the build does not
// say (standalone test builds), it is compiled whenever libdw's headers are there. Only the
// headers are needed: libdw.so.1 is loaded with dlopen at run time.
#if !defined(STALLWATCH_HAVE_LIBDW)
#if defined(__linux__) && defined(__has_include)
#if __has_include(<elfutils/libdwfl.h>) && __has_include(<dwarf.h>)
#define STALLWATCH_HAVE_LIBDW 1
#endif
#endif
#endif
#if !defined(STALLWATCH_HAVE_LIBDW) || !defined(__linux__)
#undef STALLWATCH_HAVE_LIBDW
#define STALLWATCH_HAVE_LIBDW 0
#endif

#if STALLWATCH_HAVE_LIBDW
#include <dlfcn.h>
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "thread_util.h"
#endif

namespace stallwatch {

#if STALLWATCH_HAVE_LIBDW
namespace {

// libdw's entry points, looked up in libdw.so.1 by the background thread; only that thread
// calls them. decltype of the declarations keeps the signatures checked by the compiler
// without linking against libdw.
struct Libdw {
  decltype(&dwfl_begin) begin = nullptr;
  decltype(&dwfl_end) end = nullptr;
  decltype(&dwfl_report_elf) report_elf = nullptr;
  decltype(&dwfl_report_end) report_end = nullptr;
  decltype(&dwfl_module_getdwarf) module_getdwarf = nullptr;
  decltype(&dwfl_module_getsrc) module_getsrc = nullptr;
  decltype(&dwfl_lineinfo) lineinfo = nullptr;
  decltype(&dwfl_line_comp_dir) line_comp_dir = nullptr;
  decltype(&dwfl_module_addrdie) module_addrdie = nullptr;
  decltype(&dwfl_module_build_id) module_build_id = nullptr;
  decltype(&dwfl_build_id_find_debuginfo) build_id_find_debuginfo = nullptr;
  decltype(&dwfl_offline_section_address) offline_section_address = nullptr;
  decltype(&dwarf_getscopes) getscopes = nullptr;
  decltype(&dwarf_tag) tag = nullptr;
  decltype(&dwarf_attr) attr = nullptr;
  decltype(&dwarf_formudata) formudata = nullptr;
  decltype(&dwarf_getsrcfiles) getsrcfiles = nullptr;
  decltype(&dwarf_filesrc) filesrc = nullptr;
};

// Bounds on what the cache holds. Reports ask about a few dozen addresses each, so these are
// reached only by a long-lived process with very many distinct stalls; then the module's
// answers are dropped and recomputed on demand.
constexpr size_t kMaxResultsPerModule = 1 << 16;
constexpr size_t kMaxQueued = 4096;

struct Result {
  DwarfLines::Status status = DwarfLines::Status::kNone;
  const std::string* file = nullptr;  // interned in Module::names
  int line = 0;
  const std::string* inlined_file = nullptr;
  int inlined_line = 0;
};

struct Module {
  enum class State { kUnloaded, kLoaded, kNoDwarf };
  std::string path;
  State state = State::kUnloaded;  // written by the background thread under State::mutex
  std::string note;                // why kNoDwarf; written with state
  bool load_queued = false;
  // Background thread only (no lock): libdw is not thread-safe per Dwfl.
  Dwfl* dwfl = nullptr;
  Dwfl_Module* mod = nullptr;
  // Under State::mutex.
  std::unordered_map<uint64_t, Result> results;  // by link-time address
  std::unordered_set<uint64_t> queued;           // addresses waiting in the queue
  std::unordered_set<std::string> names;         // file names the results point into
};

struct Request {
  Module* module = nullptr;
  bool has_address = false;  // false: load the module only (Prefetch)
  uint64_t address = 0;      // link-time
};

struct State {
  std::mutex mutex;
  std::condition_variable queue_cv;  // background thread: work arrived
  std::condition_variable done_cv;   // lookups: an answer arrived
  // Node-based map: Module addresses stay valid; modules are never removed.
  std::unordered_map<std::string, Module> modules;
  std::deque<Request> queue;
  bool thread_started = false;
  const char* unavailable = nullptr;  // set once libdw cannot be used; then every answer is kNone
};

// Never destroyed: the background thread may still be waiting on it during exit.
State& TheState() {
  static State* state = new State;
  return *state;
}

Libdw g_dw;  // background thread only
Dwfl_Callbacks g_callbacks;
char g_debuginfo_path[] = "/usr/lib/debug";
char* g_debuginfo_path_ptr = g_debuginfo_path;

// dwfl_report_elf hands libdw the file itself, so this is never asked; answering "not found"
// (rather than dwfl_build_id_find_elf) guarantees libdw never goes looking elsewhere.
int NoFindElf(Dwfl_Module*, void**, const char*, Dwarf_Addr, char**, Elf**) { return -1; }

constexpr const char* kNoLibdw = "libdw.so.1 could not be loaded (install libdw1); native frames have no source lines";

const char* LoadLibdw() {
  void* lib = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (lib == nullptr) return kNoLibdw;
  bool ok = true;
  auto get = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
    ok = ok && fn != nullptr;
  };
  get(g_dw.begin, "dwfl_begin");
  get(g_dw.end, "dwfl_end");
  get(g_dw.report_elf, "dwfl_report_elf");
  get(g_dw.report_end, "dwfl_report_end");
  get(g_dw.module_getdwarf, "dwfl_module_getdwarf");
  get(g_dw.module_getsrc, "dwfl_module_getsrc");
  get(g_dw.lineinfo, "dwfl_lineinfo");
  get(g_dw.line_comp_dir, "dwfl_line_comp_dir");
  get(g_dw.module_addrdie, "dwfl_module_addrdie");
  get(g_dw.module_build_id, "dwfl_module_build_id");
  get(g_dw.build_id_find_debuginfo, "dwfl_build_id_find_debuginfo");
  get(g_dw.offline_section_address, "dwfl_offline_section_address");
  get(g_dw.getscopes, "dwarf_getscopes");
  get(g_dw.tag, "dwarf_tag");
  get(g_dw.attr, "dwarf_attr");
  get(g_dw.formudata, "dwarf_formudata");
  get(g_dw.getsrcfiles, "dwarf_getsrcfiles");
  get(g_dw.filesrc, "dwarf_filesrc");
  if (!ok) return "libdw.so.1 lacks functions stallwatch needs; native frames have no source lines";
  // Separate debug files are looked up only by build ID under /usr/lib/debug (where distro
  // -dbg/-dbgsym packages put them), including dwz supplementary files: never
  // dwfl_standard_find_debuginfo, which falls back to debuginfod, i.e. downloads over the
  // network from inside the supervised process whenever DEBUGINFOD_URLS is set.
  g_callbacks.find_elf = NoFindElf;
  g_callbacks.find_debuginfo = g_dw.build_id_find_debuginfo;
  g_callbacks.section_address = g_dw.offline_section_address;
  g_callbacks.debuginfo_path = &g_debuginfo_path_ptr;
  return nullptr;
}

constexpr uint64_t kDefaultMaxDwarfBytes = uint64_t{256} << 20;
std::atomic<uint64_t> g_max_dwarf_bytes{kDefaultMaxDwarfBytes};

// How much DWARF a file holds, read from its section headers: the uncompressed size of its
// .debug_* / .zdebug_* sections (libdw decompresses compressed ones into the heap as it
// opens them), and the dwz supplementary file it refers to, if any. 64-bit little-endian
// ELF only (x86_64, arm64); false when the file cannot be read as such.
struct DwarfSize {
  uint64_t bytes = 0;
  bool has_info = false;  // .debug_info: libdw reads this file's DWARF, not a separate file's
  std::string altlink;    // .gnu_debugaltlink file name
};

bool ReadAt(int fd, void* out, size_t size, uint64_t offset) {
  return pread(fd, out, size, static_cast<off_t>(offset)) == static_cast<ssize_t>(size);
}

bool MeasureDwarf(const std::string& path, DwarfSize* out) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = false;
  Elf64_Ehdr eh;
  if (ReadAt(fd, &eh, sizeof(eh), 0) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
      eh.e_ident[EI_DATA] == ELFDATA2LSB && eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shnum > 0 &&
      eh.e_shstrndx < eh.e_shnum) {
    std::vector<Elf64_Shdr> sh(eh.e_shnum);
    Elf64_Shdr& names_sh = sh[eh.e_shstrndx];
    std::string names;
    if (ReadAt(fd, sh.data(), sh.size() * sizeof(Elf64_Shdr), eh.e_shoff) && names_sh.sh_size < (1u << 24)) {
      names.resize(names_sh.sh_size);
      ok = ReadAt(fd, names.data(), names.size(), names_sh.sh_offset);
    }
    for (size_t i = 0; ok && i < sh.size(); ++i) {
      if (sh[i].sh_name >= names.size() || sh[i].sh_type == SHT_NOBITS) continue;
      const char* name = names.c_str() + sh[i].sh_name;
      if (strcmp(name, ".gnu_debugaltlink") == 0 && sh[i].sh_size < 4096) {
        std::string link(sh[i].sh_size, '\0');
        if (ReadAt(fd, link.data(), link.size(), sh[i].sh_offset)) out->altlink = link.c_str();
        continue;
      }
      uint64_t size = sh[i].sh_size;
      if (strncmp(name, ".debug_", 7) == 0 && (sh[i].sh_flags & SHF_COMPRESSED) != 0) {
        Elf64_Chdr ch;
        if (ReadAt(fd, &ch, sizeof(ch), sh[i].sh_offset)) size = ch.ch_size;
      } else if (strncmp(name, ".zdebug_", 8) == 0) {
        unsigned char z[12];  // "ZLIB" and the big-endian uncompressed size
        if (ReadAt(fd, z, sizeof(z), sh[i].sh_offset) && memcmp(z, "ZLIB", 4) == 0) {
          size = 0;
          for (int b = 4; b < 12; ++b) size = (size << 8) | z[b];
        }
      } else if (strncmp(name, ".debug_", 7) != 0) {
        continue;
      }
      if (strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0) out->has_info = true;
      out->bytes += size;
    }
  }
  close(fd);
  return ok;
}

std::string Mib(uint64_t bytes) {
  return bytes < (1 << 20) ? std::to_string((bytes + 512) >> 10) + " KiB" : std::to_string((bytes + (1 << 19)) >> 20) + " MiB";
}

// Opens the module's file and its DWARF (from the file or a separate debug file). Addresses
// in the Dwfl are link-time ones: ET_DYN placed at bias 0 (add_p_vaddr), ET_EXEC as linked.
// So one load serves the module wherever it is mapped, even after a dlclose/dlopen moves it.
// Files with more DWARF than the limit are left alone: a debug build of node carries
// gigabytes, which would land in this process's memory. Sets m.note when there is none.
void LoadModule(Module& m) {
  const uint64_t limit = g_max_dwarf_bytes.load(std::memory_order_relaxed);
  DwarfSize main_size;
  if (!MeasureDwarf(m.path, &main_size)) {
    m.note = "not a readable 64-bit little-endian ELF file";
    return;
  }
  DwarfSize alt_size;
  if (!main_size.altlink.empty() && main_size.altlink[0] == '/' && MeasureDwarf(main_size.altlink, &alt_size)) {
    main_size.bytes += alt_size.bytes;
  }
  if (main_size.bytes > limit) {
    m.note = "DWARF too large: " + Mib(main_size.bytes) + " (limit " + Mib(limit) + ")";
    return;
  }
  Dwfl* dwfl = g_dw.begin(&g_callbacks);
  if (dwfl == nullptr) {
    m.note = "dwfl_begin failed";
    return;
  }
  const size_t slash = m.path.rfind('/');
  const std::string name = slash == std::string::npos ? m.path : m.path.substr(slash + 1);
  Dwfl_Module* mod = g_dw.report_elf(dwfl, name.c_str(), m.path.c_str(), -1, 0, true);
  if (mod == nullptr || g_dw.report_end(dwfl, nullptr, nullptr) != 0) {
    g_dw.end(dwfl);
    m.note = "libdw cannot read the file";
    return;
  }
  // No DWARF in the file itself: libdw would open the separate debug file found by build ID
  // (see LoadLibdw); measure it, and its dwz supplementary file, first.
  const unsigned char* id = nullptr;
  GElf_Addr id_vaddr = 0;
  const int id_length = !main_size.has_info ? g_dw.module_build_id(mod, &id, &id_vaddr) : 0;
  if (id_length > 1) {
    std::string debug_path = std::string(g_debuginfo_path) + "/.build-id/";
    char hex[3];
    for (int i = 0; i < id_length; ++i) {
      snprintf(hex, sizeof(hex), "%02x", id[i]);
      debug_path += hex;
      if (i == 0) debug_path += '/';
    }
    debug_path += ".debug";
    DwarfSize debug_size;
    if (MeasureDwarf(debug_path, &debug_size)) {
      DwarfSize alt_size;
      if (!debug_size.altlink.empty() && debug_size.altlink[0] == '/' && MeasureDwarf(debug_size.altlink, &alt_size)) {
        debug_size.bytes += alt_size.bytes;
      }
      if (debug_size.bytes > limit) {
        g_dw.end(dwfl);
        m.note = "DWARF too large: " + Mib(debug_size.bytes) + " in " + debug_path + " (limit " + Mib(limit) + ")";
        return;
      }
    }
  }
  Dwarf_Addr bias = 0;
  if (g_dw.module_getdwarf(mod, &bias) == nullptr) {
    g_dw.end(dwfl);
    m.note = "no DWARF";
    return;
  }
  m.dwfl = dwfl;
  m.mod = mod;
}

// "a/./b/../c" -> "a/c"; keeps a leading "/" and leading ".." of relative paths.
std::string CleanPath(const std::string& path) {
  const bool absolute = !path.empty() && path[0] == '/';
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
        continue;
      }
      if (absolute) continue;  // "/.." is "/"
    }
    parts.push_back(std::move(part));
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

std::string SourcePath(const char* file, const char* comp_dir) {
  if (file == nullptr) return "";
  std::string path = file;
  if (!path.empty() && path[0] != '/' && comp_dir != nullptr && comp_dir[0] != '\0') {
    path = std::string(comp_dir) + "/" + path;
  }
  return CleanPath(path);
}

struct Computed {
  DwarfLines::Status status = DwarfLines::Status::kNone;
  std::string file;
  int line = 0;
  std::string inlined_file;
  int inlined_line = 0;
};

Computed ComputeLine(Module& m, uint64_t address) {
  Computed c;
  Dwfl_Line* line = g_dw.module_getsrc(m.mod, address);
  if (line == nullptr) return c;
  int lineno = 0;
  const char* file = g_dw.lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
  if (file == nullptr || lineno <= 0) return c;  // line 0: compiler-generated code, no source line
  const char* comp_dir = g_dw.line_comp_dir(line);
  c.status = DwarfLines::Status::kFound;
  c.file = SourcePath(file, comp_dir);
  c.line = lineno;

  // Inlined code: the line table names the innermost inlined callee's line. The scopes
  // (innermost first) end at the function .symtab names; the call site of the outermost
  // inlined_subroutine is the line executing in that function.
  Dwarf_Addr cu_bias = 0;
  Dwarf_Die* cu = g_dw.module_addrdie(m.mod, address, &cu_bias);
  if (cu == nullptr) return c;
  Dwarf_Die* scopes = nullptr;
  const int n = g_dw.getscopes(cu, address - cu_bias, &scopes);
  Dwarf_Die* outermost_inline = nullptr;
  for (int i = 0; i < n; ++i) {
    const int tag = g_dw.tag(&scopes[i]);
    if (tag == DW_TAG_subprogram) break;
    if (tag == DW_TAG_inlined_subroutine) outermost_inline = &scopes[i];
  }
  if (outermost_inline != nullptr) {
    Dwarf_Attribute attr;
    Dwarf_Word call_file = 0, call_line = 0;
    Dwarf_Files* files = nullptr;
    size_t file_count = 0;
    if (g_dw.formudata(g_dw.attr(outermost_inline, DW_AT_call_file, &attr), &call_file) == 0 &&
        g_dw.formudata(g_dw.attr(outermost_inline, DW_AT_call_line, &attr), &call_line) == 0 && call_line > 0 &&
        g_dw.getsrcfiles(cu, &files, &file_count) == 0 && call_file < file_count) {
      const char* caller_file = g_dw.filesrc(files, call_file, nullptr, nullptr);
      if (caller_file != nullptr) {
        c.inlined_file = std::move(c.file);
        c.inlined_line = c.line;
        c.file = SourcePath(caller_file, comp_dir);
        c.line = static_cast<int>(call_line);
      }
    }
  }
  free(scopes);
  return c;
}

const std::string* Intern(Module& m, const std::string& s) {
  if (s.empty()) return nullptr;
  return &*m.names.insert(s).first;
}

// Reading DWARF is optional, best-effort work that can take seconds of CPU for a big binary.
// Nice 10 lets the application's threads and the reporter run first when CPUs are busy, and
// keeps this thread from preempting the reporter whenever it is woken. (Not SCHED_IDLE: this
// thread briefly holds the mutex lookups take, and an idle-class thread preempted there
// could be starved, and the reporter with it, on a saturated machine.)
void LowerPriority() {
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
}

void WorkerMain() {
  State& st = TheState();
  LowerPriority();
  const char* failure = LoadLibdw();
  if (failure != nullptr) {
    std::lock_guard<std::mutex> lock(st.mutex);
    st.unavailable = failure;
    st.queue.clear();
    st.done_cv.notify_all();
    return;
  }
  for (;;) {
    Request req;
    {
      std::unique_lock<std::mutex> lock(st.mutex);
      st.queue_cv.wait(lock, [&] { return !st.queue.empty(); });
      req = st.queue.front();
      st.queue.pop_front();
    }
    Module& m = *req.module;
    if (m.state == Module::State::kUnloaded) {  // only this thread writes state
      LoadModule(m);
      std::lock_guard<std::mutex> lock(st.mutex);
      m.state = m.dwfl != nullptr ? Module::State::kLoaded : Module::State::kNoDwarf;
      if (m.state == Module::State::kNoDwarf) m.queued.clear();
      st.done_cv.notify_all();
    }
    if (!req.has_address || m.state != Module::State::kLoaded) continue;
    Computed c = ComputeLine(m, req.address);
    std::lock_guard<std::mutex> lock(st.mutex);
    m.queued.erase(req.address);
    if (m.results.size() >= kMaxResultsPerModule) {
      m.results.clear();
      m.names.clear();
    }
    Result& r = m.results[req.address];
    r.status = c.status;
    r.file = Intern(m, c.file);
    r.line = c.line;
    r.inlined_file = Intern(m, c.inlined_file);
    r.inlined_line = c.inlined_line;
    st.done_cv.notify_all();
  }
}

// Under st.mutex. False when the work cannot be done (thread could not start).
bool EnsureWorker(State& st) {
  if (!st.thread_started) {
    st.thread_started = true;
    if (!StartDetachedThread(WorkerMain, "stallwatch-dw")) {
      st.unavailable = "stallwatch could not start its DWARF thread; native frames have no source lines";
    }
  }
  return st.unavailable == nullptr;
}

// Under st.mutex.
Module& ModuleFor(State& st, const std::string& path) {
  auto it = st.modules.find(path);
  if (it == st.modules.end()) {
    it = st.modules.emplace(path, Module{}).first;
    it->second.path = path;
  }
  return it->second;
}

bool Answer(const Module& m, uint64_t address, SourceLine* out, DwarfLines::Status* status) {
  auto it = m.results.find(address);
  if (it == m.results.end()) return false;
  const Result& r = it->second;
  *status = r.status;
  if (r.status == DwarfLines::Status::kFound && out != nullptr) {
    out->file = r.file != nullptr ? *r.file : "";
    out->line = r.line;
    out->inlined_file = r.inlined_file != nullptr ? *r.inlined_file : "";
    out->inlined_line = r.inlined_line;
  }
  return true;
}

}  // namespace

DwarfLines::Status DwarfLines::Lookup(const std::string& module_path, uintptr_t module_bias, uintptr_t pc,
                                      std::chrono::steady_clock::time_point deadline, SourceLine* out) {
  // Relative names ("linux-vdso.so.1") are not files.
  if (module_path.empty() || module_path[0] != '/') return Status::kNone;
  const uint64_t address = static_cast<uint64_t>(pc - module_bias);
  State& st = TheState();
  std::unique_lock<std::mutex> lock(st.mutex);
  if (st.unavailable != nullptr) return Status::kNone;
  Module& m = ModuleFor(st, module_path);
  Status status = Status::kNotYet;
  if (m.state == Module::State::kNoDwarf) return Status::kNone;
  if (Answer(m, address, out, &status)) return status;
  if (m.queued.count(address) == 0) {
    if (st.queue.size() >= kMaxQueued || !EnsureWorker(st)) return st.unavailable ? Status::kNone : Status::kNotYet;
    m.queued.insert(address);
    st.queue.push_back(Request{&m, true, address});
    st.queue_cv.notify_one();
  }
  if (std::chrono::steady_clock::now() >= deadline) return Status::kNotYet;
  const bool answered = st.done_cv.wait_until(lock, deadline, [&] {
    return st.unavailable != nullptr || m.state == Module::State::kNoDwarf || m.results.count(address) != 0;
  });
  if (!answered) return Status::kNotYet;
  if (st.unavailable != nullptr || m.state == Module::State::kNoDwarf) return Status::kNone;
  Answer(m, address, out, &status);
  return status;
}

void DwarfLines::Prefetch(const std::string& module_path) {
  if (module_path.empty() || module_path[0] != '/') return;
  State& st = TheState();
  std::lock_guard<std::mutex> lock(st.mutex);
  if (st.unavailable != nullptr) return;
  Module& m = ModuleFor(st, module_path);
  if (m.load_queued || m.state != Module::State::kUnloaded || !EnsureWorker(st)) return;
  m.load_queued = true;
  st.queue.push_back(Request{&m, false, 0});
  st.queue_cv.notify_one();
}

const char* DwarfLines::UnavailableReason() {
  State& st = TheState();
  std::lock_guard<std::mutex> lock(st.mutex);
  return st.unavailable;
}

const char* DwarfLines::CheckAvailable() {
  if (const char* reason = UnavailableReason()) return reason;
  // The same flags as LoadLibdw, so this load is the one the background thread reuses.
  return dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) != nullptr ? nullptr : kNoLibdw;
}

std::string DwarfLines::ModuleStatus(const std::string& module_path) {
  State& st = TheState();
  std::lock_guard<std::mutex> lock(st.mutex);
  if (st.unavailable != nullptr) return st.unavailable;
  auto it = st.modules.find(module_path);
  if (it == st.modules.end()) return "not asked about";
  switch (it->second.state) {
    case Module::State::kUnloaded: return "loading";
    case Module::State::kLoaded: return "loaded";
    case Module::State::kNoDwarf: return it->second.note;
  }
  return "";
}

void DwarfLines::SetMaxDwarfBytes(uint64_t bytes) { g_max_dwarf_bytes.store(bytes, std::memory_order_relaxed); }

#else  // !STALLWATCH_HAVE_LIBDW

DwarfLines::Status DwarfLines::Lookup(const std::string&, uintptr_t, uintptr_t, std::chrono::steady_clock::time_point,
                                      SourceLine*) {
  return Status::kNone;
}

void DwarfLines::Prefetch(const std::string&) {}

std::string DwarfLines::ModuleStatus(const std::string&) { return UnavailableReason(); }

void DwarfLines::SetMaxDwarfBytes(uint64_t) {}

const char* DwarfLines::CheckAvailable() { return UnavailableReason(); }

const char* DwarfLines::UnavailableReason() {
#if defined(__linux__)
  return "stallwatch was built without libdw headers (install libdw-dev and rebuild); native frames have no source lines";
#else
  return "native source lines are read with elfutils' libdw, which is Linux-only";
#endif
}

#endif  // STALLWATCH_HAVE_LIBDW

}  // namespace stallwatch
