'use strict';
// How many capture signals a stall costs the stalled thread, and what they do to a blocking call.
// For test/eintr.test.js. argv: <scenario> [args...]
//
//   native <kind> <ms> <stalls>   <stalls> times: the test addon's blockingCall(kind, ms) from a
//                                 timer (a blocking call that retries on EINTR until its deadline)
//   js <ms> <stalls>              a busy JS loop
//   gc <ms> <stalls>              an allocation-heavy JS loop (samples often land in GC, which
//                                 makes the watchdog sample again)
//   two-handles <ms>              one native stall watched by two handles (thresholds 250, 700 ms)
//
// After each stall: NOTE {step: 'signals', stall, samples, failed, eintr?, elapsedMs?}, where
// samples/failed are the stats() deltas over the stall (every signal sent shows up in one of them).
const common = require('../fixtures/_common');

const [scenario, ...args] = process.argv.slice(2);
const { stats } = require(common.ROOT);

function snapshot() {
  const s = stats();
  return { samples: s.samples, failed: s.failedSignals };
}

async function measure(stallIndex, fn) {
  const before = snapshot();
  let extra = {};
  await common.trigger('timer', function stall() { extra = fn() || {}; });
  await common.waitForUnblocked(stallIndex + 1, 5000);
  await common.sleep(100);
  const after = snapshot();
  common.say('NOTE', {
    step: 'signals', stall: stallIndex, samples: after.samples - before.samples, failed: after.failed - before.failed, ...extra,
  });
}

function allocate(ms) {
  const end = Date.now() + ms;
  let keep = [];
  let n = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 2000; i++) keep.push({ i, s: `x${i}`, a: new Array(16).fill(i) });
    if (keep.length > 200000) keep = [];
    n++;
  }
  return { rounds: n };
}

common.main(async () => {
  if (scenario === 'two-handles') {
    const addon = common.loadTestAddon();
    const ms = Number(args[0] || 1500);
    const a = common.watch({ thresholdMs: 250, log: false }, 'a');
    const b = common.watch({ thresholdMs: 700, log: false }, 'b');
    common.ready({ scenario });
    const before = snapshot();
    let result = null;
    await common.trigger('timer', function stall() { result = addon.blockingCall('nanosleep', ms); });
    await common.waitForUnblocked(2, 5000);
    await common.sleep(100);
    const after = snapshot();
    common.say('NOTE', { step: 'signals', stall: 0, samples: after.samples - before.samples, failed: after.failed - before.failed, ...result });
    common.done(a, b);
    return;
  }
  const sv = common.watch({ log: false });
  const stalls = Number(args[args.length - 1] || 1);
  common.ready({ scenario, args });
  if (scenario === 'native') {
    const addon = common.loadTestAddon();
    const [kind, ms] = [args[0], Number(args[1])];
    for (let i = 0; i < stalls; i++) await measure(i, () => addon.blockingCall(kind, ms));
  } else if (scenario === 'js') {
    const ms = Number(args[0]);
    for (let i = 0; i < stalls; i++) await measure(i, () => { common.spinFor(ms); });
  } else if (scenario === 'gc') {
    const ms = Number(args[0]);
    for (let i = 0; i < stalls; i++) await measure(i, () => allocate(ms));
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
  common.done(sv);
});
