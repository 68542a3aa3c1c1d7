'use strict';
// The ways a chaos thread blocks its loop (test/chaos.test.js), shared by the main thread and the
// workers. Each kind's blocking work runs inside one function of this file whose name the test
// expects as the report's culprit (the innermost frame of application code, docs/log-format.md),
// so no other function of the fixture may run inside it (not even a callback given to a builtin,
// such as Array.prototype.filter's): the loops are written out in place.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { threadId } = require('node:worker_threads');

const ROOT = path.resolve(__dirname, '..', '..');
const addon = require(path.join(ROOT, 'test/addon/build/Release/stallwatch_test_addon.node'));

/** Set by configure(): the directory for this thread's FIFO. */
let fifoPath = null;

function chaosBusyLoop(ms) {
  const end = Date.now() + ms;
  let x = 0;
  for (let i = 0; ; i++) {
    x += Math.sqrt(i);
    if ((i & 0xffff) === 0 && Date.now() >= end) return x;
  }
}

const latch = new Int32Array(new SharedArrayBuffer(4));
function chaosAtomicsWait(ms) {
  return Atomics.wait(latch, 0, 0, ms); // nobody notifies: it times out
}

// open() of a FIFO blocks in the kernel until a writer comes: a child process, after `ms`.
function chaosFifoRead(ms) {
  const writer = spawn('sh', ['-c', `sleep ${(ms / 1000).toFixed(3)}; echo x > "$0"`, fifoPath], { stdio: 'ignore' });
  writer.unref();
  return fs.readFileSync(fifoPath, 'utf8');
}

// The addon sleeps in stallwatch_test::HoldTheLock(int): an addon frame is the culprit.
function chaosNativeSleep(ms) {
  return addon.blockInNative(ms);
}

// Exponential backtracking: each test() of 22 'a's and a '!' takes a few ms; repeat until `ms`.
const EVIL = /^(a+)+$/;
function chaosRegExp(ms) {
  const end = Date.now() + ms;
  const input = `${'a'.repeat(22)}!`;
  let matched = 0;
  while (Date.now() < end) if (EVIL.test(input)) matched++;
  return matched;
}

let bigJson = null; // built on first use (about 3 MB of JSON)
function chaosHugeJson(ms) {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n += JSON.parse(bigJson).rows.length + JSON.stringify(JSON.parse(bigJson)).length;
  return n;
}
function buildBigJson() {
  const rows = [];
  for (let i = 0; i < 30000; i++) rows.push({ id: i, name: `row-${i}`, tags: ['a', 'b', String(i % 7)], v: i / 3 });
  return JSON.stringify({ rows });
}

// Keeps a rolling window of young objects alive so scavenges promote them and old-space GCs follow.
function chaosAllocStorm(ms) {
  const end = Date.now() + ms;
  const window = new Array(20000);
  let i = 0;
  while (Date.now() < end) {
    for (let k = 0; k < 5000; k++, i++) window[i % window.length] = { i, s: `v${i}`, a: new Array(8).fill(i) };
  }
  return window.length;
}

// Fragments the old space, then forces full (compacting) GCs: objects and code move under the sampler.
let keep = [];
function chaosCompaction(ms) {
  const end = Date.now() + ms;
  do {
    for (let k = 0; k < 20000; k++) keep.push({ k, s: 'x'.repeat(k % 40) });
    const kept = [];
    for (let k = Math.max(0, keep.length - 90000); k < keep.length; k += 3) kept.push(keep[k]);
    keep = kept;
    global.gc();
  } while (Date.now() < end);
  return keep.length;
}

/** kind -> { fn, culprit }: the function that blocks and the culprit name a report must show. */
const KINDS = {
  busy: { fn: chaosBusyLoop, culprit: 'chaosBusyLoop' },
  atomics: { fn: chaosAtomicsWait, culprit: 'chaosAtomicsWait' },
  fifo: { fn: chaosFifoRead, culprit: 'chaosFifoRead' },
  native: { fn: chaosNativeSleep, culprit: 'stallwatch_test::HoldTheLock(int)' },
  regexp: { fn: chaosRegExp, culprit: 'chaosRegExp' },
  json: { fn: chaosHugeJson, culprit: 'chaosHugeJson' },
  alloc: { fn: chaosAllocStorm, culprit: 'chaosAllocStorm' },
  compaction: { fn: chaosCompaction, culprit: 'chaosCompaction' },
};
const KIND_NAMES = Object.keys(KINDS);

/** Once per thread: where its FIFO lives (created here), and the JSON text the json kind parses. */
function configure(dir) {
  fifoPath = path.join(dir, `t${threadId}.fifo`);
  if (!fs.existsSync(fifoPath)) require('node:child_process').execFileSync('mkfifo', [fifoPath]);
  bigJson = buildBigJson();
}

/**
 * Blocks this thread with `kind` for about `ms`, and returns the ground truth: who blocked, in
 * which function, from which trigger, and for how long (wall clock around the blocking call).
 * `onStart` gets the start time first (a worker publishes it where its parent can read it if the
 * worker is terminated mid-stall).
 */
function stall(kind, ms, trigger, onStart) {
  const { fn, culprit } = KINDS[kind];
  const start = Date.now();
  if (onStart) onStart(start, KIND_NAMES.indexOf(kind));
  fn(ms);
  const end = Date.now();
  return { threadId, kind, culprit, trigger, asked: ms, start, end, ms: end - start };
}

module.exports = { KINDS, KIND_NAMES, configure, stall };
