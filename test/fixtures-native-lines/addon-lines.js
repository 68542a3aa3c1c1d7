'use strict';
// Stalls in the test addon's HoldTheLock (built with -g), from a timer or an HTTP handler
// (argv[2]), until a report carries the addon frame's source line, at most 10. DWARF is read in
// the background after supervise() (node's own first, which takes a while): the first reports
// may come before the addon's line table is loaded (each report waits at most 50 ms for
// lines). Prints REPORT, UNBLOCKED, DONE (the _common protocol).
const common = require('../fixtures/_common');

const addon = common.loadTestAddon();

function callNative() {
  addon.blockInNative(500);
}

common.main(async () => {
  const sv = common.watch({ thresholdMs: 200 });
  let haveLine = false;
  sv.on('blocked', (r) => {
    haveLine = r.frames.some((f) => f.name === 'stallwatch_test::HoldTheLock(int)' && f.line > 0);
  });
  common.ready({ stallMs: 500 });
  for (let i = 0; i < 10 && !haveLine; i++) {
    await common.trigger(process.argv[2] || 'timer', callNative);
    await common.waitForUnblocked(i + 1);
    await common.sleep(300);
  }
  common.done(sv);
});
