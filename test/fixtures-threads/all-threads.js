'use strict';
// allThreads: a JS busy loop from a timer or an HTTP handler (argv[2]); the report carries every
// thread's stack. argv[3]: log file (JSON lines). Prints REPORT, DONE.
const { say, spinFor, trigger, waitForUnblocked, main, counts, ROOT } = require('../fixtures/_common');
const { supervise } = require(ROOT);

main(async () => {
  const handle = supervise({ thresholdMs: 200, allThreads: true, log: { path: process.argv[3] }, logFormat: 'json' });
  handle.on('blocked', (report) => say('REPORT', report));
  handle.on('unblocked', () => { counts.unblocked++; });
  await require('fs').promises.readFile(__filename); // libuv starts its threadpool on first use
  await trigger(process.argv[2] || 'timer', function busyWithAllThreads() { spinFor(700); });
  await waitForUnblocked(1);
  handle.close();
  say('DONE');
  process.exit(0);
});
