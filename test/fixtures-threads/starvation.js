'use strict';
// starvationMs: every threadpool thread is held by the test addon's async work and a
// readFile waits behind them, while the main loop has nothing else to do. First an idle
// phase with no requests in flight (must not be reported), then the starved one.
// argv[2]: log file (JSON lines). Prints NOTE {starved}, NOTE {phase}, DONE.
const fs = require('fs');
const { say, sleep, main, loadTestAddon, ROOT } = require('../fixtures/_common');
const { supervise } = require(ROOT);

main(async () => {
  const handle = supervise({ thresholdMs: 2000, starvationMs: 400, log: { path: process.argv[2] }, logFormat: 'json' });
  handle.on('starved', (report) => say('NOTE', { starved: report }));
  handle.on('blocked', (report) => say('REPORT', report));
  await sleep(1000); // idle: parked, nothing in flight
  say('NOTE', { phase: 'starving', at: Date.now() });
  const addon = loadTestAddon();
  await Promise.all([
    new Promise((resolve) => addon.occupyThreadpool(4, 1500, resolve)),
    fs.promises.readFile(__filename),
  ]);
  say('NOTE', { phase: 'drained', at: Date.now() });
  await sleep(800); // drained: nothing in flight again
  handle.close();
  say('DONE');
  process.exit(0);
});
