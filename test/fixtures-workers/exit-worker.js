'use strict';
// A worker of exits.js; workerData: {scenario, supervise}. Posts {blocking: <epoch ms>} right
// before a stall that only terminate() ends.
const { isMainThread, parentPort, workerData } = require('node:worker_threads');

// Worker-only. `node --test test/` runs every .js file under test/, on a main thread: do nothing.
if (isMainThread) process.exit(0);

if (workerData.supervise) require('./_worker').superviseSelf();

function busy(ms) {
  const end = Date.now() + ms;
  let x = 0;
  for (let i = 0; ; i++) {
    x += Math.sqrt(i);
    if ((i & 0xffff) === 0 && Date.now() >= end) return x;
  }
}

function spinForever() {
  let x = 0;
  for (let i = 0; ; i++) x += Math.sqrt(i & 0xffff);
}

function spinUntilTerminated() {
  let x = 0;
  for (let i = 0; ; i++) x += Math.sqrt(i & 0xffff);
}

function waitUntilTerminated() {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

function stallThenExit() {
  busy(500);
  process.exit(7);
}

function stallThenThrow() {
  busy(500);
  throw new Error('boom after stall');
}

const { scenario } = workerData;
if (scenario === 'throw-at-start') throw new Error('boom at start');

const blocker = scenario === 'terminate-spinning' ? spinForever
  : scenario.startsWith('terminate-at-') ? spinUntilTerminated
  : scenario === 'terminate-atomics' ? waitUntilTerminated
  : scenario === 'exit-in-stall' ? stallThenExit
  : scenario === 'throw-in-stall' ? stallThenThrow
  : null;
if (!blocker) throw new Error(`unknown scenario ${scenario}`);

setTimeout(function onStallTimer() {
  parentPort.postMessage({ blocking: Date.now() });
  blocker();
}, 30);
