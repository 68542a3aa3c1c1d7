'use strict';
// supervise() options, fuzzed with fast-check: every option gets random valid values (accepted, with
// the value as given or its documented default) and random invalid ones (a TypeError for a wrong
// type, a RangeError for a right type with a wrong value, and the message names the option), never
// anything else. Two layers:
//   - resolveOptions() (dist/lib/options.js, pure) in this process: thousands of cases;
//   - supervise() end to end in a child process (test/hardening/options-fuzz.js): the addon accepts
//     whatever validation accepts, handles open and close, and the process still captures a real
//     stall afterwards.
// The rule of each option (integer range, boolean, enum, ...) is read from the error message that
// resolveOptions() gives for a Symbol, so the test follows the code; an option whose message fits no
// known rule fails the test ("extend the fuzz test").
//
// fast-check is a devDependency; without it (not installed yet) every test here is skipped with
// the reason. Reproduce a failure with STALLWATCH_FUZZ_SEED=<seed> (printed as a diagnostic);
// STALLWATCH_FUZZ_RUNS scales the number of cases.
const assert = require('node:assert/strict');
const path = require('node:path');
const { describe, test, before } = require('node:test');
const { runFixture, ROOT } = require('./helpers/run-fixture');
const { preflight, explain, assertCleanExit } = require('./helpers/checks');

let fc = null;
let fcMissing = false;
try {
  fc = require('fast-check');
} catch {
  fcMissing = 'fast-check is not installed: add it to devDependencies (npm install --save-dev fast-check)';
}

const SEED = process.env.STALLWATCH_FUZZ_SEED ? Number(process.env.STALLWATCH_FUZZ_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const RUNS = Number(process.env.STALLWATCH_FUZZ_RUNS || 1);
const CAPS = { sigrtmin: 34, sigrtmax: 64 };
const TIMEOUT = { timeout: 180000 };

let options; // dist/lib/options.js
const resolve = (input) => options.resolveOptions(input, CAPS, '/base');
let rules; // option name -> rule
let arbs; // test/hardening/options-arbitraries.js
before(() => {
  preflight();
  options = require(path.join(ROOT, 'dist', 'lib', 'options.js'));
  if (fc) {
    arbs = require('./hardening/options-arbitraries')(fc, resolve, CAPS);
    rules = arbs.rules;
  }
});

const validOptionsArb = (opts) => arbs.validOptionsArb(opts);
const invalidArb = (rule) => arbs.invalidArb(rule);
const assertNamesOption = (error, name) => arbs.assertNamesOption(error, name);

/** For assertion messages: any value, even one whose toString throws. */
function safeString(value) {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : require('node:util').inspect(value, { depth: 2 });
  } catch {
    return Object.prototype.toString.call(value);
  }
}

// ---- resolveOptions(): in process

describe('resolveOptions(), fuzzed', { skip: fcMissing }, () => {
  test('every option has a rule the fuzzer knows', (t) => {
    t.diagnostic(`rules: ${JSON.stringify(rules)}`);
    const unknown = Object.entries(rules).filter(([, r]) => r.kind === 'unknown');
    assert.deepEqual(unknown.map(([n, r]) => `${n}: ${r.message}`), [], 'options with a rule this test cannot fuzz: extend the fuzz test');
    assert.ok(Object.keys(rules).length >= 6);
  });

  test('valid options are accepted as given, absent ones get a default in range', (t) => {
    t.diagnostic(`seed ${SEED}`);
    fc.assert(fc.property(validOptionsArb(), (input) => {
      const out = resolve(input);
      assert.ok(Object.isFrozen(out), 'the result is frozen');
      for (const [name, rule] of Object.entries(rules)) {
        const given = input[name];
        const got = out[name];
        if (rule.kind === 'int') {
          assert.ok(Number.isInteger(got) && got >= rule.min && got <= rule.max, `${name}: ${got}`);
          if (given !== undefined) assert.ok(Object.is(got, given), `${name}: ${got} for ${given}`);
        } else if (rule.kind === 'bool') {
          assert.equal(typeof got, 'boolean');
          if (given !== undefined) assert.equal(got, given);
        } else if (rule.kind === 'enum') {
          assert.ok(rule.values.includes(got));
          if (given !== undefined) assert.equal(got, given);
        } else if (rule.kind === 'signal') {
          const name2 = given === undefined ? 'SIGURG' : given;
          assert.equal(got, name2);
          assert.ok(Number.isInteger(out.signalNumber) && out.signalNumber >= 1 && out.signalNumber <= 64, `signalNumber ${out.signalNumber}`);
        } else if (rule.kind === 'log') {
          if (given === undefined) assert.equal(got, 'stderr');
          else if (typeof given !== 'object') assert.equal(got, given);
          else {
            assert.equal(got.path, path.resolve('/base', given.path), 'log.path is resolved against cwd');
            assert.ok(path.isAbsolute(got.path));
            if (given.maxBytes !== undefined) assert.equal(got.maxBytes, given.maxBytes);
            if (given.keep !== undefined) assert.equal(got.keep, given.keep);
            assert.ok(Object.isFrozen(got));
          }
        } else if (rule.kind === 'nonEmptyString') {
          assert.equal(got, given);
        }
      }
    }), { seed: SEED, numRuns: 2000 * RUNS });
  });

  test('one invalid option among valid ones: TypeError for a wrong type, RangeError for a wrong value, naming it', (t) => {
    t.diagnostic(`seed ${SEED}`);
    const names = Object.keys(rules);
    const arb = fc.constantFrom(...names).chain((name) =>
      fc.tuple(fc.constant(name), invalidArb(rules[name]), validOptionsArb()));
    fc.assert(fc.property(arb, ([name, [value, ErrorClass], others]) => {
      const input = { ...others, [name]: value };
      let error = null;
      try {
        resolve(input);
      } catch (e) {
        error = e;
      }
      assert.ok(error, `${name}: ${safeString(value)} was accepted`);
      assert.ok(error instanceof ErrorClass && error.constructor === ErrorClass,
        `${name}: expected a ${ErrorClass.name}, got ${error && error.constructor && error.constructor.name}: ${error && error.message}`);
      assertNamesOption(error, name);
    }), { seed: SEED, numRuns: 3000 * RUNS });
  });

  test('unknown keys are a TypeError naming the key', (t) => {
    t.diagnostic(`seed ${SEED}`);
    fc.assert(fc.property(fc.string().filter((k) => !(k in rules) && k !== '__proto__'), validOptionsArb(), (key, others) => {
      const error = (() => { try { resolve({ ...others, [key]: 1 }); } catch (e) { return e; } return null; })();
      assert.ok(error instanceof TypeError, `unknown key ${JSON.stringify(key)}: ${error}`);
      assert.ok(error.message.includes(`unknown option ${options.describeValue(key)}`), error.message);
    }), { seed: SEED, numRuns: 500 * RUNS });
  });

  test('anything at all: only TypeError or RangeError, never another error, never a crash', (t) => {
    t.diagnostic(`seed ${SEED}`);
    const anything = fc.anything({
      withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true,
      withObjectString: true, withSparseArray: true, withTypedArray: true, withUnicodeString: true,
    });
    const optionish = fc.oneof(
      anything,
      fc.dictionary(fc.constantFrom(...Object.keys(rules)), anything),
      fc.dictionary(fc.constantFrom(...Object.keys(rules)), anything, { noNullPrototype: false }).map((d) => Object.assign(Object.create(null), d)),
    );
    fc.assert(fc.property(optionish, (input) => {
      try {
        const out = resolve(input);
        assert.ok(Object.isFrozen(out));
      } catch (e) {
        assert.ok(e instanceof TypeError || e instanceof RangeError, `${e && e.constructor && e.constructor.name}: ${e && e.message}`);
        assert.ok(e.message.startsWith('stallwatch: '), e.message);
        // Messages stay readable whatever the value (describeValue truncates long strings).
        assert.ok(e.message.length < 2000, `a ${e.message.length}-character message`);
      }
    }), { seed: SEED, numRuns: 3000 * RUNS });
  });

  test('non-plain objects as the options bag are a TypeError', () => {
    class Options { constructor() { this.thresholdMs = 100; } }
    for (const bad of [null, 1, 'x', [], new Map(), new Options(), () => {}, new Date(), Symbol('s'), 1n, true]) {
      assert.throws(() => resolve(bad), (e) => e instanceof TypeError && /options must be a plain object/.test(e.message), String(typeof bad));
    }
  });
});

// ---- supervise(): end to end, in a child

describe('supervise(), fuzzed end to end', { skip: fcMissing }, () => {
  test('the addon accepts what validation accepts, rejects the rest the same way, and still captures afterwards', TIMEOUT, async (t) => {
    t.diagnostic(`seed ${SEED}`);
    const r = await runFixture(path.join(__dirname, 'hardening', 'options-fuzz.js'), {
      args: [SEED, Math.max(1, Math.round(150 * RUNS))],
      env: { STALLWATCH_FAST_CHECK: require.resolve('fast-check') },
      timeoutMs: 170000,
    });
    explain(r, () => {
      assertCleanExit(r);
      const summary = r.out.notes.find((n) => n.step === 'fuzz');
      assert.ok(summary, 'the fixture fuzzed');
      assert.equal(summary.failure, null, `counterexample: ${summary.failure}`);
      assert.ok(summary.valid > 10 && summary.invalid > 10, JSON.stringify(summary));
      assert.equal(r.out.reports.length, 1, 'a real stall after the fuzzing is still captured');
      assert.equal(r.out.reports[0].frames.some((f) => f.name === 'stallAfterFuzzing'), true);
    });
  });
});
