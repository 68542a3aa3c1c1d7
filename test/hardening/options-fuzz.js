'use strict';
// supervise() fuzzed end to end (test/options-fuzz.test.js). argv: <seed> <runs>.
// env STALLWATCH_FAST_CHECK: the resolved path of fast-check (the test passes its own).
//
// Each case is a whole options object: valid (every option a random valid value, or absent) or with
// exactly one invalid option. Valid: supervise() returns a handle whose options are resolveOptions()'s,
// a log file is created where it says, close() works (twice). Invalid: a TypeError or RangeError
// naming the option, and no handle. On Node < 20 (libuv without uv_metrics_info) a valid
// starvationMs > 0 must fail with an Error naming starvationMs (documented: Node 20+). Between cases the loop turns, so no case sees a stall.
// Then one real stall must still be captured. Prints NOTE {step: 'fuzz', valid, invalid, failure}.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const common = require('../fixtures/_common');

const fc = require(process.env.STALLWATCH_FAST_CHECK || 'fast-check');
const [seed, runs] = process.argv.slice(2).map(Number);
const { supervise, capabilities } = require(common.ROOT);
const { resolveOptions } = require(path.join(common.ROOT, 'dist', 'lib', 'options.js'));
const STARVATION_SUPPORTED = Number(process.versions.node.split('.')[0]) >= 20;

common.main(async () => {
  const caps = capabilities();
  const resolve = (input) => resolveOptions(input, caps);
  const arbs = require('./options-arbitraries')(fc, resolve, { sigrtmin: caps.sigrtmin, sigrtmax: caps.sigrtmax });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-options-fuzz-'));
  const reporterPath = path.join(dir, 'reporter.js');
  fs.writeFileSync(reporterPath, 'module.exports = () => {};\n');
  common.ready({ seed, runs, rules: arbs.rules });

  const names = Object.keys(arbs.rules);
  const valid = arbs.validOptionsArb({ forNative: true, reporterPath }).map((o) => ({ kind: 'valid', options: o }));
  const invalid = fc.constantFrom(...names).chain((name) =>
    fc.tuple(arbs.invalidArb(arbs.rules[name]), arbs.validOptionsArb({ forNative: true }))
      .map(([[value, ErrorClass], others]) => ({ kind: 'invalid', name, ErrorClass, options: { ...others, [name]: value } })));
  const counts = { valid: 0, invalid: 0 };
  let n = 0;

  const property = fc.asyncProperty(fc.oneof(valid, invalid), async (c) => {
    await new Promise((resolveTick) => setImmediate(resolveTick)); // the loop moves between cases
    const options = { ...c.options };
    if (options.log && typeof options.log === 'object' && typeof options.log.path === 'string') {
      // A fresh file per case (rotation sizes vary from case to case).
      options.log = { ...options.log, path: options.log.path.replace(/^LOGDIR\//, `${dir}/${n++}-`) };
    }
    counts[c.kind]++;
    if (c.kind === 'valid' && c.options.starvationMs > 0 && !STARVATION_SUPPORTED) {
      assert.throws(() => supervise(options).close(), (e) => e.constructor === Error && /"starvationMs" needs libuv's uv_metrics_info/.test(e.message),
        'starvationMs on this Node: a clear error naming the option');
    } else if (c.kind === 'valid') {
      const handle = supervise(options);
      try {
        const expected = { ...resolve(options) };
        const got = { ...handle.options };
        // The reporter is resolved to a file when the handle starts.
        delete expected.reporter;
        delete got.reporter;
        assert.deepEqual(got, expected, 'handle.options are the resolved options');
        if (typeof expected.log === 'object') assert.ok(fs.existsSync(expected.log.path), `the log file exists: ${expected.log.path}`);
      } finally {
        handle.close();
        handle.close();
      }
      assert.equal(handle.closed, true);
    } else {
      let error = null;
      let handle = null;
      try {
        handle = supervise(options);
      } catch (e) {
        error = e;
      }
      if (handle) handle.close();
      assert.ok(error, `${c.name}: ${describe(options[c.name])} was accepted`);
      assert.ok(error.constructor === c.ErrorClass, `${c.name}: expected ${c.ErrorClass.name}, got ${error.constructor.name}: ${error.message}`);
      arbs.assertNamesOption(error, c.name);
    }
  });

  let failure = null;
  try {
    await fc.assert(property, { seed, numRuns: runs });
  } catch (error) {
    failure = String(error.message || error).slice(0, 4000);
  }
  common.say('NOTE', { step: 'fuzz', ...counts, failure });
  fs.rmSync(dir, { recursive: true, force: true });

  // Still working: a real stall is captured.
  const sv = common.watch({ log: false });
  await common.trigger('timer', function stallAfterFuzzing() { common.spinFor(600); });
  await common.waitForUnblocked(1);
  common.done(sv);
});

function describe(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
