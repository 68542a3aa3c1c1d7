'use strict';
// A chaos worker (test/fixtures-chaos/run.js creates them; stallwatch covers it through
// supervise({ workers: true }) on the main thread: no stallwatch code here). One chain of steps:
// idle for a while, then block the loop from one of three triggers, then idle again:
//   timer    in a setTimeout callback
//   message  in a parentPort 'message' handler (the parent sends the order back)
//   http     in the response callback of a request to the parent's HTTP server
// Some HTTP requests ask the parent to block instead (its request handler). One step at a time,
// so two stalls of this thread never run back to back without the loop turning in between.
//
// Ground truth: after each stall, {stall: record} to the parent (stalls.js stall()). While a stall
// runs, its start and kind sit in workerData.slot, so that the parent can account for a stall that
// its worker.terminate() cut short (the record then never comes).
const { isMainThread, parentPort, workerData } = require('node:worker_threads');

if (isMainThread) process.exit(0); // `node --test test/` runs every .js file under test/
const http = require('node:http');
const { KIND_NAMES, configure, stall } = require('./stalls');
const { random } = require('./random');

const rnd = random(workerData.seed);
const slot = new Float64Array(workerData.slot); // [start, kind index]; start 0 = not stalling
configure(workerData.dir);

function block(kind, ms, trigger) {
  const record = stall(kind, ms, trigger, (start, kindIndex) => { slot[1] = kindIndex; slot[0] = start; });
  parentPort.postMessage({ stall: record });
  slot[0] = 0;
  next();
}

function next() {
  setTimeout(step, rnd.int(20, 250));
}

function step() {
  const kind = rnd.pick(KIND_NAMES);
  const ms = rnd.duration(workerData.thresholdMs);
  const trigger = rnd.pick(['timer', 'message', 'http', 'http']);
  if (trigger === 'timer') return block(kind, ms, 'timer');
  if (trigger === 'message') return parentPort.postMessage({ ask: { kind, ms } });
  // One request in four has the parent block in its handler, and this worker then only idles.
  const parentBlocks = rnd.next() < 0.25;
  const query = parentBlocks ? `kind=${kind}&ms=${rnd.duration(workerData.thresholdMs)}` : 'kind=none';
  http.get({ host: '127.0.0.1', port: workerData.port, path: `/?${query}`, agent: false }, (res) => {
    res.resume();
    res.on('end', function onResponseEnd() {
      if (parentBlocks) next();
      else block(kind, ms, 'http');
    });
  }).on('error', () => next()); // the parent is winding down
}

parentPort.on('message', function onMessage(m) {
  if (m.stall) block(m.stall.kind, m.stall.ms, 'message');
  else if (m.exit) process.exit(0);
});
next();
