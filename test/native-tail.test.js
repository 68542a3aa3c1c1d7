'use strict';
// The native frames below the C++ that called into V8 (the callback's entry, uv_run, node::Start,
// main) are walked with libunwind on a thread's first capture and replayed on the next ones while
// every stack word that walk read is still in place (native/unwind_tail_cache.h): about 2 µs
// less per frame in the signal handler. A replay must give exactly the frames a walk gives.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { runFixture } = require('./helpers/run-fixture');
const { preflight, assertReportShape } = require('./helpers/checks');

const stallwatch = require('..');
const REPLAYS_HERE = process.platform === 'linux' && process.arch === 'x64' && stallwatch.capabilities().libunwind;

// The native frames below the outermost JS frame, as "name module address".
function tailOf(report) {
  const lastJs = report.frames.map((f) => f.kind).lastIndexOf('js');
  assert.ok(lastJs >= 0, 'a JS frame');
  return report.frames.slice(lastJs + 1).filter((f) => f.kind === 'native')
    .map((f) => `${f.name || '?'} ${f.module || '?'} ${f.address || '?'}`);
}

for (const mode of ['timer', 'http']) {
  test(`four stalls from the same ${mode === 'timer' ? 'timer' : 'HTTP handler'}: the later captures replay the tail, frame for frame`, {
    skip: !REPLAYS_HERE && 'the tail is replayed on x86-64 Linux with libunwind only',
  }, async () => {
    preflight();
    const result = await runFixture('repeated-stalls', { args: [mode, 4], timeoutMs: 60000 });
    const { out } = result;
    assert.equal(result.code, 0, result.describe());
    assert.equal(out.reports.length, 4, result.describe());
    const tails = out.reports.map((report) => {
      assert.equal(report.partial, undefined, `complete: ${report.partial}`);
      assertReportShape(report, result);
      return tailOf(report);
    });
    assert.ok(tails[0].some((line) => line.startsWith('uv_run ')), `the loop is in the tail: ${tails[0].join(' | ')}`);
    for (let i = 1; i < tails.length; i++) {
      assert.deepEqual(tails[i], tails[0], `report ${i + 1}'s frames below V8 are the first report's`);
    }
    const [stats] = out.notes.filter((n) => n.step === 'stats');
    assert.equal(stats.failedSignals, 0);
    // The first capture walks and keeps the tail; a later one may walk again when its start
    // differs (a sample that landed in a runtime call from JS), but not all of them.
    assert.ok(stats.tailReplays >= 1 && stats.tailReplays < stats.samples,
      `tail replays ${stats.tailReplays} of ${stats.samples} samples`);
  });
}
