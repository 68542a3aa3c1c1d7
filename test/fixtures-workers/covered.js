'use strict';
// supervise({ workers: true }) on the main thread (text log on stderr) catches a worker that has no
// stallwatch code at all. argv: file|eval
//   file  new Worker('plain-worker.js', { name: 'image-resizer' }) stalls 800 ms in
//         resizeHugeImage() from a timer; then the same file as 'opted-out', created with an
//         explicit execArgv (coverage opt-out), stalls the same way: it must not be reported
//   eval  new Worker(<code>, { eval: true, name: 'eval-cruncher' }) stalls 800 ms in crunchInEval()
// The main handle's events are printed as REPORT:main / UNBLOCKED:main. NOTE {step: 'worker',
// name, threadId} for each worker, NOTE {step: 'stall', ...} from each stall, NOTE {step: 'exit'}.
const path = require('node:path');
const common = require('../fixtures/_common');
const w = require('./_worker');

const mode = process.argv[2] || 'file';

const EVAL_CODE = `
const { parentPort, threadId } = require('node:worker_threads');
function crunchInEval() {
  const end = Date.now() + 800;
  let x = 0;
  for (let i = 0; ; i++) {
    x += Math.sqrt(i);
    if ((i & 0xffff) === 0 && Date.now() >= end) return x;
  }
}
setTimeout(function evalTimer() {
  const start = Date.now();
  crunchInEval();
  parentPort.postMessage({ proto: 'NOTE', value: { step: 'stall', fn: 'crunchInEval', threadId, start, end: Date.now() } });
}, 50);
`;

async function runWorker(name, create) {
  const worker = create();
  common.say('NOTE', { step: 'worker', name, threadId: worker.threadId });
  w.relay(worker, name);
  const exit = w.exited(worker);
  const code = await exit; // the worker ends by itself after its stall
  common.say('NOTE', { step: 'exit', name, threadId: worker.id, code, at: worker.exitedAt });
  await common.sleep(100);
}

common.main(async () => {
  const sv = common.watch({ workers: true }, 'main');
  common.ready({ mode });
  // Looked up after supervise(): the patched class.
  const { Worker } = require('node:worker_threads');
  const file = path.join(__dirname, 'plain-worker.js');
  if (mode === 'eval') {
    await runWorker('eval-cruncher', () => new Worker(EVAL_CODE, { eval: true, name: 'eval-cruncher' }));
  } else {
    await runWorker('image-resizer', () => new Worker(file, { name: 'image-resizer' }));
    await runWorker('opted-out', () => new Worker(file, { name: 'opted-out', execArgv: [] }));
  }
  await w.until(() => common.counts.unblocked > 0, 3000, 'unblocked').catch(() => {});
  await common.sleep(100);
  common.done(sv);
});
