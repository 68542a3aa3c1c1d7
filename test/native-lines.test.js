'use strict';
// Native file:line from DWARF for a frame of the test addon (built with -g), in the report and
// in the text log line format.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runFixture, parseFixtureOutput, parseTextReports } = require('./helpers/run-fixture');

const ADDON_SOURCE = path.join(__dirname, 'addon', 'stallwatch_test_addon.cc');
// The line HoldTheLock is executing while it sleeps: its call of SleepUntil.
function holdTheLockCallLine() {
  const lines = fs.readFileSync(ADDON_SOURCE, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.includes('void HoldTheLock(int ms)'));
  const offset = lines.slice(start).findIndex((l) => l.includes('SleepUntil(deadline);'));
  assert.ok(start >= 0 && offset > 0, 'found HoldTheLock and its SleepUntil call in the addon source');
  return start + offset + 1;
}

test('capabilities() says native source lines are available (this build has libdw-dev; libdw1 is installed)', () => {
  const caps = require('..').capabilities();
  assert.equal(caps.sourceLines, true, caps.sourceLinesReason);
  assert.equal(caps.sourceLinesReason, undefined);
});

for (const mode of ['timer', 'http']) {
  test(`DWARF file:line for the test addon's frame (${mode})`, async () => {
    const result = await runFixture(path.join(__dirname, 'fixtures-native-lines', 'addon-lines.js'), { args: [mode], timeoutMs: 30000 });
    const out = parseFixtureOutput(result.stdout);
    assert.ok(out.done, result.describe());
    assert.ok(out.reports.length >= 1 && out.reports.length <= 10, result.describe());
    const want = holdTheLockCallLine();
    const frames = out.reports.map((r) => r.frames.find((f) => f.name === 'stallwatch_test::HoldTheLock(int)'));
    for (const frame of frames) assert.ok(frame, 'every report has the addon frame');
    // Lines arrive once the addon's DWARF is loaded in the background: the fixture stalls again
    // until they do (at most 10 times).
    const last = frames[frames.length - 1];
    assert.equal(last.file, ADDON_SOURCE, JSON.stringify(last));
    assert.equal(last.line, want);
    // A line, when present, is never another one.
    for (const frame of frames) if (frame.line !== undefined) assert.equal(frame.line, want);
    for (const report of out.reports) assert.equal(report.partial, undefined, report.partial);
    // The text log shows it as (module, file:line).
    const text = parseTextReports(result.stderr);
    assert.equal(text.length, out.reports.length);
    assert.ok(text[text.length - 1].frames.some((l) => l.includes(`stallwatch_test::HoldTheLock(int) (`) && l.endsWith(`, ${ADDON_SOURCE}:${want})`)), text[text.length - 1].text);
  });
}
