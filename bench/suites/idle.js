'use strict';
// 2. Idle cost: the hello-world server listening, no traffic, for `durationMs`.
//    An idle process barely competes for the CPU, so instead of running the variants one after
//    the other, each round starts one server per detector and measures them side by side
//    (simultaneous is as fair as interleaved, and fits the time budget).
//    - untraced rounds: per-thread on-CPU time (schedstat, ns) and voluntary context switches
//      (each is one sleep, so one wake-up when the thread next runs);
//    - one traced round: `strace -f` on every server, completed syscalls per thread (strace's
//      own stops inflate context switches and CPU, so those come from the untraced rounds).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { startWorkload, threadSnapshot, threadDelta, sleep } = require('../lib/proc');
const stats = require('../lib/stats');

function rotate(list, k) {
  return list.map((_, i) => list[(i + k) % list.length]);
}

function summarizeRows(rows, seconds) {
  const by = (pred) => rows.filter(pred);
  const sum = (rs, key) => rs.reduce((a, r) => a + r[key], 0);
  const loop = by((r) => r.role === 'event loop');
  const dog = by((r) => r.role === 'stallwatch-dog');
  const sw = by((r) => r.role.startsWith('stallwatch'));
  const other = by((r) => r.role === 'other');
  return {
    loopWakeupsPerSec: sum(loop, 'wakeups') / seconds,
    watchdogWakeupsPerSec: sum(dog, 'wakeups') / seconds,
    stallwatchThreadsWakeupsPerSec: sum(sw, 'wakeups') / seconds,
    otherWakeupsPerSec: sum(other, 'wakeups') / seconds,
    totalWakeupsPerSec: sum(rows, 'wakeups') / seconds,
    cpuPctOfCore: (100 * sum(rows, 'cpuNs')) / (seconds * 1e9),
    loopCpuPct: (100 * sum(loop, 'cpuNs')) / (seconds * 1e9),
    threads: rows.length,
  };
}

async function untracedRound(detectors, cfg, round) {
  const servers = {};
  for (const d of rotate(detectors, round)) {
    servers[d] = await startWorkload('server.js', [`--detector=${d}`, `--threshold=${cfg.thresholdMs}`]);
  }
  try {
    // Two windows: "early" right after start-up (one-off work such as V8's memory reducer GC
    // lands here) and "steady", the one the targets are about.
    await sleep(cfg.settleMs);
    const snaps = [];
    const times = [];
    for (let w = 0; w < 3; w++) {
      if (w > 0) await sleep(cfg.durationMs);
      times.push(process.hrtime.bigint());
      snaps.push(Object.fromEntries(detectors.map((d) => [d, threadSnapshot(servers[d].pid)])));
    }
    const out = { early: {}, steady: {} };
    for (const [name, a, b] of [['early', 0, 1], ['steady', 1, 2]]) {
      const seconds = Number(times[b] - times[a]) / 1e9;
      for (const d of detectors) {
        const rows = threadDelta(snaps[a][d], snaps[b][d], servers[d].pid);
        out[name][d] = { ...summarizeRows(rows, seconds), rows };
      }
    }
    return out;
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}

/** Parses `strace -f -o` output: completed syscalls per thread, and epoll waits that returned. */
function parseStrace(text) {
  const perTid = {};
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const tid = Number(m[1]);
    const rest = m[2];
    if (rest.endsWith('<unfinished ...>')) continue;
    if (rest.startsWith('+++') || rest.startsWith('---')) continue;
    let name;
    const resumed = /^<\.\.\. (\w+) resumed>/.exec(rest);
    if (resumed) name = resumed[1];
    else {
      const call = /^(\w+)\(/.exec(rest);
      if (!call) continue;
      name = call[1];
    }
    const t = (perTid[tid] = perTid[tid] || { total: 0, byName: {} });
    t.total++;
    t.byName[name] = (t.byName[name] || 0) + 1;
  }
  return perTid;
}

async function tracedRound(detectors, cfg, tmpDir) {
  const servers = {};
  for (const d of detectors) servers[d] = await startWorkload('server.js', [`--detector=${d}`, `--threshold=${cfg.thresholdMs}`]);
  const traces = {};
  try {
    // Only the steady state: skip the same start-up window as the untraced rounds.
    await sleep(cfg.settleMs + cfg.durationMs - 500);
    const comms = {};
    for (const d of detectors) {
      comms[d] = threadSnapshot(servers[d].pid);
      const file = path.join(tmpDir, `strace-${d}.txt`);
      const st = spawn('strace', ['-f', '-qq', '-o', file, '-p', String(servers[d].pid)], { stdio: 'ignore' });
      traces[d] = { st, file, exited: new Promise((r) => st.on('exit', r)) };
    }
    await sleep(500); // attach
    const start = {};
    for (const d of detectors) start[d] = fs.statSync(traces[d].file).size;
    const t0 = process.hrtime.bigint();
    await sleep(cfg.durationMs);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const sizes = {};
    for (const d of detectors) sizes[d] = fs.statSync(traces[d].file).size;
    for (const d of detectors) traces[d].st.kill('SIGINT');
    await Promise.all(detectors.map((d) => traces[d].exited));
    const out = {};
    for (const d of detectors) {
      // Only the measured window: bytes written between the two stat() calls.
      const fd = fs.openSync(traces[d].file, 'r');
      const len = Math.max(0, sizes[d] - start[d]);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, start[d]);
      fs.closeSync(fd);
      let text = buf.toString('utf8');
      text = text.slice(text.indexOf('\n') + 1); // first line may be cut
      const perTid = parseStrace(text);
      const mainPid = servers[d].pid;
      const roleOf = (tid) => {
        const c = comms[d][tid];
        if (tid === mainPid) return 'event loop';
        if (c && c.comm.startsWith('stallwatch')) return c.comm;
        return 'other';
      };
      const sumRole = (pred) =>
        Object.entries(perTid)
          .filter(([tid]) => pred(roleOf(Number(tid))))
          .reduce((a, [, v]) => a + v.total, 0);
      const loop = perTid[mainPid] || { total: 0, byName: {} };
      out[d] = {
        seconds,
        loopSyscallsPerSec: loop.total / seconds,
        loopEpollReturnsPerSec: ((loop.byName.epoll_wait || 0) + (loop.byName.epoll_pwait || 0)) / seconds,
        watchdogSyscallsPerSec: sumRole((r) => r === 'stallwatch-dog') / seconds,
        stallwatchThreadsSyscallsPerSec: sumRole((r) => r.startsWith('stallwatch')) / seconds,
        otherSyscallsPerSec: sumRole((r) => r === 'other') / seconds,
        perThread: Object.fromEntries(
          Object.entries(perTid).map(([tid, v]) => [`${tid} (${roleOf(Number(tid))})`, { total: v.total, byName: v.byName }]),
        ),
      };
    }
    return out;
  } finally {
    for (const d of Object.keys(traces)) {
      try {
        traces[d].st.kill('SIGKILL');
      } catch {}
    }
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}

async function run(ctx) {
  const cfg = ctx.config.idle;
  const detectors = ctx.detectors;
  const log = ctx.log;
  const out = { config: cfg, notes: [] };
  log(`idle: ${detectors.join(', ')} side by side, ${cfg.rounds} rounds of ${cfg.durationMs / 1000} s start-up + ${cfg.durationMs / 1000} s steady; strace alongside round 1`);
  const haveStrace = !spawnSync('strace', ['-V']).error;
  const rounds = [];
  for (let r = 0; r < cfg.rounds; r++) {
    if (r === 0 && haveStrace && cfg.strace) {
      // The traced servers run at the same time as round 1's untraced ones (all idle).
      const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-bench-strace-'));
      const [untraced, traced] = await Promise.all([
        untracedRound(detectors, cfg, r),
        tracedRound(detectors, cfg, tmpDir).catch((error) => {
          out.notes.push(`strace round failed: ${error.message}`);
          return null;
        }),
      ]);
      fs.rmSync(tmpDir, { recursive: true, force: true });
      rounds.push(untraced);
      if (traced) out.strace = traced;
    } else {
      rounds.push(await untracedRound(detectors, cfg, r));
    }
  }
  if (!haveStrace) out.notes.push('strace not available: syscall counts not measured.');
  out.rounds = rounds;
  const keys = ['loopWakeupsPerSec', 'watchdogWakeupsPerSec', 'stallwatchThreadsWakeupsPerSec', 'otherWakeupsPerSec', 'totalWakeupsPerSec', 'cpuPctOfCore', 'loopCpuPct'];
  for (const phase of ['steady', 'early']) {
    const metric = (d, k) => rounds.map((r) => (r[phase][d] ? r[phase][d][k] : NaN));
    const summary = {};
    for (const d of detectors) {
      summary[d] = {};
      for (const k of keys) {
        summary[d][k] = { ...stats.summary(metric(d, k)), values: metric(d, k) };
        if (d !== 'none') summary[d][k].diffVsNone = stats.pairedDiff(metric('none', k), metric(d, k));
      }
    }
    out[phase === 'steady' ? 'summary' : 'earlySummary'] = summary;
  }
  return out;
}

module.exports = { run, parseStrace };
