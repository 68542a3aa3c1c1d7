'use strict';
// docs/eintr.md, checked: which blocking calls one capture signal interrupts on this system (the
// table is compared with test/hardening/eintr_probe.c's measurements), and how many signals a stall
// costs the stalled thread: exactly one in native code, at most three in JS (stats() deltas, and
// strace's count of rt_tgsigqueueinfo calls when strace is installed).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, test, before, after } = require('node:test');
const { runFixture, ROOT } = require('./helpers/run-fixture');
const { preflight, explain, assertCleanExit, assertChain, native, js } = require('./helpers/checks');

const EINTR = path.join(__dirname, 'hardening', 'eintr.js');
const PROBE = path.join(__dirname, 'hardening', 'eintr_probe.c');
const DOC = path.join(ROOT, 'docs', 'eintr.md');
const TIMEOUT = { timeout: 90000 };
const MAX_SIGNALS_JS = 3;

let tmp;
before(() => {
  preflight();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-eintr-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const run = (args, options = {}) => runFixture(EINTR, { args, ...options });
const signalNotes = (r) => r.out.notes.filter((n) => n.step === 'signals');
const signalsOf = (n) => n.samples + n.failed;

/** The table of docs/eintr.md: call -> outcome. */
function documentedOutcomes() {
  const rows = {};
  for (const line of fs.readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\| `([^`]+)` \| (EINTR|restarted|early) \|/.exec(line);
    if (m) rows[m[1]] = m[2];
  }
  return rows;
}

describe('docs/eintr.md: what one capture signal does to each blocking call', () => {
  const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0);
  const rtmin = 34; // glibc's SIGRTMIN
  for (const [name, signo] of [['SIGURG', os.constants.signals.SIGURG], ['SIGRTMIN+4', rtmin + 4]]) {
    test(`the table matches this system (${name})`, { ...TIMEOUT, skip: (!cc && 'no C compiler') || (process.platform !== 'linux' && 'Linux only') }, () => {
      const exe = path.join(tmp, 'eintr_probe');
      if (!fs.existsSync(exe)) {
        const built = spawnSync(cc, ['-O1', '-pthread', PROBE, '-o', exe, '-lrt'], { encoding: 'utf8' });
        assert.equal(built.status, 0, `the probe compiles:\n${built.stderr}`);
      }
      const r = spawnSync(exe, [String(signo)], { cwd: tmp, encoding: 'utf8', timeout: 60000 });
      assert.equal(r.status, 0, `the probe ran:\n${r.stderr}`);
      const measured = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      const documented = documentedOutcomes();
      assert.ok(Object.keys(documented).length >= 25, 'the doc has its table');
      const mismatches = [];
      for (const m of measured) {
        assert.equal(m.handled, 1, `${m.call}: the handler ran`);
        if (!(m.call in documented)) mismatches.push(`${m.call}: measured ${m.outcome}, not in docs/eintr.md`);
        else if (documented[m.call] !== m.outcome) mismatches.push(`${m.call}: docs say ${documented[m.call]}, measured ${m.outcome} (${m.ms} ms${m.detail ? `, ${m.detail}` : ''})`);
      }
      for (const call of Object.keys(documented)) {
        if (!measured.some((m) => m.call === call)) mismatches.push(`${call}: in docs/eintr.md but not measured`);
      }
      assert.deepEqual(mismatches, [], `docs/eintr.md disagrees with ${os.type()} ${os.release()}`);
    });
  }
});

describe('a thread in native code gets exactly one signal per stall', () => {
  test('three stalls in nanosleep: one signal each, and the call saw exactly one EINTR each', TIMEOUT, async () => {
    const r = await run(['native', 'nanosleep', 1000, 3]);
    explain(r, () => {
      assertCleanExit(r);
      const notes = signalNotes(r);
      assert.equal(notes.length, 3);
      for (const n of notes) {
        assert.equal(signalsOf(n), 1, `one signal for stall ${n.stall}: ${JSON.stringify(n)}`);
        assert.equal(n.failed, 0);
        assert.equal(n.eintr, 1, `nanosleep was interrupted once in stall ${n.stall}`);
        assert.equal(n.otherErrors, 0);
        assert.ok(n.elapsedMs >= 995, 'retrying on EINTR kept the full duration');
      }
      assert.equal(r.out.reports.length, 3);
      for (const report of r.out.reports) assertChain(report, [native(/nanosleep/)]);
    });
  });

  for (const kind of ['poll', 'epoll_wait', 'select', 'clock_nanosleep', 'sem_timedwait']) {
    test(`${kind}: one signal, one EINTR (never restarted, as documented)`, TIMEOUT, async () => {
      const r = await run(['native', kind, 800, 1]);
      explain(r, () => {
        assertCleanExit(r);
        const [n] = signalNotes(r);
        assert.equal(signalsOf(n), 1);
        assert.equal(n.eintr, 1);
      });
    });
  }

  for (const kind of ['read-pipe', 'wait-child']) {
    test(`${kind}: one signal, no EINTR at all (restarted under SA_RESTART, as documented)`, TIMEOUT, async () => {
      const r = await run(['native', kind, 800, 2]);
      explain(r, () => {
        assertCleanExit(r);
        for (const n of signalNotes(r)) {
          assert.equal(signalsOf(n), 1);
          assert.equal(n.eintr, 0, `${kind} never returned EINTR`);
          assert.equal(n.otherErrors, 0);
        }
      });
    });
  }

  test('a long stall (3 s, threshold 250 ms) still costs one signal', TIMEOUT, async () => {
    const r = await run(['native', 'nanosleep', 3000, 1]);
    explain(r, () => {
      assertCleanExit(r);
      const [n] = signalNotes(r);
      assert.equal(signalsOf(n), 1);
      assert.equal(n.eintr, 1);
    });
  });

  test('two handles with different thresholds share one capture: one signal', TIMEOUT, async () => {
    const r = await run(['two-handles', 1500]);
    explain(r, () => {
      assertCleanExit(r);
      const [n] = signalNotes(r);
      assert.equal(signalsOf(n), 1);
      assert.equal(n.eintr, 1);
      assert.equal(r.out.reports.length, 2, 'each handle got its report');
    });
  });
});

describe('a thread in JS gets at most three signals per stall', () => {
  test('busy loops', TIMEOUT, async () => {
    const r = await run(['js', 800, 3]);
    explain(r, () => {
      assertCleanExit(r);
      for (const n of signalNotes(r)) {
        assert.ok(signalsOf(n) >= 1 && signalsOf(n) <= MAX_SIGNALS_JS, `stall ${n.stall}: ${signalsOf(n)} signals`);
      }
      for (const report of r.out.reports) assertChain(report, [js('spinFor')]);
    });
  });

  test('allocation-heavy loops (samples in GC are retried): still at most three', TIMEOUT, async (t) => {
    const r = await run(['gc', 1000, 4]);
    explain(r, () => {
      assertCleanExit(r);
      const counts = signalNotes(r).map(signalsOf);
      t.diagnostic(`signals per stall: ${counts.join(', ')}`);
      assert.equal(counts.length, 4);
      for (const c of counts) assert.ok(c >= 1 && c <= MAX_SIGNALS_JS, `${c} signals`);
    });
  });
});

describe('with a sampling profile (sampleIntervalMs: 50)', () => {
  const opts = (o) => ({ env: { STALLWATCH_FIXTURE_OPTIONS: JSON.stringify(o) } });

  test('native code: still one signal per stall unless sampleNative', TIMEOUT, async () => {
    const r = await run(['native', 'nanosleep', 1500, 1], opts({ sampleIntervalMs: 50 }));
    explain(r, () => {
      assertCleanExit(r);
      const [n] = signalNotes(r);
      assert.equal(signalsOf(n), 1);
      assert.equal(n.eintr, 1);
    });
  });

  test('native code with sampleNative: one signal (and one EINTR) per interval, no more', TIMEOUT, async () => {
    const r = await run(['native', 'nanosleep', 1500, 1], opts({ sampleIntervalMs: 50, sampleNative: true }));
    explain(r, () => {
      assertCleanExit(r);
      const [n] = signalNotes(r);
      const bound = Math.ceil((1500 - 250) / 50) + 1;
      assert.ok(signalsOf(n) >= 5 && signalsOf(n) <= bound, `${signalsOf(n)} signals (bound ${bound})`);
      assert.equal(n.eintr, n.samples, 'each delivered signal cut the sleep short once');
    });
  });

  test('JS: one signal per interval while the stall lasts, plus at most the first capture\'s three', TIMEOUT, async () => {
    const r = await run(['js', 1200, 1], opts({ sampleIntervalMs: 50 }));
    explain(r, () => {
      assertCleanExit(r);
      const [n] = signalNotes(r);
      const bound = Math.ceil((1200 - 250) / 50) + MAX_SIGNALS_JS;
      assert.ok(signalsOf(n) >= 5 && signalsOf(n) <= bound, `${signalsOf(n)} signals (bound ${bound})`);
    });
  });
});

describe('signals counted from outside (strace)', () => {
  const strace = spawnSync('strace', ['-V']).status === 0;
  for (const [what, args, bound] of [
    ['native: 2 stalls', ['native', 'nanosleep', 800, 2], (n) => n === 2],
    ['JS: 2 stalls', ['js', 800, 2], (n) => n >= 2 && n <= 2 * MAX_SIGNALS_JS],
  ]) {
    test(`${what}: every rt_tgsigqueueinfo targets the main thread, and they match stats()`, { ...TIMEOUT, skip: !strace && 'strace is not installed' }, async () => {
      const out = path.join(tmp, `strace-${args[0]}.txt`);
      const r = await run(args, { wrap: ['strace', '-f', '-qq', '-e', 'trace=rt_tgsigqueueinfo', '-o', out], timeoutMs: 60000 });
      explain(r, () => {
        assertCleanExit(r);
        const pid = r.out.ready.pid;
        const calls = fs.readFileSync(out, 'utf8').split('\n').filter((l) => /rt_tgsigqueueinfo\(/.test(l));
        const fromStats = signalNotes(r).reduce((sum, n) => sum + signalsOf(n), 0);
        assert.ok(bound(calls.length), `${calls.length} signals sent`);
        assert.equal(calls.length, fromStats, 'strace and stats() agree');
        for (const c of calls) {
          const m = /rt_tgsigqueueinfo\((\d+), (\d+), SIGURG/.exec(c);
          assert.ok(m, `a capture signal: ${c}`);
          assert.equal(Number(m[1]), pid);
          assert.equal(Number(m[2]), pid, 'sent to the main thread only');
        }
      });
    });
  }
});
