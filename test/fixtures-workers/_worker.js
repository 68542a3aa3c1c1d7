'use strict';
// Helpers for the worker-thread fixtures (test/workers.test.js), on both sides of a worker.
//
// Output protocol: the same as test/fixtures/_common.js (READY, REPORT[:tag], UNBLOCKED[:tag],
// NOTE[:tag], DONE on the process's stdout). Only the main thread writes protocol lines: a worker
// posts {proto: 'REPORT'|'UNBLOCKED'|'NOTE', value} to its parent and relay() prints them, so a
// large report is never torn by another thread's write.
const path = require('node:path');
const { parentPort, threadId, isMainThread } = require('node:worker_threads');

// Launched by `node --test test/` as a test file (not by run-fixture, not inside a worker of a
// fixture): do nothing.
if (isMainThread && process.env.NODE_TEST_CONTEXT && !process.env.STALLWATCH_FIXTURE) process.exit(0);

const ROOT = path.resolve(__dirname, '..', '..');
const THRESHOLD_MS = 250;

// ---- worker side -------------------------------------------------------------------------

/** In a worker: posts a protocol line for the parent to print. */
function post(proto, value) {
  parentPort.postMessage({ proto, value });
}

/** In a worker: a NOTE carrying this worker's threadId. */
function note(value) {
  post('NOTE', { threadId, ...value });
}

/**
 * In a worker: supervise() this worker (threshold 250 ms, text log on stderr) and post every
 * event to the parent.
 */
function superviseSelf(options = {}) {
  const { supervise } = require(ROOT);
  const sv = supervise({ thresholdMs: THRESHOLD_MS, log: 'stderr', ...options });
  sv.on('blocked', (report) => post('REPORT', report));
  sv.on('unblocked', (event) => post('UNBLOCKED', event));
  return sv;
}

// ---- main side ---------------------------------------------------------------------------

/** On the parent: how many protocol lines relay() printed, by kind. */
const relayed = { REPORT: 0, UNBLOCKED: 0, NOTE: 0 };

/**
 * On the parent: prints what `worker` posts (see post()) under `tag`, and calls onMessage for
 * everything (protocol lines included).
 */
function relay(worker, tag, onMessage) {
  const { say } = require('../fixtures/_common');
  worker.on('message', (m) => {
    if (m && typeof m === 'object' && ['REPORT', 'UNBLOCKED', 'NOTE'].includes(m.proto)) {
      relayed[m.proto]++;
      say(m.proto, m.value, tag);
    }
    if (onMessage) onMessage(m);
  });
  return worker;
}

/** Resolves with the first message of `worker` for which pred(message) is true. */
function nextMessage(worker, pred, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.off('message', on);
      reject(new Error(`worker ${worker.threadId}: no matching message within ${timeoutMs} ms`));
    }, timeoutMs);
    function on(m) {
      if (!pred(m)) return;
      clearTimeout(timer);
      worker.off('message', on);
      resolve(m);
    }
    worker.on('message', on);
  });
}

/**
 * Resolves once `worker` emitted 'exit' (with its exit code); records when (worker.exitedAt).
 * Call it right after creating the worker: it also keeps the threadId as worker.id (a worker's
 * threadId reads -1 once it exited).
 */
function exited(worker) {
  if (worker.id === undefined) worker.id = worker.threadId;
  if (!worker.exitPromise) {
    worker.exitPromise = new Promise((resolve) => worker.once('exit', (code) => {
      worker.exitedAt = Date.now();
      resolve(code);
    }));
  }
  return worker.exitPromise;
}

/** Polls `pred` every 10 ms until true; rejects after timeoutMs. */
async function until(pred, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Median of numbers. */
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

module.exports = { ROOT, THRESHOLD_MS, post, note, superviseSelf, relay, relayed, nextMessage, exited, until, median };
