'use strict';
// fast-check arbitraries for supervise() options, shared by test/options-fuzz.test.js (resolveOptions()
// in process) and test/hardening/options-fuzz.js (supervise() end to end in a child).
// module.exports = (fc, resolve, caps) => {rules, validArb, invalidArb, validOptionsArb, isValidSignal, namesIn}
// where resolve(input) is resolveOptions bound to `caps`.
const assert = require('node:assert/strict');

module.exports = function makeArbitraries(fc, resolve, CAPS) {
  /** The rule of each option, from the messages resolveOptions() gives. */
  function readRules(resolve) {
    let known;
    try {
      resolve({ '\u{1F9EA}not-an-option': 1 });
    } catch (error) {
      const m = /known options are (.+)$/.exec(error.message);
      assert.ok(m, `the unknown-option message lists the known options: ${error.message}`);
      known = m[1].split(', ');
    }
    const result = {};
    for (const name of known) {
      let message = '';
      try {
        resolve({ [name]: Symbol('probe') });
        assert.fail(`option ${name} accepted a Symbol`);
      } catch (error) {
        assert.ok(error instanceof TypeError, `option ${name}: a Symbol is a TypeError, got ${error}`);
        message = error.message;
      }
      let m;
      if ((m = /option "[^"]+" must be an integer from (-?\d+) to (\d+)/.exec(message))) {
        result[name] = { kind: 'int', min: Number(m[1]), max: Number(m[2]) };
      } else if (/must be true or false/.test(message)) {
        result[name] = { kind: 'bool' };
      } else if (name === 'signal' && /must be one of/.test(message)) {
        result[name] = { kind: 'signal' };
      } else if (name === 'log' && /must be "stderr", \{ path: string \} or false/.test(message)) {
        result[name] = { kind: 'log' };
      } else if ((m = /must be ((?:"[^"]+"(?:, | or )?)+), got/.exec(message))) {
        result[name] = { kind: 'enum', values: [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]) };
      } else if (/must be a non-empty module path/.test(message)) {
        result[name] = { kind: 'nonEmptyString' };
      } else {
        result[name] = { kind: 'unknown', message };
      }
    }
    return result;
  }

  // ---- arbitraries

  const ALL_SIGNALS = ['SIGURG', 'SIGUSR2', 'SIGPROF', 'SIGRTMIN', 'SIGRTMAX'];
  const MAX_OFFSET = CAPS.sigrtmax - CAPS.sigrtmin;

  // forNative: values for a real supervise() in a process that must survive the fuzzing: log files
  // go under LOGDIR/ (the fixture substitutes a temporary directory), abortAfterMs is 0 or at least
  // a minute (a stall that long would abort() the fuzzing process), the reporter is `reporterPath`.
  function validArb(rule, { forNative = false, name = '', reporterPath } = {}) {
    if (forNative && name === 'abortAfterMs') {
      return fc.oneof(fc.constant(0), fc.integer({ min: Math.max(rule.min, 60000), max: rule.max }));
    }
    switch (rule.kind) {
      case 'int':
        return fc.oneof(
          fc.integer({ min: rule.min, max: rule.max }),
          fc.constantFrom(rule.min, rule.max, Math.min(rule.max, rule.min + 1)),
        );
      case 'bool':
        return fc.boolean();
      case 'enum':
        return fc.constantFrom(...rule.values);
      case 'signal':
        return fc.oneof(
          fc.constantFrom(...ALL_SIGNALS),
          fc.integer({ min: 0, max: MAX_OFFSET }).map((n) => `SIGRTMIN+${n}`),
          fc.integer({ min: 0, max: MAX_OFFSET }).map((n) => `SIGRTMAX-${n}`),
        );
      case 'log': {
        const file = forNative
          ? fc.string({ unit: fc.constantFrom(...'abcXYZ019_-.é€ '.split('')), minLength: 1, maxLength: 40 })
            .filter((s) => s !== '.' && s !== '..').map((s) => ({ path: `LOGDIR/${s}` }))
          : fc.string({ minLength: 1 }).filter((s) => !s.includes('\0')).map((s) => ({ path: s }));
        return fc.oneof(
          fc.constantFrom('stderr', false),
          fc.record({
            path: file.map((f) => f.path),
            maxBytes: fc.integer({ min: 0, max: 2 ** 40 }),
            keep: fc.integer({ min: 1, max: 100 }),
          }, { requiredKeys: ['path'] }),
        );
      }
      case 'nonEmptyString':
        if (forNative) return reporterPath ? fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(reporterPath) }) : fc.constant(undefined);
        return fc.string({ minLength: 1 }).filter((s) => !s.includes('\0'));
      default:
        return fc.constant(undefined);
    }
  }

  /** [value, expected error class] pairs of invalid values for a rule. */
  function invalidArb(rule) {
    const notNumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.bigInt(), fc.object(),
      fc.array(fc.integer()), fc.constant(() => 1), fc.constant(new Number(5)), fc.date());
    switch (rule.kind) {
      case 'int':
        return fc.oneof(
          notNumber.map((v) => [v, TypeError]),
          fc.oneof(
            fc.integer({ min: Number.MIN_SAFE_INTEGER, max: rule.min - 1 }),
            fc.integer({ min: rule.max + 1, max: Number.MAX_SAFE_INTEGER }),
            fc.double({ noInteger: true }),
            fc.constantFrom(NaN, Infinity, -Infinity, rule.min - 0.5, rule.max + 0.5, 2 ** 53 + 2),
          ).map((v) => [v, RangeError]),
        );
      case 'bool':
        return fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(new Boolean(true)), fc.object())
          .map((v) => [v, TypeError]);
      case 'enum':
        return fc.oneof(
          fc.string().filter((s) => !rule.values.includes(s)).map((v) => [v, RangeError]),
          fc.constantFrom(...rule.values.map((v) => v.toUpperCase())).filter((s) => !rule.values.includes(s)).map((v) => [v, RangeError]),
          fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.object()).map((v) => [v, TypeError]),
        );
      case 'signal':
        return fc.oneof(
          fc.string().filter((s) => !isValidSignal(s)).map((v) => [v, RangeError]),
          fc.constantFrom('SIGRTMIN-1', 'SIGRTMAX+1', `SIGRTMIN+${MAX_OFFSET + 1}`, 'SIGRTMIN+07', 'sigurg', 'SIGUSR1', 'SIGKILL',
            'SIGSEGV', 'SIGINT', ' SIGURG', 'SIGURG\0', 'URG', '23').map((v) => [v, RangeError]),
          fc.integer().map((v) => [v, RangeError]),
          fc.oneof(fc.boolean(), fc.constant(null), fc.object(), fc.array(fc.string())).map((v) => [v, TypeError]),
        );
      case 'log':
        return fc.oneof(
          fc.string().filter((s) => s !== 'stderr').map((v) => [v, RangeError]),
          fc.constant([true, RangeError]),
          fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string()), fc.constant(new Map())).map((v) => [v, TypeError]),
          fc.record({ path: fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.constant(undefined)) }).map((v) => [v, TypeError]),
          fc.constant([{}, TypeError]),
          fc.constantFrom({ path: '' }, { path: 'a\0b' }, { path: 'x', maxBytes: -1 }, { path: 'x', keep: 0 },
            { path: 'x', keep: 101 }, { path: 'x', maxBytes: 2 ** 40 + 1 }, { path: 'x', maxBytes: 1.5 }).map((v) => [v, RangeError]),
          fc.constantFrom({ path: 'x', maxBytes: '1' }, { path: 'x', keep: null }).map((v) => [v, TypeError]),
          fc.string({ minLength: 1 }).filter((k) => !['path', 'maxBytes', 'keep'].includes(k)).map((k) => [{ path: 'x', [k]: 1 }, TypeError]),
        );
      case 'nonEmptyString':
        return fc.oneof(
          fc.constantFrom('', 'a\0b').map((v) => [v, RangeError]),
          fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.object()).map((v) => [v, TypeError]),
        );
      default:
        return fc.constant([undefined, null]);
    }
  }

  function isValidSignal(s) {
    if (ALL_SIGNALS.includes(s)) return true;
    const m = /^SIGRT(MIN|MAX)([+-])(0|[1-9][0-9]{0,3})$/.exec(s);
    return Boolean(m) && (m[1] === 'MIN') === (m[2] === '+') && Number(m[3]) <= MAX_OFFSET;
  }

  /** A set of valid options (some keys absent), as an arbitrary of plain objects. */
  function validOptionsArb(opts) {
    const model = {};
    for (const [name, rule] of Object.entries(rules)) model[name] = validArb(rule, { ...opts, name });
    return fc.record(model, { requiredKeys: [] });
  }

  /** The option name(s) a message may name for an invalid `name`. */
  function namesIn(message) {
    return [...message.matchAll(/option "([^"]+)"/g)].map((m) => m[1]);
  }

  function assertNamesOption(error, name) {
    const named = namesIn(error.message);
    assert.ok(named.some((n) => n === name || n.startsWith(`${name}.`)), `the message names "${name}": ${error.message}`);
    assert.ok(error.message.startsWith('stallwatch: '), error.message);
  }


  const rules = readRules(resolve);
  return { rules, validArb, invalidArb, validOptionsArb, isValidSignal, namesIn, assertNamesOption };
};
