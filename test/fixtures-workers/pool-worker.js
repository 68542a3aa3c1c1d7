'use strict';
// A pool.js worker: runs tasks from its 'message' handler (onTask) and answers {taskDone, ...}.
// With workerData.supervise it supervises itself; otherwise it has no stallwatch code at all.
const { isMainThread, parentPort, threadId, workerData } = require('node:worker_threads');

// Worker-only. `node --test test/` runs every .js file under test/, on a main thread: do nothing.
if (isMainThread) process.exit(0);

if (workerData.supervise) require('./_worker').superviseSelf();

function burn(ms) {
  const end = Date.now() + ms;
  let x = 0;
  for (let i = 0; ; i++) {
    x += Math.sqrt(i);
    if ((i & 0xfff) === 0 && Date.now() >= end) return x;
  }
}

function resizeThumbnail() {
  return burn(30);
}

function rebuildSearchIndex() {
  const end = Date.now() + 900;
  let x = 0;
  for (let i = 0; ; i++) {
    x += Math.sqrt(i);
    if ((i & 0xffff) === 0 && Date.now() >= end) return x;
  }
}

parentPort.on('message', function onTask(task) {
  const start = Date.now();
  if (task.kind === 'block') rebuildSearchIndex();
  else resizeThumbnail();
  parentPort.postMessage({ taskDone: task.id, kind: task.kind, threadId, start, end: Date.now() });
});
parentPort.postMessage({ ready: true });
