'use strict';
// How long a worker takes to go away, with and without stallwatch, in one process.
// The main thread runs supervise({ workers: true }) throughout; three kinds of workers:
//   plain    the original Worker class (taken before supervise()): no stallwatch in the worker
//   self     the original class; the worker calls supervise() itself
//   covered  the patched class: the preload supervises the worker
// Three ways to end, each timed with process.hrtime (one monotonic clock for all threads):
//   terminate  worker.terminate() on an idle worker: until the promise resolves
//   natural    the worker's loop runs out of work: from its last JS to the 'exit' event
//   exit       the worker calls process.exit(0): from that call to the 'exit' event
// ROUNDS rounds, kinds interleaved (order rotated every round). Prints NOTE {step: 'sample',
// kind, end, ms} per measurement.
// argv: [rounds]
const common = require('../fixtures/_common');
const w = require('./_worker');

const PlainWorker = require('node:worker_threads').Worker; // before supervise(): the original class
const ROUNDS = Number(process.argv[2]) || 12;
const KINDS = ['plain', 'self', 'covered'];
const ENDS = ['terminate', 'natural', 'exit'];

const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.self) require(workerData.root).supervise({ thresholdMs: 250, log: 'stderr' });
const stamp = new BigInt64Array(workerData.stamp);
const keepAlive = setInterval(() => {}, 1000);
parentPort.once('message', function finish(how) {
  clearInterval(keepAlive);
  Atomics.store(stamp, 0, process.hrtime.bigint());
  if (how === 'exit') process.exit(0);
  // 'natural': nothing left to do; the 'message' listener is gone, so parentPort no longer
  // keeps the loop alive either.
});
parentPort.postMessage('up');
`;

async function measure(kind, end) {
  const WorkerClass = kind === 'covered' ? require('node:worker_threads').Worker : PlainWorker;
  const stamp = new SharedArrayBuffer(8);
  const worker = new WorkerClass(CODE, { eval: true, workerData: { self: kind === 'self', root: w.ROOT, stamp } });
  const exit = new Promise((resolve) => worker.once('exit', () => resolve(process.hrtime.bigint())));
  worker.on('error', (err) => common.say('NOTE', { step: 'error', kind, end, error: String(err) }));
  await w.nextMessage(worker, (m) => m === 'up');
  await common.sleep(30); // let startup settle
  let ns;
  if (end === 'terminate') {
    const t0 = process.hrtime.bigint();
    await worker.terminate();
    ns = process.hrtime.bigint() - t0;
    await exit;
  } else {
    worker.postMessage(end);
    const exitedAt = await exit;
    ns = exitedAt - Atomics.load(new BigInt64Array(stamp), 0);
  }
  common.say('NOTE', { step: 'sample', kind, end, ms: Number(ns) / 1e6 });
}

common.main(async () => {
  const sv = common.watch({ workers: true, log: 'stderr' }, 'main');
  common.ready({ rounds: ROUNDS });
  for (let round = 0; round < ROUNDS; round++) {
    for (const end of ENDS) {
      for (let k = 0; k < KINDS.length; k++) {
        await measure(KINDS[(k + round) % KINDS.length], end);
      }
    }
  }
  common.done(sv);
});
