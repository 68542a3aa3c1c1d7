'use strict';
// A churn.js worker; workerData: {self, thresholdMs, action: spin|wait|none, ms, natural, delay}.
const { isMainThread, workerData } = require('node:worker_threads');

// Worker-only. `node --test test/` runs every .js file under test/, on a main thread: do nothing.
if (isMainThread) process.exit(0);

if (workerData.self) require('./_worker').superviseSelf({ thresholdMs: workerData.thresholdMs });

function churnSpin(ms) {
  const end = Date.now() + ms;
  let x = 0;
  for (let i = 0; ; i++) {
    x += Math.sqrt(i);
    if ((i & 0xfff) === 0 && Date.now() >= end) return x;
  }
}

function churnWait(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Not natural: stay alive until terminated.
const keepAlive = workerData.natural ? null : setInterval(() => {}, 1000);
void keepAlive;

setTimeout(function churnTimer() {
  if (workerData.action === 'spin') churnSpin(workerData.ms);
  else if (workerData.action === 'wait') churnWait(workerData.ms);
}, workerData.delay);
