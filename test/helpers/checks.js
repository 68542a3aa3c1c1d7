'use strict';
// Assertions on BlockReports shared by the test files.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, TEST_ADDON } = require('./run-fixture');

const THRESHOLD_MS = 250; // test/fixtures/_common.js

/** Fails with a useful message when stallwatch or the test addon is not built. */
function preflight() {
  try {
    require.resolve(ROOT);
  } catch {
    assert.fail(`stallwatch is not built (${path.join(ROOT, 'dist/lib/index.js')} is missing): run \`npm run build\``);
  }
  assert.ok(fs.existsSync(TEST_ADDON), `the test addon is not built: run \`npm run build:test-addon\` (${TEST_ADDON})`);
}

/** Runs `fn`; on failure, appends the fixture's output to the assertion message. */
function explain(result, fn) {
  try {
    fn();
  } catch (err) {
    err.message += `\n${result.describe()}`;
    throw err;
  }
}

/** The fixture ran to its end: exit code 0, DONE printed. */
function assertCleanExit(result) {
  assert.equal(result.timedOut, false, 'the fixture timed out');
  assert.equal(result.signal, null, `the fixture was killed by ${result.signal}`);
  assert.equal(result.code, 0, `the fixture exited with ${result.code}`);
  assert.equal(result.out.done, true, 'the fixture did not print DONE');
}

const isObject = (v) => typeof v === 'object' && v !== null;

/** Field types of a BlockReport (lib/report.ts), and that it describes the fixture's main thread. */
function assertReportShape(report, result) {
  assert.ok(isObject(report), 'a report is an object');
  const pid = result.out.ready.pid;
  assert.equal(report.pid, pid, 'report.pid is the fixture process');
  assert.equal(report.threadId, 0, 'the main thread has threadId 0');
  if (process.platform === 'linux') assert.equal(report.tid, pid, 'the main thread tid is the pid on Linux');
  assert.equal(typeof report.blockedMs, 'number');
  assert.ok(report.blockedMs >= THRESHOLD_MS, `blockedMs ${report.blockedMs} >= thresholdMs ${THRESHOLD_MS}`);
  assert.equal(typeof report.capturedAt, 'number');
  assert.ok(Math.abs(report.capturedAt - Date.now()) < 120000, `capturedAt ${report.capturedAt} is epoch ms of the run`);
  assert.ok(['js', 'gc', 'compiler', 'native', 'atomics-wait', 'other'].includes(report.state), `state ${report.state}`);
  assert.ok(Array.isArray(report.frames) && report.frames.length > 0, 'frames is a non-empty array');
  for (const f of report.frames) {
    assert.ok(['js', 'native', 'v8'].includes(f.kind), `frame kind ${f.kind}`);
    assert.equal(typeof f.name, 'string', 'frame name is a string');
    for (const k of ['line', 'column', 'functionLine']) {
      if (f[k] !== undefined) assert.ok(Number.isInteger(f[k]) && f[k] >= 1, `frame ${k} ${f[k]} is 1-based`);
    }
    if (f.address !== undefined) assert.match(f.address, /^0x[0-9a-f]+$/i, 'frame address is hex');
  }
  if (report.partial !== undefined) assert.equal(typeof report.partial, 'string');
  assertNoCaptureMachinery(report);
}

// npm run test:asan preloads the ASan runtime into every process: its quarantine holds freed
// memory and its mallinfo() answers zeros, so memory bounds mean nothing there
// (scripts/test-asan.sh).
const UNDER_ASAN = /libasan/.test(process.env.LD_PRELOAD || '');

// stallwatch's capture path: its signal handler and what it calls to take the sample.
const CAPTURE_PATH = /CaptureSignalHandler|SignalCapture::HandleSignal|ForwardToPrevious|EnterForwarding|stallwatch::(\(anonymous namespace\)::)?Capture\(|NativeUnwinder|SampleJsStack|CorrectJsStateFromNativeWalk|ThreadFreeze/;

/**
 * The stack starts at the interrupted instruction: no frames of the signal handler, libunwind or
 * stallwatch's capture path (the "lot of noise" of a naive in-handler backtrace). Other named
 * stallwatch code may legitimately be where the thread was: V8 calls its code event handlers
 * while it compiles and compacts, and supervise() runs on the thread that calls it.
 */
function assertNoCaptureMachinery(report) {
  for (const f of report.frames) {
    const base = f.module ? path.basename(f.module) : '';
    const own = /^stallwatch.*\.node$/.test(base) && base !== 'stallwatch_test_addon.node';
    assert.ok(!/libunwind/.test(base), `frame from the capture machinery: ${JSON.stringify(f)}`);
    assert.ok(!own || f.name !== '', `an unnamed frame of stallwatch's own code: ${JSON.stringify(f)}`);
    assert.ok(!/__restore_rt|^_?U[Lx]\w*_|^unw_|SignalHandler/.test(f.name) && !CAPTURE_PATH.test(f.name),
      `frame from the capture machinery: ${JSON.stringify(f)}`);
  }
}

/**
 * Finds `chain` in report.frames in this order (innermost first), not necessarily adjacent.
 * Each link: {kind, name} where name is a string (exact) or a RegExp. Returns the indexes.
 */
function assertChain(report, chain) {
  const indexes = [];
  let from = 0;
  for (const link of chain) {
    const matches = (f) => f.kind === link.kind &&
      (link.name instanceof RegExp ? link.name.test(f.name) : f.name === link.name);
    const i = report.frames.findIndex((f, k) => k >= from && matches(f));
    assert.ok(i >= 0, `expected a ${link.kind} frame ${link.name} after frame #${from - 1} in:\n` +
      report.frames.map((f, k) => `  #${k} ${f.kind} ${f.name}${f.file ? ` ${f.file}:${f.line ?? '?'}` : ''}${f.module ? ` [${f.module}]` : ''}`).join('\n'));
    indexes.push(i);
    from = i + 1;
  }
  return indexes;
}

const js = (name) => ({ kind: 'js', name });
const native = (name) => ({ kind: 'native', name });

/** The NOTE {step: 'stall'} the fixture printed: how long the blocking call really took. */
function stallNotes(result) {
  return result.out.notes.filter((n) => n.step === 'stall');
}

module.exports = {
  THRESHOLD_MS, UNDER_ASAN, preflight, explain, assertCleanExit, assertReportShape, assertNoCaptureMachinery,
  assertChain, js, native, stallNotes,
};
