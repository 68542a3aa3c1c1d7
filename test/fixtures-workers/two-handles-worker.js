'use strict';
// A covered worker (supervise({ workers: true }) on the main thread, threshold 250 ms) that also
// supervises itself, with a longer threshold (600 ms): one 1200 ms stall in indexEverything().
// The main handle watches the worker: one stall, so one report and one 'unblocked' for it; the
// worker's own handle gets its report too (REPORT:own, posted to the main thread).
const path = require('node:path');
const common = require('../fixtures/_common');
const w = require('./_worker');

const CODE = `
const { parentPort } = require('node:worker_threads');
const sv = require(${JSON.stringify(w.ROOT)}).supervise({ thresholdMs: 600, log: false });
sv.on('blocked', (report) => parentPort.postMessage({ proto: 'REPORT', value: report }));
sv.on('unblocked', (event) => parentPort.postMessage({ proto: 'UNBLOCKED', value: event }));
function indexEverything() {
  const end = Date.now() + 1200;
  let x = 0;
  for (let i = 0; ; i++) {
    x += Math.sqrt(i);
    if ((i & 0xffff) === 0 && Date.now() >= end) return x;
  }
}
setTimeout(function onIndexTimer() {
  indexEverything();
  setTimeout(() => parentPort.postMessage('finished'), 300);
}, 50);
`;

common.main(async () => {
  const sv = common.watch({ workers: true, log: false }, 'main');
  const { Worker } = require('node:worker_threads');
  const worker = new Worker(CODE, { eval: true, name: 'indexer' });
  w.relay(worker, 'own');
  w.exited(worker);
  common.ready({ threadId: worker.threadId });
  await w.nextMessage(worker, (m) => m === 'finished', 15000);
  await worker.terminate();
  await common.sleep(200);
  common.done(sv);
});
