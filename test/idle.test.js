'use strict';
// An idle loop is not a stalled loop: no report for a process waiting on a timer or an HTTP server
// waiting for requests, and no extra event-loop wake-ups caused by stallwatch.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, before } = require('node:test');
const { runFixture, parseTextReports } = require('./helpers/run-fixture');
const { preflight, explain, assertCleanExit } = require('./helpers/checks');

const TIMEOUT = { timeout: 60000 };

before(preflight);

function assertNoReport(r) {
  assert.equal(r.out.reports.length, 0, 'no report');
  assert.equal(r.out.unblocked.length, 0, 'no unblocked event');
  assert.equal(parseTextReports(r.stderr).length, 0, 'nothing logged');
  assert.doesNotMatch(r.stderr, /stallwatch:/);
}

test('idle process: one 3 s timer, no report', TIMEOUT, async () => {
  const r = await runFixture('idle');
  explain(r, () => {
    assertCleanExit(r);
    assertNoReport(r);
  });
});

test('idle HTTP server: a few quick requests, then nothing; no report', TIMEOUT, async () => {
  const r = await runFixture('idle-http');
  explain(r, () => {
    assertCleanExit(r);
    assertNoReport(r);
  });
});

/** Why strace can't be used here, or null when it can. */
function straceUnavailable() {
  const probe = spawnSync('strace', ['-f', '-o', '/dev/null', 'true'], { encoding: 'utf8' });
  if (probe.error) return `strace not available (${probe.error.code})`;
  if (probe.status !== 0) return `strace does not work here: ${probe.stderr.trim()}`;
  return null;
}

/**
 * epoll waits of the main thread (tid = pid) between the fixture's two marker syscalls, i.e.
 * during its 3 s idle window: how many times the loop woke up and polled again.
 */
function countWakeups(straceLog, pid) {
  let inWindow = false;
  let begin = false;
  let end = false;
  let count = 0;
  for (const line of straceLog.split('\n')) {
    if (!line.startsWith(`${pid} `)) continue;
    if (line.includes('/nonexistent-stallwatch-marker/idle-begin')) { inWindow = true; begin = true; continue; }
    if (line.includes('/nonexistent-stallwatch-marker/idle-end')) { inWindow = false; end = true; continue; }
    if (inWindow && /^\d+ +epoll_\w*wait\w*\(/.test(line)) count++; // a call, not a '<... resumed>'
  }
  assert.ok(begin && end, `the idle window markers are in the strace log of ${pid}`);
  return count;
}

test('idle process: stallwatch adds no event-loop wake-ups (strace)', TIMEOUT, async (t) => {
  const why = straceUnavailable();
  if (why) return t.skip(why);
  if (process.platform !== 'linux') return t.skip('Linux only');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-strace-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const traced = async (label, env) => {
    const file = path.join(dir, `${label}.strace`);
    const wrap = ['strace', '-f', '-e', 'trace=/epoll_.*wait|access', '-o', file];
    const r = await runFixture('idle', { wrap, env, timeoutMs: 30000 });
    explain(r, () => assertCleanExit(r));
    return { r, wakeups: countWakeups(fs.readFileSync(file, 'utf8'), r.out.ready.pid) };
  };
  const without = await traced('without', { STALLWATCH_FIXTURE_NO_SUPERVISE: '1' });
  const supervised = await traced('with', {});
  explain(supervised.r, () => {
    assertNoReport(supervised.r);
    assert.ok(without.wakeups >= 1, 'the baseline polls at least once in 3 s');
    assert.ok(supervised.wakeups <= without.wakeups + 1,
      `main-thread epoll waits during 3 s of idleness: ${supervised.wakeups} with stallwatch, ${without.wakeups} without`);
  });
});
