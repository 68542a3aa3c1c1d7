'use strict';
// Two workers blocked at once, each supervising itself, each in its own named function:
// 'busy' spins in crunchNumbers(), the other waits in waitOnLatch() (Atomics.wait) or shellOut()
// (execSync('sleep 1')). Both stalls last about 1 s and start together. The main thread supervises
// itself too (without workers: true) and stays idle.
// argv: <trigger: timer|message> <other: atomics|exec>
//   timer    the stall runs in a setTimeout callback (onTimer) armed by the 'go' message
//   message  the stall runs in the worker's parentPort 'message' handler (onMessage)
// Worker events are printed as REPORT:<kind> / UNBLOCKED:<kind> / NOTE:<kind>; the main thread's
// own as REPORT:main / UNBLOCKED:main.
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const common = require('../fixtures/_common');
const w = require('./_worker');

const mode = process.argv[2] || 'timer';
const other = process.argv[3] || 'atomics';

common.main(async () => {
  const mainSv = common.watch({}, 'main');
  const workers = {};
  for (const kind of ['busy', other]) {
    const worker = new Worker(path.join(__dirname, 'blocker-worker.js'), { workerData: { kind, mode } });
    w.relay(worker, kind);
    w.exited(worker);
    workers[kind] = worker;
  }
  await Promise.all(Object.values(workers).map((wk) => w.nextMessage(wk, (m) => m && m.ready)));
  common.ready({ mode, threads: Object.fromEntries(Object.entries(workers).map(([k, wk]) => [k, wk.threadId])) });
  for (const worker of Object.values(workers)) worker.postMessage('go');
  // Each worker says 'finished' once it got its own 'unblocked' event (or after 5 s without).
  await Promise.all(Object.values(workers).map((wk) => w.nextMessage(wk, (m) => m && m.finished, 15000)));
  await common.sleep(100); // a late duplicate would show up now
  await Promise.all(Object.values(workers).map((wk) => wk.terminate()));
  await common.sleep(50);
  common.done(mainSv);
});
