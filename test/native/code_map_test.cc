// sources: code_map.cc
// CodeMap under the threads that use it (code_map.h): one "JS thread" adds and moves code, a
// "signal handler" (here: a sampler thread) reads the event counter as a capture stamp, and
// "reporter" threads look addresses up later. Checks the provability rule: a lookup with a stamp
// is provable only if the entry it returns had its current address at that stamp. Built plain,
// with ASan and with TSan (npm run test:tsan).
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "code_map.h"

using namespace stallwatch;

namespace {

std::atomic<int> failures{0};

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
  }
}

void TestBasics() {
  CodeMap map;
  const uint64_t before = map.event_counter()->load();
  map.Add(0x1000, 0x100, CodeKind::kJsFunction, "f", "/app/a.js", 3, 7);
  const uint64_t after_add = map.event_counter()->load();
  Check(after_add == before + 1, "basics: Add bumps the event counter");
  CodeMap::Lookup hit = map.Find(0x1080, after_add);
  Check(hit.found && hit.provable && hit.name == "f" && hit.script == "/app/a.js" && hit.line == 3 && hit.column == 7 &&
            hit.start == 0x1000 && hit.kind == CodeKind::kJsFunction,
        "basics: an address inside the entry finds it");
  Check(!map.Find(0x1100, after_add).found, "basics: the end is exclusive");
  Check(!map.Find(0xfff, after_add).found, "basics: below the start");
  Check(map.Find(0x1000, before).found && !map.Find(0x1000, before).provable,
        "basics: a stamp taken before the entry existed makes it unprovable");

  // Overlapping code replaces what it covers.
  map.Add(0x1080, 0x100, CodeKind::kJsFunction, "g", "/app/b.js", 1, 1);
  Check(!map.Find(0x1000, map.event_counter()->load()).found, "basics: the overlapped entry is gone");
  Check(map.Find(0x1100, map.event_counter()->load()).name == "g", "basics: the new entry is there");

  // A move gives the entry a new address and a new stamp; the old address is empty.
  const uint64_t before_move = map.event_counter()->load();
  map.Move(0x1080, 0x9000);
  Check(map.moves_seen() == 1, "basics: moves are counted");
  Check(!map.Find(0x1080, map.event_counter()->load()).found, "basics: nothing at the old address");
  CodeMap::Lookup moved = map.Find(0x9010, map.event_counter()->load());
  Check(moved.found && moved.provable && moved.name == "g", "basics: found at the new address");
  Check(!map.Find(0x9010, before_move).provable, "basics: a sample taken before the move cannot prove the new address");
  const CodeMap::Lookup gone = map.Find(0x1090, before_move);
  Check(!gone.found && gone.moved_since, "basics: a sampled address emptied by a later move says code moved since");
  Check(!map.Find(0x1090, map.event_counter()->load()).moved_since, "basics: nothing moved after a current stamp");
  map.Move(0x5555, 0x6666);  // unknown: counted, no entry
  Check(map.moves_seen() == 2 && map.size() == 1, "basics: moving unknown code changes nothing");
  // Zero-size code still occupies its first byte.
  map.Add(0x20000, 0, CodeKind::kBuiltin, "b", "", 0, 0);
  Check(map.Find(0x20000, map.event_counter()->load()).found, "basics: zero-size code is findable at its start");
}

// The JS thread creates code at a rotating set of addresses (each Add replaces the code there, like
// code space reused after a GC) and moves some of it; it records, for each event stamp, what it
// put where. A sampler thread takes stamps; reporter threads resolve addresses with those stamps
// and check every provable answer against the JS thread's record.
void TestConcurrent() {
  constexpr int kEvents = 20000;
  constexpr uintptr_t kBase = 0x100000;
  constexpr uintptr_t kSlots = 64;
  constexpr uintptr_t kSize = 0x100;
  CodeMap map;

  std::mutex history_mutex;
  std::unordered_map<std::string, uint64_t> created_at;  // function name -> stamp of its Add
  std::atomic<bool> done{false};

  std::thread js([&] {
    for (int i = 0; i < kEvents; ++i) {
      const uintptr_t start = kBase + (static_cast<uintptr_t>(i) % kSlots) * kSize * 2;
      std::string name = "fn" + std::to_string(i);
      if (i % 5 == 4) {
        // Move the code of the previous slot into a spare area and back: a compacting GC.
        const uintptr_t from = kBase + (static_cast<uintptr_t>(i - 1) % kSlots) * kSize * 2;
        const uintptr_t to = from + kSize;  // the gap between slots
        map.Move(from, to);
        continue;
      }
      map.Add(start, kSize, CodeKind::kJsFunction, name, "/app/x.js", i, 1);
      const uint64_t stamp = map.event_counter()->load();  // only this thread writes it
      std::lock_guard<std::mutex> lock(history_mutex);
      created_at[name] = stamp;
    }
    done.store(true);
  });

  // The "signal handler": only reads the atomic counter, as signal_capture.cc does.
  std::vector<uint64_t> stamps;
  std::mutex stamps_mutex;
  std::thread sampler([&] {
    while (!done.load()) {
      const uint64_t stamp = map.event_counter()->load(std::memory_order_acquire);
      std::lock_guard<std::mutex> lock(stamps_mutex);
      stamps.push_back(stamp);
    }
  });

  std::atomic<uint64_t> provable{0}, unprovable{0}, missing{0};
  auto reporter = [&](int which) {
    size_t next = 0;
    uint64_t last_counter = 0;
    while (!done.load() || next < 1) {
      uint64_t stamp = 0;
      {
        std::lock_guard<std::mutex> lock(stamps_mutex);
        if (stamps.empty()) continue;
        // Alternately the latest capture (mostly provable) and an older one (mostly not).
        stamp = next % 2 ? stamps.back() : stamps[(next * 7 + static_cast<size_t>(which)) % stamps.size()];
        ++next;
      }
      for (uintptr_t s = 0; s < kSlots; s += 3) {
        const uintptr_t address = kBase + s * kSize * 2 + 0x10 + (next % 2) * kSize;
        const CodeMap::Lookup hit = map.Find(address, stamp);
        if (!hit.found) {
          ++missing;
          continue;
        }
        Check(address >= hit.start && address < hit.start + kSize, "concurrent: the entry covers the address");
        if (hit.provable) {
          ++provable;
          // Provable means: in place at the capture, so certainly created before it.
          std::lock_guard<std::mutex> lock(history_mutex);
          auto it = created_at.find(hit.name);
          if (it != created_at.end()) {
            Check(it->second <= stamp, "concurrent: a provable entry was created before the capture stamp (" + hit.name +
                                           " created at " + std::to_string(it->second) + ", stamp " +
                                           std::to_string(stamp) + ")");
          }
        } else {
          ++unprovable;
        }
      }
      const uint64_t counter = map.event_counter()->load();
      Check(counter >= last_counter, "concurrent: the event counter never goes back");
      last_counter = counter;
      (void)map.size();
    }
  };
  std::thread r1(reporter, 1), r2(reporter, 2);
  js.join();
  sampler.join();
  r1.join();
  r2.join();

  // Single-threaded now: every entry's stamp is in the history, at the entry's address.
  const uint64_t now = map.event_counter()->load();
  for (uintptr_t s = 0; s < kSlots; ++s) {
    for (uintptr_t half = 0; half < 2; ++half) {
      const uintptr_t address = kBase + s * kSize * 2 + half * kSize;
      const CodeMap::Lookup hit = map.Find(address, now);
      if (!hit.found) continue;
      Check(hit.provable, "final: everything is provable at the current stamp");
    }
  }
  Check(map.moves_seen() == kEvents / 5, "final: every move was counted");
  Check(now == 1 + kEvents, "final: one event per Add or Move");
  std::fprintf(stderr, "code map: %llu provable, %llu unprovable, %llu missing lookups\n",
               static_cast<unsigned long long>(provable.load()), static_cast<unsigned long long>(unprovable.load()),
               static_cast<unsigned long long>(missing.load()));
}

// The provability rule, exactly: an entry stamped after a capture is never provable for it.
void TestProvabilityRule() {
  CodeMap map;
  map.Add(0x1000, 0x10, CodeKind::kJsFunction, "old", "", 0, 0);
  const uint64_t capture = map.event_counter()->load();  // the handler's stamp
  map.Add(0x1000, 0x10, CodeKind::kJsFunction, "new", "", 0, 0);  // code replaced after the capture
  const CodeMap::Lookup hit = map.Find(0x1000, capture);
  Check(hit.found && hit.name == "new" && !hit.provable, "rule: code created after the capture is withheld");
  map.Add(0x2000, 0x10, CodeKind::kJsFunction, "kept", "", 0, 0);
  const uint64_t capture2 = map.event_counter()->load();
  map.Add(0x3000, 0x10, CodeKind::kJsFunction, "unrelated", "", 0, 0);
  Check(map.Find(0x2000, capture2).provable, "rule: events elsewhere do not withhold an unchanged entry");
}

}  // namespace

// Line tables pair only with the adjacent code event of the same start, on the side V8 uses.
void TestLineTables() {
  auto table = [](int line) {
    return std::make_shared<const LineTable>(LineTable{{0, line, 1}, {5, line + 1, 3}, {9, line + 2, 5}});
  };
  int line = 0, column = 0;
  Check(!LineAt(LineTable{{4, 7, 1}}, 3, &line, &column), "lines: nothing before the first row");
  Check(LineAt(*table(10), 7, &line, &column) && line == 11 && column == 3, "lines: the last row at or before the offset");
  Check(LineAt(*table(10), 9, &line, &column) && line == 12, "lines: a row's own offset");
  Check(LineAt(*table(10), 100, &line, &column) && line == 12, "lines: past the last row");

  using Order = CodeMap::LinesOrder;
  {  // Before the code event (V8 11+): the next Add() of the same start takes them.
    CodeMap map;
    map.OfferLines(0x1000, table(10), Order::kBeforeCodeEvent);
    map.Add(0x1000, 0x20, CodeKind::kJsFunction, "f", "/a.js", 1, 1);
    const auto hit = map.Find(0x1005, map.event_counter()->load());
    Check(hit.lines != nullptr && hit.lines->size() == 3, "lines before: attached to the next Add of that start");
    map.Move(0x1000, 0x8000);
    Check(map.Find(0x8005, map.event_counter()->load()).lines != nullptr, "lines: they move with their entry");
    map.Add(0x8000, 0x20, CodeKind::kJsFunction, "g", "/a.js", 5, 1);
    Check(map.Find(0x8005, map.event_counter()->load()).lines == nullptr, "lines: they die with their entry");
  }
  {  // Before: any other Add() in between drops them.
    CodeMap map;
    map.OfferLines(0x1000, table(10), Order::kBeforeCodeEvent);
    map.Add(0x2000, 0x20, CodeKind::kJsFunction, "other", "/a.js", 1, 1);
    map.Add(0x1000, 0x20, CodeKind::kJsFunction, "f", "/a.js", 1, 1);
    Check(map.Find(0x1005, map.event_counter()->load()).lines == nullptr, "lines before: dropped by another code event");
    Check(map.Find(0x2005, map.event_counter()->load()).lines == nullptr, "lines before: never given to other code");
  }
  {  // Before: a stale entry at the same start never gets them (dead code that used the address).
    CodeMap map;
    map.Add(0x1000, 0x20, CodeKind::kJsFunction, "dead", "/a.js", 1, 1);
    map.OfferLines(0x1000, table(10), Order::kBeforeCodeEvent);
    Check(map.Find(0x1005, map.event_counter()->load()).lines == nullptr, "lines before: not on the Add() before");
    map.Add(0x1000, 0x20, CodeKind::kJsFunction, "new", "/a.js", 1, 1);
    const auto hit = map.Find(0x1005, map.event_counter()->load());
    Check(hit.name == "new" && hit.lines != nullptr, "lines before: on the new code's Add()");
  }
  {  // After the code event (V8 10): only if the latest event was the Add() of that start.
    CodeMap map;
    map.Add(0x1000, 0x20, CodeKind::kJsFunction, "f", "/a.js", 1, 1);
    map.OfferLines(0x1000, table(10), Order::kAfterCodeEvent);
    Check(map.Find(0x1005, map.event_counter()->load()).lines != nullptr, "lines after: attached to the Add() just before");
    map.Add(0x3000, 0x20, CodeKind::kJsFunction, "h", "/a.js", 1, 1);
    map.OfferLines(0x1000, table(20), Order::kAfterCodeEvent);
    int l = 0, c = 0;
    LineAt(*map.Find(0x1005, map.event_counter()->load()).lines, 0, &l, &c);
    Check(l == 10, "lines after: not if another code event came since");
    map.Move(0x3000, 0x4000);
    map.OfferLines(0x4000, table(30), Order::kAfterCodeEvent);
    Check(map.Find(0x4005, map.event_counter()->load()).lines == nullptr, "lines after: a move is not an Add()");
    map.OfferLines(0x5000, table(40), Order::kAfterCodeEvent);
    map.Add(0x5000, 0x20, CodeKind::kJsFunction, "k", "/a.js", 1, 1);
    Check(map.Find(0x5005, map.event_counter()->load()).lines == nullptr, "lines after: never on the next Add()");
  }
  {  // The same code announced again (V8's replay of existing code, which has no line tables).
    CodeMap map;
    map.OfferLines(0x1000, table(10), Order::kBeforeCodeEvent);
    map.Add(0x1000, 0x20, CodeKind::kJsFunction, "f", "/a.js", 1, 1);
    map.Add(0x1000, 0x20, CodeKind::kJsFunction, "f", "/a.js", 1, 1);
    Check(map.Find(0x1005, map.event_counter()->load()).lines != nullptr, "replay: the same code keeps its table");
    for (const auto& [size, name, script, line] : {std::tuple{0x24, "f", "/a.js", 1}, std::tuple{0x20, "g", "/a.js", 1},
                                                    std::tuple{0x20, "f", "/b.js", 1}, std::tuple{0x20, "f", "/a.js", 2}}) {
      CodeMap other;
      other.OfferLines(0x1000, table(10), Order::kBeforeCodeEvent);
      other.Add(0x1000, 0x20, CodeKind::kJsFunction, "f", "/a.js", 1, 1);
      other.Add(0x1000, size, CodeKind::kJsFunction, name, script, line, 1);
      Check(other.Find(0x1005, other.event_counter()->load()).lines == nullptr,
            "replay: other code at the same start (size, name, script or definition differs) does not");
    }
  }
}

// A copy of the builtins (embedded_builtins.h) is named after the original's entries.
void TestBuiltinCopy() {
  CodeMap map;
  const uintptr_t original = 0x400000, copy = 0x7f0000000000, length = 0x3000;
  map.Add(original, 0x1000, CodeKind::kBuiltin, "ArrayIndexOf", "", 0, 0);
  map.Add(original + 0x1000, 0x800, CodeKind::kBuiltin, "StringPrototypeRepeat", "", 0, 0);
  map.Add(copy + 0x10000, 0x100, CodeKind::kJsFunction, "f", "/app/a.js", 1, 1);  // JIT code beyond the copy
  const uint64_t stamp = map.event_counter()->load();
  Check(!map.Find(copy + 0x1010, stamp).found, "copy: unnamed before the alias");
  map.AliasBuiltinCopy(copy, length, original);
  const CodeMap::Lookup hit = map.Find(copy + 0x1010, stamp);
  Check(hit.found && hit.provable && hit.kind == CodeKind::kBuiltin && hit.name == "StringPrototypeRepeat" &&
            hit.start == copy + 0x1000,
        "copy: an address of the copy is named after the original, and starts in the copy");
  Check(map.Find(original + 0x10, stamp).name == "ArrayIndexOf", "copy: the original keeps its names");
  Check(!map.Find(copy + 0x2000, stamp).found, "copy: a gap of the original is a gap of the copy");
  Check(!map.Find(copy + length, stamp).found && map.Find(copy + 0x10010, stamp).name == "f",
        "copy: the alias ends with the copy");
  // Code the events put inside the copy range itself (V8 12+ names the copy) wins.
  map.Add(copy + 0x1000, 0x10, CodeKind::kBuiltin, "Named", "", 0, 0);
  Check(map.Find(copy + 0x1008, map.event_counter()->load()).name == "Named", "copy: a direct entry wins over the alias");
}

int main() {
  TestBasics();
  TestBuiltinCopy();
  TestLineTables();
  TestProvabilityRule();
  TestConcurrent();
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures.load());
    return 1;
  }
  return 0;
}
