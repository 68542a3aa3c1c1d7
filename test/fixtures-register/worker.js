'use strict';
// Starts one worker thread (named "spinner") that blocks its own loop for 800 ms in a named
// function; the main thread stays idle. Under `-r stallwatch/register` the preload also runs in
// the worker: it must not supervise the worker by itself; with STALLWATCH_WORKERS=1 the main
// thread's supervisor covers the worker.
if (process.env.NODE_TEST_CONTEXT && !process.env.STALLWATCH_FIXTURE) process.exit(0);
const { Worker } = require('node:worker_threads');

const source = `
  function spinInWorker(ms) { const end = Date.now() + ms; while (Date.now() < end); }
  setTimeout(() => { spinInWorker(800); setTimeout(() => {}, 200); }, 50);
`;
const worker = new Worker(source, { eval: true, name: 'spinner' });
worker.on('exit', (code) => {
  // Give the reporter time to write the worker's 'unblocked' entry.
  setTimeout(() => console.log(`DONE worker exit ${code}`), 200);
});
