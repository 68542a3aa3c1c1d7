// The function symbols of one ELF file's .symtab (or .dynsym when stripped), read from the
// file. .symtab names what dladdr cannot: hidden and static functions such as node's
// `uv__fs_open`. Linux only; elsewhere Load() always fails (see elf_symbols.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stallwatch {

class ElfSymbolTable {
 public:
  // Parses `path`; nullptr when it cannot be read, is not a native ELF file, or has no
  // symbol table. Slow for big files (node: ~8 ms) so callers cache the result.
  static std::unique_ptr<ElfSymbolTable> Load(const std::string& path);

  ElfSymbolTable(const ElfSymbolTable&) = delete;
  ElfSymbolTable& operator=(const ElfSymbolTable&) = delete;
  ~ElfSymbolTable();

  // Addresses here are link-time addresses (as in the file): runtime pc minus LoadBias().
  struct Hit {
    const char* name = nullptr;  // raw (mangled) name; valid while the table lives
    uintptr_t start = 0;
  };
  bool Lookup(uintptr_t link_address, Hit* hit) const;

  // What to subtract from a runtime address to get a link-time one, given the module's
  // load base as dladdr reports it (dli_fbase: start of the lowest PT_LOAD page).
  uintptr_t LoadBias(uintptr_t load_base) const;

  // Link-time start of the lowest loaded page; load base minus this is the bias.
  uintptr_t first_load_page() const { return first_load_page_; }
  size_t symbol_count() const { return entries_.size(); }
  size_t heap_bytes() const { return entries_.capacity() * sizeof(Entry); }

  // Drops this process's resident pages of the .strtab mapping (names read by earlier
  // lookups). They are clean file pages: the next lookup faults them back in from the page
  // cache, and names already returned stay readable. Without this every distinct symbol a
  // report ever named keeps a 4 KB page in the process's RSS, up to the whole .strtab
  // (node: 7.3 MB). No-op off Linux.
  void ReleaseNamePages() const;

 private:
  // 16 bytes per function symbol. Sizes and name offsets fit in 32 bits for any real
  // binary; Load() drops the rare symbol that does not rather than widen every entry. A
  // symbol without a size (assembly without .size) keeps, flagged in `size`, how far past its
  // start it may be credited (elf_symbols.cc).
  struct Entry {
    uint64_t start;
    uint32_t size;
    uint32_t name;  // offset into the mapped .strtab
  };
  static uint32_t SizeOf(const Entry& entry);  // 0 for a symbol without a size

  ElfSymbolTable() = default;

  std::vector<Entry> entries_;       // sorted by start, then larger size first
  const char* strtab_ = nullptr;     // points into strtab_mapping_
  void* strtab_mapping_ = nullptr;   // page-aligned read-only mapping covering .strtab
  size_t strtab_mapping_size_ = 0;
  bool fixed_address_ = false;       // ET_EXEC: loaded at its link-time addresses, no bias
  uintptr_t first_load_page_ = 0;
};

}  // namespace stallwatch
