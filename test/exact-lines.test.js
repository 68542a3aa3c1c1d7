'use strict';
// The line executing now, for a thread in a RegExp and in Atomics.wait.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runFixture, parseFixtureOutput } = require('./helpers/run-fixture');

const SOURCE = fs.readFileSync(path.join(__dirname, 'fixtures', 'exact-lines.js'), 'utf8').split('\n');
const lineOf = (needle) => SOURCE.findIndex((l) => l.includes(needle)) + 1;

for (const [mode, fn, needle, state] of [
  ['regexp', 'backtrack', '/^(a+)+$/.test', 'js'],
  ['atomics', 'waitAWhile', 'Atomics.wait(cell', 'atomics-wait'],
]) {
  test(`${mode}: the frame of ${fn} carries the line being executed`, async () => {
    const result = await runFixture('exact-lines', { args: [mode], timeoutMs: 60000 });
    const out = parseFixtureOutput(result.stdout);
    assert.equal(out.reports.length, 1, result.describe());
    const report = out.reports[0];
    assert.equal(report.state, state);
    const frame = report.frames.find((f) => f.kind === 'js' && f.name === fn);
    assert.ok(frame, `${fn} in ${report.frames.map((f) => f.name).join(' | ')}`);
    assert.equal(frame.line, lineOf(needle), `executing line of ${fn}`);
    assert.ok(frame.column > 0);
    assert.equal(frame.functionLine, lineOf(`function ${fn}()`), 'definition line kept apart');
  });
}
