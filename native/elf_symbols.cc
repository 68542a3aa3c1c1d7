#include "elf_symbols.h"

#include <algorithm>

#if defined(__linux__)
#include <elf.h>
#include <fcntl.h>
#include <link.h>  // ElfW(): the ELF class this process itself uses
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstring>
#endif

// Memory per module, and why names stay in a mapping:
//  - entries_: 16 bytes per function symbol, on the heap. node 20 here has ~86k: 1.3 MB
//    (measured; parsing it takes ~9 ms warm). A stripped library's .dynsym is a few KB.
//  - names: node's .strtab is ~7.5 MB. Copying it (or even only the function names,
//    ~6.5 MB) would cost that much anonymous memory in every watched process for the few
//    names a report needs. Instead the .strtab range of the file stays mapped read-only:
//    virtual space only, with RSS limited to the clean, reclaimable page-cache pages
//    actually read, and those handed back after each batch of reports (ReleaseNamePages).
//    The file's other sections are unmapped once parsed.
//    The risk of a mapping is SIGBUS if the file is truncated in place while we run; that
//    would already break the module's own code pages, and package managers replace files
//    by rename, which leaves our (old) inode intact.
// .gnu_debuglink is not followed: node ships an unstripped .symtab, and searching debug
// directories costs more than it gains for a watchdog.

namespace stallwatch {

namespace {

// A size-0 function symbol (assembly without .size) is credited with addresses at most this
// far past its start, and never past the end of its section: enough for hand-written routines,
// small enough not to claim the code of an unrelated function whose own symbol was stripped.
// (crti.o's _init has no size, and .plt follows .init: without the section bound every PLT
// stub was named _init.)
constexpr uintptr_t kMaxUnsizedSpan = 16 * 1024;
// Marks an Entry::size that is such a span rather than a size (real sizes above 2^31 are not
// kept).
constexpr uint32_t kUnsizedFlag = 0x80000000u;


// Entries looked at below the nearest start before giving up on containment. Covers aliases
// sharing a start and small symbols nested in a bigger one without scanning the table.
constexpr size_t kContainmentLookback = 8;

}  // namespace

uint32_t ElfSymbolTable::SizeOf(const Entry& entry) { return (entry.size & kUnsizedFlag) ? 0 : entry.size; }

bool ElfSymbolTable::Lookup(uintptr_t link_address, Hit* hit) const {
  auto after = std::upper_bound(
      entries_.begin(), entries_.end(), link_address,
      [](uintptr_t address, const Entry& entry) { return address < entry.start; });
  if (after == entries_.begin()) return false;
  size_t nearest = static_cast<size_t>(after - entries_.begin()) - 1;

  const Entry* found = nullptr;
  for (size_t i = nearest, seen = 0; seen < kContainmentLookback; --i, ++seen) {
    const Entry& entry = entries_[i];
    if (link_address - entry.start < SizeOf(entry)) {
      found = &entry;
      break;
    }
    if (i == 0) break;
  }
  const Entry& closest = entries_[nearest];
  if (found == nullptr && (closest.size & kUnsizedFlag) &&
      link_address - closest.start < (closest.size & ~kUnsizedFlag)) {
    found = &closest;
  }
  if (found == nullptr) return false;
  hit->name = strtab_ + found->name;
  hit->start = found->start;
  return true;
}

uintptr_t ElfSymbolTable::LoadBias(uintptr_t load_base) const {
  return fixed_address_ ? 0 : load_base - first_load_page_;
}

#if defined(__linux__)

namespace {

// Read-only mapping of a whole file, unmapped when parsing is done.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return;
    struct stat st;
    if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return;
    void* data = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd_, 0);
    if (data == MAP_FAILED) return;
    data_ = static_cast<const unsigned char*>(data);
    size_ = static_cast<size_t>(st.st_size);
  }
  ~MappedFile() {
    if (data_ != nullptr) munmap(const_cast<unsigned char*>(data_), size_);
    if (fd_ >= 0) close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  int fd() const { return fd_; }
  size_t size() const { return size_; }
  bool Contains(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }
  // Only call after Contains(offset, sizeof(T) * count).
  template <typename T>
  const T* At(uint64_t offset) const {
    return reinterpret_cast<const T*>(data_ + offset);
  }

 private:
  int fd_ = -1;
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

bool IsFunction(const ElfW(Sym) & symbol) {
  unsigned type = ELF64_ST_TYPE(symbol.st_info);  // same bit layout for ELF32
  return (type == STT_FUNC || type == STT_GNU_IFUNC) && symbol.st_value != 0 &&
         symbol.st_shndx != SHN_UNDEF && symbol.st_name != 0;
}

}  // namespace

ElfSymbolTable::~ElfSymbolTable() {
  if (strtab_mapping_ != nullptr) munmap(strtab_mapping_, strtab_mapping_size_);
}

void ElfSymbolTable::ReleaseNamePages() const {
  if (strtab_mapping_ == nullptr) return;
  // MADV_DONTNEED on a private, never-written file mapping only unmaps the pages from this
  // process; the contents are still the file's on the next access. Cheap when little is
  // mapped: node's 7.3 MB range is ~1,800 page-table entries to walk. (mincore cannot tell
  // what is mapped here: for a file it reports the page cache.)
  madvise(strtab_mapping_, strtab_mapping_size_, MADV_DONTNEED);
}

std::unique_ptr<ElfSymbolTable> ElfSymbolTable::Load(const std::string& path) {
  using Ehdr = ElfW(Ehdr);
  using Shdr = ElfW(Shdr);
  using Phdr = ElfW(Phdr);
  using Sym = ElfW(Sym);
  constexpr unsigned char kNativeClass = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;

  MappedFile file(path);
  if (!file.Contains(0, sizeof(Ehdr))) return nullptr;
  const Ehdr& header = *file.At<Ehdr>(0);
  if (memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != kNativeClass ||
      (header.e_type != ET_EXEC && header.e_type != ET_DYN)) {
    return nullptr;
  }
  // e_shnum == 0 with sections means extended numbering (>= 0xff00 sections): not handled.
  if (header.e_shentsize != sizeof(Shdr) || header.e_shnum == 0 ||
      !file.Contains(header.e_shoff, uint64_t{header.e_shnum} * sizeof(Shdr)) ||
      header.e_phentsize != sizeof(Phdr) ||
      !file.Contains(header.e_phoff, uint64_t{header.e_phnum} * sizeof(Phdr))) {
    return nullptr;
  }
  const Shdr* sections = file.At<Shdr>(header.e_shoff);
  const Phdr* segments = file.At<Phdr>(header.e_phoff);

  // .symtab has every function; a stripped file still has .dynsym (the exported ones).
  // Reading .dynsym here rather than asking dladdr keeps sizes, and keeps the symbolizer
  // off the loader lock that dladdr takes (see symbolize.cc).
  const Shdr* symtab = nullptr;
  for (unsigned i = 0; i < header.e_shnum; ++i) {
    if (sections[i].sh_type == SHT_SYMTAB) symtab = &sections[i];
    if (sections[i].sh_type == SHT_DYNSYM && symtab == nullptr) symtab = &sections[i];
  }
  if (symtab == nullptr || symtab->sh_entsize != sizeof(Sym) || symtab->sh_link >= header.e_shnum ||
      !file.Contains(symtab->sh_offset, symtab->sh_size)) {
    return nullptr;
  }
  const Shdr& strtab = sections[symtab->sh_link];
  // A final NUL makes every in-range name offset a terminated string, checked once here.
  if (strtab.sh_type != SHT_STRTAB || strtab.sh_size == 0 || strtab.sh_size > UINT32_MAX ||
      !file.Contains(strtab.sh_offset, strtab.sh_size) ||
      *file.At<char>(strtab.sh_offset + strtab.sh_size - 1) != '\0') {
    return nullptr;
  }

  std::unique_ptr<ElfSymbolTable> table(new ElfSymbolTable());
  table->fixed_address_ = header.e_type == ET_EXEC;
  // dladdr's base is the lowest PT_LOAD's vaddr rounded down to a page, plus the bias.
  uintptr_t lowest_load = UINTPTR_MAX;
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    if (segments[i].p_type == PT_LOAD) lowest_load = std::min<uintptr_t>(lowest_load, segments[i].p_vaddr);
  }
  if (lowest_load == UINTPTR_MAX) return nullptr;
  table->first_load_page_ = lowest_load & ~(static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)) - 1);

  const Sym* symbols = file.At<Sym>(symtab->sh_offset);
  size_t symbol_count = symtab->sh_size / sizeof(Sym);
  size_t functions = 0;
  for (size_t i = 0; i < symbol_count; ++i) functions += IsFunction(symbols[i]) ? 1 : 0;
  table->entries_.reserve(functions);
  for (size_t i = 0; i < symbol_count; ++i) {
    const Sym& symbol = symbols[i];
    if (!IsFunction(symbol) || symbol.st_name >= strtab.sh_size || symbol.st_size >= kUnsizedFlag) continue;
    uint32_t size = static_cast<uint32_t>(symbol.st_size);
    if (size == 0) {
      uintptr_t span = kMaxUnsizedSpan;
      if (symbol.st_shndx != SHN_UNDEF && symbol.st_shndx < header.e_shnum) {
        const Shdr& section = sections[symbol.st_shndx];
        const uint64_t end = section.sh_addr + section.sh_size;
        span = symbol.st_value < end ? std::min<uint64_t>(span, end - symbol.st_value) : 0;
      }
      if (span == 0) continue;  // outside its own section: nothing to credit it with
      size = kUnsizedFlag | static_cast<uint32_t>(span);
    }
    table->entries_.push_back({symbol.st_value, size, symbol.st_name});
  }
  std::sort(table->entries_.begin(), table->entries_.end(), [](const Entry& a, const Entry& b) {
    return a.start != b.start ? a.start < b.start : a.size > b.size;
  });

  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  uint64_t map_offset = strtab.sh_offset & ~uint64_t{page - 1};
  size_t map_size = static_cast<size_t>(strtab.sh_offset + strtab.sh_size - map_offset);
  void* mapping = mmap(nullptr, map_size, PROT_READ, MAP_PRIVATE, file.fd(), static_cast<off_t>(map_offset));
  if (mapping == MAP_FAILED) return nullptr;
  table->strtab_mapping_ = mapping;
  table->strtab_mapping_size_ = map_size;
  table->strtab_ = static_cast<const char*>(mapping) + (strtab.sh_offset - map_offset);
  return table;
}

#else  // !__linux__

// macOS: Mach-O symbol tables (LC_SYMTAB, including non-exported functions) are not
// implemented; the symbolizer names only what dladdr knows there.
ElfSymbolTable::~ElfSymbolTable() = default;

void ElfSymbolTable::ReleaseNamePages() const {}

std::unique_ptr<ElfSymbolTable> ElfSymbolTable::Load(const std::string&) { return nullptr; }

#endif

}  // namespace stallwatch
