'use strict';
// Process helpers: start a workload and wait for its READY line, read per-thread CPU and
// scheduling counters from /proc, stop processes we started (by pid, never by name).
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const BENCH_DIR = path.resolve(__dirname, '..');
const WORKLOADS = path.join(BENCH_DIR, 'workloads');

/**
 * Spawns a process whose stdout carries JSON lines. Resolves once a line with {ready: true}
 * arrives (or rejects on exit/timeout). The returned handle exposes every later line.
 */
function startJsonProcess(command, args, opts = {}) {
  const timeoutMs = opts.readyTimeoutMs || 60_000;
  const child = spawn(command, args, {
    cwd: opts.cwd || BENCH_DIR,
    env: { ...process.env, ...(opts.env || {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines = [];
  const waiters = [];
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  const rl = readline.createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not ours (a library printing to stdout)
    }
    lines.push(msg);
    for (const w of [...waiters]) {
      if (w.match(msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(msg);
      }
    }
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const handle = {
    child,
    pid: child.pid,
    lines,
    get stderr() {
      return stderr;
    },
    exited,
    /** Resolves with the first (past or future) JSON line matching `match`. */
    waitFor(match, ms = timeoutMs) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { match, resolve };
        waiters.push(w);
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`timed out after ${ms} ms waiting for ${command} ${args.join(' ')}; stderr: ${stderr.slice(-2000)}`));
        }, ms);
        exited.then(({ code, signal }) => {
          if (waiters.includes(w)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(w), 1);
            reject(new Error(`${path.basename(args[0] || command)} exited (${code ?? signal}) before answering; stderr: ${stderr.slice(-2000)}`));
          }
        });
        const origResolve = w.resolve;
        w.resolve = (m) => {
          clearTimeout(timer);
          origResolve(m);
        };
      });
    },
    send(obj) {
      child.stdin.write(`${JSON.stringify(obj)}\n`);
    },
    /** Stops the process (SIGTERM, then SIGKILL after `graceMs`), resolves on exit. */
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {}
      }, graceMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
  handle.ready = handle.waitFor((m) => m.ready === true);
  handle.ready.catch(() => {}); // callers that never await it must not crash the bench
  return handle;
}

/** [command, args] that run a workload script with node, under opts.wrapper (e.g. valgrind) if given. */
function workloadCommand(script, args, opts) {
  const nodeArgs = [...(opts.nodeArgs || []), path.join(WORKLOADS, script), ...args];
  return opts.wrapper ? [opts.wrapper[0], [...opts.wrapper.slice(1), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
}

/** Starts a workload script with node, waits for READY. */
async function startWorkload(script, args = [], opts = {}) {
  const handle = startJsonProcess(...workloadCommand(script, args, opts), opts);
  handle.readyMsg = await handle.ready;
  return handle;
}

/** Runs a workload to completion; resolves with its last JSON line carrying {result: ...}. */
async function runWorkload(script, args = [], opts = {}) {
  const handle = startJsonProcess(...workloadCommand(script, args, opts), opts);
  const started = process.hrtime.bigint();
  const timeoutMs = opts.timeoutMs || 120_000;
  const timer = setTimeout(() => handle.stop(1000), timeoutMs);
  const { code, signal } = await handle.exited;
  clearTimeout(timer);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const last = [...handle.lines].reverse().find((m) => m.result !== undefined);
  if (!last) {
    throw new Error(`${script} ${args.join(' ')} exited (${code ?? signal}) without a result; stderr: ${handle.stderr.slice(-3000)}`);
  }
  return { ...last.result, wallMs, exitCode: code, stderrTail: handle.stderr.slice(-500) };
}

function readFileOr(file, fallback = '') {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/**
 * Per-thread snapshot: name, on-CPU time (ns, from schedstat), voluntary and involuntary
 * context switches. A voluntary context switch is the thread going to sleep, i.e. one wake-up
 * when it runs again.
 */
function threadSnapshot(pid) {
  const out = {};
  let tids = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const base = `/proc/${pid}/task/${tid}`;
    const comm = readFileOr(`${base}/comm`).trim();
    const sched = readFileOr(`${base}/schedstat`).trim().split(/\s+/).map(Number);
    const status = readFileOr(`${base}/status`);
    const vol = Number((/voluntary_ctxt_switches:\s+(\d+)/.exec(status) || [])[1]);
    const invol = Number((/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status) || [])[1]);
    out[tid] = { tid: Number(tid), comm, cpuNs: sched[0] || 0, runs: sched[2] || 0, vol, invol };
  }
  return out;
}

/** Difference of two thread snapshots, for threads alive in both (plus new ones from zero). */
function threadDelta(before, after, mainPid) {
  const rows = [];
  for (const [tid, a] of Object.entries(after)) {
    const b = before[tid] || { cpuNs: 0, runs: 0, vol: 0, invol: 0 };
    rows.push({
      tid: Number(tid),
      comm: a.comm,
      role: threadRole(a.comm, Number(tid) === mainPid),
      cpuNs: a.cpuNs - b.cpuNs,
      wakeups: a.vol - b.vol,
      involuntary: a.invol - b.invol,
      runs: a.runs - b.runs,
    });
  }
  return rows;
}

/**
 * Groups a process's threads: the event loop (main thread), stallwatch's own threads (named
 * stallwatch-dog/-rep/-log) and everything else. On Node 20 every other thread (V8 platform
 * workers, libuv pool, inspector, worker_threads such as Sentry's watchdog) is named "node",
 * so they cannot be told apart by name.
 */
function threadRole(comm, isMain) {
  if (isMain) return 'event loop';
  if (comm.startsWith('stallwatch')) return comm;
  return 'other';
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** performance.timeOrigin + performance.now(): epoch ms with sub-ms resolution. */
const epochMs = () => performance.timeOrigin + performance.now();

module.exports = {
  BENCH_DIR,
  WORKLOADS,
  startJsonProcess,
  startWorkload,
  runWorkload,
  threadSnapshot,
  threadDelta,
  threadRole,
  sleep,
  epochMs,
};
