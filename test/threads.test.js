'use strict';
// The whole process at once: dumpThreads(), allThreads, the starvation check (starvationMs),
// and onStall hooks in the reporter module.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { runFixture, parseFixtureOutput, ROOT } = require('./helpers/run-fixture');

const FIXTURES = path.join(__dirname, 'fixtures-threads');
const fixture = (name) => path.join(FIXTURES, `${name}.js`);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-threads-'));
const readJsonLines = (file) =>
  fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
const names = (thread) => thread.frames.map((f) => f.name);
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

function assertThreadpoolHeld(threads, context) {
  const pool = threads.filter((t) => t.role === 'libuv threadpool');
  assert.ok(pool.length >= 4, `${context}: four libuv threadpool threads, got roles ${threads.map((t) => t.role).join(', ')}`);
  for (const t of pool.slice(0, 4)) {
    assert.equal(t.partial, undefined, `${context}: threadpool thread ${t.tid} complete`);
    assert.ok(names(t).includes('stallwatch_test::OccupyThreadpoolSlot(int)'), `${context}: ${names(t).join(' < ')}`);
    assert.ok(names(t).includes('worker'), `${context}: libuv's worker function is on the stack`);
    assert.equal(t.frames[0].kind, 'native');
  }
}

for (const mode of ['timer', 'http']) {
  test(`dumpThreads() from a ${mode} names the threadpool threads and their stacks`, async () => {
    const result = await runFixture(fixture('dump-threads'), { args: [mode], timeoutMs: 30000 });
    const out = parseFixtureOutput(result.stdout);
    assert.ok(out.done, result.describe());
    const { dump, text } = out.notes.find((n) => n.dump);
    assert.equal(dump.pid, result.pid);
    assert.equal(dump.partial, undefined);
    assertThreadpoolHeld(dump.threads, `dump from ${mode}`);
    // Every thread of the process is listed once, by its OS name.
    const tids = dump.threads.map((t) => t.tid);
    assert.equal(new Set(tids).size, tids.length);
    assert.ok(tids.includes(result.pid), 'the main thread (tid = pid) is listed');
    for (const t of dump.threads) assert.equal(typeof t.name, 'string');
    // The caller itself: its stack starts where it entered stallwatch, not inside the dump code.
    const caller = dump.threads.find((t) => t.tid === result.pid);
    assert.equal(caller.role, 'main JS thread');
    assert.equal(caller.runState, 'running');
    assert.ok(!caller.frames.some((f) => /stallwatch\.node$/.test(f.module || '')), 'no frames of the dump itself');
    // V8's platform workers are there, and stallwatch's own threads, which block every signal,
    // are listed without a stack and say why.
    assert.ok(dump.threads.some((t) => t.role === 'V8 platform worker'));
    const own = dump.threads.filter((t) => t.role === 'stallwatch' && t.name === 'stallwatch-dog');
    assert.equal(own.length, 1, 'the watchdog thread is listed');
    assert.equal(own[0].frames.length, 0);
    assert.match(own[0].partial, /no stack: the thread blocks .*signal 23/);
    // Text form: one header, then each thread.
    assert.match(text, /^stallwatch: thread dump of pid \d+ at \S+\n {2}all threads \(\d+\):\n/);
    // The OS thread name: the process's ("node") until libuv 1.50 (Node 24) names its threads.
    assert.match(text, / {2}thread \d+ "(node|libuv-worker)" \(libuv threadpool, sleeping\)\n {4}at clock_nanosleep/);
    assert.match(text, /at stallwatch_test::OccupyThreadpoolSlot\(int\) \(/);
  });
}

test('dumpThreads() rejects bad options with errors that name them', () => {
  const { dumpThreads, formatThreadDump } = require(ROOT);
  assert.throws(() => dumpThreads({ maxFrames: 0 }), { name: 'RangeError', message: /"maxFrames"/ });
  assert.throws(() => dumpThreads({ maxFrames: '5' }), { name: 'TypeError', message: /"maxFrames"/ });
  assert.throws(() => dumpThreads({ signal: 'SIGKILL' }), { name: 'RangeError', message: /"signal"/ });
  assert.throws(() => dumpThreads({ frames: 3 }), { name: 'TypeError', message: /no option "frames"/ });
  assert.throws(() => dumpThreads(7), { name: 'TypeError' });
  assert.throws(() => formatThreadDump({}), { name: 'TypeError', message: /ThreadDump/ });
});

test('starvationMs: a loop parked while every threadpool thread is held is reported once, with all threads', { skip: NODE_MAJOR < 20 && 'needs uv_metrics_info (Node 20+)' }, async () => {
  const dir = tmp();
  const log = path.join(dir, 'starvation.jsonl');
  const result = await runFixture(fixture('starvation'), { args: [log], timeoutMs: 30000 });
  const out = parseFixtureOutput(result.stdout);
  assert.ok(out.done, result.describe());
  const starving = out.notes.find((n) => n.phase === 'starving');
  const drained = out.notes.find((n) => n.phase === 'drained');
  const starved = out.notes.filter((n) => n.starved).map((n) => n.starved);
  // Exactly one report: none in the idle second before, none after the work drained, and our
  // own delivery waking the loop does not start another.
  assert.equal(starved.length, 1, result.describe());
  const report = starved[0];
  assert.ok(report.capturedAt >= starving.at && report.capturedAt <= drained.at, 'reported while starving');
  assert.ok(report.waitingMs >= 400, `waited ${report.waitingMs} ms`);
  assert.ok(report.requestsInFlight >= 5, `4 held works and the queued readFile: ${report.requestsInFlight}`);
  assert.equal(report.threadId, 0);
  assert.equal(report.tid, result.pid);
  assert.equal(report.partial, undefined);
  assertThreadpoolHeld(report.threads, 'starvation report');
  // The starved loop itself is parked in the kernel poll call.
  const main = report.threads.find((t) => t.tid === result.pid);
  assert.ok(names(main).includes('uv__io_poll'), names(main).join(' < '));
  // A parked loop is never a blocked report (the threshold is long, so a loaded machine's
  // start-up pauses are not reported either).
  assert.equal(out.reports.length, 0, JSON.stringify(out.reports.map((r) => r.frames.slice(0, 3))));
  // The JSON log has the same entry.
  const entries = readJsonLines(log).filter((e) => e.event === 'starvation');
  assert.equal(entries.length, 1);
  assert.equal(entries[0].requestsInFlight, report.requestsInFlight);
  assert.ok(entries[0].threads.some((t) => t.role === 'libuv threadpool' && t.frames.some((f) => f.name === 'stallwatch_test::OccupyThreadpoolSlot(int)')));
  // `stallwatch format` prints it in the text form.
  const formatted = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'stallwatch.js'), 'format', log], { encoding: 'utf8' });
  assert.equal(formatted.status, 0, formatted.stderr);
  assert.match(formatted.stdout, /^stallwatch: main thread \(tid \d+\) starved: waited \d+ ms with \d+ requests in flight and no I\/O event, at \S+\n {2}all threads \(\d+\):\n/);
  assert.match(formatted.stdout, /at stallwatch_test::OccupyThreadpoolSlot\(int\)/);
  assert.match(formatted.stderr, /1 starvation report/);
});

for (const mode of ['timer', 'http']) {
  test(`allThreads: a stall from a ${mode} carries every thread's stack, in the report and the JSON log`, async () => {
    const dir = tmp();
    const log = path.join(dir, 'all.jsonl');
    const result = await runFixture(fixture('all-threads'), { args: [mode, log], timeoutMs: 30000 });
    const out = parseFixtureOutput(result.stdout);
    assert.ok(out.done, result.describe());
    assert.equal(out.reports.length, 1, result.describe());
    const report = out.reports[0];
    assert.equal(report.partial, undefined, report.partial);
    assert.ok(report.frames.some((f) => f.kind === 'js' && f.name === 'busyWithAllThreads'));
    const self = report.threads.find((t) => t.tid === report.tid);
    assert.equal(self.role, 'main JS thread');
    assert.ok(report.threads.some((t) => t.role === 'libuv threadpool'), 'the threadpool threads are listed');
    assert.ok(report.threads.some((t) => t.name === 'stallwatch-rep'), "stallwatch's reporter, which took the dump");
    const [entry] = readJsonLines(log).filter((e) => e.event === 'blocked');
    assert.deepEqual(entry.threads.map((t) => t.tid), report.threads.map((t) => t.tid));
  });
}

test('onStall: the reporter module terminates a stalled worker; the pool replaces it', async () => {
  const dir = tmp();
  const decisions = path.join(dir, 'decisions.jsonl');
  const log = path.join(dir, 'log.txt');
  const result = await runFixture(fixture('onstall'), {
    args: ['worker', log],
    env: { STALLWATCH_TEST_DECISIONS: decisions },
    timeoutMs: 30000,
  });
  const out = parseFixtureOutput(result.stdout);
  assert.ok(out.done, result.describe());
  const made = readJsonLines(decisions);
  const terminated = made.find((d) => d.outcome);
  assert.equal(terminated.outcome, 'terminated', JSON.stringify(made));
  // A second request for the same stall is refused: still terminating, already over, or the
  // worker already gone (its record removed at teardown: seen under ASan's slower exits).
  assert.ok(['already-terminating', 'not-stalled', 'unknown-thread'].includes(made.find((d) => 'again' in d).again), JSON.stringify(made));
  assert.ok(made.some((d) => d.shipped === terminated.threadId), 'the report handler ran too');
  assert.equal(out.notes.find((n) => 'exit' in n).exit, terminated.threadId, 'the terminated worker exited');
  assert.ok(out.notes.some((n) => n.message === 'done after'), 'the replacement worker serves');
  assert.match(fs.readFileSync(log, 'utf8'), new RegExp(`worker ${terminated.threadId} \\(tid \\d+\\) terminated \\(an onStall hook\\)`));
});

test('onStall: the reporter module aborts a deadlocked process after shipping the report', async () => {
  const dir = tmp();
  const decisions = path.join(dir, 'decisions.jsonl');
  const log = path.join(dir, 'log.txt');
  const result = await runFixture(fixture('onstall'), {
    args: ['abort', log],
    env: { STALLWATCH_TEST_DECISIONS: decisions, STALLWATCH_TEST_ABORT: '1' },
    timeoutMs: 30000,
  });
  assert.equal(result.signal, 'SIGABRT', result.describe());
  const made = readJsonLines(decisions);
  assert.deepEqual(made.find((d) => d.action === 'abort'), { threadId: 0, outcome: 'main-thread', action: 'abort' });
  assert.ok(made.some((d) => d.shipped === 0), 'the report was shipped before the abort');
  assert.match(fs.readFileSync(log, 'utf8'), /main thread \(tid \d+\) blocked for \d+ ms, state atomics-wait/);
});
