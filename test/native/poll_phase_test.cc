// sources:
// Telling a loop parked in the kernel poll call from one stuck in its poll phase, from libuv's
// idle time read twice (native/poll_phase.h).
#include <cstdint>
#include <cstdio>

#include "poll_phase.h"
#include "expect.h"

using namespace stallwatch;

namespace {

using stallwatch_test::Expect;

constexpr uint64_t kMs = 1000000;
constexpr uint64_t kHook = 1000 * kMs;  // the prepare hook ran at 1 s ...
constexpr uint64_t kIdleAtHook = 50 * kMs;  // ... with 50 ms of idle time behind the loop

void TestParkedSinceTheHook() {
  // 300 ms later, all of it in the poll call: idle time grew by 300 ms (entered 20 µs after the hook).
  const uint64_t now = kHook + 300 * kMs;
  const PollPhase p = ReadPollPhase(kHook, kIdleAtHook, kIdleAtHook + 300 * kMs - 20000, now, kIdleAtHook + 300 * kMs);
  Expect(p.parked, "parked since the hook");
  Expect(p.last_progress_ns == now, "a parked loop moved just now");
}

void TestParkedAfterALateStart() {
  // The thread waited 139 ms for a CPU between the hook and the poll call, and has been in the
  // call for 40 ms: idle grew by 40 ms, and grows between the two readings.
  const uint64_t now = kHook + 179 * kMs;
  const uint64_t idle_now = kIdleAtHook + 40 * kMs;
  const PollPhase p = ReadPollPhase(kHook, kIdleAtHook, idle_now, now, idle_now + 60);
  Expect(p.parked, "a poll call that began late is still parked");
  Expect(p.last_progress_ns == now, "and moved just now");
  // The rule before: progress stopped at hook + idle gained, 139 ms ago.
  const PollPhase old_rule = ReadPollPhase(kHook, kIdleAtHook, idle_now, now, idle_now);
  Expect(!old_rule.parked && old_rule.last_progress_ns == kHook + 40 * kMs,
         "without the second reading's growth it reads as stuck since it left the poll call");
}

void TestStuckInAnIoCallback() {
  // Parked 10 ms, then an I/O callback has run for 290 ms: idle stands still.
  const uint64_t now = kHook + 300 * kMs;
  const uint64_t idle = kIdleAtHook + 10 * kMs;
  const PollPhase p = ReadPollPhase(kHook, kIdleAtHook, idle, now, idle);
  Expect(!p.parked, "an I/O callback running is not parked");
  Expect(p.last_progress_ns == kHook + 10 * kMs, "it last moved when it left the poll call");
}

void TestStuckBeforeThePollCall() {
  // Another prepare callback (or the code before the poll call) has run for 300 ms: no idle at all.
  const uint64_t now = kHook + 300 * kMs;
  const PollPhase p = ReadPollPhase(kHook, kIdleAtHook, kIdleAtHook, now, kIdleAtHook);
  Expect(!p.parked, "not yet in the poll call is not parked");
  Expect(p.last_progress_ns == kHook, "it last moved at the hook");
}

void TestWithinTheSlack() {
  const uint64_t now = kHook + 500000;  // half a millisecond after the hook, no idle yet
  const PollPhase p = ReadPollPhase(kHook, kIdleAtHook, kIdleAtHook, now, kIdleAtHook);
  Expect(p.parked, "within a millisecond of the hook counts as parked");
}

}  // namespace

int main() {
  TestParkedSinceTheHook();
  TestParkedAfterALateStart();
  TestStuckInAnIoCallback();
  TestStuckBeforeThePollCall();
  TestWithinTheSlack();
  return stallwatch_test::Summary("poll_phase_test");
}
