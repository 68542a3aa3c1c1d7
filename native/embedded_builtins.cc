#include "embedded_builtins.h"

#include <cstdint>
#include <cstring>

#include <sys/mman.h>

#include <v8.h>

#include "code_map.h"
#include "platform/platform.h"

namespace stallwatch {
namespace {

constexpr uintptr_t kPage = 4096;  // the copy is page-allocated
constexpr size_t kWindow = 1 << 20;  // bytes read per system call while searching

// The same bytes as the original at its start, its end and kSamples points spread evenly in
// between. Comparing all of it would cost milliseconds of page faults in supervise() (both
// blobs are ~1.6 MB); nothing but a copy of the blob matches at every point.
bool IsCopyAt(uintptr_t candidate, uintptr_t original, size_t length) {
  constexpr size_t kSamples = 64, kBytes = 64;
  unsigned char bytes[kBytes];
  for (size_t i = 0; i <= kSamples; ++i) {
    const size_t offset = (length - kBytes) / kSamples * i;
    if (!platform::SafeRead(candidate + offset, bytes, kBytes) ||
        memcmp(bytes, reinterpret_cast<const void*>(original + offset), kBytes) != 0) {
      return false;
    }
  }
  return true;
}

// The page-aligned start, inside the code range, of a copy of [original, original + length).
// V8 allocates the copy near the top of the range: the mappings are searched from the highest
// down, and within each from its top down, a window at a time. Every read of the range goes
// through SafeRead: V8's background threads may unmap code pages while we look.
uintptr_t FindCopy(uintptr_t range_start, uintptr_t range_end, uintptr_t original, size_t length) {
  constexpr size_t kHead = 64;
  if (length < kHead) return 0;
  // The window is mapped, not malloc'ed: a megabyte freed on a worker thread would stay in that
  // thread's malloc arena (RSS that the churn test saw grow by ~5 MB over 500 workers).
  void* window = mmap(nullptr, kWindow + kHead, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (window == MAP_FAILED) return 0;
  const auto* bytes = static_cast<const unsigned char*>(window);
  const auto* head = reinterpret_cast<const unsigned char*>(original);
  uintptr_t found = 0;
  for (const platform::MemoryRange& mapping : platform::ReadableMappings(range_start, range_end)) {
    if (found != 0) break;
    if (mapping.end - mapping.start < length) continue;
    const uintptr_t first = (mapping.start + kPage - 1) & ~(kPage - 1);
    uintptr_t last = (mapping.end - length) & ~(kPage - 1);  // highest start a whole copy fits at
    while (found == 0 && last >= first) {
      const uintptr_t low = last - first > kWindow ? last - kWindow + kPage : first;
      if (platform::SafeRead(low, window, last - low + kHead)) {
        for (uintptr_t at = last;; at -= kPage) {
          if (memcmp(bytes + (at - low), head, kHead) == 0 && IsCopyAt(at, original, length)) {
            found = at;
            break;
          }
          if (at == low) break;
        }
      }
      if (low == first) break;
      last = low - kPage;
    }
  }
  munmap(window, kWindow + kHead);
  return found;
}

}  // namespace

bool NameCopiedBuiltins(v8::Isolate* isolate, CodeMap& map) {
  const void* blob = nullptr;
  size_t length = 0;
  isolate->GetEmbeddedCodeRange(&blob, &length);
  const auto original = reinterpret_cast<uintptr_t>(blob);
  // A blob outside the binary is V8 12+ reporting its copy: the code events name it already.
  if (original == 0 || length == 0 || !platform::InLoadedModuleSegment(original, length)) return false;
  void* range = nullptr;
  size_t range_length = 0;
  isolate->GetCodeRange(&range, &range_length);
  const auto range_start = reinterpret_cast<uintptr_t>(range);
  if (range_start == 0 || range_length < length) return false;  // no code range: builtins run in place
  const uintptr_t copy = FindCopy(range_start, range_start + range_length, original, length);
  if (copy == 0) return false;
  map.AliasBuiltinCopy(copy, length, original);
  return true;
}

}  // namespace stallwatch
