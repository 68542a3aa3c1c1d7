'use strict';
// Option validation, without the addon: resolveOptions() takes the native capabilities as an
// argument, so Linux (real-time signals) and other systems are both stubbed here.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const path = require('node:path');
const { resolveOptions, toNativeConfig } = require('../dist/lib/options.js');

const LINUX = Object.freeze({ platform: 'linux', arch: 'x64', libunwind: true, sigrtmin: 34, sigrtmax: 64 });
const DARWIN = Object.freeze({ platform: 'darwin', arch: 'arm64', libunwind: false });

/** Asserts `fn` throws exactly `ErrorType` (not a subclass or sibling) with a message matching every pattern. */
function assertThrows(fn, ErrorType, ...patterns) {
  let thrown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown, 'expected a throw');
  assert.equal(thrown.constructor, ErrorType, `expected ${ErrorType.name}, got ${thrown.constructor.name}: ${thrown.message}`);
  assert.match(thrown.message, /^stallwatch: /);
  for (const pattern of patterns) assert.match(thrown.message, pattern);
  return thrown;
}

describe('defaults', () => {
  const expected = {
    thresholdMs: 500,
    signal: 'SIGURG',
    signalNumber: os.constants.signals.SIGURG,
    log: 'stderr',
    logFormat: 'text',
    maxFrames: 128,
    maxReportsPerMinute: 10,
    workers: false,
    sampleIntervalMs: 0,
    sampleNative: false,
    terminateWorkerAfterMs: 0,
    abortAfterMs: 0,
    reporter: undefined,
    allThreads: false,
    starvationMs: 0,
  };

  it('fills every option for undefined, {} and explicit undefined values', () => {
    assert.deepEqual(resolveOptions(undefined, LINUX), expected);
    assert.deepEqual(resolveOptions({}, LINUX), expected);
    const allUndefined = Object.fromEntries(Object.keys(expected).filter((k) => k !== 'signalNumber').map((k) => [k, undefined]));
    assert.deepEqual(resolveOptions(allUndefined, DARWIN), expected);
  });

  it('returns a frozen object, and freezes a file log target too', () => {
    assert.ok(Object.isFrozen(resolveOptions({}, LINUX)));
    const resolved = resolveOptions({ log: { path: '/tmp/a.log' } }, LINUX);
    assert.ok(Object.isFrozen(resolved.log));
  });

  it('accepts objects without a prototype', () => {
    const input = Object.assign(Object.create(null), { thresholdMs: 20 });
    assert.equal(resolveOptions(input, LINUX).thresholdMs, 20);
  });
});

describe('the options argument', () => {
  for (const [label, value] of [
    ['null', null],
    ['a number', 500],
    ['a string', 'SIGURG'],
    ['an array', []],
    ['a Map', new Map()],
    ['a Date', new Date()],
    ['a function', () => {}],
  ]) {
    it(`rejects ${label} with a TypeError`, () => {
      assertThrows(() => resolveOptions(value, LINUX), TypeError, /options must be a plain object or undefined/);
    });
  }

  it('rejects an unknown key, naming it', () => {
    assertThrows(() => resolveOptions({ threshold: 100 }, LINUX), TypeError, /unknown option "threshold"/, /thresholdMs/);
    assertThrows(() => resolveOptions({ thresholdMs: 100, maxframes: 3 }, LINUX), TypeError, /"maxframes"/);
  });

  it('does not modify its input', () => {
    const input = { log: { path: 'relative.log' }, signal: 'SIGUSR2' };
    const copy = structuredClone(input);
    resolveOptions(input, LINUX);
    assert.deepEqual(input, copy);
  });
});

describe('integer options', () => {
  const rules = [
    { name: 'thresholdMs', min: 10, max: 3_600_000 },
    { name: 'maxFrames', min: 1, max: 1024 },
    { name: 'maxReportsPerMinute', min: 1, max: 10_000 },
  ];
  for (const { name, min, max } of rules) {
    describe(name, () => {
      const allowed = `stallwatch: option "${name}" must be an integer from ${min} to ${max}, got `;

      it('accepts both bounds and a value between', () => {
        for (const value of [min, max, Math.floor((min + max) / 2)]) {
          assert.equal(resolveOptions({ [name]: value }, LINUX)[name], value);
        }
      });

      for (const [value, shown] of [
        [min - 1, String(min - 1)],
        [max + 1, String(max + 1)],
        [-1, '-1'],
        [min + 0.5, String(min + 0.5)],
        [NaN, 'NaN'],
        [Infinity, 'Infinity'],
      ]) {
        it(`rejects ${shown} with a RangeError`, () => {
          const error = assertThrows(() => resolveOptions({ [name]: value }, LINUX), RangeError);
          assert.equal(error.message, allowed + shown);
        });
      }

      for (const [value, shown] of [
        [String(min), `"${min}"`],
        [null, 'null'],
        [true, 'true'],
        [BigInt(min), `${min}n (bigint)`],
        [{}, 'an object'],
        [[min], 'an array'],
      ]) {
        it(`rejects ${shown} with a TypeError`, () => {
          const error = assertThrows(() => resolveOptions({ [name]: value }, LINUX), TypeError);
          assert.equal(error.message, allowed + shown);
        });
      }
    });
  }

  it('gives the exact message of the documentation example', () => {
    assertThrows(
      () => resolveOptions({ thresholdMs: 5 }, LINUX),
      RangeError,
      /^stallwatch: option "thresholdMs" must be an integer from 10 to 3600000, got 5$/,
    );
  });
});

describe('signal', () => {
  it('defaults to SIGURG and resolves the portable signals with os.constants', () => {
    for (const caps of [LINUX, DARWIN]) {
      for (const name of ['SIGURG', 'SIGUSR2', 'SIGPROF']) {
        const resolved = resolveOptions({ signal: name }, caps);
        assert.equal(resolved.signal, name);
        assert.equal(resolved.signalNumber, os.constants.signals[name]);
      }
    }
  });

  for (const name of ['SIGINT', 'SIGSEGV', 'SIGKILL', 'SIGUSR1', 'SIGALRM', 'sigurg', 'URG', 'SIGURG ', '']) {
    it(`rejects ${JSON.stringify(name)} with a RangeError listing the allowed signals`, () => {
      assertThrows(
        () => resolveOptions({ signal: name }, LINUX),
        RangeError,
        /option "signal" must be one of "SIGURG", "SIGUSR2", "SIGPROF", "SIGRTMIN", "SIGRTMIN\+N", "SIGRTMAX-N"/,
        /34 to 64/,
        new RegExp(`got ${JSON.stringify(name).replace(/[+ ]/g, '\\$&')}$`),
      );
    });
  }

  it('lists only the portable signals where there are no real-time signals', () => {
    const error = assertThrows(() => resolveOptions({ signal: 'SIGINT' }, DARWIN), RangeError, /"SIGURG", "SIGUSR2", "SIGPROF"/);
    assert.doesNotMatch(error.message, /SIGRTMIN/);
  });

  it('rejects signal numbers with a RangeError (names only)', () => {
    assertThrows(() => resolveOptions({ signal: os.constants.signals.SIGURG }, LINUX), RangeError, /option "signal" must be one of/, new RegExp(`got ${os.constants.signals.SIGURG}$`));
    assertThrows(() => resolveOptions({ signal: 34 }, LINUX), RangeError, /option "signal"/);
  });

  for (const [value, shown] of [[null, 'null'], [true, 'true'], [{}, 'an object'], [['SIGURG'], 'an array']]) {
    it(`rejects ${shown} with a TypeError`, () => {
      assertThrows(() => resolveOptions({ signal: value }, LINUX), TypeError, /option "signal" must be one of/, new RegExp(`got ${shown}$`));
    });
  }

  describe('real-time signals (Linux)', () => {
    for (const [name, signalNumber] of [
      ['SIGRTMIN', 34],
      ['SIGRTMIN+0', 34],
      ['SIGRTMIN+1', 35],
      ['SIGRTMIN+30', 64],
      ['SIGRTMAX', 64],
      ['SIGRTMAX-0', 64],
      ['SIGRTMAX-2', 62],
      ['SIGRTMAX-30', 34],
    ]) {
      it(`resolves ${name} to ${signalNumber}`, () => {
        const resolved = resolveOptions({ signal: name }, LINUX);
        assert.equal(resolved.signal, name);
        assert.equal(resolved.signalNumber, signalNumber);
      });
    }

    it('uses the numbers from capabilities, not constants', () => {
      assert.equal(resolveOptions({ signal: 'SIGRTMIN+2' }, { sigrtmin: 40, sigrtmax: 50 }).signalNumber, 42);
      assert.equal(resolveOptions({ signal: 'SIGRTMAX-1' }, { sigrtmin: 40, sigrtmax: 50 }).signalNumber, 49);
    });

    for (const name of ['SIGRTMIN+31', 'SIGRTMAX-31', 'SIGRTMIN+9999']) {
      it(`rejects ${name} as outside SIGRTMIN..SIGRTMAX`, () => {
        assertThrows(() => resolveOptions({ signal: name }, LINUX), RangeError, /option "signal" must be a real-time signal from SIGRTMIN to SIGRTMAX/, /34 to 64/, /SIGRTMIN\+30/);
      });
    }

    for (const name of ['SIGRTMIN-1', 'SIGRTMAX+1', 'SIGRTMIN+01', 'SIGRTMIN+', 'SIGRTMIN+-1', 'SIGRTMIN+1.5', 'SIGRTMIN+ 1', 'SIGRTMIN+10000', 'SIGRT', 'SIGRTMID']) {
      it(`rejects the malformed name ${name}`, () => {
        assertThrows(() => resolveOptions({ signal: name }, LINUX), RangeError, /option "signal" must be one of/);
      });
    }

    it('says real-time signals are Linux-only where capabilities has no range', () => {
      for (const name of ['SIGRTMIN', 'SIGRTMIN+1', 'SIGRTMAX-1']) {
        assertThrows(() => resolveOptions({ signal: name }, DARWIN), RangeError, /option "signal"/, /real-time signals are Linux-only/, /"SIGURG"/);
      }
      // Half a range is no range.
      assertThrows(() => resolveOptions({ signal: 'SIGRTMIN' }, { sigrtmin: 34 }), RangeError, /Linux-only/);
    });
  });
});

describe('log', () => {
  it('accepts "stderr" and false as they are', () => {
    assert.equal(resolveOptions({ log: 'stderr' }, LINUX).log, 'stderr');
    assert.equal(resolveOptions({ log: false }, LINUX).log, false);
  });

  it('keeps an absolute path, normalized', () => {
    assert.deepEqual(resolveOptions({ log: { path: '/var/log/../log/stall.log' } }, LINUX).log, { path: '/var/log/stall.log', maxBytes: 0, keep: 5 });
  });

  it('resolves a relative path against process.cwd()', () => {
    const resolved = resolveOptions({ log: { path: 'logs/stall.log' } }, LINUX);
    assert.deepEqual(resolved.log, { path: path.join(process.cwd(), 'logs', 'stall.log'), maxBytes: 0, keep: 5 });
    assert.ok(path.isAbsolute(resolved.log.path));
  });

  it('resolves a relative path against the given cwd', () => {
    assert.deepEqual(resolveOptions({ log: { path: '../stall.log' } }, LINUX, '/srv/app').log, { path: '/srv/stall.log', maxBytes: 0, keep: 5 });
    assert.deepEqual(resolveOptions({ log: { path: 'stall.log' } }, LINUX, '/srv/app').log, { path: '/srv/app/stall.log', maxBytes: 0, keep: 5 });
  });

  for (const [value, shown] of [['stdout', '"stdout"'], ['', '""'], [true, 'true']]) {
    it(`rejects ${shown} with a RangeError`, () => {
      assertThrows(() => resolveOptions({ log: value }, LINUX), RangeError, /^stallwatch: option "log" must be "stderr", \{ path: string \} or false, got /, new RegExp(`got ${shown}$`));
    });
  }

  for (const [value, shown] of [[null, 'null'], [1, '1'], [[], 'an array'], [new URL('file:///tmp/x'), 'an instance of URL'], [() => {}, 'a function']]) {
    it(`rejects ${shown} with a TypeError`, () => {
      assertThrows(() => resolveOptions({ log: value }, LINUX), TypeError, /option "log" must be "stderr", \{ path: string \} or false/, new RegExp(`got ${shown}$`));
    });
  }

  it('rejects a path that is not a string with a TypeError', () => {
    assertThrows(() => resolveOptions({ log: {} }, LINUX), TypeError, /option "log.path" must be a non-empty string, got undefined$/);
    assertThrows(() => resolveOptions({ log: { path: 1 } }, LINUX), TypeError, /option "log.path"/, /got 1$/);
    assertThrows(() => resolveOptions({ log: { path: null } }, LINUX), TypeError, /option "log.path"/);
  });

  it('rejects an empty path, or one with a NUL, with a RangeError', () => {
    assertThrows(() => resolveOptions({ log: { path: '' } }, LINUX), RangeError, /option "log.path" must be a non-empty string, got ""$/);
    assertThrows(() => resolveOptions({ log: { path: 'a\0b' } }, LINUX), RangeError, /option "log.path"/, /NUL/);
  });

  it('rejects unknown keys in the log object with a TypeError naming them', () => {
    assertThrows(() => resolveOptions({ log: { path: 'a.log', mode: 0o600 } }, LINUX), TypeError, /option "log" has unknown key "mode"/);
    assertThrows(() => resolveOptions({ log: { file: 'a.log' } }, LINUX), TypeError, /unknown key "file"/);
  });
});

describe('logFormat', () => {
  it('accepts "text" and "json"', () => {
    assert.equal(resolveOptions({ logFormat: 'text' }, LINUX).logFormat, 'text');
    assert.equal(resolveOptions({ logFormat: 'json' }, LINUX).logFormat, 'json');
  });

  for (const value of ['JSON', 'xml', '']) {
    it(`rejects ${JSON.stringify(value)} with a RangeError`, () => {
      assertThrows(() => resolveOptions({ logFormat: value }, LINUX), RangeError, /^stallwatch: option "logFormat" must be "text" or "json", got /);
    });
  }

  for (const value of [1, null, false, {}]) {
    it(`rejects ${String(value)} with a TypeError`, () => {
      assertThrows(() => resolveOptions({ logFormat: value }, LINUX), TypeError, /option "logFormat" must be "text" or "json"/);
    });
  }
});

describe('toNativeConfig', () => {
  const thread = { threadId: 7, threadName: 'pool-3' };

  it('carries every option, the signal number and the thread identity', () => {
    const options = resolveOptions(
      { thresholdMs: 250, signal: 'SIGRTMIN+2', log: { path: '/tmp/s.log' }, logFormat: 'json', maxFrames: 64, maxReportsPerMinute: 3, workers: true },
      LINUX,
    );
    assert.deepEqual(toNativeConfig(options, thread), {
      thresholdMs: 250,
      signal: 36,
      log: { path: '/tmp/s.log', maxBytes: 0, keep: 5 },
      logFormat: 'json',
      maxFrames: 64,
      maxReportsPerMinute: 3,
      threadId: 7,
      threadName: 'pool-3',
      watchWorkers: true,
      sampleIntervalMs: 0,
      sampleNative: false,
      terminateWorkerAfterMs: 0,
      abortAfterMs: 0,
      allThreads: false,
      starvationMs: 0,
    });
  });

  it('maps log false to null and keeps "stderr"', () => {
    assert.equal(toNativeConfig(resolveOptions({ log: false }, LINUX), thread).log, null);
    assert.equal(toNativeConfig(resolveOptions({}, LINUX), thread).log, 'stderr');
  });

  it('gives the addon its own copy of the log target', () => {
    const options = resolveOptions({ log: { path: '/tmp/s.log' } }, LINUX);
    const config = toNativeConfig(options, thread);
    assert.notEqual(config.log, options.log);
    assert.ok(!Object.isFrozen(config.log));
  });
});

describe('workers', () => {
  it('accepts booleans and defaults to false', () => {
    assert.equal(resolveOptions({}, LINUX).workers, false);
    assert.equal(resolveOptions({ workers: true }, LINUX).workers, true);
  });
  for (const bad of [1, 'yes', null, {}]) {
    it(`rejects ${JSON.stringify(bad)} with a TypeError naming the option`, () => {
      assert.throws(() => resolveOptions({ workers: bad }, LINUX), (e) => e instanceof TypeError && /"workers" must be true or false/.test(e.message));
    });
  }
});

describe('never-lost options', () => {
  it('accepts sampling, recovery and reporter options', () => {
    const o = resolveOptions({ sampleIntervalMs: 10, sampleNative: true, terminateWorkerAfterMs: 2000, abortAfterMs: 60000, reporter: './sink.js' }, LINUX);
    assert.equal(o.sampleIntervalMs, 10);
    assert.equal(o.sampleNative, true);
    assert.equal(o.terminateWorkerAfterMs, 2000);
    assert.equal(o.abortAfterMs, 60000);
    assert.equal(o.reporter, './sink.js');
  });
  for (const [name, bad, type] of [
    ['sampleIntervalMs', -1, RangeError], ['sampleIntervalMs', 1.5, RangeError], ['sampleIntervalMs', '10', TypeError],
    ['terminateWorkerAfterMs', -5, RangeError], ['abortAfterMs', 'soon', TypeError], ['sampleNative', 1, TypeError],
    ['reporter', 42, TypeError], ['reporter', '', RangeError],
  ]) {
    it(`rejects ${name}: ${JSON.stringify(bad)} with a ${type.name} naming the option`, () => {
      assert.throws(() => resolveOptions({ [name]: bad }, LINUX), (e) => e instanceof type && e.message.includes(`"${name}"`));
    });
  }
  it('validates log.maxBytes and log.keep', () => {
    assert.deepEqual(resolveOptions({ log: { path: '/tmp/x', maxBytes: 1000, keep: 2 } }, LINUX).log, { path: '/tmp/x', maxBytes: 1000, keep: 2 });
    assert.throws(() => resolveOptions({ log: { path: '/tmp/x', maxBytes: -1 } }, LINUX), (e) => e instanceof RangeError && /"log.maxBytes"/.test(e.message));
    assert.throws(() => resolveOptions({ log: { path: '/tmp/x', keep: 0 } }, LINUX), (e) => e instanceof RangeError && /"log.keep"/.test(e.message));
    assert.throws(() => resolveOptions({ log: { path: '/tmp/x', rotate: true } }, LINUX), (e) => e instanceof TypeError && /unknown key "rotate"/.test(e.message));
  });
});

describe('allThreads and starvationMs', () => {
  it('accepts them and rejects bad values naming the option', () => {
    const o = resolveOptions({ allThreads: true, starvationMs: 2000 }, LINUX);
    assert.equal(o.allThreads, true);
    assert.equal(o.starvationMs, 2000);
    assert.throws(() => resolveOptions({ allThreads: 'yes' }, LINUX), { name: 'TypeError', message: /"allThreads"/ });
    assert.throws(() => resolveOptions({ starvationMs: -1 }, LINUX), { name: 'RangeError', message: /"starvationMs"/ });
    assert.throws(() => resolveOptions({ starvationMs: 1.5 }, LINUX), { name: 'RangeError', message: /"starvationMs"/ });
    assert.throws(() => resolveOptions({ starvationMs: '100' }, LINUX), { name: 'TypeError', message: /"starvationMs"/ });
  });
});
