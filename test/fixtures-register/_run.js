'use strict';
// Child-process helper for test/register.test.js, test/cli.test.js and test/package.test.js.
// Every child runs in its own process group with a hard timeout; the group is killed on timeout
// and when the test process exits, so nothing outlives the test. Not a test itself.
const { spawn } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = __dirname;
const live = new Set();
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try { child.kill(signal); } catch { /* gone */ }
  }
}

/** The environment for a child: the test's, minus node:test's markers, plus `extra`
 *  (a key set to undefined is removed). */
function childEnv(extra = {}) {
  const env = { ...process.env, STALLWATCH_FIXTURE: '1' };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  for (const key of Object.keys(env)) if (key.startsWith('STALLWATCH_') && key !== 'STALLWATCH_FIXTURE') delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/**
 * Runs `file args` and resolves with {code, signal, stdout, stderr, timedOut, describe()}.
 * options: env (see childEnv), cwd, timeoutMs (default 30 s), input (stdin text),
 * onStdout(text, child) called with the stdout so far on every chunk.
 */
function run(file, args, options = {}) {
  const timeoutMs = options.timeoutMs ?? 30000;
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      cwd: options.cwd ?? ROOT,
      env: options.rawEnv ?? childEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      if (options.onStdout) options.onStdout(stdout, child);
    });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    child.on('error', (error) => { stderr += `spawn error: ${error.message}\n`; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      // Whatever the child started (stallwatch run's command) goes too.
      killGroup(child, 'SIGKILL');
      const result = { code, signal, stdout, stderr, timedOut };
      result.describe = () =>
        `command: ${file} ${args.join(' ')}\nexit: code ${code}, signal ${signal}${timedOut ? ' (timed out)' : ''}\n` +
        `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
      resolve(result);
    });
  });
}

/** Text-log report headers of the main thread / of any thread. */
const MAIN_HEADER = /^stallwatch: main thread \(tid \d+\) blocked for \d+ ms, state [\w-]+, at \S+$/gm;
const ANY_HEADER = /^stallwatch: (main thread|worker \d+[^(]*) \(tid \d+\) blocked for \d+ ms, state [\w-]+, at \S+$/gm;

function count(text, regex) {
  return (text.match(regex) || []).length;
}

module.exports = { ROOT, FIXTURES, run, childEnv, count, MAIN_HEADER, ANY_HEADER, killGroup };
