'use strict';
// Faults and bad input around a capture: log paths that cannot be opened or written, a thread that
// blocks the capture signal, stacks deeper than maxFrames, and child processes (spawned or fork()ed)
// next to a process that uses the capture signal. Scenarios: test/hardening/faults.js.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { describe, test, before, after } = require('node:test');
const { runFixture } = require('./helpers/run-fixture');
const { preflight, explain, assertCleanExit, assertReportShape, assertChain, js, native } = require('./helpers/checks');

const FAULTS = path.join(__dirname, 'hardening', 'faults.js');
const TIMEOUT = { timeout: 60000 };
const SIGNALS = ['SIGURG', 'SIGUSR2', 'SIGPROF', 'SIGRTMIN+4'];
const NO_SUPERVISE = { STALLWATCH_FIXTURE_NO_SUPERVISE: '1' };

let tmp;
before(() => {
  preflight();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-faults-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const run = (args, options = {}) => runFixture(FAULTS, { args, ...options });
const note = (r, step) => r.out.notes.find((n) => n.step === step);

/** supervise({log: {path}}) in a child; returns its NOTE {step: 'supervise'}. */
async function superviseWithLog(logPath, options = {}) {
  const r = await run(['supervise-log', logPath], options);
  explain(r, () => assertCleanExit(r));
  const n = note(r, 'supervise');
  assert.ok(n, `the fixture tried supervise()\n${r.describe()}`);
  return { r, n };
}

/** The error must be an Error (not a crash), name the path and the system's reason. */
function assertOpenRefused({ r, n }, logPath, reason) {
  explain(r, () => {
    assert.equal(n.ok, false, 'supervise() refused the log path');
    assert.equal(n.name, 'Error');
    assert.ok(n.message.startsWith('stallwatch: '), `message is stallwatch's: ${n.message}`);
    assert.ok(n.message.includes(logPath), `message names the path: ${n.message}`);
    assert.match(n.message, reason);
  });
}

describe('log.path that cannot be opened: supervise() throws an Error naming the path, the process lives on', () => {
  test('a directory', TIMEOUT, async () => {
    assertOpenRefused(await superviseWithLog(tmp), tmp, /Is a directory/);
  });

  test('a missing parent directory', TIMEOUT, async () => {
    const p = path.join(tmp, 'missing', 'x.log');
    assertOpenRefused(await superviseWithLog(p), p, /No such file or directory/);
  });

  test('a symlink is refused (O_NOFOLLOW), and its target is untouched', TIMEOUT, async () => {
    const target = path.join(tmp, 'target.log');
    const link = path.join(tmp, 'link.log');
    fs.writeFileSync(target, 'before\n');
    fs.symlinkSync(target, link);
    assertOpenRefused(await superviseWithLog(link), link, /symbolic links|Too many levels/);
    assert.equal(fs.readFileSync(target, 'utf8'), 'before\n');
  });

  test('a symlink to a directory is refused too', TIMEOUT, async () => {
    const link = path.join(tmp, 'dirlink.log');
    fs.symlinkSync(tmp, link);
    const { n } = await superviseWithLog(link);
    assert.equal(n.ok, false, n.message);
  });

  test('unwritable for every user, root included: a new file under /sys', { ...TIMEOUT, skip: !fs.existsSync('/sys/kernel') && 'no sysfs at /sys' }, async () => {
    // sysfs lets nobody create files, whatever their capabilities.
    assertOpenRefused(await superviseWithLog('/sys/stallwatch-test.log'), '/sys/stallwatch-test.log', /Permission denied|Read-only|No such file/);
  });

  const isRoot = process.getuid && process.getuid() === 0;
  const setpriv = spawnSync('setpriv', ['--version']).status === 0;
  test('a directory without write permission (chmod 555; as root, the fixture runs as nobody via setpriv)', {
    ...TIMEOUT,
    skip: isRoot && !setpriv && 'running as root (permissions do not apply) and setpriv is missing to drop privileges',
  }, async () => {
    const dir = path.join(tmp, 'readonly');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o555);
    fs.chmodSync(tmp, 0o755);
    const p = path.join(dir, 'x.log');
    const wrap = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    assertOpenRefused(await superviseWithLog(p, { wrap }), p, /Permission denied/);
    assert.equal(fs.existsSync(p), false);
  });

  test('an immutable file (chattr +i: refused even to root)', TIMEOUT, async (t) => {
    const p = path.join(tmp, 'immutable.log');
    fs.writeFileSync(p, '');
    const set = spawnSync('chattr', ['+i', p], { encoding: 'utf8' });
    if (set.status !== 0) {
      t.skip(`chattr +i is not available here: ${(set.error && set.error.message) || set.stderr.trim()}`);
      return;
    }
    try {
      assertOpenRefused(await superviseWithLog(p), p, /Operation not permitted|Permission denied/);
    } finally {
      spawnSync('chattr', ['-i', p]);
    }
  });
});

describe('log writes that fail', () => {
  test('a full disk (/dev/full: every write fails with ENOSPC): reports still reach JS, the app keeps running', TIMEOUT, async () => {
    const r = await run(['full-disk']);
    explain(r, () => {
      assertCleanExit(r);
      assert.ok(note(r, 'alive-after-failed-writes'), 'the app went on after the failed writes');
      assert.equal(r.out.reports.length, 2, 'both stalls were delivered to the blocked listener');
      assertChain(r.out.reports[0], [js('spinFor'), js('stallWithFullDisk')]);
      assertChain(r.out.reports[1], [js('spinFor'), js('secondStallWithFullDisk')]);
      for (const report of r.out.reports) assertReportShape(report, r);
      assert.equal(r.out.unblocked.length, 2);
    });
  });
});

describe('a thread that blocks the capture signal', () => {
  for (const sig of SIGNALS) {
    test(`${sig}: a report whose partial says the thread did not take the signal; no hang; the late signal is dropped`, TIMEOUT, async () => {
      const r = await run(['blocked-signal', sig, '1200'], { timeoutMs: 30000 });
      explain(r, () => {
        // Not killed: the late signal (delivered when the thread unblocks it) was dropped, never
        // forwarded to the default action (which terminates for SIGUSR2, SIGPROF and SIGRTMIN+4).
        assertCleanExit(r);
        assert.equal(r.out.reports.length, 2, 'one report per stall');
        const [blocked, after] = r.out.reports;
        assert.equal(typeof blocked.partial, 'string', 'the first report is partial');
        assert.match(blocked.partial, /did not take the capture signal within \d+ ms/);
        assert.match(blocked.partial, /blocks the signal/);
        assert.ok(blocked.frames.length === 0 || blocked.frames.every((f) => f.kind), 'frames is still an array');
        assert.ok(blocked.blockedMs >= 250);
        assert.deepEqual(note(r, 'unblocked-signal'), { step: 'unblocked-signal', pending: true },
          'the capture signal was pending when the thread unblocked it (it was sent, and came late)');
        assertChain(after, [js('spinFor'), js('stallAfterwards')]);
        assert.equal(after.partial, undefined, 'the next stall is captured completely');
        const stats = note(r, 'stats');
        assert.ok(stats.failedSignals >= 1, `stats() counted the failed signal: ${JSON.stringify(stats)}`);
        assert.ok(stats.samples >= 1);
        // The first stall lasted 1200 ms: the report came within the stall's bound, not after a hang.
        assert.ok(r.durationMs < 20000, `took ${r.durationMs} ms`);
      });
    });
  }
});

describe('stacks deeper than maxFrames', () => {
  for (const where of ['js', 'native']) {
    for (const [maxFrames, depth] of [[1, 200], [8, 200], [16, 40]]) {
      test(`${where}: maxFrames ${maxFrames}, recursion ${depth} deep: at most maxFrames frames, partial says so`, TIMEOUT, async () => {
        const r = await run(['max-frames', maxFrames, depth, where]);
        explain(r, () => {
          assertCleanExit(r);
          assert.equal(r.out.reports.length, 1);
          const [report] = r.out.reports;
          assertReportShape(report, r);
          assert.ok(report.frames.length <= maxFrames, `${report.frames.length} frames > maxFrames ${maxFrames}`);
          assert.equal(report.frames.length, maxFrames, 'the deep stack fills maxFrames');
          assert.match(report.partial || '', new RegExp(`deeper than maxFrames \\(${maxFrames}\\)`));
          // The innermost frames are the ones kept.
          assertChain(report, where === 'js' ? [js('spinFor')] : [native(/nanosleep/)]);
        });
      });
    }
  }

  test('exactly at the limit: a stack cut by maxFrames is always marked partial, a complete one never', TIMEOUT, async () => {
    // The full depth of a fixed stack, then maxFrames just below and at it.
    const full = await run(['max-frames', 1024, 3, 'native']);
    const length = full.out.reports[0] && full.out.reports[0].frames.length;
    assert.ok(length > 4, `the reference stack has frames\n${full.describe()}`);
    for (const n of [length - 1, length]) {
      const r = await run(['max-frames', n, 3, 'native']);
      explain(r, () => {
        assertCleanExit(r);
        const [report] = r.out.reports;
        assert.ok(report.frames.length <= n);
        const cut = /deeper than maxFrames/.test(report.partial || '');
        // A cut stack fills maxFrames; a stack shorter than maxFrames was not cut.
        if (cut) assert.equal(report.frames.length, n, `cut, yet ${report.frames.length} frames for maxFrames ${n}`);
        if (report.frames.length < n) assert.equal(cut, false, `${report.frames.length} frames < maxFrames ${n}, yet "${report.partial}"`);
        // The same stack as the reference run, one frame short: cut, and said so.
        if (n < length) assert.ok(cut, `${report.frames.length} frames shown of a ${length}-frame stack, but no partial note`);
      });
    }
  });
});

describe('child processes of a process that uses the capture signal', () => {
  /** How a child ended that sent itself `sig`: what it would do without stallwatch. */
  const expected = (sig) => (sig === 'SIGURG' ? 'survives (SIGURG is ignored by default)' : `dies by ${sig}`);

  for (const sig of SIGNALS) {
    test(`spawned (exec) child sending itself ${sig} ${expected(sig)}, as without stallwatch`, TIMEOUT, async () => {
      const [baseline, r, during] = await Promise.all([
        run(['spawn', sig], { env: NO_SUPERVISE }),
        run(['spawn', sig]),
        run(['spawn', sig, 'stall']),
      ]);
      for (const result of [baseline, r, during]) explain(result, () => assertCleanExit(result));
      const child = (x) => {
        const n = note(x, 'child');
        return { survived: n.out === 'alive', signal: n.signal };
      };
      explain(r, () => {
        assert.deepEqual(child(r), child(baseline), `same as without stallwatch\n${baseline.describe()}`);
        assert.deepEqual(child(during), child(baseline), `spawned while the parent was being captured: same\n${during.describe()}`);
        assert.equal(child(r).survived, sig === 'SIGURG');
        if (sig !== 'SIGURG' && !sig.startsWith('SIGRT')) assert.equal(child(r).signal, sig);
        assert.equal(during.out.reports.length, 1, 'the parent was captured while the child ran');
      });
    });
  }

  for (const sig of SIGNALS) {
    for (const how of ['kill', 'sigqueue', 'tgkill']) {
      test(`fork()ed child (no exec: stallwatch's handler, none of its threads) sending itself ${sig} by ${how} ${expected(sig)}`, TIMEOUT, async () => {
        const [baseline, r] = await Promise.all([
          run(['fork', sig, how], { env: NO_SUPERVISE }),
          run(['fork', sig, how]),
        ]);
        explain(r, () => {
          assertCleanExit(baseline);
          assertCleanExit(r);
          const { step, ...child } = note(r, 'child');
          const { step: s2, ...base } = note(baseline, 'child');
          void step; void s2;
          assert.deepEqual(child, base, `the child ended as without stallwatch\n${baseline.describe()}`);
          const rtmin = 34;
          const signo = sig === 'SIGRTMIN+4' ? rtmin + 4 : os.constants.signals[sig];
          if (sig === 'SIGURG') assert.deepEqual(child, { exited: 1, code: 0, signaled: 0, signal: 0 });
          else assert.deepEqual(child, { exited: 0, code: -1, signaled: 1, signal: signo });
          assert.equal(r.out.reports.length, 1, 'the parent was supervised (and captured) before the fork');
        });
      });
    }
  }
});
