'use strict';
// 1. Throughput/latency overhead of a node:http hello world under closed-loop keep-alive load.
//    Per round and detector: fresh server, warm-up, then a fixed number of requests; the
//    server's CPU is summed over its threads (schedstat, ns) across the measured window.
//    Instructions per request come from callgrind (perf has no hardware counters here).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { interleave, field } = require('../lib/interleave');
const { startWorkload, startJsonProcess, threadSnapshot, threadDelta, sleep } = require('../lib/proc');
const stats = require('../lib/stats');
const { callgrindAvailable, callgrindWrapper, totalInstructions, functionCounts } = require('../lib/callgrind');

const LOADGEN = path.join(__dirname, '..', 'lib', 'loadgen.js');

async function getJson(port, urlPath) {
  const http = require('http');
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 30_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(null);
        }
      });
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
  });
}

function sumRole(rows, pred, key) {
  return rows.filter(pred).reduce((a, r) => a + r[key], 0);
}

async function oneLoadRun(detector, cfg) {
  const requests = (cfg.requestsFor && cfg.requestsFor[detector]) || cfg.requests;
  const warmup = (cfg.warmupFor && cfg.warmupFor[detector]) || cfg.warmup;
  const server = await startWorkload('server.js', [`--detector=${detector}`, `--threshold=${cfg.thresholdMs}`]);
  const port = server.readyMsg.port;
  try {
    await sleep(cfg.settleMs);
    const lg = startJsonProcess(process.execPath, [
      LOADGEN,
      `--port=${port}`,
      `--connections=${cfg.connections}`,
      `--warmup=${warmup}`,
      `--requests=${requests}`,
      `--timeout=${cfg.timeoutMs}`,
      '--wait',
    ]);
    await lg.ready;
    const before = threadSnapshot(server.pid);
    lg.send({ cmd: 'go' });
    const { result } = await lg.waitFor((m) => m.result !== undefined, cfg.timeoutMs + 10_000);
    const after = threadSnapshot(server.pid);
    await lg.exited;
    const rows = threadDelta(before, after, server.pid);
    const totalCpuNs = sumRole(rows, () => true, 'cpuNs');
    const swRows = rows.filter((r) => r.role.startsWith('stallwatch'));
    const diag = await getJson(port, '/__stats');
    const wallNs = result.elapsedMs * 1e6;
    return {
      rps: result.rps,
      p50us: result.p50us,
      p99us: result.p99us,
      errors: result.errors,
      requests: result.requests,
      cpuNsPerReq: totalCpuNs / result.requests,
      loopCpuNsPerReq: sumRole(rows, (r) => r.role === 'event loop', 'cpuNs') / result.requests,
      watchdogCpuPct: (100 * sumRole(swRows, (r) => r.role === 'stallwatch-dog', 'cpuNs')) / wallNs,
      stallwatchThreadsCpuPct: (100 * sumRole(swRows, () => true, 'cpuNs')) / wallNs,
      watchdogWakeups: sumRole(swRows, (r) => r.role === 'stallwatch-dog', 'wakeups'),
      captures: diag && diag.stats && typeof diag.stats.samples === 'number' ? diag.stats.samples : undefined,
      elapsedMs: result.elapsedMs,
    };
  } finally {
    await server.stop();
  }
}

function perfInstructionsSupported() {
  const r = spawnSync('perf', ['stat', '-x,', '-e', 'instructions', 'true'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return false;
  return !/not supported|not counted/i.test(r.stderr);
}

// V8 functions that run only, or run more, while a code event listener is installed.
const LISTENER_DRIVEN = /Heap::OnMoveEvent|CodeEventLogger|JitLogger|CodeLinePosEvent|LogEventDispatcher|CodeEventDispatcher|ExistingCodeLogger|ProfilerListener|Logger::|CodeEventHandler/;

/** Self instructions by origin, from callgrind_annotate: what stallwatch costs directly. */
function annotateBreakdown(outFile) {
  const rows = functionCounts(outFile);
  if (!rows) return null;
  const sums = { stallwatchNode: 0, uvMetricsIdleTime: 0, listenerDrivenV8: 0, v8Compiler: 0, jit: 0 };
  for (const { count: n, fn } of rows) {
    if (fn.includes('stallwatch.node')) sums.stallwatchNode += n;
    else if (fn.includes('uv_metrics_idle_time')) sums.uvMetricsIdleTime += n;
    else if (LISTENER_DRIVEN.test(fn)) sums.listenerDrivenV8 += n;
    else if (fn.includes('v8::internal::compiler::')) sums.v8Compiler += n;
    else if (/^\?\?\?:0x[0-9a-f]+ \[\?\?\?\]/.test(fn)) sums.jit += n;
  }
  return sums;
}

/** Instructions retired by the server (all threads) for `requests` requests, under callgrind. */
async function oneCallgrindRun(detector, cfg, tmpDir) {
  const outFile = path.join(tmpDir, `cg-${detector}-${Date.now()}.out`);
  const server = await startWorkload('server.js', [`--detector=${detector}`, `--threshold=${cfg.callgrindThresholdMs}`], {
    wrapper: callgrindWrapper(outFile, ['--instr-atstart=no']),
    readyTimeoutMs: 180_000,
  });
  const port = server.readyMsg.port;
  try {
    const lg = startJsonProcess(process.execPath, [
      LOADGEN,
      `--port=${port}`,
      `--connections=${cfg.connections}`,
      `--warmup=${cfg.callgrindWarmup}`,
      `--requests=${cfg.callgrindRequests}`,
      '--timeout=300000',
      '--wait',
    ]);
    await lg.ready;
    const on = spawnSync('callgrind_control', ['-i', 'on', String(server.pid)], { encoding: 'utf8' });
    if (on.status !== 0) throw new Error(`callgrind_control -i on failed: ${on.stderr || on.stdout}`);
    lg.send({ cmd: 'go' });
    const { result } = await lg.waitFor((m) => m.result !== undefined, 320_000);
    spawnSync('callgrind_control', ['-i', 'off', String(server.pid)], { encoding: 'utf8' });
    await lg.exited;
    const diag = await getJson(port, '/__stats');
    await server.stop(30_000);
    const breakdown = annotateBreakdown(outFile);
    const instructions = totalInstructions(outFile);
    return {
      instructions,
      instrPerReq: instructions / result.requests,
      ...(breakdown ? Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [`${k}PerReq`, v / result.requests])) : {}),
      requests: result.requests,
      errors: result.errors,
      captures: diag && diag.stats && typeof diag.stats.samples === 'number' ? diag.stats.samples : undefined,
    };
  } finally {
    await server.stop(30_000);
  }
}

function compare(results, detectors, metric) {
  const out = {};
  const base = field(results, 'none', metric);
  for (const d of detectors) {
    const values = field(results, d, metric);
    out[d] = { ...stats.summary(values), values, ratio: d === 'none' ? null : stats.pairedRatio(base, values) };
  }
  return out;
}

async function run(ctx) {
  const cfg = ctx.config.throughput;
  // An A/A control (a second 'none') right after the baseline: its "overhead" is pure noise.
  const others = ctx.detectors.filter((d) => d !== 'none');
  const detectors = cfg.aaControl ? ['none', 'none-aa', ...others] : ['none', ...others];
  const log = ctx.log;
  const out = { config: cfg, notes: [], variants: detectors };

  log(`throughput: ${detectors.join(', ')} x ${cfg.rounds} rounds, ${cfg.requests} requests each`);
  const results = await interleave(detectors, cfg.rounds, (d) => oneLoadRun(d, cfg), { label: 'throughput', log });
  out.raw = results;
  out.rps = compare(results, detectors, 'rps');
  out.p50us = compare(results, detectors, 'p50us');
  out.p99us = compare(results, detectors, 'p99us');
  out.cpuNsPerReq = compare(results, detectors, 'cpuNsPerReq');
  out.loopCpuNsPerReq = compare(results, detectors, 'loopCpuNsPerReq');
  if (detectors.includes('stallwatch')) {
    out.watchdogCpuPct = stats.summary(field(results, 'stallwatch', 'watchdogCpuPct'));
    out.stallwatchThreadsCpuPct = stats.summary(field(results, 'stallwatch', 'stallwatchThreadsCpuPct'));
    out.watchdogWakeupsPerSec = stats.summary(
      (results.stallwatch || []).map((r) => (r && r.elapsedMs ? (r.watchdogWakeups * 1000) / r.elapsedMs : NaN)),
    );
    out.capturesDuringLoad = field(results, 'stallwatch', 'captures');
  }

  out.perfInstructions = perfInstructionsSupported();
  if (out.perfInstructions) out.notes.push('perf supports instructions here, but callgrind is used for comparability with other machines.');
  else out.notes.push('`perf stat -e instructions` is <not supported> on this machine (no hardware counters in the VM): instructions come from callgrind.');
  if (cfg.callgrindRounds > 0 && callgrindAvailable()) {
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-bench-cg-'));
    const cgDetectors = cfg.callgrindDetectors.filter((d) => detectors.includes(d));
    log(`instructions (callgrind): ${cgDetectors.join(', ')} x ${cfg.callgrindRounds} rounds, ${cfg.callgrindRequests} requests each`);
    const cg = await interleave(cgDetectors, cfg.callgrindRounds, (d) => oneCallgrindRun(d, cfg, tmpDir), { label: 'callgrind', log });
    fs.rmSync(tmpDir, { recursive: true, force: true });
    out.callgrindRaw = cg;
    out.callgrindDetectors = cgDetectors;
    out.instrPerReq = compare(cg, cgDetectors, 'instrPerReq');
    out.callgrindBreakdown = {};
    for (const d of cgDetectors) {
      out.callgrindBreakdown[d] = {};
      for (const k of ['stallwatchNodePerReq', 'uvMetricsIdleTimePerReq', 'listenerDrivenV8PerReq', 'v8CompilerPerReq', 'jitPerReq']) {
        out.callgrindBreakdown[d][k] = stats.median(field(cg, d, k));
      }
    }
    const skippedCg = detectors.filter((d) => !cgDetectors.includes(d));
    if (skippedCg.length) out.notes.push(`callgrind runs only ${cgDetectors.join(', ')}, to fit the time budget (sentry's and blocked-at's start-up under valgrind alone takes minutes); the CPU time per request of ${skippedCg.join(', ')} is measured natively above.`);
    out.callgrindCaptures = field(cg, 'stallwatch', 'captures');
  } else {
    out.notes.push('instructions per request not measured: valgrind/callgrind_control unavailable or disabled.');
  }
  return out;
}

module.exports = { run };
