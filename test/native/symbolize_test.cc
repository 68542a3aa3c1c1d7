// sources: symbolize.cc elf_symbols.cc dwarf_lines.cc thread_util.cc
// Resolves addresses of this test binary, libc and anonymous memory. The binary is built
// with symbols and not exported dynamically, so its own functions are only in .symtab.
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "elf_symbols.h"
#include "symbolize.h"

namespace {

int failures = 0;

void Check(bool ok, const std::string& what) {
  if (!ok) {
    fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
  }
}

std::string Describe(const stallwatch::NativeSymbol& s) {
  char offset[32];
  snprintf(offset, sizeof(offset), "+0x%zx", static_cast<size_t>(s.symbol_offset));
  return "{module='" + s.module + "' name='" + s.name + "'" + offset +
         " in_module=" + (s.in_module ? "true" : "false") + "}";
}

uintptr_t Address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// volatile keeps the bodies longer than the offsets probed below.
volatile int sink;

__attribute__((noinline)) static int HiddenHelper(int x) {
  for (int i = 0; i < x; ++i) sink = sink + i;
  return sink;
}

std::string ExecutablePath() {
  char buffer[4096];
  ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return length > 0 ? std::string(buffer, static_cast<size_t>(length)) : "";
}

}  // namespace

namespace stallwatch_test {
__attribute__((noinline)) int Foo(int x) {
  for (int i = 0; i < x; ++i) sink = sink * 3 + i;
  return sink;
}
}  // namespace stallwatch_test

using stallwatch::NativeSymbol;
using stallwatch::NativeSymbolizer;

void TestStaticFunctionNamedFromSymtab(NativeSymbolizer& symbolizer) {
  NativeSymbol s = symbolizer.Resolve(Address(reinterpret_cast<void*>(&HiddenHelper)) + 4);
  Check(s.in_module, "static function is in a module: " + Describe(s));
  Check(s.name == "(anonymous namespace)::HiddenHelper(int)", "static function named: " + Describe(s));
  Check(s.symbol_offset == 4, "static function offset is 4: " + Describe(s));
  Check(s.module == ExecutablePath(), "main executable path from /proc/self/exe (" + ExecutablePath() +
                                          "): " + Describe(s));
  Check(s.module_base != 0, "module base known: " + Describe(s));
}

void TestNamespacedFunctionDemangled(NativeSymbolizer& symbolizer) {
  NativeSymbol s = symbolizer.Resolve(Address(reinterpret_cast<void*>(&stallwatch_test::Foo)));
  Check(s.name == "stallwatch_test::Foo(int)", "namespaced function demangled: " + Describe(s));
  Check(s.symbol_offset == 0, "function start has offset 0: " + Describe(s));
}

void TestLibcExport(NativeSymbolizer& symbolizer) {
  // Via libc's own scope: in a non-PIE binary &write would be the executable's PLT stub.
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  Check(libc != nullptr, "libc.so.6 already loaded");
  if (libc == nullptr) return;
  void* write_address = dlsym(libc, "write");
  dlclose(libc);
  Check(write_address != nullptr, "dlsym(libc, write)");
  if (write_address == nullptr) return;
  NativeSymbol s = symbolizer.Resolve(Address(write_address) + 1);
  Check(s.in_module, "write is in a module: " + Describe(s));
  Check(s.module.find("libc") != std::string::npos, "write's module is libc: " + Describe(s));
  Check(s.name.find("write") != std::string::npos, "write named *write*: " + Describe(s));
  Check(s.symbol_offset == 1, "write offset is 1: " + Describe(s));
}

void TestAnonymousMemory(NativeSymbolizer& symbolizer) {
  size_t size = 1 << 16;
  void* jit = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  Check(jit != MAP_FAILED, "mmap anonymous");
  if (jit == MAP_FAILED) return;
  NativeSymbol s = symbolizer.Resolve(Address(jit) + 128);
  Check(!s.in_module, "anonymous memory is in no module: " + Describe(s));
  Check(s.name.empty() && s.module.empty(), "anonymous memory has no name or module: " + Describe(s));
  munmap(jit, size);
}

void TestClearKeepsResolving(NativeSymbolizer& symbolizer) {
  symbolizer.Clear();
  NativeSymbol s = symbolizer.Resolve(Address(reinterpret_cast<void*>(&stallwatch_test::Foo)) + 2);
  Check(s.name == "stallwatch_test::Foo(int)" && s.symbol_offset == 2,
        "resolves again after Clear(): " + Describe(s));
}

// Rss (kB) of this process's mapping that contains `address`, from /proc/self/smaps; -1 if none.
long MappingRssKb(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  const uintptr_t a = Address(address);
  bool in_mapping = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long start = 0, end = 0;
    if (sscanf(line.c_str(), "%lx-%lx ", &start, &end) == 2) {  // a mapping's header line
      in_mapping = a >= start && a < end;
      continue;
    }
    long kb = 0;
    if (in_mapping && sscanf(line.c_str(), "Rss: %ld kB", &kb) == 1) return kb;
  }
  return -1;
}

// The names a lookup read stay in the process's RSS (page-cache pages of the mapped .strtab)
// until ReleaseNamePages(); after it they are gone from RSS and still read the same.
void TestNamePagesReleased() {
  auto table = stallwatch::ElfSymbolTable::Load("/proc/self/exe");
  Check(table != nullptr, "this test binary's symbol table loads");
  if (table == nullptr) return;
  Dl_info info{};
  Check(dladdr(reinterpret_cast<void*>(&stallwatch_test::Foo), &info) != 0 && info.dli_fbase != nullptr,
        "dladdr finds the test binary's load base");
  const uintptr_t bias = table->LoadBias(Address(info.dli_fbase));
  stallwatch::ElfSymbolTable::Hit hit;
  Check(table->Lookup(Address(reinterpret_cast<void*>(&stallwatch_test::Foo)) - bias, &hit), "Foo found");
  if (hit.name == nullptr) return;
  const std::string name = hit.name;  // reads the page
  Check(name == "_ZN15stallwatch_test3FooEi", "raw name of Foo: " + name);
  const long before = MappingRssKb(hit.name);
  Check(before > 0, "the name's page is resident after the lookup (" + std::to_string(before) + " kB)");
  table->ReleaseNamePages();
  const long after = MappingRssKb(hit.name);
  Check(after == 0, "no page of the names mapping resident after ReleaseNamePages (" + std::to_string(after) + " kB)");
  Check(std::string(hit.name) == name, "a name returned before the release reads the same after it");
}

void TestDemangle() {
  using stallwatch::Demangle;
  Check(Demangle("write") == "write", "plain C name unchanged: " + Demangle("write"));
  Check(Demangle("i") == "i", "'i' is a name, not the type int: " + Demangle("i"));
  Check(Demangle("_ZN15stallwatch_test3FooEi") == "stallwatch_test::Foo(int)",
        "mangled name demangled: " + Demangle("_ZN15stallwatch_test3FooEi"));
  Check(Demangle("_Znot_valid") == "_Znot_valid", "invalid mangling unchanged: " + Demangle("_Znot_valid"));
  Check(Demangle(nullptr).empty(), "null gives empty");
}

// A symbol without a size is not credited past the end of its section. crti.o's _init has no
// size and the PLT follows .init, so every PLT stub (where a sample lands while a call goes
// through it) used to be named _init.
void TestUnsizedSymbolEndsWithItsSection(NativeSymbolizer& symbolizer) {
  std::ifstream file("/proc/self/exe", std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < sizeof(ElfW(Ehdr))) return Check(false, "read /proc/self/exe");
  const auto* header = reinterpret_cast<const ElfW(Ehdr)*>(bytes.data());
  const auto* sections = reinterpret_cast<const ElfW(Shdr)*>(bytes.data() + header->e_shoff);
  const char* names = bytes.data() + sections[header->e_shstrndx].sh_offset;
  const ElfW(Shdr)* init = nullptr;
  const ElfW(Shdr)* plt = nullptr;
  for (unsigned i = 0; i < header->e_shnum; ++i) {
    if (std::string(names + sections[i].sh_name) == ".init") init = &sections[i];
    if (std::string(names + sections[i].sh_name) == ".plt") plt = &sections[i];
  }
  // The case this checks: .plt right after .init, within the old 16 KB span of _init.
  if (init == nullptr || plt == nullptr || plt->sh_addr < init->sh_addr || plt->sh_size < 0x20 ||
      plt->sh_addr - init->sh_addr > 4096) {
    fprintf(stderr, "note: no .plt right after .init in this build; unsized-symbol check skipped\n");
    return;
  }
  uintptr_t bias = 0;
  dl_iterate_phdr([](struct dl_phdr_info* info, size_t, void* data) {
    *static_cast<uintptr_t*>(data) = info->dlpi_addr;  // the first entry is the executable
    return 1;
  }, &bias);
  NativeSymbol s = symbolizer.Resolve(bias + plt->sh_addr + 0x10);
  Check(s.in_module && s.module == ExecutablePath(), "a PLT stub is in the executable: " + Describe(s));
  Check(s.name != "_init", "a PLT stub is not named after _init, the unsized symbol before it: " + Describe(s));
  NativeSymbol start = symbolizer.Resolve(bias + init->sh_addr);
  Check(start.name == "_init", "_init itself is still named: " + Describe(start));
}

int main() {
  NativeSymbolizer symbolizer;
  TestStaticFunctionNamedFromSymtab(symbolizer);
  TestNamespacedFunctionDemangled(symbolizer);
  TestLibcExport(symbolizer);
  TestAnonymousMemory(symbolizer);
  TestClearKeepsResolving(symbolizer);
  TestNamePagesReleased();
  TestDemangle();
  TestUnsizedSymbolEndsWithItsSection(symbolizer);
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  return 0;
}
