'use strict';
// onStall hooks in the reporter module (onstall-sink.js). argv[2]:
//   worker  a worker stuck forever in a message handler is terminated by the hook; the pool
//           replaces it and the next task completes
//   abort   the main thread deadlocks (Atomics.wait for a notify scheduled on itself); the hook
//           aborts the process
// argv[3]: log file (text).
const path = require('path');
const { say, main, ROOT } = require('../fixtures/_common');
const { supervise } = require(ROOT);

main(async () => {
  const scenario = process.argv[2];
  const handle = supervise({
    thresholdMs: 200,
    workers: true,
    reporter: path.join(__dirname, 'onstall-sink.js'),
    log: { path: process.argv[3] },
  });
  await new Promise((resolve) => setTimeout(resolve, 500)); // the reporter worker starts
  if (scenario === 'abort') {
    say('NOTE', { step: 'deadlock' });
    const cell = new Int32Array(new SharedArrayBuffer(4));
    setTimeout(() => Atomics.notify(cell, 0), 10); // can never run: this thread waits for it
    setTimeout(function waitForever() { Atomics.wait(cell, 0, 0); }, 0);
    return;
  }
  const code = `
const { parentPort } = require('worker_threads');
parentPort.on('message', function runTask(task) {
  if (task === 'forever') { for (;;) {} }
  parentPort.postMessage('done ' + task);
});`;
  // Looked up after supervise(): workers: true covers Workers constructed through the module's
  // export from then on.
  const { Worker } = require('worker_threads');
  const first = new Worker(code, { eval: true, name: 'pool-1' });
  const firstId = first.threadId;
  first.on('exit', (exitCode) => {
    say('NOTE', { exit: firstId, exitCode });
    const second = new Worker(code, { eval: true, name: 'pool-2' });
    second.on('message', (m) => {
      say('NOTE', { message: m });
      second.terminate().then(() => {
        handle.close();
        say('DONE');
        process.exit(0);
      });
    });
    second.postMessage('after');
  });
  first.postMessage('forever');
});
