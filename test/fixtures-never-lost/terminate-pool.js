'use strict';
// terminateWorkerAfterMs with a tiny pool: one task spins forever; its worker is terminated,
// the pool replaces it and the next task still completes. A worker stuck in native code
// (execSync) is reported as not terminable.
const path = require('path');
const { supervise } = require(path.resolve(__dirname, '..', '..'));
const sv = supervise({ thresholdMs: 200, workers: true, terminateWorkerAfterMs: 600, log: 'stderr' });
sv.on('blocked', (r) => process.stdout.write(`REPORT ${JSON.stringify(r)}\n`));
const { Worker } = require('worker_threads');
const code = `
const { parentPort } = require('worker_threads');
parentPort.on('message', function runTask(task) {
  if (task === 'forever') { for (;;) {} }
  if (task === 'native') { require('child_process').execSync('sleep 1.5'); }
  parentPort.postMessage('done ' + task);
});`;
function spawnWorker() {
  const w = new Worker(code, { eval: true });
  w.on('exit', (c) => console.log(`NOTE ${JSON.stringify({ exit: w.threadId, code: c })}`));
  return w;
}
let worker = spawnWorker();
worker.on('exit', () => {
  worker = spawnWorker(); // the pool replaces it
  worker.on('message', (m) => {
    console.log(`NOTE ${JSON.stringify({ message: m })}`);
    // Then a task stuck in native code: it cannot be terminated while inside the call; it is
    // stopped, and exits once the call returns.
    if (m === 'done after') worker.postMessage('native');
  });
  worker.on('exit', () => { sv.close(); console.log('DONE'); });
  worker.postMessage('after');
});
worker.postMessage('forever');
