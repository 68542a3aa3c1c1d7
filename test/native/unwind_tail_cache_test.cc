// sources: unwind_tail_cache.cc
// The native walk's tail kept between captures: replayed only from the same start, while every
// word the walk read is still in place; never kept from an abandoned or unfinished recording.
// (That a replay equals libunwind's own walk is checked against real stacks by the capture
// tests and bench/probes; here: the bookkeeping, on a fake stack.)
#include <cstdint>
#include <cstdio>

#include "unwind_tail_cache.h"
#include "expect.h"

using namespace stallwatch;

namespace {

using stallwatch_test::Expect;

// A fake stack: three frames below a start frame, each return address and saved frame pointer
// in a word of `stack`, as a walk would have read them.
struct FakeStack {
  uintptr_t stack[64] = {};
  uintptr_t low() const { return reinterpret_cast<uintptr_t>(&stack[0]); }
  uintptr_t high() const { return reinterpret_cast<uintptr_t>(&stack[64]); }
  uintptr_t at(int i) const { return reinterpret_cast<uintptr_t>(&stack[i]); }
  platform::MachineRegisters start() const {
    platform::MachineRegisters r;
    r.pc = 0x1000;
    r.sp = at(4);
    r.fp = at(8);
    return r;
  }
  FakeStack() {
    stack[9] = 0x2000;  // return address of frame 1
    stack[8] = at(16);  // frame 1's frame pointer, saved by frame 0
    stack[17] = 0x3000;
    stack[16] = at(30);
    stack[31] = 0x4000;
    stack[30] = 0;
  }
  // Records the walk libunwind would make over this stack.
  void Record(UnwindTailCache& cache, bool commit = true) const {
    cache.Begin(start());
    cache.Add(0x1000, {}, {});
    cache.Add(0x2000, {at(9), 0x2000}, {at(8), at(16)});
    cache.Add(0x3000, {at(17), 0x3000}, {at(16), at(30)});
    cache.Add(0x4000, {at(31), 0x4000}, {at(30), 0});
    if (commit) cache.Commit();
  }
};

struct Out {
  uintptr_t frames[16] = {};
  UnwindResult result;
};

bool Replay(const UnwindTailCache& cache, const FakeStack& s, Out& out, uint32_t max = 16,
            platform::MachineRegisters start = platform::MachineRegisters()) {
  if (start.pc == 0) start = s.start();
  return cache.Replay(start, s.high(), out.frames, max, &out.result);
}

void TestReplaysAnUnchangedTail() {
  FakeStack s;
  UnwindTailCache cache;
  s.Record(cache);
  Out out;
  out.frames[0] = 0xaaaa;  // frames before the tail (the V8 walk) stay
  out.result.count = 1;
  Expect(Replay(cache, s, out), "an unchanged tail is replayed");
  Expect(out.result.count == 5 && out.frames[0] == 0xaaaa && out.frames[1] == 0x1000 && out.frames[2] == 0x2000 &&
             out.frames[3] == 0x3000 && out.frames[4] == 0x4000,
         "the replay appends the start frame and the three below it");
  Expect(!out.result.truncated && out.result.error == 0, "a whole replay is neither truncated nor an error");
}

void TestChangedWordsAndStartsMiss() {
  FakeStack s;
  UnwindTailCache cache;
  s.Record(cache);
  Out out;
  platform::MachineRegisters other = s.start();
  other.sp = s.at(5);
  Expect(!Replay(cache, s, out, 16, other), "another start sp misses");
  other = s.start();
  other.fp = s.at(9);
  Expect(!Replay(cache, s, out, 16, other), "another start frame pointer misses");
  other = s.start();
  other.pc = 0x1001;
  Expect(!Replay(cache, s, out, 16, other), "another start pc misses");

  s.stack[17] = 0x3333;  // a return address below was rewritten
  Expect(!Replay(cache, s, out), "a changed return address misses");
  s.stack[17] = 0x3000;
  s.stack[16] = s.at(32);  // a saved frame pointer was rewritten
  Expect(!Replay(cache, s, out), "a changed saved frame pointer misses");
  s.stack[16] = s.at(30);
  Expect(Replay(cache, s, out), "restored: replayed again");
  Expect(out.result.count == 4, "nothing was appended by the misses");
}

void TestReadsOutsideTheLiveStackMiss() {
  FakeStack s;
  UnwindTailCache cache;
  cache.Begin(s.start());
  cache.Add(0x1000, {}, {});
  cache.Add(0x2000, {s.at(2), 0}, {});  // below the start sp: not live stack, never read
  cache.Commit();
  Out out;
  Expect(!Replay(cache, s, out), "a read below the start's sp is not trusted");
  cache.Begin(s.start());
  cache.Add(0x1000, {}, {});
  cache.Add(0x2000, {s.at(9) + 1, 0}, {});  // misaligned
  cache.Commit();
  Expect(!Replay(cache, s, out), "a misaligned read is not trusted");
  cache.Begin(s.start());
  cache.Add(0x1000, {}, {});
  cache.Add(0x2000, {s.high(), 0}, {});  // past the stack's top
  cache.Commit();
  Expect(!Replay(cache, s, out), "a read past the stack's top is not trusted");
}

void TestOnlyCommittedRecordingsAreKept() {
  FakeStack s;
  UnwindTailCache cache;
  Out out;
  Expect(!Replay(cache, s, out), "nothing kept at first");
  s.Record(cache, /*commit=*/false);
  cache.Abandon();
  cache.Commit();  // after Abandon: no effect
  Expect(!Replay(cache, s, out), "an abandoned recording is not kept");
  s.Record(cache);
  Expect(Replay(cache, s, out), "a committed one is");
  // A recording from another start that is abandoned (it led into V8 again) leaves the kept
  // tail as it was.
  platform::MachineRegisters other = s.start();
  other.pc = 0x9000;
  cache.Begin(other);
  cache.Add(0x9000, {}, {});
  cache.Abandon();
  Out again;
  Expect(Replay(cache, s, again), "an abandoned recording costs the kept tail nothing");
  cache.Reset();
  Out after;
  Expect(!Replay(cache, s, after), "Reset forgets the kept tail");
  Expect(!cache.Add(0x1000, {}, {}), "Add without Begin is refused");
}

void TestTruncationAndCapacity() {
  FakeStack s;
  UnwindTailCache cache;
  s.Record(cache);
  Out out;
  out.result.count = 1;
  Expect(Replay(cache, s, out, 3), "replayed into a nearly full buffer");
  Expect(out.result.count == 3 && out.result.truncated, "cut at max, and marked truncated");
  Out exact;
  Expect(Replay(cache, s, exact, 4) && exact.result.count == 4 && !exact.result.truncated,
         "a tail that fits exactly is not truncated");

  cache.Begin(s.start());
  bool all = true;
  for (uint32_t i = 0; i < UnwindTailCache::kMaxFrames; ++i) all = cache.Add(0x1000 + i, {}, {}) && all;
  Expect(all, "kMaxFrames frames fit");
  Expect(!cache.Add(0x5000, {}, {}), "one more does not");
  cache.Commit();
  Out full;
  Expect(Replay(cache, s, full) && full.result.count == 4, "the overflowing recording was dropped; the old tail stays");
}

}  // namespace

int main() {
  TestReplaysAnUnchangedTail();
  TestChangedWordsAndStartsMiss();
  TestReadsOutsideTheLiveStackMiss();
  TestOnlyCommittedRecordingsAreKept();
  TestTruncationAndCapacity();
  return stallwatch_test::Summary("unwind_tail_cache_test");
}
