'use strict';
// stallwatch samples a stalled thread with a signal the application may use too. For each
// supported signal: the app's own process.on() listeners keep working (before and after
// supervise(), and after they are removed), stallwatch's signals never reach them, and with no
// app listener an external kill does exactly what it does without stallwatch.
const assert = require('node:assert/strict');
const { describe, test, before } = require('node:test');
const { runFixture } = require('./helpers/run-fixture');
const { preflight, explain, assertCleanExit, assertReportShape, assertChain, js } = require('./helpers/checks');

const SIGNALS = ['SIGURG', 'SIGUSR2', 'SIGPROF', 'SIGRTMIN+4'];
const TIMEOUT = { timeout: 60000 };
const NO_SUPERVISE = { STALLWATCH_FIXTURE_NO_SUPERVISE: '1' };

before(preflight);

/** How a `signals default` run ended. Node reports a death by a real-time signal as code 0 with no
 *  signal name, so whether the fixture got past the kill ('survived') is part of the outcome. */
function outcome(r) {
  return {
    code: r.code,
    signal: r.signal,
    survived: r.out.notes.some((n) => n.step === 'survived'),
    done: r.out.done,
  };
}

for (const sig of SIGNALS) {
  const realtime = sig.startsWith('SIGRTMIN');
  describe(`signal: ${sig}`, () => {
    test(realtime
      ? 'two stalls are captured (process.on() does not support real-time signals)'
      : 'app listeners added before and after supervise() get external kills, never stallwatch\'s signals; ' +
        'stalls are still captured after the app removes them',
    TIMEOUT, async () => {
      const r = await runFixture('signals', { args: [sig, 'coexist'] });
      explain(r, () => {
        assertCleanExit(r); // in particular: not killed by its own sampling signal
        assert.equal(r.out.reports.length, 2, 'both stalls reported');
        for (const report of r.out.reports) {
          assertReportShape(report, r);
          assertChain(report, [js('spinFor'), js('stallForSignals')]);
        }
        assert.equal(r.out.unblocked.length, 2);
        const counts = Object.fromEntries(r.out.notes.filter((n) => n.step !== 'stall')
          .map(({ step, before: b, after: a }) => [step, { before: b, after: a }]));
        if (realtime) {
          assert.deepEqual(counts['second-stall'], { before: 0, after: 0 });
        } else {
          const once = { before: 1, after: 1 };
          assert.deepEqual(counts['external-kill'], once, 'the external kill reached both app listeners');
          assert.deepEqual(counts['first-stall'], once, "stallwatch's own signal reached no app listener");
          assert.deepEqual(counts['second-stall'], once, 'removed listeners were not called');
        }
      });
    });

    test('with no app listener, an external kill keeps its default action', TIMEOUT, async () => {
      const [baseline, r] = await Promise.all([
        runFixture('signals', { args: [sig, 'default'], env: NO_SUPERVISE }),
        runFixture('signals', { args: [sig, 'default'] }),
      ]);
      explain(r, () => {
        assert.equal(r.timedOut, false);
        assert.equal(r.out.reports.length, 1, "the stall before the kill was captured: stallwatch's handler was in place");
        assertChain(r.out.reports[0], [js('spinFor'), js('stallForSignals')]);
        assert.deepEqual(outcome(r), outcome(baseline), `same outcome as without stallwatch\n${baseline.describe()}`);
        if (sig === 'SIGURG') assert.deepEqual(outcome(r), { code: 0, signal: null, survived: true, done: true }, 'SIGURG is ignored');
        else if (realtime) assert.equal(outcome(r).survived, false, `${sig} terminates the process`);
        else assert.equal(r.signal, sig, `${sig} terminates the process`);
      });
    });
  });
}
