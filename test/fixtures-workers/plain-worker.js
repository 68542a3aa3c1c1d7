'use strict';
// A worker with no stallwatch code: stalls 800 ms in resizeHugeImage() from a timer, posts
// NOTE {step: 'stall'} and ends by itself. Optional workerData.stallMs.
const { isMainThread, parentPort, threadId, workerData } = require('node:worker_threads');

// Worker-only. `node --test test/` runs every .js file under test/, on a main thread: do nothing.
if (isMainThread) process.exit(0);

const STALL_MS = (workerData && workerData.stallMs) || 800;

function resizeHugeImage() {
  const end = Date.now() + STALL_MS;
  let x = 0;
  for (let i = 0; ; i++) {
    x += Math.sqrt(i);
    if ((i & 0xffff) === 0 && Date.now() >= end) return x;
  }
}

setTimeout(function onResizeTimer() {
  const start = Date.now();
  resizeHugeImage();
  parentPort.postMessage({ proto: 'NOTE', value: { step: 'stall', fn: 'resizeHugeImage', threadId, start, end: Date.now() } });
}, 50);
