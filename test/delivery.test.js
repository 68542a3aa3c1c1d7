'use strict';
// Delivery guarantees of the core capture: rate limiting with a count of what was withheld,
// and events of a stall that ends the script delivered before the process exits.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { runFixture, parseFixtureOutput } = require('./helpers/run-fixture');

test('maxReportsPerMinute withholds further reports of the thread within the minute', async () => {
  const result = await runFixture('rate-limit', { timeoutMs: 30000 });
  const out = parseFixtureOutput(result.stdout);
  assert.ok(out.done, `fixture finished: ${result.stderr.slice(-400)}`);
  const stalls = out.notes.filter((n) => n.step === 'stall').length;
  assert.equal(stalls, 5, 'five stalls ran');
  assert.equal(out.reports.length, 2, `two of five stalls reported, got ${out.reports.length}`);
  assert.equal(out.unblocked.length, 2, 'unblocked only for the reported stalls');
  for (const r of out.reports) assert.equal(r.suppressed, undefined, 'nothing withheld before these two');
  const logged = (result.stderr.match(/^stallwatch: main thread .* blocked for/gm) || []).length;
  assert.equal(logged, 2, `the log has the same two reports, got ${logged}`);
});

test('a suppressed stall is counted in the next report', async () => {
  const result = await runFixture('rate-limit-count', { timeoutMs: 90000 });
  const out = parseFixtureOutput(result.stdout);
  assert.ok(out.done, `fixture finished: ${result.stderr.slice(-400)}`);
  assert.equal(out.reports.length, 2, `first and post-minute stalls reported, got ${out.reports.length}`);
  assert.equal(out.reports[0].suppressed, undefined);
  assert.equal(out.reports[1].suppressed, 2, 'the two stalls withheld in between are counted');
  assert.match(result.stderr, /2 earlier stalls were not reported \(maxReportsPerMinute\)/);
});

test('a stall in the last callback of a script is delivered before the process exits', async () => {
  const result = await runFixture('last-callback', { timeoutMs: 20000 });
  const out = parseFixtureOutput(result.stdout);
  assert.equal(result.code, 0, `exits on its own with 0: ${result.stderr.slice(-400)}`);
  assert.ok(out.done);
  assert.equal(out.reports.length, 1, 'the blocked event arrived');
  assert.ok(out.reports[0].frames.some((f) => f.kind === 'js' && f.name === 'lastWork'), 'naming the last callback');
  assert.equal(out.unblocked.length, 1, 'and the unblocked event');
  assert.ok(out.unblocked[0].blockedMs >= 550, `with the full length, got ${out.unblocked[0].blockedMs}`);
});
