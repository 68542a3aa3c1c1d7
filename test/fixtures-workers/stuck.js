'use strict';
// A worker stuck for good (Atomics.wait on a value nobody changes, from a timer, in
// waitForeverInWorker) is reported to the main thread WHILE it stays stuck: the main handle
// (supervise({ workers: true })) gets 'blocked' for it, checks the worker never got past the wait,
// terminates it, closes its handle and lets the process end by itself (no process.exit()).
// The worker has no stallwatch code. Prints REPORT:main, NOTE {step: 'stuck-when-reported',
// entered, passed}, NOTE {step: 'terminated', ms, code}, DONE.
const common = require('../fixtures/_common');
const w = require('./_worker');

const CODE = `
const { workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.shared);
function waitForeverInWorker() {
  Atomics.store(state, 0, 1);   // entered
  Atomics.wait(state, 1, 0);    // nobody ever changes state[1]
  Atomics.store(state, 2, 1);   // never reached
}
setTimeout(function startWaiting() { waitForeverInWorker(); }, 50);
`;

const sv = common.watch({ workers: true }, 'main');
const { Worker } = require('node:worker_threads');
const shared = new SharedArrayBuffer(12);
const state = new Int32Array(shared);
const worker = new Worker(CODE, { eval: true, name: 'stuck-worker', workerData: { shared } });
w.exited(worker);
common.ready({ threadId: worker.threadId });

const giveUp = setTimeout(() => {
  common.say('NOTE', { step: 'no-report' });
  worker.terminate();
  sv.close();
}, 15000);

sv.on('blocked', async (report) => {
  if (report.threadId !== worker.threadId) return;
  clearTimeout(giveUp);
  common.say('NOTE', { step: 'stuck-when-reported', entered: Atomics.load(state, 0), passed: Atomics.load(state, 2) });
  await common.sleep(200); // still stuck a little later
  common.say('NOTE', { step: 'still-stuck', passed: Atomics.load(state, 2) });
  const t0 = Date.now();
  await worker.terminate();
  const code = await w.exited(worker);
  common.say('NOTE', { step: 'terminated', ms: Date.now() - t0, code, at: worker.exitedAt });
  common.say('DONE');
  sv.close();
  // Nothing else keeps the loop alive: the process exits by itself, with code 0.
});
