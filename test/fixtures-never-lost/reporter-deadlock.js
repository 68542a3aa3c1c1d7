'use strict';
// The second seed's deadlock with a reporter module: the main thread waits forever for work
// scheduled on itself; the reporter worker ships the report while it stays stuck.
// argv[2]: the reporter module (relative to this file, resolved like require()).
const path = require('path');
const { supervise } = require(path.resolve(__dirname, '..', '..'));
supervise({ thresholdMs: 200, log: false, reporter: process.argv[2] });
const sab = new Int32Array(new SharedArrayBuffer(4));
// Give the reporter worker time to start, then deadlock.
setTimeout(function waitForNotify() {
  console.log(`NOTE ${JSON.stringify({ stallStartedAt: Date.now() })}`);
  setImmediate(() => Atomics.notify(sab, 0));
  Atomics.wait(sab, 0, 0);
}, 500);
