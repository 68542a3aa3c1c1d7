'use strict';
// One stack in true order: native and JS frames interleaved as they are on the thread.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { runFixture, parseFixtureOutput } = require('./helpers/run-fixture');

function indexOf(frames, predicate, what) {
  const i = frames.findIndex(predicate);
  assert.ok(i >= 0, `${what} in ${frames.map((f) => `${f.kind}:${f.name}`).join(' | ')}`);
  return i;
}

async function reportOf(fixture, mode) {
  const result = await runFixture(fixture, { args: [mode], timeoutMs: 30000 });
  const out = parseFixtureOutput(result.stdout);
  assert.equal(out.reports.length, 1, result.describe());
  return out.reports[0];
}

for (const mode of ['timer', 'http']) {
  test(`JS -> native -> JS (${mode}): the addon's C++ frames sit between the two JS segments`, async () => {
    const report = await reportOf('native-callback', mode);
    const f = report.frames;
    const inner = indexOf(f, (x) => x.kind === 'js' && x.name === 'spinInCallback', 'the callback');
    const cpp = indexOf(f, (x) => x.kind === 'native' && x.name.startsWith('stallwatch_test::CallIntoJs'), 'the addon frame');
    const outer = indexOf(f, (x) => x.kind === 'js' && x.name === 'callThroughNative', 'the JS caller of the addon');
    assert.ok(inner < cpp && cpp < outer, `order spinInCallback(${inner}) < CallIntoJs(${cpp}) < callThroughNative(${outer})`);
    const loop = indexOf(f, (x) => x.kind === 'native' && x.name === 'uv_run', 'uv_run');
    assert.ok(outer < loop, 'the event loop is below the JS that it called');
    assert.equal(report.partial, undefined, `complete: ${report.partial}`);
    // Executing lines, from the interrupt-time stack, for every JS frame of the app.
    for (const name of ['spinInCallback', 'callThroughNative']) {
      const frame = f.find((x) => x.kind === 'js' && x.name === name);
      assert.ok(frame.line > 0 && frame.column > 0, `${name} has its executing line:column`);
      assert.ok(frame.functionLine > 0 && frame.line >= frame.functionLine, `${name}: line ${frame.line} at or after its definition ${frame.functionLine}`);
    }
  });
}

test('FIFO read: the syscall path, then the binding, then readFileSync and its JS callers', async () => {
  const report = await reportOf('fifo-read', 'timer');
  const f = report.frames;
  const syscall = indexOf(f, (x) => x.kind === 'native' && /open|read/.test(x.name) && /libc/.test(x.module || ''), 'the libc call');
  const binding = indexOf(f, (x) => x.kind === 'native' && /node::fs::/.test(x.name), 'node\'s fs binding');
  const js = indexOf(f, (x) => x.kind === 'js' && x.name === 'readFileSync', 'readFileSync');
  const caller = indexOf(f, (x) => x.kind === 'js' && x.name === 'readConfig', 'readConfig');
  assert.ok(syscall < binding && binding < js && js < caller, `order ${syscall} < ${binding} < ${js} < ${caller}`);
});
