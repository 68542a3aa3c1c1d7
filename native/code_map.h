// Address -> JS function, fed by V8's code events.
//
// GetStackSample reports a JS frame as an address: the pc in optimized/baseline code, or
// the current bytecode position inside a BytecodeArray. Both move during compacting GCs.
// V8 reports those moves (kRelocationType) only while someone listens for object
// relocation; a JIT code event handler (even an empty one) turns that logging on, so the
// listener installs one. Every event (create or move) bumps an event counter; each entry
// remembers the counter value at which it got its current address, and the signal handler
// records the counter at capture time. An entry stamped after the capture may describe code
// that was not there when the sample was taken: its name is not provable and is withheld.
//
// Call lines: an interpreted frame's sampled address is its BytecodeArray's first bytecode plus
// the offset of the bytecode it is executing, which for a frame that called out (into another
// function, a builtin, C++) is the call. V8 reports each new bytecode's source positions to the
// JIT code event handler right next to the code event for that bytecode (just before it from
// V8 11 on, Node 20+; just after it in V8 10, Node 18); the listener converts them to lines
// there (on the JS thread, as V8 itself does for the code event's line) and offers them with
// OfferLines, saying on which side of the code event they come for this V8. They are attached
// only to the code event adjacent to them on that side, with the same start: the very next
// Add(), or the Add() just before if no other code event came since; anything else drops them.
// (Both sides at once would not do: with the positions first, the Add() just before can be
// dead code that used the same address.) So a table is only ever attached to the code it was
// made for; it then moves and dies with its entry.
//
// Lock contract: `mutex_` guards `entries_`, `strings_` and `offered_`; taken by the JS thread
// for each code event and by the reporter thread for lookups; never by the watchdog or a
// handler. `events_` is atomic and read by the signal handler.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace stallwatch {

enum class CodeKind : uint8_t { kJsFunction, kBuiltin, kRegExp, kOther };

// Bytecode offset -> source line and column (1-based), sorted by offset, one row per offset.
struct LineTableRow {
  uint32_t offset;
  int32_t line;
  int32_t column;
};
using LineTable = std::vector<LineTableRow>;

// The row that describes `offset`: the last one at or before it (V8's own rule for a frame's
// position). False when the table starts after `offset`.
bool LineAt(const LineTable& table, uint32_t offset, int* line, int* column);

class CodeMap {
 public:
  struct Lookup {
    bool found = false;
    bool provable = false;   // the entry existed unchanged when the sample was taken
    // Not found, but code moved after the sample was taken: what was at the address then may
    // have moved away (a compaction during the stall), rather than never have been known.
    bool moved_since = false;
    uintptr_t start = 0;     // where the entry's code starts (identifies the code object)
    CodeKind kind = CodeKind::kOther;
    std::string name;
    std::string script;
    int line = 0;            // definition line (1-based), 0 unknown
    int column = 0;
    std::shared_ptr<const LineTable> lines;  // bytecode only, when V8 reported its positions
  };

  // JS thread (code event callbacks).
  void Add(uintptr_t start, size_t size, CodeKind kind, std::string name, std::string script, int line, int column);
  void Move(uintptr_t from, uintptr_t to);
  // The line table of the bytecode starting at `start`, whose code event is the next Add()
  // (kBeforeCodeEvent) or was the latest one (kAfterCodeEvent).
  enum class LinesOrder { kBeforeCodeEvent, kAfterCodeEvent };
  void OfferLines(uintptr_t start, std::shared_ptr<const LineTable> lines, LinesOrder order);

  // JS thread. [copy, copy + length) is a byte-for-byte copy of the builtins at
  // [original, original + length), which the code events named (see embedded_builtins.h):
  // from now on Find() names an address of the copy after the entry at the same offset of the
  // original. Builtins never move, so no event makes that name stale.
  void AliasBuiltinCopy(uintptr_t copy, size_t length, uintptr_t original);

  // Reporter thread.
  Lookup Find(uintptr_t address, uint64_t captured_stamp) const;

  const std::atomic<uint64_t>* event_counter() const { return &events_; }
  uint64_t moves_seen() const { return moves_.load(std::memory_order_relaxed); }
  size_t size() const;

 private:
  struct Entry {
    uint32_t size;
    uint32_t name_id;
    uint32_t script_id;
    int32_t line;
    int32_t column;
    CodeKind kind;
    uint64_t stamp;
    std::shared_ptr<const LineTable> lines;
  };
  uint32_t Intern(std::string s);
  static bool SameCode(const Entry& a, const Entry& b);
  void EraseOverlapping(uintptr_t start, size_t size);
  std::map<uintptr_t, Entry>::const_iterator EntryAt(uintptr_t address) const;  // or end()

  mutable std::mutex mutex_;
  std::map<uintptr_t, Entry> entries_;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, uint32_t> string_ids_;
  uintptr_t offered_start_ = 0;
  std::shared_ptr<const LineTable> offered_;
  uintptr_t last_add_start_ = 0;  // the latest Add(), and the event count it took
  uint64_t last_add_stamp_ = 0;
  uint64_t last_move_stamp_ = 0;  // the event count the latest Move() took
  std::atomic<uint64_t> events_{1};
  std::atomic<uint64_t> moves_{0};
  // AliasBuiltinCopy: an address in [copy_start_, copy_start_ + copy_length_) is named as itself + copy_delta_.
  uintptr_t copy_start_ = 0;
  size_t copy_length_ = 0;
  uintptr_t copy_delta_ = 0;
};

}  // namespace stallwatch
