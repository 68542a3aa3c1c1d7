'use strict';
// stallwatch next to other users of signals, for each supported signal and both installation orders:
// a Go-like runtime that uses SIGURG itself, node's diagnostic report on SIGUSR2, V8's CPU profiler
// (--cpu-prof, and the inspector's Profiler.start at run time, which installs V8's SIGPROF handler
// over ours), and a second copy of the addon loaded from another directory. stallwatch must keep
// capturing every stall (complete reports, no frames of anyone's capture machinery), the other user
// must keep working, and nothing may crash. Scenarios: test/hardening/coexist.js.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, test, before, after } = require('node:test');
const { runFixture } = require('./helpers/run-fixture');
const { preflight, explain, assertCleanExit, assertReportShape, assertChain, assertNoCaptureMachinery, js, native } = require('./helpers/checks');

const COEXIST = path.join(__dirname, 'hardening', 'coexist.js');
const SIGNALS = ['SIGURG', 'SIGUSR2', 'SIGPROF', 'SIGRTMIN+4'];
const TIMEOUT = { timeout: 90000 };
const PARALLEL = { concurrency: 2 };

let tmp;
before(() => {
  preflight();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-coexist-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const run = (args, options = {}) => runFixture(COEXIST, { args, timeoutMs: 60000, ...options });
const notes = (r, step) => r.out.notes.filter((n) => n.step === step);
const reportsTagged = (r, tag) => (r.out.tagged[tag] ? r.out.tagged[tag].reports : []);

/**
 * Runs the fixture once more (noted) if the first run shows the symptom of a CPU-starved
 * machine rather than of a coexistence problem: a stall whose capture signal the thread did not
 * take within the watchdog's 200 ms (it was runnable but not running; the report says so), or a
 * stall with no capture attempt at all (the watchdog itself was not scheduled until the stall
 * was over). CI runs two of these fixtures at once next to the rest of the suite, and V8's
 * profiler here samples every 100 µs. Both were seen in CI rehearsals, each time with the
 * detection itself already late (383 ms for a 250 ms threshold); an unloaded machine shows
 * neither. A second run with the symptom, or any other failure, fails the test.
 */
async function runRepeatingOverload(t, args) {
  const first = await run(args);
  const starved = first.out.reports.filter((r) => /did not take the capture signal within/.test(r.partial || '')).length +
    notes(first, 'captures').filter((n) => n.samples === 0 && n.failedSignals === 0).length;
  if (starved === 0 || args[1] === 'SIGPROF') return first;
  t.diagnostic(`CPU starvation in the first run (${starved} stall(s)); repeated once. First run:\n${first.stdout}`);
  return run(args);
}

/**
 * A capture of the fixture's stall: the stalled functions in order, none of anyone's capture machinery
 * (another handler's frames), and no sign of a lost or garbled capture in `partial` (an informational
 * note, e.g. that another handler's frames were left out, is fine).
 */
function assertCaptured(report, r, label = 'report') {
  assert.doesNotMatch(report.partial || '', /no stack|did not take|could not be matched/, `${label}: ${report.partial}`);
  assertReportShape(report, r);
  assertChain(report, [js('spinFor'), js('stallInCoexistence')]);
  assertNoCaptureMachinery(report);
}

describe('a Go-like runtime that uses SIGURG itself', () => {
  describe('preempting its own threads (every 5 ms)', PARALLEL, () => {
    for (const sig of SIGNALS) {
      for (const order of ['go-first', 'stallwatch-first']) {
        test(`stallwatch on ${sig}, ${order}: both keep working`, TIMEOUT, async () => {
          const r = await run(['go', sig, order, 'self', 2]);
          explain(r, () => {
            assertCleanExit(r);
            assert.equal(r.out.reports.length, 2, 'both stalls captured');
            for (const report of r.out.reports) assertCaptured(report, r);
            const [before, between, afterStalls] = notes(r, 'go');
            assert.ok(before.self > 0, 'the runtime was running before the stalls');
            assert.ok(between.self > before.self && afterStalls.self > between.self,
              `its own signal count keeps growing: ${before.self} -> ${between.self} -> ${afterStalls.self}`);
            assert.equal(afterStalls.caller, 0, 'it signalled only its own thread');
          });
        });
      }
    }
  });

  describe('also preempting the main thread (every 1 ms, as for Go code called through cgo)', PARALLEL, () => {
    for (const sig of SIGNALS) {
      test(`stallwatch on ${sig}: the runtime's counts keep growing; stalls are captured`, TIMEOUT, async (t) => {
        const r = await run(['go', sig, 'go-first', 'caller', 4, 1]);
        explain(r, () => {
          assertCleanExit(r);
          const go = notes(r, 'go');
          for (let i = 1; i < go.length; i++) {
            assert.ok(go[i].caller > go[i - 1].caller, `the main thread keeps receiving the runtime's SIGURG: ${JSON.stringify(go)}`);
          }
          assert.equal(r.out.reports.length, 4, 'one report per stall');
          const lost = r.out.reports.filter((x) => x.partial !== undefined);
          t.diagnostic(`${lost.length} of 4 captures lost to a pending SIGURG of the runtime`);
          // Deterministic version of the loss: 'a capture signal merged into a pending one' below.
          for (const report of r.out.reports) {
            if (report.partial !== undefined) assert.match(report.partial, /did not take the capture signal/);
            else assertCaptured(report, r);
          }
          if (sig.startsWith('SIGRT')) assert.equal(lost.length, 0, 'real-time signals queue: never lost');
        });
      });
    }
  });

  describe('a capture signal merged into a pending one of another sender', PARALLEL, () => {
    // Standard signals do not queue: when another sender's instance of the signal is pending on the
    // thread (here: left there while the thread had the signal blocked for 300 ms, well within the
    // watchdog's delivery window), stallwatch's pthread_sigqueue is merged into it, and the handler
    // only ever sees the other sender's siginfo. The watchdog must not give up on a capture that a
    // resend would get.
    for (const sig of SIGNALS) {
      test(`${sig}: the stall is captured although another sender's ${sig} was pending`, TIMEOUT, async () => {
        const [control, r] = await Promise.all([
          run(['go-pending', sig, 'none']),
          run(['go-pending', sig, 'foreign']),
        ]);
        explain(control, () => {
          assertCleanExit(control);
          assert.equal(control.out.reports.length, 1);
          assert.equal(control.out.reports[0].partial, undefined, 'without another sender, the signal is taken at the unblock');
        });
        explain(r, () => {
          assertCleanExit(r);
          assert.equal(notes(r, 'go')[0].caller, 1, "the other sender's signal was delivered (to its own handler)");
          assert.equal(r.out.reports.length, 1);
          const [report] = r.out.reports;
          assert.equal(report.partial, undefined, `lost capture: ${report.partial}`);
          assert.ok(report.frames.length > 0);
        });
      });
    }
  });
});

describe("node's diagnostic report on SIGUSR2 (--report-on-signal)", PARALLEL, () => {
  for (const sig of ['SIGUSR2', 'SIGURG']) {
    for (const order of ['node-first', 'stallwatch-first']) {
      test(`stallwatch on ${sig}, ${order === 'node-first' ? 'report enabled at startup' : 'report enabled after supervise()'}: ` +
        'captures write no report file; one external SIGUSR2 writes exactly one', TIMEOUT, async () => {
        const dir = fs.mkdtempSync(path.join(tmp, 'report-'));
        const nodeArgs = [`--report-directory=${dir}`];
        if (order === 'node-first') nodeArgs.push('--report-on-signal', '--report-signal=SIGUSR2');
        const r = await run(['report', sig, order], { nodeArgs });
        explain(r, () => {
          assertCleanExit(r);
          assert.equal(r.out.ready.reportOnSignal, true);
          assert.equal(r.out.reports.length, 2);
          for (const report of r.out.reports) assertCaptured(report, r);
          const [afterStalls, afterKill] = notes(r, 'report-files');
          assert.equal(afterStalls.files, 0, "stallwatch's signals never reached node's report handler");
          assert.equal(afterKill.files, 1, 'the external SIGUSR2 wrote one report, and the process lived on');
          const [file] = fs.readdirSync(dir);
          const diag = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
          assert.equal(diag.header.trigger, 'Signal');
        });
      });
    }
  }
});

describe("V8's CPU profiler", () => {
  describe('--cpu-prof (sampling with SIGPROF from startup)', PARALLEL, () => {
    for (const sig of SIGNALS) {
      test(`stallwatch on ${sig}: stalls captured, the profile written and complete`, TIMEOUT, async () => {
        const dir = fs.mkdtempSync(path.join(tmp, 'cpuprof-'));
        const r = await run(['cpu-prof', sig], { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=200'] });
        explain(r, () => {
          assertCleanExit(r);
          assert.equal(r.out.reports.length, 2);
          for (const report of r.out.reports) assertCaptured(report, r);
          const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
          assert.equal(files.length, 1, 'the profile was written at exit');
          const profile = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
          assert.ok(profile.samples.length > 1000, `the profiler kept sampling: ${profile.samples.length} samples`);
          assert.ok(profile.nodes.some((n) => n.callFrame.functionName === 'spinFor'), 'it sampled the stalls too');
        });
      });
    }
  });

  describe("inspector Profiler.start at run time (V8 installs its SIGPROF handler then)", PARALLEL, () => {
    for (const sig of SIGNALS) {
      for (const order of ['profiler-first', 'stallwatch-first']) {
        test(`stallwatch on ${sig}, ${order}: captures before, during and after profiling; the profile is sound`, TIMEOUT, async (t) => {
          const r = await runRepeatingOverload(t, ['inspector', sig, order]);
          explain(r, () => {
            assertCleanExit(r);
            // Starting the profiler (or, profiler-first, supervise()) can itself stall the loop
            // past the threshold: V8 logs all existing code for the profiler, reparsing functions
            // for their positions (seen on Node 24: 256 ms, state compiler). A real stall, reported,
            // but before the first injected one: left out here by its capture time.
            const [firstStall] = notes(r, 'captures');
            const reports = r.out.reports.filter((report) => !firstStall || report.capturedAt >= firstStall.startedAt);
            assert.equal(reports.length, 3, 'two stalls while profiling, one after Profiler.stop');
            for (const report of reports) {
              // SIGPROF is V8's own: a capture may not survive the profiler, but must say why.
              if (sig === 'SIGPROF' && report.partial !== undefined) assert.match(report.partial, /capture signal/);
              else assertCaptured(report, r);
            }
            const [profile] = notes(r, 'profile');
            assert.ok(profile.samples > 100, `profile samples: ${profile.samples}`);
            assert.equal(profile.sawStall, true, 'the profile shows the stalled functions');
          });
        });
      }
    }
  });
});

describe('a second copy of stallwatch loaded from another directory', PARALLEL, () => {
  const pairs = [...SIGNALS.map((s) => [s, s]), ['SIGURG', 'SIGUSR2'], ['SIGPROF', 'SIGRTMIN+4']];
  for (const [sigA, sigB] of pairs) {
    for (const order of ['a-first', 'b-first']) {
      test(`package copy on ${sigA}, second copy on ${sigB}, ${order}: each captures every stall`, TIMEOUT, async () => {
        const r = await run(['second-copy', sigA, sigB, order]);
        explain(r, () => {
          assertCleanExit(r);
          // Under load, attaching the other copy can itself stall the loop past the threshold: its
          // require() of the package, its dlopen, V8's replay of existing code in supervise(),
          // thread start-up. A real stall, reported, but before the first of the two injected
          // here: left out by its capture time.
          const [firstStall] = notes(r, 'captures');
          const injected = (reports) => reports.filter((report) => !firstStall || report.capturedAt >= firstStall.startedAt);
          const a = injected(reportsTagged(r, 'a'));
          const b = injected(reportsTagged(r, 'b'));
          assert.equal(a.length, 2, 'the package copy reported both stalls');
          assert.equal(b.length, 2, 'the second copy reported both stalls');
          for (const report of a) assertCaptured(report, r, 'package copy report');
          for (const report of b) assertCaptured(report, r, 'second copy report');
        });
      });
    }
  }
});

// V8 keeps one JIT code event handler per isolate, and the code maps are fed from it: the copy
// that attaches second replaces the first's, whose map then missed new code and code moves.
// Each copy's handler now serves the other. A stall in native code gets no exact stack, so its
// JS frames are named from the code map alone: both copies must name them all, with the call
// lines, after a compacting GC moved the bytecode; and the first copy still does after the
// second, whose handler was the one installed, closed.
describe('a second copy of stallwatch: both code maps follow the code', PARALLEL, () => {
  const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
  // Bytecode only (it moves on every compaction); no --no-maglev before V8 11 (Node 18 refuses it).
  const NODE_ARGS = ['--expose-gc', '--stress-compaction', '--no-opt', '--no-sparkplug', ...(NODE_MAJOR >= 20 ? ['--no-maglev'] : [])];
  const LINES_THROUGH_SHARED_HANDLER = NODE_MAJOR >= 20;
  const cases = [['SIGURG', 'SIGURG', 'timer'], ['SIGURG', 'SIGUSR2', 'timer'], ['SIGRTMIN+4', 'SIGRTMIN+4', 'http']];
  for (const [sigA, sigB, round] of cases) {
    for (const order of ['a-first', 'b-first']) {
      test(`package copy on ${sigA}, second copy on ${sigB}, ${order}, stalls from a ${round}: every JS frame named, from both`, TIMEOUT, async () => {
        const r = await run(['second-copy-code', sigA, sigB, order, round], { nodeArgs: NODE_ARGS });
        explain(r, () => {
          assertCleanExit(r);
          const first = order === 'a-first' ? 'a' : 'b';
          for (const tag of ['a', 'b']) {
            // The injected stalls, told apart by their native frame (named from the test addon's
            // symbols, whatever the code maps know). The fixture's own heap fragmentation and
            // forced GC between stalls can stall the loop past the threshold too (under ASan, or
            // on a loaded machine): real stalls, but not the ones this test is about.
            const reports = reportsTagged(r, tag).filter((report) =>
              report.frames.some((f) => f.kind === 'native' && f.name === 'stallwatch_test::HoldTheLock(int)'));
            // The copy that attached first stays for a third stall after the other closed.
            assert.equal(reports.length, tag === first ? 3 : 2, `copy ${tag}: one report per stall while it listened`);
            for (const [i, report] of reports.entries()) {
              const label = `copy ${tag}`;
              assert.equal(report.partial, undefined, `${label}: complete (${report.partial})`);
              assertReportShape(report, r);
              const stalled = i < 2 ? 'stallAfterBoth' : 'stallAfterClose';
              assertChain(report, [native('stallwatch_test::HoldTheLock(int)'), js('blockForBothCopies'), js(stalled)]);
              const frame = (name) => report.frames.find((f) => f.kind === 'js' && f.name === name);
              // Call lines: on V8 10 (Node 18) a bytecode's positions reach a copy next to its name
              // event from another listener, in an order that two copies' listeners do not keep
              // (measured: either copy can miss them; names are unaffected). Checked from V8 11 on.
              if (!LINES_THROUGH_SHARED_HANDLER) continue;
              // Compiled after both attached, or (the third) after the later one handed its
              // handler over: its line table reached this copy through the installed handler.
              assert.ok(frame(stalled).line > 0, `${label}: ${stalled} has its call line`);
              // Compiled when only the first copy listened: the second learned of it from V8's
              // replay of existing code, which has no line tables (documented); the first keeps its
              // table through that replay and through the moves.
              if (tag === first) assert.ok(frame('blockForBothCopies').line > 0, `${label}: blockForBothCopies has its call line`);
            }
          }
        });
      });
    }
  }
});

// One copy's capture can land while the thread runs the other copy's exact-stack interrupt
// callback (C++ for a millisecond or so, state EXTERNAL). Reported as is, the stall would read
// "native, in the other copy's code". The watchdog samples again a few milliseconds later instead,
// as it does for a sample inside another signal handler. The test addon stands in for the other
// copy here (it introduces itself as one), pausing in its own code right when the capture comes.
describe('a capture that lands in another copy\'s code samples again', PARALLEL, () => {
  for (const [sig, round] of [['SIGURG', 'timer'], ['SIGRTMIN+4', 'http']]) {
    test(`on ${sig}, stalls from a ${round}: the report shows the JS stall, not the other copy`, TIMEOUT, async () => {
      const r = await run(['peer-pause', sig, round]);
      explain(r, () => {
        assertCleanExit(r);
        const samples = notes(r, 'samples');
        assert.ok(samples.length >= 1 && samples.length === r.out.reports.length, 'one report per stall');
        // Otherwise no capture came during a pause, and this run proved nothing.
        assert.ok(samples.some((n) => n.samples > 1), `a capture landed in the pause and sampled again: ${JSON.stringify(samples)}`);
        for (const report of r.out.reports) {
          assertCaptured(report, r);
          assert.equal(report.state, 'js', 'state js');
          assert.ok(!report.frames.some((f) => /PeerCode/.test(f.name || '')), 'no frame of the other copy');
        }
      });
    });
  }
});

// Both copies on one signal re-install their handlers before every capture. Without knowing
// each other they took turns on top, each forwarding to the other: a cycle in which a signal that
// is neither's went round and never reached the app's listener or the default action.
describe('two copies on one signal: a signal that is neither\'s still reaches what was there before', PARALLEL, () => {
  const DEFAULT_TERMINATES = { SIGURG: false, SIGUSR2: true, SIGPROF: true };
  for (const sig of Object.keys(DEFAULT_TERMINATES)) {
    for (const order of ['a-first', 'b-first']) {
      test(`${sig}, ${order}: after both captured, an external kill reaches the app's listener once`, TIMEOUT, async () => {
        const r = await run(['second-copy', sig, sig, order, 'listener']);
        explain(r, () => {
          assertCleanExit(r);
          assert.equal(reportsTagged(r, 'b').length, 2, 'the second copy reported both stalls');
          const [listener] = notes(r, 'listener');
          assert.equal(listener.calls, 1, 'the app listener got the external signal once');
        });
      });
      test(`${sig}, ${order}: with no listener, an external kill has its default action`, TIMEOUT, async () => {
        const r = await run(['second-copy', sig, sig, order, 'kill']);
        explain(r, () => {
          assert.equal(reportsTagged(r, 'b').length, 2, 'the second copy reported both stalls');
          if (DEFAULT_TERMINATES[sig]) {
            assert.equal(r.signal, sig, `the process ended by ${sig}, as without stallwatch`);
          } else {
            assertCleanExit(r);
            assert.equal(notes(r, 'survived').length, 1, `${sig} is ignored by default: the process goes on`);
          }
        });
      });
    }
  }
});
