'use strict';
// Stacks deeper than maxFrames: a report keeps at most maxFrames frames, says it was cut, and
// the frames it keeps are still interleaved (C++ on top, then the JS frames in order), not
// "shown together where V8 code starts". Scenario: test/fixtures/deep-native.js.
const assert = require('node:assert/strict');
const { describe, test, before } = require('node:test');
const { runFixture } = require('./helpers/run-fixture');
const { preflight, explain, assertCleanExit, assertReportShape, assertChain, js, native } = require('./helpers/checks');

before(preflight);

describe('a stack deeper than maxFrames, with C++ frames on top', () => {
  for (const trigger of ['timer', 'http']) {
    test(`from ${trigger === 'timer' ? 'a timer' : 'an HTTP request handler'}: cut, and interleaved`, { timeout: 60000 }, async () => {
      const r = await runFixture('deep-native', { args: [trigger] });
      explain(r, () => {
        assertCleanExit(r);
        assert.equal(r.out.reports.length, 1, 'one report for one stall');
        const report = r.out.reports[0];
        assertReportShape(report, r);
        const { maxFrames } = r.out.ready;
        assert.ok(report.frames.length <= maxFrames, `${report.frames.length} frames, maxFrames ${maxFrames}`);
        assert.match(report.partial || '', /deeper than maxFrames \(32\) and was cut/);
        assert.doesNotMatch(report.partial || '', /could not be matched/, 'the views were aligned');
        const [, , callNativeAt] = assertChain(report, [native(/nanosleep/), native('stallwatch_test::HoldTheLock(int)'), js('callNative'), js('descend')]);
        // Below callNative, every frame up to the cut is descend's (JS -> JS calls: no frame between).
        const rest = report.frames.slice(callNativeAt + 1);
        assert.ok(rest.length >= 10, `the cut keeps the innermost descend frames (${rest.length})`);
        assert.ok(rest.every((f) => f.kind === 'js' && f.name === 'descend'),
          `only descend below callNative: ${rest.map((f) => `${f.kind}:${f.name}`).join(' ')}`);
      });
    });
  }
});
