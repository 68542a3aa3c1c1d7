'use strict';
// terminate() a worker while it is inside stallwatch's native calls: each worker calls
// supervise() and close() in a loop (also sometimes requiring the module for the first time) and
// the main thread terminates it 0..40 ms after it came online, ROUNDS times. Node makes every N-API
// call of a terminating thread fail; a native function that then throws (napi_throw fails too)
// must not bring the whole process down (FATAL ERROR ... napi_throw, SIGABRT).
// argv: [rounds]. Prints NOTE {step: 'round', i, code} per worker, then DONE.
const common = require('../fixtures/_common');
const w = require('./_worker');

const ROUNDS = Number(process.argv[2]) || 40;

const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { supervise } = require(workerData.root);
parentPort.postMessage('up');
for (;;) {
  const sv = supervise({ thresholdMs: 250, log: false, workers: workerData.workers });
  sv.close();
}
`;

common.main(async () => {
  const { Worker } = require('node:worker_threads');
  common.ready({ rounds: ROUNDS });
  for (let i = 0; i < ROUNDS; i++) {
    const worker = new Worker(CODE, { eval: true, workerData: { root: w.ROOT, workers: i % 2 === 1 } });
    worker.on('error', (err) => common.say('NOTE', { step: 'error', i, error: String(err) }));
    const exit = w.exited(worker);
    await w.nextMessage(worker, (m) => m === 'up');
    await common.sleep(i % 41);
    await worker.terminate();
    common.say('NOTE', { step: 'round', i, code: await exit });
  }
  common.say('DONE');
});
