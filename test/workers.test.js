'use strict';
// Worker threads: what a report says about a stalled worker (its own threadId, name and
// functions, never another thread's), worker pools, supervise({ workers: true }) coverage of
// workers without stallwatch code, workers that stay stuck, die while stalled, or come and go by
// the hundred, and what supervision costs a worker's (or a process's) exit.
// Each scenario runs as a child process (test/fixtures-workers/*.js, protocol of
// test/fixtures/_common.js); thresholds are 250 ms unless said otherwise.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, test, before } = require('node:test');
const { runFixture, parseTextReports } = require('./helpers/run-fixture');
const {
  THRESHOLD_MS, UNDER_ASAN, preflight, explain, assertCleanExit, assertNoCaptureMachinery, assertChain, js, native,
} = require('./helpers/checks');

const FIXTURES = path.join(__dirname, 'fixtures-workers');
const fixture = (name) => path.join(FIXTURES, `${name}.js`);
const MARGIN_MS = 150;
const TIMEOUT = { timeout: 60000 };
const STATES = ['js', 'gc', 'compiler', 'native', 'atomics-wait', 'other'];

before(preflight);

// ---- helpers -----------------------------------------------------------------------------

const tagged = (r, tag) => r.out.tagged[tag] || { reports: [], unblocked: [], notes: [] };
const notes = (r, step) => r.out.notes.filter((n) => n.step === step);
const note = (r, step) => notes(r, step)[0];
const jsNames = (report) => report.frames.filter((f) => f.kind === 'js').map((f) => f.name);
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mb = (bytes) => (bytes / (1024 * 1024)).toFixed(1);

/**
 * A BlockReport about a worker thread of the fixture process: pid, threadId, threadName (expected
 * name, or absent when `threadName` is undefined), an OS tid of its own, the usual field types,
 * and no frames from the capture machinery.
 */
function assertWorkerReport(report, r, { threadId, threadName, thresholdMs = THRESHOLD_MS }) {
  const pid = r.out.ready.pid;
  assert.equal(report.pid, pid, 'report.pid is the fixture process');
  assert.equal(report.threadId, threadId, 'report.threadId is the worker that stalled');
  if (threadName === undefined) {
    // Node < 22.20 offers no way for a self-supervised worker to know its name.
    if (report.threadName !== undefined) assert.equal(typeof report.threadName, 'string');
  } else {
    assert.equal(report.threadName, threadName, 'report.threadName is the worker name');
  }
  assert.ok(Number.isInteger(report.tid) && report.tid > 0, `tid ${report.tid}`);
  if (process.platform === 'linux') assert.notEqual(report.tid, pid, "a worker's tid is not the main thread's");
  assert.ok(report.blockedMs >= thresholdMs, `blockedMs ${report.blockedMs} >= ${thresholdMs}`);
  assert.ok(Math.abs(report.capturedAt - Date.now()) < 300000, `capturedAt ${report.capturedAt} is epoch ms of the run`);
  assert.ok(STATES.includes(report.state), `state ${report.state}`);
  assert.ok(Array.isArray(report.frames) && report.frames.length > 0, 'frames is a non-empty array');
  if (report.partial !== undefined) assert.equal(typeof report.partial, 'string');
  assertNoCaptureMachinery(report);
}

/** The js frame named `name` comes from `file` (a fixture file name). */
function assertFrameFile(report, name, file) {
  const f = report.frames.find((x) => x.kind === 'js' && x.name === name);
  assert.ok(f, `a js frame ${name}`);
  assert.ok(f.file && f.file.endsWith(file), `${name} is in ${file}, not ${f.file}`);
}

/** The 'worker <id>' part of a text-log header, with the name when there is one. */
const label = (threadId, name) => (name ? `worker ${threadId} "${name}"` : `worker ${threadId}`);

/** Text reports of one worker in the stderr log (header "worker <id>" with or without a name). */
function loggedFor(stderr, threadId) {
  return parseTextReports(stderr).filter((l) => new RegExp(`^worker ${threadId}( |$)`).test(l.thread));
}

/** No report for a thread after its exit: every capture of a worker predates its 'exit' event. */
function assertNothingAfterExit(r, exits, what) {
  for (const report of r.out.reports) {
    if (report.threadId === 0) continue;
    const exit = exits.get(report.threadId);
    assert.ok(exit, `${what}: report for thread ${report.threadId}, which is not one of the fixture's workers`);
    assert.ok(report.capturedAt <= exit.at + 1,
      `${what}: report for thread ${report.threadId} captured at ${report.capturedAt}, after its exit at ${exit.at}`);
  }
  for (const logged of parseTextReports(r.stderr)) {
    const m = /^worker (\d+)/.exec(logged.thread);
    if (!m) continue;
    const exit = exits.get(Number(m[1]));
    assert.ok(exit, `${what}: logged report for unknown thread ${m[1]}`);
    const at = Date.parse(logged.at);
    assert.ok(at <= exit.at + 1, `${what}: logged report for ${logged.thread} at ${logged.at}, after its exit at ${new Date(exit.at).toISOString()}`);
  }
}

// ---- 1. two workers blocked at once ------------------------------------------------------

const OTHERS = {
  atomics: { fn: 'waitOnLatch', what: 'Atomics.wait', state: 'atomics-wait', chain: [js('waitOnLatch'), js('stall')], complete: true },
  exec: { fn: 'shellOut', what: "execSync('sleep 1')", state: 'native', chain: [native(/epoll|poll/), js('shellOut'), js('stall')] },
};
const TRIGGER_FRAME = { timer: 'onTimer', message: 'onMessage' };

describe('two workers blocked at once, each supervising itself', () => {
  for (const trigger of ['timer', 'message']) {
    for (const [other, expected] of Object.entries(OTHERS)) {
      test(`from ${trigger === 'timer' ? 'a timer' : "a 'message' handler"}: busy loop and ${expected.what}`, TIMEOUT, async () => {
        const r = await runFixture(fixture('two-workers'), { args: [trigger, other], timeoutMs: 30000 });
        explain(r, () => {
          assertCleanExit(r);
          const { threads } = r.out.ready;
          assert.notEqual(threads.busy, threads[other], 'two workers');
          const busy = tagged(r, 'busy');
          const oth = tagged(r, other);
          assert.equal(busy.reports.length, 1, 'the busy worker: one report for one stall');
          assert.equal(oth.reports.length, 1, `the ${other} worker: one report for one stall`);
          assert.equal(tagged(r, 'main').reports.length, 0, "the main thread's own handle: nothing (it never stalled, it does not watch workers)");
          const [b] = busy.reports;
          const [o] = oth.reports;

          // Each report: its own worker, its own function, its own trigger, nothing of the other.
          assertWorkerReport(b, r, { threadId: threads.busy });
          assertWorkerReport(o, r, { threadId: threads[other] });
          assert.notEqual(b.tid, o.tid, 'two OS threads');
          assert.equal(b.state, 'js');
          assert.equal(b.partial, undefined, `busy capture complete: ${b.partial}`);
          assertChain(b, [js('crunchNumbers'), js('stall'), js(TRIGGER_FRAME[trigger])]);
          assertFrameFile(b, 'crunchNumbers', 'blocker-worker.js');
          assert.equal(o.state, expected.state);
          if (expected.complete) assert.equal(o.partial, undefined, `${other} capture complete: ${o.partial}`);
          assertChain(o, [...expected.chain, js(TRIGGER_FRAME[trigger])]);
          assertFrameFile(o, expected.fn, 'blocker-worker.js');
          assert.ok(!jsNames(b).includes(expected.fn), `no ${expected.fn} in the busy worker's report: ${jsNames(b)}`);
          assert.ok(!jsNames(o).includes('crunchNumbers'), `no crunchNumbers in the ${other} worker's report: ${jsNames(o)}`);

          // Both were blocked when each capture was taken.
          const bStall = tagged(r, 'busy').notes.find((n) => n.step === 'stall');
          const oStall = oth.notes.find((n) => n.step === 'stall');
          assert.ok(bStall && oStall, 'both workers measured their stall');
          for (const [name, rep] of [['busy', b], [other, o]]) {
            for (const stall of [bStall, oStall]) {
              assert.ok(rep.capturedAt >= stall.start && rep.capturedAt <= stall.end + 1,
                `the ${name} capture (${rep.capturedAt}) fell inside the ${stall.kind} stall (${stall.start}..${stall.end})`);
            }
          }

          // 'unblocked': one each, for the right thread.
          assert.equal(busy.unblocked.length, 1);
          assert.equal(oth.unblocked.length, 1);
          assert.deepEqual([busy.unblocked[0].threadId, busy.unblocked[0].tid], [b.threadId, b.tid]);
          assert.deepEqual([oth.unblocked[0].threadId, oth.unblocked[0].tid], [o.threadId, o.tid]);
          assert.ok(busy.unblocked[0].blockedMs >= bStall.end - bStall.start - MARGIN_MS);
          assert.ok(oth.unblocked[0].blockedMs >= oStall.end - oStall.start - MARGIN_MS);

          // The text log: one report per worker, each with its own function only.
          const lb = loggedFor(r.stderr, threads.busy);
          const lo = loggedFor(r.stderr, threads[other]);
          assert.equal(lb.length, 1, 'one text report for the busy worker');
          assert.equal(lo.length, 1, `one text report for the ${other} worker`);
          // The header carries the report's name, if any: from Node 22.20 / 24.6 a self-supervised
          // worker reads worker_threads.threadName, which Node 24 sets to "WorkerThread" when the
          // worker was given no name.
          assert.equal(lb[0].thread, label(threads.busy, b.threadName));
          assert.equal(lb[0].tid, b.tid);
          assert.match(lb[0].culprit || '', /\bcrunchNumbers\b/);
          assert.ok(!lb[0].text.includes(expected.fn));
          assert.ok(lo[0].frames.some((l) => l.includes(`at ${expected.fn} (`)), `text frame "at ${expected.fn} ("`);
          assert.ok(!lo[0].text.includes('crunchNumbers'));
          assert.equal(parseTextReports(r.stderr).length, 2, 'nothing else logged');
        });
      });
    }
  }
});

// ---- 2. a worker pool --------------------------------------------------------------------

describe('a pool of 4 workers, one task blocks (run from the workers\' message handler)', () => {
  for (const mode of ['self', 'covered']) {
    const how = mode === 'self' ? 'each worker supervises itself' : 'supervise({ workers: true }) on the main thread, no stallwatch code in the pool';
    test(`${how}: the report names the worker that ran the task, and the task's function`, TIMEOUT, async () => {
      const r = await runFixture(fixture('pool'), { args: [mode], timeoutMs: 30000 });
      explain(r, () => {
        assertCleanExit(r);
        const pool = note(r, 'pool').workers;
        assert.equal(pool.length, 4);
        const tasks = notes(r, 'task');
        assert.equal(tasks.length, 16, 'all tasks ran');
        for (const t of tasks) assert.equal(t.ranOn, t.assignedTo, `task ${t.id}: the worker that answered is the one it was given to`);
        assert.ok(new Set(tasks.map((t) => t.ranOn)).size >= 2, 'the tasks were spread over the pool');
        const blocking = tasks.find((t) => t.kind === 'block');
        const culprit = pool.find((p) => p.threadId === blocking.ranOn);
        assert.ok(culprit, 'the blocking task ran on a pool worker');

        assert.equal(r.out.reports.length, 1, 'one report for the one stall');
        const [report] = r.out.reports;
        const delivered = mode === 'self' ? tagged(r, culprit.name) : tagged(r, 'main');
        assert.equal(delivered.reports.length, 1,
          mode === 'self' ? `reported by ${culprit.name}'s own handle` : "reported to the main thread's handle");
        assertWorkerReport(report, r, { threadId: culprit.threadId, threadName: mode === 'covered' ? culprit.name : undefined });
        assert.equal(report.state, 'js');
        assert.equal(report.partial, undefined, `capture complete: ${report.partial}`);
        assertChain(report, [js('rebuildSearchIndex'), js('onTask')]);
        assertFrameFile(report, 'rebuildSearchIndex', 'pool-worker.js');
        assert.ok(!jsNames(report).includes('resizeThumbnail'), 'not the light tasks');
        assert.ok(report.capturedAt >= blocking.start && report.capturedAt <= blocking.end + 1, 'captured during the blocking task');

        assert.equal(r.out.unblocked.length, 1, 'one unblocked event');
        assert.equal(r.out.unblocked[0].threadId, culprit.threadId);
        if (mode === 'covered') assert.equal(r.out.unblocked[0].threadName, culprit.name);

        const logged = parseTextReports(r.stderr);
        assert.equal(logged.length, 1, 'one text report');
        // A self-supervised worker knows its name from Node 22.20 / 24.6 (worker_threads.threadName);
        // when the report has one, it is the pool worker's, and the log header shows it.
        if (mode === 'self' && report.threadName !== undefined) assert.equal(report.threadName, culprit.name);
        assert.equal(logged[0].thread, label(culprit.threadId, mode === 'covered' ? culprit.name : report.threadName));
        assert.match(logged[0].culprit || '', /\brebuildSearchIndex\b/);
      });
    });
  }
});

// ---- 3. workers: true covers a worker without stallwatch code ----------------------------

describe('supervise({ workers: true }) on the main thread', () => {
  const CASES = {
    file: { name: 'image-resizer', fn: 'resizeHugeImage', timer: 'onResizeTimer', file: 'plain-worker.js' },
    eval: { name: 'eval-cruncher', fn: 'crunchInEval', timer: 'evalTimer', file: '[worker eval]' },
  };
  for (const [mode, c] of Object.entries(CASES)) {
    test(`catches a worker (${mode === 'file' ? 'a file' : 'eval code'}) with no stallwatch code; its name is threadName and in its log header`, TIMEOUT, async () => {
      const r = await runFixture(fixture('covered'), { args: [mode], timeoutMs: 30000 });
      explain(r, () => {
        assertCleanExit(r);
        assert.doesNotMatch(r.stderr, /could not supervise worker/);
        const worker = notes(r, 'worker').find((n) => n.name === c.name);
        assert.ok(worker, 'the worker was created');
        const stall = tagged(r, c.name).notes.find((n) => n.step === 'stall');
        assert.ok(stall, 'the worker measured its stall');
        const exit = notes(r, 'exit').find((n) => n.name === c.name);
        assert.equal(exit.code, 0, 'the worker ended normally');

        const main = tagged(r, 'main');
        assert.equal(main.reports.length, 1, "one report, on the main thread's handle");
        const [report] = main.reports;
        assertWorkerReport(report, r, { threadId: worker.threadId, threadName: c.name });
        assert.equal(report.state, 'js');
        assert.equal(report.partial, undefined, `capture complete: ${report.partial}`);
        assertChain(report, [js(c.fn), js(c.timer)]);
        assertFrameFile(report, c.fn, c.file);
        assert.ok(report.capturedAt >= stall.start && report.capturedAt <= stall.end + 1, 'captured during the stall');
        assert.equal(main.unblocked.length, 1, "one 'unblocked' on the main handle");
        assert.deepEqual(
          { threadId: main.unblocked[0].threadId, threadName: main.unblocked[0].threadName, tid: main.unblocked[0].tid },
          { threadId: worker.threadId, threadName: c.name, tid: report.tid });
        assert.ok(main.unblocked[0].blockedMs >= stall.end - stall.start - MARGIN_MS);

        // The worker's own log (the preload's handle logs to stderr, like the main's options say).
        const logged = parseTextReports(r.stderr);
        assert.equal(logged.length, 1, 'one text report');
        assert.equal(logged[0].thread, label(worker.threadId, c.name), 'the header names the worker: worker <id> "<name>"');
        assert.equal(logged[0].tid, report.tid);
        assert.ok(logged[0].frames.some((l) => l.includes(`at ${c.fn} (`)), `text frame "at ${c.fn} ("`);
        assert.match(r.stderr, new RegExp(`stallwatch: worker ${worker.threadId} "${c.name}" \\(tid \\d+\\) unblocked after \\d+ ms`));

        if (mode === 'file') {
          // A Worker created with an explicit execArgv is not covered (the documented opt-out).
          const optedOut = notes(r, 'worker').find((n) => n.name === 'opted-out');
          assert.ok(tagged(r, 'opted-out').notes.some((n) => n.step === 'stall' && n.end - n.start >= 700), 'the opted-out worker did stall');
          assert.ok(!r.out.reports.some((x) => x.threadId === optedOut.threadId), 'no report for the opted-out worker');
          assert.equal(loggedFor(r.stderr, optedOut.threadId).length, 0, 'nothing logged for the opted-out worker');
        }
      });
    });
  }

  test('a covered worker that also has its own handle (longer threshold): one report per stall on the main handle', TIMEOUT, async () => {
    const r = await runFixture(fixture('two-handles-worker'), { timeoutMs: 30000 });
    explain(r, () => {
      assertCleanExit(r);
      const { threadId } = r.out.ready;
      const main = tagged(r, 'main');
      const own = tagged(r, 'own');
      assert.equal(own.reports.length, 1, "the worker's own handle: one report");
      assertChain(own.reports[0], [js('indexEverything'), js('onIndexTimer')]);
      assert.equal(main.unblocked.filter((u) => u.threadId === threadId).length, 1, "main handle: one 'unblocked'");
      const forMain = main.reports.filter((x) => x.threadId === threadId);
      assert.equal(forMain.length, 1, `main handle: one report for one stall, got ${forMain.length} ` +
        `(capturedAt ${forMain.map((x) => x.capturedAt).join(', ')})`);
      assertWorkerReport(forMain[0], r, { threadId, threadName: 'indexer' });
      assertChain(forMain[0], [js('indexEverything'), js('onIndexTimer')]);
    });
  });

  for (const flag of ['--max-old-space-size=512', '--expose-gc']) {
    test(`in a process started with ${flag}: new Worker() still works and the worker is covered`, TIMEOUT, async () => {
      const r = await runFixture(fixture('exec-argv'), { nodeArgs: [flag], timeoutMs: 20000 });
      explain(r, () => {
        assertCleanExit(r);
        const error = note(r, 'construct-error');
        assert.equal(error, undefined, `new Worker() threw under supervise({ workers: true }): ${error && `${error.code}: ${error.message}`}`);
        const worker = note(r, 'worker');
        const main = tagged(r, 'main');
        assert.equal(main.reports.length, 1, 'the worker is covered');
        assertWorkerReport(main.reports[0], r, { threadId: worker.threadId, threadName: 'with-node-flags' });
        assertChain(main.reports[0], [js('resizeHugeImage')]);
      });
    });
  }
});

test("a Worker class taken before supervise({ workers: true }): its worker is named in one warning, not missed in silence; later workers are covered", TIMEOUT, async () => {
  const sink = path.join(os.tmpdir(), `stallwatch-early-ref-${process.pid}-${Date.now()}.jsonl`);
  const r = await runFixture(fixture('early-reference'), { env: { SINK_FILE: sink }, timeoutMs: 20000 });
  fs.rmSync(sink, { force: true });
  explain(r, () => {
    assertCleanExit(r);
    const { early, late } = note(r, 'workers');
    const warnings = notes(r, 'warning').filter((n) => n.code === 'STALLWATCH_WORKER_NOT_COVERED');
    assert.equal(warnings.length, 1, 'one warning: the early worker (not the late one, not the reporter worker)');
    assert.match(warnings[0].message, new RegExp(`^worker ${early} was created with the worker_threads.Worker class as it was before supervise\\(\\{ workers: true \\}\\) ran`));
    const reports = tagged(r, 'main').reports;
    assert.deepEqual(reports.map((x) => x.threadId), [late], 'only the late worker is covered');
    assertWorkerReport(reports[0], r, { threadId: late, threadName: 'late' });
  });
});

// ---- 4. a worker stuck for good ----------------------------------------------------------

test('a worker stuck forever in Atomics.wait is reported to the main thread while stuck; main terminates it; the process exits normally', TIMEOUT, async () => {
  const r = await runFixture(fixture('stuck'), { timeoutMs: 20000 });
  explain(r, () => {
    assertCleanExit(r);
    assert.equal(note(r, 'no-report'), undefined, 'the main handle got no report within 15 s');
    const { threadId } = r.out.ready;
    const reports = tagged(r, 'main').reports;
    assert.equal(reports.length, 1, 'one report');
    const [report] = reports;
    assertWorkerReport(report, r, { threadId, threadName: 'stuck-worker' });
    assert.equal(report.state, 'atomics-wait');
    assertChain(report, [js('waitForeverInWorker'), js('startWaiting')]);
    assert.deepEqual(note(r, 'stuck-when-reported'), { step: 'stuck-when-reported', entered: 1, passed: 0 },
      'the worker was inside the wait, and never got out of it, when the main thread had its report');
    assert.equal(note(r, 'still-stuck').passed, 0, 'still stuck 200 ms later');
    const terminated = note(r, 'terminated');
    assert.ok(terminated, 'terminate() resolved');
    assert.ok(terminated.ms < 2000, `terminate() took ${terminated.ms} ms`);
    assert.ok(report.capturedAt <= terminated.at, 'captured before the worker went away');
    const logged = loggedFor(r.stderr, threadId);
    assert.ok(logged.length >= 1, "the worker's own text log");
    assert.equal(logged[0].thread, label(threadId, 'stuck-worker'));
    assert.equal(logged[0].state, 'atomics-wait');
    assert.ok(r.durationMs < 10000, `the process ended by itself soon after (${r.durationMs} ms)`);
  });
});

// ---- 5. workers that die while stalled ---------------------------------------------------

describe('workers that die while stalled: terminate(), terminate() during the capture, process.exit(), throw', () => {
  const TERMINATED = ['terminate-spinning', 'terminate-at--20', 'terminate-at-0', 'terminate-at-5', 'terminate-at-10',
    'terminate-at-20', 'terminate-at-35', 'terminate-at-50', 'terminate-at-80', 'terminate-atomics'];
  for (const mode of ['covered', 'self']) {
    const how = mode === 'covered' ? 'workers covered by supervise({ workers: true })' : 'workers supervising themselves';
    test(`${how}: no crash, nothing reported after a thread's exit, the main thread still reports its own stall`, TIMEOUT, async (t) => {
      const r = await runFixture(fixture('exits'), { args: [mode], timeoutMs: 45000 });
      explain(r, () => {
        assertCleanExit(r);
        assert.doesNotMatch(r.stderr, /could not supervise worker/);
        const exits = new Map(notes(r, 'exit').map((n) => [n.threadId, n]));
        const byScenario = Object.fromEntries(notes(r, 'exit').map((n) => [n.scenario, n]));
        for (const s of TERMINATED) {
          const e = byScenario[s];
          assert.ok(e, `${s}: the worker exited`);
          assert.equal(e.code, 1, `${s}: exit code of a terminated worker`);
          assert.ok(e.terminateMs !== null && e.terminateMs < 2000, `${s}: terminate() resolved in ${e.terminateMs} ms`);
          assert.equal(e.error, null, `${s}: no 'error' event`);
        }
        assert.equal(byScenario['exit-in-stall'].code, 7, 'process.exit(7) in the worker');
        assert.equal(byScenario['throw-in-stall'].error, 'boom after stall', "'error' event of a worker that threw after its stall");
        assert.equal(byScenario['throw-at-start'].error, 'boom at start', "'error' event of a worker that threw while loading");

        assertNothingAfterExit(r, exits, mode);

        // The stalls that lasted past the threshold were captured (by the log at least: the
        // worker's own listeners never run again).
        const expectLogged = {
          'terminate-spinning': 'spinForever', 'terminate-atomics': 'waitUntilTerminated',
          'exit-in-stall': 'stallThenExit', 'throw-in-stall': 'stallThenThrow',
        };
        for (const [s, fn] of Object.entries(expectLogged)) {
          const logged = loggedFor(r.stderr, byScenario[s].threadId);
          assert.equal(logged.length, 1, `${s}: one text report`);
          assert.ok(logged[0].frames.some((l) => l.includes(`at ${fn} (`)), `${s}: text frame "at ${fn} ("`);
          if (mode === 'covered') assert.equal(logged[0].thread, label(byScenario[s].threadId, s));
        }
        if (mode === 'covered') {
          // The main handle got them, with names and functions.
          for (const [s, fn] of Object.entries(expectLogged)) {
            const got = tagged(r, 'main').reports.filter((x) => x.threadId === byScenario[s].threadId);
            assert.equal(got.length, 1, `${s}: one report on the main handle`);
            assertWorkerReport(got[0], r, { threadId: byScenario[s].threadId, threadName: s });
            assertChain(got[0], [js(fn)]);
          }
        }
        assert.ok(!r.out.reports.some((x) => x.threadId === byScenario['throw-at-start'].threadId), 'nothing for the worker that never ran');

        // The main thread, after all that.
        const own = r.out.reports.filter((x) => x.threadId === 0);
        assert.equal(own.length, 1, "one report of the main thread's own stall");
        assert.equal(own[0].tid, r.out.ready.pid);
        assert.equal(own[0].state, 'js');
        assert.equal(own[0].partial, undefined, `capture complete: ${own[0].partial}`);
        assertChain(own[0], [js('spinFor'), js('mainStallAfterWorkers')]);
        assert.ok(own[0].capturedAt > note(r, 'workers-done').at);
        assert.equal(r.out.unblocked.filter((x) => x.threadId === 0).length, 1);
        const stats = note(r, 'stats');
        t.diagnostic(`${mode}: ${stats.samples} samples, ${stats.failedSignals} failed signals; terminate() ms: ` +
          TERMINATED.map((s) => `${s}=${byScenario[s].terminateMs}`).join(' '));
      });
    });
  }
});

test('terminate() while the worker is inside stallwatch (loading the addon, supervise(), close()): the process survives', { timeout: 120000 }, async () => {
  const r = await runFixture(fixture('terminate-in-supervise'), { args: [100], timeoutMs: 100000 });
  explain(r, () => {
    assert.doesNotMatch(r.stderr, /FATAL ERROR/, 'a fatal error in the addon took the process down');
    assertCleanExit(r);
    assert.equal(notes(r, 'round').length, 100, 'all 100 workers were terminated');
    assert.deepEqual(notes(r, 'error'), [], "no worker 'error' event");
  });
});

// ---- 6. churn ----------------------------------------------------------------------------

// The issue's bound: RSS after 500 create/terminate cycles at most 5 MB above RSS after the
// first 50, with supervision on. Measured in the fixture's own process after a memory-reducing
// GC and malloc_trim (median of three readings), so the rest of the suite only adds CPU load.
// The same workload (same seed) also runs with stallwatch not loaded at all, right after: that
// baseline shows what Node itself grows by under the same load, and bounds stallwatch's own
// share of the growth, in RSS and in C heap still allocated (glibc's count, which does not
// depend on V8's heap sizing and would show a native record kept per dead worker).
const CHURN_RSS_LIMIT = 5 * 1024 * 1024;         // the issue's bound, supervised
const CHURN_ADDED_RSS_LIMIT = 3 * 1024 * 1024;   // supervised growth minus unsupervised growth (medians), when the latter is past 2 MB
const CHURN_ADDED_C_HEAP_LIMIT = 1024 * 1024;    // same, for C heap bytes still allocated
// Under npm run test:asan (UNDER_ASAN) the memory bounds are not checked; everything else is.
// Both runs with at most 2 glibc malloc arenas: glibc makes up to 8 per core as threads come and
// go, each keeping pages malloc_trim does not return, and how many a run reaches depends on
// thread timing, not on what is allocated: up to +-4 MB between runs of the same seed, more than
// the bound. Two arenas: the main one and one the worker threads share.
const CHURN_ENV = { MALLOC_ARENA_MAX: '2' };

// One supervised churn run, with every check that is not about memory; returns its summary.
async function supervisedChurn(t, seed) {
  const r = await runFixture(fixture('churn'), { args: [String(seed)], env: CHURN_ENV, timeoutMs: 120000 });
  let churn;
  explain(r, () => {
    assertCleanExit(r);
    assert.doesNotMatch(r.stderr, /could not supervise worker/);
    churn = note(r, 'churn');
    assert.ok(churn, 'the churn summary');
    t.diagnostic(`churn (seed ${churn.seed}): ${churn.created} workers created, ${churn.terminated} terminated, ${churn.natural} ended by themselves, ` +
      `${churn.blockers} blocked (${churn.longBlockers} past the 100 ms threshold), ${churn.elapsedMs} ms`);
    t.diagnostic(`churn: ${churn.samples} captures (stats().samples), ${churn.failedSignals} failed signals, ` +
      `${churn.reportsMain} reports on the main handle, ${churn.reportsSelf} from self-supervised workers, ${parseTextReports(r.stderr).length} logged`);
    assert.equal(churn.created, 500, 'all 500 cycles ran within the time bound');
    assert.equal(churn.ended, 500, 'every worker emitted exit');
    const errors = notes(r, 'worker-error').concat(notes(r, 'cycle-error'));
    assert.deepEqual(errors, [], 'no worker error');
    assert.ok(churn.samples > 0, 'captures happened during the churn');
    assert.ok(r.out.reports.some((x) => x.threadId !== 0), 'some workers were reported');
    assert.equal(churn.liveThreadRecords, 1, "no thread record outlives its worker: only the main thread's (its handle is still open)");
    const exits = new Map(notes(r, 'exit').map((n) => [n.threadId, n]));
    assert.equal(exits.size, 500);
    assertNothingAfterExit(r, exits, 'churn');
    for (const report of r.out.reports.filter((x) => x.threadId !== 0)) {
      const e = exits.get(report.threadId);
      assertWorkerReport(report, r, { threadId: e.threadId, threadName: e.kind === 'self' ? undefined : `churn-${e.i}`, thresholdMs: 100 });
    }
  });
  return churn;
}

// The same seed with stallwatch not loaded: what Node itself grows by.
async function baselineChurn(seed) {
  const b = await runFixture(fixture('churn'), { args: [String(seed)], env: { ...CHURN_ENV, STALLWATCH_FIXTURE_NO_SUPERVISE: '1' }, timeoutMs: 120000 });
  let base;
  explain(b, () => {
    assertCleanExit(b);
    base = note(b, 'churn');
    assert.ok(base, 'the baseline churn summary');
    assert.equal(base.ended, 500, 'the baseline ran all 500 cycles');
  });
  return base;
}

// Three pairs, supervised and not, interleaved, each pair with its own seed: one run's RSS growth
// on Node 24 varies by +-2.5 MB (1.6 to 5.4 MB with stallwatch not loaded, same machine), about
// the size of the bound, so the bound applies to the medians. Under ASan one pair, for the
// checks that are not about memory.
const CHURN_PAIRS = UNDER_ASAN ? 1 : 3;

test('churn: 500 workers created and ended, supervised, some blocking past the threshold: no crash, no report for a dead thread, RSS flat', { timeout: 900000 }, async (t) => {
  const firstSeed = Date.now() % 100000;
  const growth = (x) => ({ rss: x.rssLast - x.rssFirst, cHeap: x.cHeapLast - x.cHeapFirst, heapUsed: x.heapUsedLast - x.heapUsedFirst });
  const signed = (bytes) => `${bytes >= 0 ? '+' : ''}${mb(bytes)}`;
  const on = [];
  const off = [];
  for (let i = 0; i < CHURN_PAIRS; i++) {
    const seed = firstSeed + i;
    const churn = await supervisedChurn(t, seed);
    const base = await baselineChurn(seed);
    on.push(growth(churn));
    off.push(growth(base));
    const g = on[i];
    const h = off[i];
    t.diagnostic(`churn RSS (seed ${seed}), cycle 50 -> 500: supervised ${mb(churn.rssFirst)} -> ${mb(churn.rssLast)} MB (${signed(g.rss)} MB), ` +
      `C heap ${signed(g.cHeap)} MB, V8 heap used ${signed(g.heapUsed)} MB; stallwatch not loaded ${mb(base.rssFirst)} -> ${mb(base.rssLast)} MB ` +
      `(${signed(h.rss)} MB), C heap ${signed(h.cHeap)} MB, V8 heap used ${signed(h.heapUsed)} MB`);
  }
  const medianOf = (list, key) => median(list.map((x) => x[key]));
  const onRss = medianOf(on, 'rss');
  const offRss = medianOf(off, 'rss');
  const onCHeap = medianOf(on, 'cHeap');
  const offCHeap = medianOf(off, 'cHeap');
  t.diagnostic(`churn RSS growth, median of ${CHURN_PAIRS}: supervised ${signed(onRss)} MB, stallwatch not loaded ${signed(offRss)} MB ` +
    `(bound: 5 MB, or 3 MB above the runs without stallwatch); C heap ${signed(onCHeap)} vs ${signed(offCHeap)} MB`);
  // The absolute bound measures Node as much as stallwatch: Node 24 alone grows by 1.6-5.4 MB
  // here. So the bound is: supervised growth within 5 MB, or, when Node's own growth leaves no
  // room for that, within 3 MB of Node's own. What a record kept per dead worker would add shows
  // in the C heap, asserted always.
  if (UNDER_ASAN) {
    t.diagnostic('memory bounds not checked: the ASan runtime is preloaded (quarantine, mallinfo)');
  } else {
    assert.ok(onRss <= Math.max(CHURN_RSS_LIMIT, offRss + CHURN_ADDED_RSS_LIMIT),
      `supervised, RSS grew by ${mb(onRss)} MB (median) between cycle 50 and cycle 500: more than 5 MB, and more than 3 MB above the ` +
      `${signed(offRss)} MB without stallwatch`);
    assert.ok(onCHeap - offCHeap <= CHURN_ADDED_C_HEAP_LIMIT,
      `C heap still allocated grew by ${signed(onCHeap)} MB supervised vs ${signed(offCHeap)} MB without stallwatch (medians): native memory kept per dead worker`);
  }
});

test('worker names given to covered workers do not outlive the workers (RSS with 1 MiB names)', { timeout: 150000 }, async (t) => {
  const growth = {};
  for (const mode of ['plain', 'supervised']) {
    const r = await runFixture(fixture('names-leak'), { args: [mode, 25], timeoutMs: 120000 });
    explain(r, () => {
      assertCleanExit(r);
      const rss = note(r, 'rss');
      growth[mode] = rss.last - rss.first;
    });
  }
  t.diagnostic(`RSS growth over 20 workers with 1 MiB names: plain ${mb(growth.plain)} MB, supervise({ workers: true }) ${mb(growth.supervised)} MB`);
  assert.ok(growth.supervised <= growth.plain + 5 * 1024 * 1024,
    `RSS grew by ${mb(growth.supervised)} MB with supervision vs ${mb(growth.plain)} MB without: the names are kept after the workers exited`);
});

// ---- 7. exit delay -----------------------------------------------------------------------

describe('stallwatch adds no delay to exits', () => {
  test("a worker's terminate(), natural end and process.exit(): supervised vs not, interleaved", { timeout: 120000 }, async (t) => {
    const r = await runFixture(fixture('exit-delay'), { args: [12], timeoutMs: 100000 });
    explain(r, () => {
      assertCleanExit(r);
      assert.deepEqual(notes(r, 'error'), [], 'no worker error');
      const samples = notes(r, 'sample');
      for (const end of ['terminate', 'natural', 'exit']) {
        const med = {};
        for (const kind of ['plain', 'self', 'covered']) {
          const ms = samples.filter((s) => s.kind === kind && s.end === end).map((s) => s.ms);
          assert.equal(ms.length, 12, `${kind}/${end}: 12 samples`);
          med[kind] = median(ms);
        }
        t.diagnostic(`worker ${end}: median ms plain ${med.plain.toFixed(2)}, self-supervised ${med.self.toFixed(2)}, covered ${med.covered.toFixed(2)}`);
        for (const kind of ['self', 'covered']) {
          assert.ok(med[kind] <= med.plain + 20, `${end}: ${kind} median ${med[kind].toFixed(2)} ms vs plain ${med.plain.toFixed(2)} ms (+20 ms allowed)`);
        }
      }
    });
  });

  test('a small process: time to exit, supervised vs not, interleaved', { timeout: 120000 }, async (t) => {
    const r = await runFixture(fixture('exit-process'), { args: [8], timeoutMs: 100000 });
    explain(r, () => {
      assertCleanExit(r);
      const samples = notes(r, 'sample');
      for (const end of ['natural', 'exit']) {
        const pick = (kind, key) => samples.filter((s) => s.kind === kind && s.end === end).map((s) => s[key]);
        const last = { plain: median(pick('plain', 'lastJsToExitMs')), supervised: median(pick('supervised', 'lastJsToExitMs')) };
        const whole = { plain: median(pick('plain', 'spawnToExitMs')), supervised: median(pick('supervised', 'spawnToExitMs')) };
        assert.equal(pick('plain', 'spawnToExitMs').length, 8);
        assert.equal(pick('supervised', 'spawnToExitMs').length, 8);
        t.diagnostic(`process ${end === 'exit' ? 'process.exit()' : 'natural end'}: median last JS -> exit ` +
          `plain ${last.plain.toFixed(1)} ms, supervised ${last.supervised.toFixed(1)} ms; spawn -> exit plain ${whole.plain.toFixed(1)} ms, supervised ${whole.supervised.toFixed(1)} ms`);
        assert.ok(last.supervised <= last.plain + 20, `${end}: last JS -> exit, supervised ${last.supervised.toFixed(1)} ms vs ${last.plain.toFixed(1)} ms (+20 ms allowed)`);
        // Spawn to exit also pays for loading the addon and starting its threads.
        assert.ok(whole.supervised <= whole.plain + 250, `${end}: spawn -> exit, supervised ${whole.supervised.toFixed(1)} ms vs ${whole.plain.toFixed(1)} ms (+250 ms allowed)`);
      }
    });
  });
});
