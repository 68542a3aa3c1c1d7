'use strict';
// The `stallwatch` command (bin/stallwatch.js, lib/cli.ts): help, usage errors, `run` (report
// shown, NODE_OPTIONS, exit code and signal pass-through), `format`, `demo`.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, describe, before, after } = require('node:test');
const { ROOT, FIXTURES, run, count, MAIN_HEADER } = require('./fixtures-register/_run');

const BIN = path.join(ROOT, 'bin', 'stallwatch.js');
const BUSY = path.join(FIXTURES, 'busy.js');
const EXIT = path.join(FIXTURES, 'exit-code.js');
const cli = (args, options) => run(process.execPath, [BIN, ...args], options);

let tmp;
before(async () => {
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'lib', 'cli.js')), 'dist/ is not built: run `npm run build:ts`');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-cli-'));
  // Every test below needs the addon: say so once, clearly, rather than in each failure.
  const probe = await run(process.execPath, ['-e', `require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'load-native.js'))}).loadNative()`]);
  assert.equal(probe.code, 0, `the native addon does not load (not built, or being rebuilt: run \`npm run build\`):\n${probe.stderr}`);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function explain(result, fn) {
  try {
    fn();
  } catch (error) {
    error.message += `\n${result.describe()}`;
    throw error;
  }
}

describe('help and usage errors', () => {
  test('--help, -h and help: the commands, exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await cli(args);
      explain(r, () => {
        assert.equal(r.code, 0);
        assert.match(r.stdout, /^Usage: stallwatch <command> \[options\]/);
        for (const command of ['run \\[options\\] -- <command\\.\\.\\.>', 'demo', 'format <reports\\.jsonl \\| ->']) {
          assert.match(r.stdout, new RegExp(`^  ${command} `, 'm'));
        }
      });
    }
  });

  test('no arguments: the help on stderr, exit 2', async () => {
    const r = await cli([]);
    explain(r, () => {
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^Usage: stallwatch <command>/);
    });
  });

  test('run --help lists every option with its variable; help run is the same', async () => {
    const r = await cli(['run', '--help']);
    explain(r, () => {
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^Usage: stallwatch run \[options\] -- <command> \[args\.\.\.\]/);
      for (const [flag, variable] of [
        ['--threshold-ms N', 'STALLWATCH_THRESHOLD_MS'],
        ['--log TARGET', 'STALLWATCH_LOG'],
        ['--log-format FORMAT', 'STALLWATCH_LOG_FORMAT'],
        ['--signal NAME', 'STALLWATCH_SIGNAL'],
        ['--max-frames N', 'STALLWATCH_MAX_FRAMES'],
        ['--max-reports-per-minute N', 'STALLWATCH_MAX_REPORTS_PER_MINUTE'],
        ['--workers', 'STALLWATCH_WORKERS=1'],
      ]) {
        assert.ok(r.stdout.includes(`  ${flag}   (${variable})`), `${flag} (${variable})`);
      }
      assert.match(r.stdout, /SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded/);
    });
    const viaHelp = await cli(['help', 'run']);
    assert.equal(viaHelp.stdout, r.stdout);
  });

  test('demo --help and format --help', async () => {
    const demo = await cli(['demo', '--help']);
    explain(demo, () => {
      assert.equal(demo.code, 0);
      assert.match(demo.stdout, /^Usage: stallwatch demo\n/);
    });
    const format = await cli(['format', '-h']);
    explain(format, () => {
      assert.equal(format.code, 0);
      assert.match(format.stdout, /^Usage: stallwatch format <reports\.jsonl \| ->\n/);
    });
  });

  test('--version prints the package version', async () => {
    const r = await cli(['--version']);
    assert.equal(r.stdout, `${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}\n`);
    assert.equal(r.code, 0);
  });

  test('unknown options and commands: exit 2 with a message naming them', async () => {
    const cases = [
      [['--frobnicate'], /^stallwatch: unknown option --frobnicate\nRun 'stallwatch --help' for usage\.\n$/],
      [['frobnicate'], /^stallwatch: unknown command "frobnicate" \(commands: run, demo, format\)\n/],
      [['run', '--frobnicate', '--', 'node', BUSY], /^stallwatch run: unknown option --frobnicate\nRun 'stallwatch run --help' for usage\.\n$/],
      [['run', '--threshold=5', '--', 'node', BUSY], /^stallwatch run: unknown option --threshold\n/],
      [['run', '--threshold-ms'], /^stallwatch run: --threshold-ms needs a value/],
      [['run', '--workers=1', 'node'], /^stallwatch run: --workers takes no value/],
      [['run'], /^stallwatch run: missing the command to run/],
      [['run', '--log', 'off', '--'], /^stallwatch run: missing the command to run/],
      [['run', '--threshold-ms', 'soon', '--', 'node', BUSY], /^stallwatch: --threshold-ms "soon" is invalid: must be an integer from 10 to 3600000\.\n/],
      [['run', '--log-format=xml', 'node', BUSY], /^stallwatch: --log-format "xml" is invalid: must be "text" or "json"\.\n/],
      [['run', '--signal', 'SIGKILL', 'node', BUSY], /^stallwatch: --signal "SIGKILL" is invalid: must be one of "SIGURG"/],
      [['demo', '--fast'], /^stallwatch demo: unknown option --fast\n/],
      [['format', '--pretty', 'x.jsonl'], /^stallwatch format: unknown option --pretty\n/],
      [['format'], /^stallwatch format: missing the file to format/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      explain(r, () => {
        assert.equal(r.code, 2, `exit 2 for ${args.join(' ')}`);
        assert.match(r.stderr, message);
        assert.equal(count(r.stderr, MAIN_HEADER), 0, 'nothing was run');
      });
    }
  });

  test('an invalid STALLWATCH_* variable inherited from the environment is a usage error too', async () => {
    const r = await cli(['run', '--', 'node', BUSY], { env: { STALLWATCH_MAX_FRAMES: 'lots' } });
    explain(r, () => {
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^stallwatch: STALLWATCH_MAX_FRAMES="lots" is invalid: must be an integer from 1 to 1024\.\n/);
    });
  });
});

describe('run', () => {
  test('run -- node busy.js: the report is shown on stderr, the exit code is the program\'s', { timeout: 60000 }, async () => {
    const r = await cli(['run', '--threshold-ms', '200', '--', 'node', BUSY]);
    explain(r, () => {
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^DONE$/m);
      assert.match(r.stderr, /^stallwatch: watching node .*busy\.js \(threshold 200 ms, log to stderr, signal SIGURG\)$/m);
      assert.equal(count(r.stderr, MAIN_HEADER), 1, 'one report');
      assert.match(r.stderr, /^--> at spinInNamedFunction \(.*busy\.js(?::\d+:\d+|, defined at line \d+)\)$/m);
      assert.match(r.stderr, /^stallwatch: main thread \(tid \d+\) unblocked after \d+ ms$/m);
    });
  });

  test('run app.js (no --, no node): the file is run with this Node; --quiet drops the watching line', { timeout: 60000 }, async () => {
    const r = await cli(['run', '--quiet', '--threshold-ms=200', BUSY]);
    explain(r, () => {
      assert.equal(r.code, 0);
      assert.doesNotMatch(r.stderr, /watching/);
      assert.equal(count(r.stderr, MAIN_HEADER), 1);
    });
  });

  test('options become STALLWATCH_* variables: a JSON log file, then `format` prints it', { timeout: 60000 }, async () => {
    const log = path.join(tmp, 'run.jsonl');
    const r = await cli(['run', '--threshold-ms', '200', '--log', log, '--log-format', 'json', '--max-frames', '50', '--', process.execPath, BUSY]);
    explain(r, () => {
      assert.equal(r.code, 0);
      assert.match(r.stderr, new RegExp(`log to ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} as JSON lines`));
      assert.equal(count(r.stderr, MAIN_HEADER), 0, 'the report went to the file');
    });
    const entries = fs.readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(entries.map((e) => e.event), ['blocked', 'unblocked']);
    assert.ok(entries[0].frames.length <= 50);

    const f = await cli(['format', log]);
    explain(f, () => {
      assert.equal(f.code, 0);
      assert.equal(count(f.stdout, MAIN_HEADER), 1);
      assert.match(f.stdout, /^--> at spinInNamedFunction \(.*busy\.js(?::\d+:\d+|, defined at line \d+)\)$/m, 'formatted: culprit marked');
      assert.match(f.stdout, /^ {4}\.\.\. \d+ frames in node, V8 and libuv internals$/m, 'formatted: internals folded');
      assert.match(f.stdout, /^stallwatch: main thread \(tid \d+\) unblocked after \d+ ms$/m);
      assert.equal(f.stderr, 'stallwatch format: 1 report, 1 unblocked event\n');
    });
  });

  test('NODE_OPTIONS: the preload is appended to what was there, quoted', { timeout: 60000 }, async () => {
    const r = await cli(['run', '--quiet', '--', 'node', EXIT, 'code', '0'], { env: { NODE_OPTIONS: '--max-old-space-size=256' } });
    explain(r, () => {
      assert.equal(r.code, 0);
      const nodeOptions = JSON.parse(/^NODE_OPTIONS (.*)$/m.exec(r.stdout)[1]);
      const register = path.join(ROOT, 'dist', 'lib', 'register.js');
      assert.equal(nodeOptions, `--max-old-space-size=256 -r "${register}"`);
      assert.match(r.stdout, /^PRELOADED true$/m, 'stallwatch/register ran before the program and supervises it');
    });
  });

  test('quoteForNodeOptions: a path with spaces, quotes and backslashes survives NODE_OPTIONS', async () => {
    const { quoteForNodeOptions } = require(path.join(ROOT, 'dist', 'lib', 'cli.js'));
    const dir = path.join(tmp, 'a dir with "quotes" and \\ backslash');
    fs.mkdirSync(dir, { recursive: true });
    const preload = path.join(dir, 'preload.js');
    fs.writeFileSync(preload, "require('fs').writeSync(1, 'PRELOAD RAN\\n');\n");
    const r = await run(process.execPath, ['-e', '0'], { env: { NODE_OPTIONS: `-r ${quoteForNodeOptions(preload)}` } });
    explain(r, () => {
      assert.equal(r.code, 0);
      assert.equal(r.stdout, 'PRELOAD RAN\n');
    });
  });

  test('exit codes pass through; a missing command is 127', { timeout: 60000 }, async () => {
    for (const code of [0, 3, 42]) {
      const r = await cli(['run', '--quiet', '--', 'node', EXIT, 'code', String(code)]);
      explain(r, () => assert.equal(r.code, code));
    }
    const missing = await cli(['run', '--quiet', '--', 'no-such-command-stallwatch-test']);
    explain(missing, () => {
      assert.equal(missing.code, 127);
      assert.match(missing.stderr, /^stallwatch run: command not found: no-such-command-stallwatch-test$/m);
    });
  });

  /** Starts `stallwatch run` on exit-code.js `mode`, sends `signal` to the CLI once READY. */
  function signalRun(mode, signal) {
    let sent = false;
    return cli(['run', '--quiet', '--', 'node', EXIT, mode], {
      timeoutMs: 20000,
      onStdout: (stdout, child) => {
        if (!sent && /^READY$/m.test(stdout)) {
          sent = true;
          process.kill(child.pid, signal); // the CLI only, not its process group
        }
      },
    });
  }

  test('signals are forwarded: the program handles SIGTERM and its exit code comes back', { timeout: 60000 }, async () => {
    const r = await signalRun('wait', 'SIGTERM');
    explain(r, () => {
      assert.equal(r.timedOut, false);
      assert.match(r.stdout, /^GOT SIGTERM$/m, 'the program received the SIGTERM sent to the CLI');
      assert.equal(r.code, 42);
      assert.equal(r.signal, null);
    });
  });

  test('a program killed by a signal: the CLI dies of the same signal', { timeout: 60000 }, async () => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
      const r = await signalRun('wait-bare', signal);
      explain(r, () => {
        assert.equal(r.timedOut, false);
        assert.equal(r.signal, signal, `stallwatch run ended by ${signal}`);
        assert.equal(r.code, null);
      });
    }
  });
});

describe('format', () => {
  const report = {
    event: 'blocked', pid: 4200, threadId: 0, tid: 4242, blockedMs: 503.2, capturedAt: Date.UTC(2026, 10, 22, 11, 20, 1, 123),
    state: 'native',
    frames: [
      { kind: 'native', name: 'read', module: '/usr/lib/x86_64-linux-gnu/libc.so.6' },
      { kind: 'js', name: 'readConfig', file: '/app/server.js', line: 5, column: 10, functionLine: 4 },
      { kind: 'js', name: 'handler', file: '/app/server.js', line: 12, column: 3 },
    ],
  };
  const workerUnblocked = { event: 'unblocked', pid: 4200, threadId: 3, threadName: 'image "resizer"', tid: 4250, blockedMs: 2034.5 };

  test('reports and unblocked entries in the text format; other lines skipped and counted', async () => {
    const file = path.join(tmp, 'mixed.jsonl');
    fs.writeFileSync(file, [
      JSON.stringify(report),
      'not json at all',
      '',
      JSON.stringify({ event: 'unblocked', pid: 4200, threadId: 0, tid: 4242, blockedMs: 1200.4 }),
      JSON.stringify({ event: 'something-else', pid: 1 }),
      JSON.stringify(workerUnblocked),
      '[1,2,3]',
    ].join('\n'));
    const r = await cli(['format', file]);
    explain(r, () => {
      assert.equal(r.code, 0);
      assert.equal(r.stdout,
        'stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at 2026-11-22T11:20:01.123Z\n' +
        '    at read (/usr/lib/x86_64-linux-gnu/libc.so.6)\n' +
        '--> at readConfig (/app/server.js:5:10)\n' +
        '    at handler (/app/server.js:12:3)\n' +
        '\n' +
        'stallwatch: main thread (tid 4242) unblocked after 1200 ms\n' +
        '\n' +
        'stallwatch: worker 3 "image \\"resizer\\"" (tid 4250) unblocked after 2035 ms\n' +
        '\n');
      assert.equal(r.stderr,
        'stallwatch format: 1 report, 2 unblocked events; skipped 3 lines that are not stallwatch JSON entries (lines 2, 5, 7)\n');
    });
  });

  test('- reads standard input', async () => {
    const r = await cli(['format', '-'], { input: `${JSON.stringify(report)}\n` });
    explain(r, () => {
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^--> at readConfig \(\/app\/server\.js:5:10\)$/m);
      assert.equal(r.stderr, 'stallwatch format: 1 report, 0 unblocked events\n');
    });
  });

  test('a text log: exit 1 with a hint; a missing file: exit 1 naming it', async () => {
    const text = path.join(tmp, 'text.log');
    fs.writeFileSync(text, 'stallwatch: main thread (tid 1) blocked for 503 ms, state js, at 2026-11-22T11:20:01.123Z\n    at f (/a.js:1:1)\n\n');
    const r = await cli(['format', text]);
    explain(r, () => {
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /skipped 2 lines/);
      assert.match(r.stderr, /no JSON entries found; a text log \(the default log format\) is already readable/);
    });
    const missing = await cli(['format', path.join(tmp, 'nope.jsonl')]);
    explain(missing, () => {
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^stallwatch format: cannot read .*nope\.jsonl: ENOENT/);
    });
  });
});

test('demo: runs demo/run-demo.js and shows the report of the blocked server', { timeout: 90000 }, async () => {
  const r = await cli(['demo'], { timeoutMs: 60000 });
  explain(r, () => {
    assert.equal(r.code, 0);
    assert.match(r.stdout, /GET \/slow .*stallwatch reported it/);
    assert.match(r.stdout, /^ *stallwatch: main thread \(tid \d+\) blocked for \d+ ms/m);
    assert.match(r.stdout, /^ *--> .*\bbuildReport\b/m);
  });
});

