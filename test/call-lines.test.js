'use strict';
// The exact line of a JS frame below a native call: a thread stuck in readFileSync, execSync or
// an addon runs no JS, so no interrupt-time stack comes; each interpreted frame's sampled
// bytecode offset names its call, and the code map's line table (V8's source positions for
// that bytecode, taken when it was compiled) gives the call's line and column. Checked against
// the call sites in the fixtures' sources, from a timer and from an HTTP handler.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runFixture, parseFixtureOutput, parseTextReports } = require('./helpers/run-fixture');

const FIXTURES = path.join(__dirname, 'fixtures');
// V8 10 (Node 18) cannot turn a position into a column through its API: lines only there.
const HAS_COLUMNS = Number(process.versions.v8.split('.')[0]) >= 11;
const COMMON = path.join(FIXTURES, '_common.js');

/** Line and column (1-based) of `callee` in the one line of `file` that contains `lineText`:
 *  where V8 puts a call's position (the callee's name, after any `object.`). */
function callSite(file, lineText, callee) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const at = lines.map((l, i) => (l.includes(lineText) ? i : -1)).filter((i) => i >= 0);
  assert.equal(at.length, 1, `exactly one line of ${file} contains ${JSON.stringify(lineText)}`);
  const column = lines[at[0]].indexOf(callee, lines[at[0]].indexOf(lineText));
  assert.ok(column >= 0);
  return { line: at[0] + 1, column: column + 1 };
}

const CASES = [
  {
    fixture: 'fifo-read',
    calls: [
      { name: 'readConfig', ...callSite(path.join(FIXTURES, 'fifo-read.js'), 'return fs.readFileSync(fifo', 'readFileSync') },
      { name: 'loadConfig', ...callSite(path.join(FIXTURES, 'fifo-read.js'), 'const text = readConfig()', 'readConfig') },
    ],
  },
  {
    fixture: 'exec-sync',
    calls: [{ name: 'runMigration', ...callSite(path.join(FIXTURES, 'exec-sync.js'), "  execSync('sleep 1.5');", 'execSync') }],
  },
  {
    fixture: 'native-addon',
    calls: [{ name: 'callNative', ...callSite(path.join(FIXTURES, 'native-addon.js'), 'addon.blockInNative(1500)', 'blockInNative') }],
  },
];
const RUN_CALL = { name: 'run', ...callSite(COMMON, '    fn();', 'fn') };

for (const { fixture, calls } of CASES) {
  for (const mode of ['timer', 'http']) {
    test(`${fixture} (${mode}): each JS frame below the native call has the line and column of its call`, async () => {
      const result = await runFixture(path.join(FIXTURES, `${fixture}.js`), { args: [mode], timeoutMs: 30000 });
      const out = parseFixtureOutput(result.stdout);
      assert.equal(out.reports.length, 1, result.describe());
      const [report] = out.reports;
      assert.equal(report.state, 'native', result.describe());
      assert.equal(report.partial, undefined, `complete: ${report.partial}`);
      for (const want of [...calls, RUN_CALL]) {
        const frame = report.frames.find((f) => f.kind === 'js' && f.name === want.name);
        assert.ok(frame, `${want.name} in ${report.frames.map((f) => f.name).join(' | ')}`);
        assert.deepEqual({ line: frame.line, column: frame.column }, { line: want.line, column: HAS_COLUMNS ? want.column : undefined },
          `${want.name}: the line of its call (defined at ${frame.functionLine})`);
        assert.ok(frame.functionLine <= frame.line, 'functionLine stays the definition line');
      }
      // The text log shows them as file:line:column.
      const [text] = parseTextReports(result.stderr);
      const first = calls[0];
      const position = HAS_COLUMNS ? `${first.line}:${first.column}` : `${first.line}`;
      assert.ok(text.frames.some((l) => l.includes(`at ${first.name} (`) && l.endsWith(`${fixture}.js:${position})`)), text.text);
    });
  }
}

// Optimized code's source positions reach the same JIT event handler: none may be kept (they
// mix inlined functions' positions) and none may upset it. A build that mishandled them
// crashed here (V8 leaves the handler's user_data for them uninitialized).
for (const mode of ['timer', 'http']) {
  test(`functions optimized by TurboFan while supervised, then a native stall (${mode}): no crash, the call's line`, async () => {
    const file = path.join(FIXTURES, 'optimized-then-native.js');
    const result = await runFixture(file, { args: [mode], nodeArgs: ['--allow-natives-syntax'], timeoutMs: 30000 });
    const out = parseFixtureOutput(result.stdout);
    assert.ok(out.done, result.describe());
    assert.equal(result.code, 0, result.describe());
    assert.equal(out.notes.find((n) => n.step === 'optimized').count, 20);
    const report = out.reports.find((r) => r.frames.some((f) => f.name === 'callNative'));
    assert.ok(report, result.describe());
    assert.equal(report.partial, undefined, `complete: ${report.partial}`);
    const want = callSite(file, 'addon.blockInNative(800)', 'blockInNative');
    const frame = report.frames.find((f) => f.kind === 'js' && f.name === 'callNative');
    assert.deepEqual({ line: frame.line, column: frame.column }, { line: want.line, column: HAS_COLUMNS ? want.column : undefined });
  });
}
