'use strict';
// stallwatch/register: STALLWATCH_* parsing (lib/env-config.ts, pure) and zero-code attach
// (-r, --import, NODE_OPTIONS) against test/fixtures-register/, a script that busy-loops 800 ms
// in spinInNamedFunction with STALLWATCH_THRESHOLD_MS=200.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, describe, before } = require('node:test');
const { ROOT, FIXTURES, run, count, MAIN_HEADER, ANY_HEADER } = require('./fixtures-register/_run');

const DIST = path.join(ROOT, 'dist', 'lib');
const BUSY = path.join(FIXTURES, 'busy.js');
const CAPS = { sigrtmin: 34, sigrtmax: 64 };

before(async () => {
  assert.ok(fs.existsSync(path.join(DIST, 'register.js')), 'dist/ is not built: run `npm run build:ts`');
  // Every test below needs the addon: say so once, clearly, rather than in each failure.
  const probe = await run(process.execPath, ['-e', `require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'load-native.js'))}).loadNative()`]);
  assert.equal(probe.code, 0, `the native addon does not load (not built, or being rebuilt: run \`npm run build\`):\n${probe.stderr}`);
});

function explain(result, fn) {
  try {
    fn();
  } catch (error) {
    error.message += `\n${result.describe()}`;
    throw error;
  }
}

describe('parseEnvConfig (lib/env-config.ts)', () => {
  let parseEnvConfig;
  let resolveOptions;
  before(() => {
    ({ parseEnvConfig } = require(path.join(DIST, 'env-config.js')));
    ({ resolveOptions } = require(path.join(DIST, 'options.js')));
  });
  const ok = (env, context = { capabilities: CAPS, cwd: '/srv/app' }) => {
    const result = parseEnvConfig(env, context);
    assert.equal(result.ok, true, `expected a valid configuration, got: ${result.message}`);
    return result.config.options;
  };
  /** An invalid configuration: one line, naming the variable and quoting its value. */
  const bad = (env, variable, rule, context = { capabilities: CAPS, cwd: '/srv/app' }) => {
    const result = parseEnvConfig(env, context);
    assert.equal(result.ok, false, `expected ${variable} to be rejected`);
    assert.doesNotMatch(result.message, /\n/, 'the message is one line');
    assert.match(result.message, /^stallwatch: /);
    assert.ok(result.message.includes(`${variable}=${JSON.stringify(env[variable])} is invalid`), result.message);
    if (rule) assert.match(result.message, rule);
    assert.match(result.message, /The program continues without stallwatch\.$/);
    return result.message;
  };

  test('no variables: no options (supervise() defaults), no warnings', () => {
    const result = parseEnvConfig({ PATH: '/bin', HOME: '/root' }, { capabilities: CAPS });
    assert.deepEqual(result, { ok: true, config: { options: {} }, warnings: [] });
  });

  test('empty and blank variables count as unset', () => {
    assert.deepEqual(ok({ STALLWATCH_THRESHOLD_MS: '', STALLWATCH_LOG: '  ', STALLWATCH_SIGNAL: '' }), {});
  });

  test('STALLWATCH_THRESHOLD_MS: decimal integers in 10..3600000', () => {
    assert.deepEqual(ok({ STALLWATCH_THRESHOLD_MS: '200' }), { thresholdMs: 200 });
    assert.deepEqual(ok({ STALLWATCH_THRESHOLD_MS: ' 300 ' }), { thresholdMs: 300 });
    assert.deepEqual(ok({ STALLWATCH_THRESHOLD_MS: '10' }), { thresholdMs: 10 });
    assert.deepEqual(ok({ STALLWATCH_THRESHOLD_MS: '3600000' }), { thresholdMs: 3600000 });
    for (const value of ['abc', '200ms', '1e3', '0x10', '-5', '2.5', '9', '3600001', '99999999999']) {
      bad({ STALLWATCH_THRESHOLD_MS: value }, 'STALLWATCH_THRESHOLD_MS', /must be an integer from 10 to 3600000/);
    }
  });

  test('STALLWATCH_MAX_FRAMES (1..1024) and STALLWATCH_MAX_REPORTS_PER_MINUTE (1..10000)', () => {
    assert.deepEqual(ok({ STALLWATCH_MAX_FRAMES: '64', STALLWATCH_MAX_REPORTS_PER_MINUTE: '3' }), {
      maxFrames: 64,
      maxReportsPerMinute: 3,
    });
    bad({ STALLWATCH_MAX_FRAMES: '0' }, 'STALLWATCH_MAX_FRAMES', /from 1 to 1024/);
    bad({ STALLWATCH_MAX_FRAMES: '2000' }, 'STALLWATCH_MAX_FRAMES', /from 1 to 1024/);
    bad({ STALLWATCH_MAX_REPORTS_PER_MINUTE: 'many' }, 'STALLWATCH_MAX_REPORTS_PER_MINUTE', /from 1 to 10000/);
  });

  test('STALLWATCH_LOG: stderr, off, or a file path', () => {
    assert.deepEqual(ok({ STALLWATCH_LOG: 'stderr' }), { log: 'stderr' });
    assert.deepEqual(ok({ STALLWATCH_LOG: 'off' }), { log: false });
    assert.deepEqual(ok({ STALLWATCH_LOG: '/var/log/stalls.log' }), { log: { path: '/var/log/stalls.log' } });
    assert.deepEqual(ok({ STALLWATCH_LOG: 'logs/stalls.jsonl' }), { log: { path: 'logs/stalls.jsonl' } });
    // Relative paths resolve against the working directory, as supervise() does.
    const options = ok({ STALLWATCH_LOG: 'logs/stalls.jsonl' });
    assert.equal(resolveOptions(options, CAPS, '/srv/app').log.path, '/srv/app/logs/stalls.jsonl');
    // Words that are not meant as file names are rejected instead of creating ./stdout.
    for (const word of ['stdout', 'false', 'none', 'STDERR', 'Off', '1']) {
      bad({ STALLWATCH_LOG: word }, 'STALLWATCH_LOG', /must be "stderr", "off" or a file path/);
    }
    bad({ STALLWATCH_LOG: 'a\0b' }, 'STALLWATCH_LOG', /without NUL/);
  });

  test('STALLWATCH_LOG_FORMAT: text or json', () => {
    assert.deepEqual(ok({ STALLWATCH_LOG_FORMAT: 'text' }), { logFormat: 'text' });
    assert.deepEqual(ok({ STALLWATCH_LOG_FORMAT: 'json' }), { logFormat: 'json' });
    bad({ STALLWATCH_LOG_FORMAT: 'JSON' }, 'STALLWATCH_LOG_FORMAT', /must be "text" or "json"/);
    bad({ STALLWATCH_LOG_FORMAT: 'xml' }, 'STALLWATCH_LOG_FORMAT', /must be "text" or "json"/);
  });

  test('STALLWATCH_SIGNAL: the names supervise() accepts, real-time ones checked against the system', () => {
    for (const name of ['SIGURG', 'SIGUSR2', 'SIGPROF', 'SIGRTMIN', 'SIGRTMIN+3', 'SIGRTMAX-2']) {
      assert.deepEqual(ok({ STALLWATCH_SIGNAL: name }), { signal: name });
    }
    bad({ STALLWATCH_SIGNAL: 'SIGINT' }, 'STALLWATCH_SIGNAL', /must be one of "SIGURG", "SIGUSR2", "SIGPROF"/);
    bad({ STALLWATCH_SIGNAL: 'SIGRTMIN+99' }, 'STALLWATCH_SIGNAL', /SIGRTMIN to SIGRTMAX \(34 to 64/);
    // Without the addon's capabilities (the CLI when the addon cannot load), real-time names are
    // passed on for supervise() to check; fixed names are still checked.
    assert.deepEqual(ok({ STALLWATCH_SIGNAL: 'SIGRTMIN+99' }, {}), { signal: 'SIGRTMIN+99' });
    bad({ STALLWATCH_SIGNAL: 'SIGKILL' }, 'STALLWATCH_SIGNAL', /must be one of/, {});
  });

  test('STALLWATCH_WORKERS: 1/true gives workers: true, 0/false nothing', () => {
    assert.deepEqual(ok({ STALLWATCH_WORKERS: '1' }), { workers: true });
    assert.deepEqual(ok({ STALLWATCH_WORKERS: 'true' }), { workers: true });
    assert.deepEqual(ok({ STALLWATCH_WORKERS: '0' }), {});
    assert.deepEqual(ok({ STALLWATCH_WORKERS: 'false' }), {});
    bad({ STALLWATCH_WORKERS: 'yes' }, 'STALLWATCH_WORKERS', /must be 1 or 0/);
  });

  test('every variable at once gives options that supervise() accepts', () => {
    const options = ok({
      STALLWATCH_THRESHOLD_MS: '250',
      STALLWATCH_LOG: 'stalls.jsonl',
      STALLWATCH_LOG_FORMAT: 'json',
      STALLWATCH_SIGNAL: 'SIGUSR2',
      STALLWATCH_MAX_FRAMES: '32',
      STALLWATCH_MAX_REPORTS_PER_MINUTE: '5',
      STALLWATCH_WORKERS: '1',
    });
    const resolved = resolveOptions(options, CAPS, '/srv/app');
    assert.equal(resolved.thresholdMs, 250);
    assert.equal(resolved.log.path, '/srv/app/stalls.jsonl');
    assert.equal(resolved.logFormat, 'json');
    assert.equal(resolved.signal, 'SIGUSR2');
    assert.equal(resolved.maxFrames, 32);
    assert.equal(resolved.maxReportsPerMinute, 5);
    assert.equal(resolved.workers, true);
  });

  test('several invalid variables: still one line, naming each', () => {
    const message = bad({ STALLWATCH_THRESHOLD_MS: 'soon', STALLWATCH_LOG_FORMAT: 'yaml' }, 'STALLWATCH_THRESHOLD_MS');
    assert.ok(message.includes('STALLWATCH_LOG_FORMAT="yaml" is invalid'), message);
  });

  test('a value with a newline cannot break the one-line message', () => {
    bad({ STALLWATCH_SIGNAL: 'SIGURG\nstallwatch: forged' }, 'STALLWATCH_SIGNAL');
  });

  test('a likely typo of a variable name is a warning; other STALLWATCH_* names are ignored', () => {
    const result = parseEnvConfig(
      { STALLWATCH_THRESHOLD: '200', STALLWATCH_LOGFORMAT: 'json', STALLWATCH_FIXTURE_OPTIONS: '{}', STALLWATCH_FIXTURE: '1' },
      { capabilities: CAPS },
    );
    assert.equal(result.ok, true);
    assert.deepEqual(result.warnings, [
      'stallwatch: ignoring unknown variable STALLWATCH_THRESHOLD (did you mean STALLWATCH_THRESHOLD_MS?)',
      'stallwatch: ignoring unknown variable STALLWATCH_LOGFORMAT (did you mean STALLWATCH_LOG_FORMAT?)',
    ]);
  });
});

// --- attach ------------------------------------------------------------------------------------

/** The text report of busy.js: header, culprit line naming spinInNamedFunction in `file`, unblocked. */
function assertBusyReport(result, file) {
  explain(result, () => {
    assert.equal(result.timedOut, false, 'timed out');
    assert.equal(result.code, 0, 'the program exits 0');
    assert.match(result.stdout, /^DONE$/m, 'the program ran to its end');
    assert.equal(count(result.stderr, MAIN_HEADER), 1, 'exactly one report of the main thread');
    const header = result.stderr.match(MAIN_HEADER)[0];
    const blockedMs = Number(/blocked for (\d+) ms/.exec(header)[1]);
    assert.ok(blockedMs >= 200 && blockedMs < 800, `blocked for ${blockedMs} ms: reported at the 200 ms threshold`);
    const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // file:line:column from the exact (interrupt-time) stack; on a loaded machine it can come too
    // late, and the frame then shows where the function is defined.
    assert.match(result.stderr, new RegExp(`^--> at spinInNamedFunction \\((file://)?${escaped}(:\\d+:\\d+|, defined at line \\d+)\\)$`, 'm'),
      'the culprit is the busy function, with its file');
    assert.match(result.stderr, /^stallwatch: main thread \(tid \d+\) unblocked after (\d+) ms$/m);
    const unblockedMs = Number(/unblocked after (\d+) ms/.exec(result.stderr)[1]);
    assert.ok(unblockedMs >= 700, `unblocked after ${unblockedMs} ms (the whole 800 ms stall)`);
  });
}

const THRESHOLD = { STALLWATCH_THRESHOLD_MS: '200' };

test('node -r stallwatch/register: reports the stall on stderr', { timeout: 60000 }, async () => {
  const r = await run(process.execPath, ['-r', 'stallwatch/register', BUSY], { env: THRESHOLD });
  assertBusyReport(r, BUSY);
});

test('node --import stallwatch/register (ESM program): reports the stall', { timeout: 60000 }, async () => {
  const file = path.join(FIXTURES, 'busy.mjs');
  const r = await run(process.execPath, ['--import', 'stallwatch/register', file], { env: THRESHOLD });
  assertBusyReport(r, file);
});

test("NODE_OPTIONS='-r stallwatch/register': reports the stall", { timeout: 60000 }, async () => {
  const r = await run(process.execPath, [BUSY], { env: { ...THRESHOLD, NODE_OPTIONS: '-r stallwatch/register' } });
  assertBusyReport(r, BUSY);
});

test('registered twice (-r twice, -r plus NODE_OPTIONS, plus --import): one supervisor, one report', { timeout: 60000 }, async () => {
  const r = await run(
    process.execPath,
    ['-r', 'stallwatch/register', '-r', path.join(DIST, 'register.js'), '--import', 'stallwatch/register', BUSY],
    { env: { ...THRESHOLD, NODE_OPTIONS: '-r stallwatch/register' } },
  );
  assertBusyReport(r, BUSY);
  explain(r, () => assert.equal(count(r.stderr, /unblocked after/g), 1, 'one unblocked entry'));
});

test('the exported supervisor: listeners get the report; a second load of the module reuses it', { timeout: 60000 }, async () => {
  const r = await run(process.execPath, ['-r', 'stallwatch/register', path.join(FIXTURES, 'listener.js')], {
    env: { ...THRESHOLD, STALLWATCH_LOG: 'off' },
  });
  explain(r, () => {
    assert.equal(r.code, 0);
    const state = JSON.parse(/^STATE (.*)$/m.exec(r.stdout)[1]);
    assert.deepEqual(state, { supervised: true, sameSupervisor: true, error: null });
    assert.deepEqual(r.stdout.match(/^(BLOCKED|UNBLOCKED).*$/gm), ['BLOCKED spinInNamedFunction', 'UNBLOCKED']);
    assert.match(r.stdout, /^DONE$/m);
    assert.equal(count(r.stderr, ANY_HEADER), 0, 'STALLWATCH_LOG=off: nothing on stderr');
    assert.equal(r.stderr, '');
  });
});

test('STALLWATCH_LOG=<file> with STALLWATCH_LOG_FORMAT=json writes JSON lines to the file', { timeout: 60000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-register-'));
  try {
    // -r takes the file: `stallwatch/register` resolves from the working directory, a temp dir here.
    const r = await run(process.execPath, ['-r', path.join(DIST, 'register.js'), BUSY], {
      cwd: dir,
      env: { ...THRESHOLD, STALLWATCH_LOG: 'stalls.jsonl', STALLWATCH_LOG_FORMAT: 'json', STALLWATCH_MAX_FRAMES: '40' },
    });
    explain(r, () => {
      assert.equal(r.code, 0);
      assert.equal(count(r.stderr, ANY_HEADER), 0, 'nothing on stderr');
      const lines = fs.readFileSync(path.join(dir, 'stalls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.event), ['blocked', 'unblocked']);
      const [blocked] = lines;
      assert.equal(blocked.pid, blocked.tid, 'the main thread');
      assert.ok(blocked.blockedMs >= 200);
      assert.ok(blocked.frames.length <= 40, `STALLWATCH_MAX_FRAMES=40: ${blocked.frames.length} frames`);
      const own = blocked.frames.find((f) => f.kind === 'js' && f.name === 'spinInNamedFunction');
      assert.ok(own, 'the busy function is in the frames');
      assert.equal(own.file, BUSY);
      assert.equal(typeof own.line, 'number');
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('STALLWATCH_SIGNAL=SIGUSR2 is used for the capture', { timeout: 60000 }, async () => {
  const r = await run(process.execPath, ['-r', 'stallwatch/register', path.join(FIXTURES, 'listener.js')], {
    env: { ...THRESHOLD, STALLWATCH_SIGNAL: 'SIGUSR2', STALLWATCH_LOG: 'off' },
  });
  explain(r, () => {
    assert.equal(r.code, 0, 'SIGUSR2 did not kill the program: stallwatch handled it');
    assert.match(r.stdout, /^BLOCKED spinInNamedFunction$/m);
  });
});

test('an invalid variable: one line on stderr naming it; the program runs unsupervised to its end', { timeout: 60000 }, async () => {
  for (const [variable, value] of [
    ['STALLWATCH_THRESHOLD_MS', 'fast'],
    ['STALLWATCH_LOG', 'stdout'],
    ['STALLWATCH_LOG_FORMAT', 'xml'],
    ['STALLWATCH_SIGNAL', 'SIGKILL'],
    ['STALLWATCH_MAX_FRAMES', '0'],
    ['STALLWATCH_MAX_REPORTS_PER_MINUTE', '-1'],
    ['STALLWATCH_WORKERS', 'maybe'],
  ]) {
    const r = await run(process.execPath, ['-r', 'stallwatch/register', BUSY], { env: { ...THRESHOLD, [variable]: value } });
    explain(r, () => {
      assert.equal(r.code, 0, `${variable}=${value}: the program still exits 0`);
      assert.match(r.stdout, /^DONE$/m, 'the program ran to its end');
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, 'exactly one line on stderr');
      assert.ok(lines[0].startsWith(`stallwatch: ${variable}=${JSON.stringify(value)} is invalid: `), lines[0]);
      assert.match(lines[0], /The program continues without stallwatch\.$/);
      assert.equal(count(r.stderr, ANY_HEADER), 0, 'not supervised');
    });
  }
});

test('a log file that cannot be opened: one line, the program keeps running', { timeout: 60000 }, async () => {
  const r = await run(process.execPath, ['-r', 'stallwatch/register', BUSY], {
    env: { ...THRESHOLD, STALLWATCH_LOG: '/nonexistent-dir/stalls.log' },
  });
  explain(r, () => {
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^DONE$/m);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, 'exactly one line on stderr');
    assert.match(lines[0], /^stallwatch: could not start supervision \(.*\)\. The program continues without stallwatch\.$/);
  });
});

test('worker threads: -r runs in workers too but supervises only the main thread; STALLWATCH_WORKERS=1 covers workers', { timeout: 60000 }, async () => {
  const script = path.join(FIXTURES, 'worker.js');
  const plain = await run(process.execPath, ['-r', 'stallwatch/register', script], { env: THRESHOLD });
  explain(plain, () => {
    assert.equal(plain.code, 0);
    assert.match(plain.stdout, /^DONE worker exit 0$/m);
    assert.equal(count(plain.stderr, ANY_HEADER), 0, 'no report: the worker is not supervised, the main thread never blocks');
    assert.equal(plain.stderr, '', 'and nothing else is printed');
  });
  const covered = await run(process.execPath, ['-r', 'stallwatch/register', script], { env: { ...THRESHOLD, STALLWATCH_WORKERS: '1' } });
  explain(covered, () => {
    assert.equal(covered.code, 0);
    assert.match(covered.stdout, /^DONE worker exit 0$/m);
    const headers = covered.stderr.match(ANY_HEADER) || [];
    assert.equal(headers.length, 1, 'one report');
    assert.match(headers[0], /^stallwatch: worker \d+ "spinner" \(tid \d+\) blocked for/);
    assert.match(covered.stderr, /^--> at spinInWorker \(/m);
  });
});

test('ESM: named exports of stallwatch and stallwatch/register (test/esm.test.mjs)', { timeout: 60000 }, async () => {
  const r = await run(process.execPath, ['--test', '--test-reporter=spec', path.join(__dirname, 'esm.test.mjs')], { env: THRESHOLD });
  explain(r, () => {
    assert.equal(r.code, 0, 'test/esm.test.mjs passes');
    assert.match(r.stdout, /pass [1-9]/);
    assert.match(r.stdout, /fail 0/);
  });
});
