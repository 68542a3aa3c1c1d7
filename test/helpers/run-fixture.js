'use strict';
// Runs one scenario of test/fixtures/ as a child process and collects what it said.
//
// Fixture protocol (stdout, one line each; see test/fixtures/_common.js):
//   READY <json>            supervision is set up ({pid, ...})
//   REPORT[:tag] <json>     a BlockReport received by a 'blocked' listener
//   UNBLOCKED[:tag] <json>  an 'unblocked' event
//   NOTE[:tag] <json>       a fixture-specific fact (signal handler counts, ...)
//   DONE                    the scenario finished
//
// Every child gets a hard timeout and runs in its own process group, so the reaper can kill it
// together with whatever it spawned (sleep, sh, strace): on timeout, once `waitFor` matched (for
// scenarios that never end, such as a deadlock), and when this process exits.

const { spawn } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const TEST_ADDON = path.join(ROOT, 'test', 'addon', 'build', 'Release', 'stallwatch_test_addon.node');

const live = new Set();
let reaperInstalled = false;

function killTree(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL'); // the whole process group (detached: true made one)
  } catch {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}

function installReaper() {
  if (reaperInstalled) return;
  reaperInstalled = true;
  process.on('exit', () => { for (const child of live) killTree(child); });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    if (process.listenerCount(sig) > 0) continue; // someone else owns it; 'exit' still reaps
    process.once(sig, () => {
      for (const child of live) killTree(child);
      process.kill(process.pid, sig); // our listener is gone: the default action now applies
    });
  }
}

/** Parses fixture stdout (see the protocol above). Ignores lines that are not protocol lines. */
function parseFixtureOutput(stdout) {
  const out = { ready: null, reports: [], unblocked: [], notes: [], done: false, tagged: {} };
  for (const line of String(stdout).split('\n')) {
    const m = /^(READY|REPORT|UNBLOCKED|NOTE|DONE)(?::([\w.-]+))?(?: (.*))?$/.exec(line);
    if (!m) continue;
    const [, kind, tag, json] = m;
    if (kind === 'DONE') { out.done = true; continue; }
    let value;
    try { value = json === undefined ? null : JSON.parse(json); } catch { continue; } // half-written line
    if (kind === 'READY') { out.ready = value; continue; }
    const list = kind === 'REPORT' ? out.reports : kind === 'UNBLOCKED' ? out.unblocked : out.notes;
    list.push(value);
    if (tag !== undefined) {
      const t = (out.tagged[tag] ??= { reports: [], unblocked: [], notes: [] });
      (kind === 'REPORT' ? t.reports : kind === 'UNBLOCKED' ? t.unblocked : t.notes).push(value);
    }
  }
  return out;
}

/** Text reports from a stallwatch text log: each starts with its header line, ends at a blank line. */
function parseTextReports(text) {
  const lines = String(text).split('\n');
  const reports = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^stallwatch: (.+?) \(tid (\d+)\) blocked for (\d+) ms, state ([\w-]+), at (\S+)$/.exec(lines[i]);
    if (!m) continue;
    const block = [lines[i]];
    let complete = false;
    for (i++; i < lines.length; i++) {
      if (lines[i] === '') { complete = i < lines.length - 1 || String(text).endsWith('\n'); break; }
      block.push(lines[i]);
    }
    reports.push({
      thread: m[1], tid: Number(m[2]), blockedMs: Number(m[3]), state: m[4], at: m[5],
      frames: block.slice(1), culprit: block.find((l) => l.startsWith('--> ')), text: block.join('\n'), complete,
    });
  }
  return reports;
}

/** JSON log lines (`{"event":...}`) from a stallwatch JSON log; throws on a line that does not parse. */
function parseJsonLog(text) {
  return String(text).split('\n').filter((l) => l.startsWith('{"event"')).map((l) => JSON.parse(l));
}

/**
 * Runs `node test/fixtures/<name>.js ...args` (or `node <name> ...args` when name is an absolute path).
 * options:
 *   args       extra argv for the fixture
 *   env        extra environment (a value of undefined removes the variable)
 *   timeoutMs  hard limit; the child (and its group) is SIGKILLed after it (default 30000)
 *   waitFor    (state) => bool, checked on every output chunk and every 50 ms; state is
 *              {stdout, stderr, out (parsed stdout), pid, elapsedMs, exited}. Once true the
 *              promise resolves early and the child is SIGKILLed (unless kill: false).
 *   kill       default true; with false, resolve on a match but leave the child running
 *              (the result's stop() kills it; the reaper kills it at exit anyway)
 *   wrap       a command prefix, e.g. ['strace', '-f', '-o', file]: runs wrap[0] wrap[1..] node ...
 *   nodeArgs   options for node itself; STALLWATCH_FIXTURE_NODE_ARGS (space-separated) adds more to
 *              every run, to investigate a failure (e.g. --no-use-osr)
 * Never rejects on a fixture failure: resolves with
 *   {code, signal, stdout, stderr, out, timedOut, matched, aliveAtMatch, durationMs, pid, child, stop(), describe()}.
 */
function runFixture(name, options = {}) {
  const { args = [], env = {}, timeoutMs = 30000, waitFor, kill = true, wrap = [] } = options;
  installReaper();
  const script = path.isAbsolute(name) ? name : path.join(FIXTURES, name.endsWith('.js') ? name : `${name}.js`);
  const childEnv = { ...process.env, STALLWATCH_FIXTURE: '1' };
  delete childEnv.NODE_TEST_CONTEXT; // the fixture is not a test file of ours
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = String(v);
  }
  const nodeArgs = [...(options.nodeArgs || []), ...(process.env.STALLWATCH_FIXTURE_NODE_ARGS || '').split(' ').filter(Boolean)];
  const argv = [...wrap.slice(1), process.execPath, ...nodeArgs, script, ...args.map(String)];
  const file = wrap.length ? wrap[0] : process.execPath;
  if (!wrap.length) argv.shift();

  const started = Date.now();
  const child = spawn(file, argv, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(child);

  const result = {
    name, args, pid: child.pid, child, code: null, signal: null, stdout: '', stderr: '', out: null,
    timedOut: false, matched: false, aliveAtMatch: false, durationMs: 0, spawnError: null,
    stop: () => killTree(child),
    describe() {
      const status = this.timedOut ? `timed out after ${timeoutMs} ms`
        : this.signal ? `killed by ${this.signal}` : `exit code ${this.code}`;
      return `fixture ${name} ${args.join(' ')}: ${status}${this.matched ? ' (after waitFor matched)' : ''}\n` +
        `--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
    },
  };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');

  return new Promise((resolve) => {
    let settled = false;
    let poll = null;
    let timer = null;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(timer);
      result.durationMs = Date.now() - started;
      result.out = parseFixtureOutput(result.stdout);
      resolve(result);
    };
    const check = () => {
      if (!waitFor || result.matched || settled) return;
      const exited = child.exitCode !== null || child.signalCode !== null;
      let ok = false;
      try {
        ok = Boolean(waitFor({
          stdout: result.stdout, stderr: result.stderr, out: parseFixtureOutput(result.stdout),
          pid: child.pid, elapsedMs: Date.now() - started, exited,
        }));
      } catch { ok = false; }
      if (!ok) return;
      result.matched = true;
      result.aliveAtMatch = !exited;
      if (kill) killTree(child); // 'close' follows and resolves
      else finish();
    };
    child.stdout.on('data', (d) => { result.stdout += d; check(); });
    child.stderr.on('data', (d) => { result.stderr += d; check(); });
    if (waitFor) poll = setInterval(check, 50);
    timer = setTimeout(() => { result.timedOut = true; killTree(child); }, timeoutMs);
    child.on('error', (err) => { result.spawnError = err; live.delete(child); finish(); });
    child.on('exit', (code, signal) => {
      result.code = code;
      result.signal = signal;
      live.delete(child);
      check();
      // 'close' waits for the pipes, which a leftover grandchild could hold: don't wait forever.
      setTimeout(finish, 2000).unref();
    });
    child.on('close', () => { check(); finish(); });
  });
}

module.exports = { runFixture, parseFixtureOutput, parseTextReports, parseJsonLog, killTree, ROOT, FIXTURES, TEST_ADDON };
