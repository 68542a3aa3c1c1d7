'use strict';
// A worker of two-workers.js: supervises itself, then on 'go' stalls about 1 s in the function
// its workerData.kind names. Posts NOTE {step: 'stall', fn, start, end} around the stall, then
// {finished: true} once its 'unblocked' event came (or 5 s passed).
const { isMainThread, parentPort, workerData } = require('node:worker_threads');

// Worker-only. `node --test test/` runs every .js file under test/, on a main thread: do nothing.
if (isMainThread) process.exit(0);
const { execSync } = require('node:child_process');
const w = require('./_worker');

const STALL_MS = 1000;
let unblocked = 0;
const sv = w.superviseSelf();
sv.on('unblocked', () => { unblocked++; });

function crunchNumbers() {
  const end = Date.now() + STALL_MS;
  let x = 0;
  for (let i = 0; ; i++) {
    x += Math.sqrt(i);
    if ((i & 0xffff) === 0 && Date.now() >= end) return x;
  }
}

function waitOnLatch() {
  const latch = new Int32Array(new SharedArrayBuffer(4));
  return Atomics.wait(latch, 0, 0, STALL_MS); // nobody notifies: times out
}

function shellOut() {
  return execSync('sleep 1');
}

const stallFn = { busy: crunchNumbers, atomics: waitOnLatch, exec: shellOut }[workerData.kind];

function stall() {
  const start = Date.now();
  stallFn();
  w.note({ step: 'stall', fn: stallFn.name, kind: workerData.kind, start, end: Date.now() });
  const giveUp = Date.now() + 5000;
  (function waitForUnblocked() {
    if (unblocked > 0 || Date.now() > giveUp) parentPort.postMessage({ finished: true });
    else setTimeout(waitForUnblocked, 20);
  })();
}

parentPort.on('message', function onMessage(msg) {
  if (msg !== 'go') return;
  if (workerData.mode === 'timer') setTimeout(function onTimer() { stall(); }, 20);
  else stall();
});
parentPort.postMessage({ ready: true });
