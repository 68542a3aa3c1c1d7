'use strict';
// The detectors compared, attached the way an application would attach them, each configured
// for the same threshold. Used inside workload processes.
//
//   none        no detector (the baseline); 'none-aa' is the same, run as a second variant
//               (an A/A control: how different two identical variants look on this machine)
//   stallwatch  supervise() from this repository
//   sentry      @sentry/node + @sentry/node-native eventLoopBlockIntegration. Sentry.init gets
//               only that integration (defaultIntegrations: false), so what is measured is the
//               block detector, not the rest of the SDK (whose default HTTP tracing would cost
//               more). Events go to `sentryDsn`; the bench's local ingest sink when it measures
//               detection, a closed port otherwise (no event is produced without a stall).
//   blocked-at  blocked-at (async_hooks; reports a callback that ran longer than the threshold,
//               once it has returned)
//   eld         node's built-in means: perf_hooks.monitorEventLoopDelay (10 ms resolution) plus
//               a setInterval drift check every threshold/2 that reports a late tick (what the
//               'blocked' package and most home-grown watchdogs do). Also after the fact.
const path = require('path');

// The stallwatch under test: this checkout, or another one (STALLWATCH_BENCH_REPO=/path) to
// compare builds.
const REPO = process.env.STALLWATCH_BENCH_REPO
  ? path.resolve(process.env.STALLWATCH_BENCH_REPO)
  : path.resolve(__dirname, '..', '..');
const DETECTORS = ['none', 'stallwatch', 'sentry', 'blocked-at', 'eld'];

const epochMs = () => performance.timeOrigin + performance.now();

/** The bench's stall workload runs each stall in a function named stall_<id>. */
function stallIdOf(names) {
  for (const n of names) {
    const m = /^stall_(\d+)$/.exec(n || '');
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Loads a detector's module without attaching it: tells whether it is usable here. */
function probe(name) {
  switch (name) {
    case 'none':
    case 'eld':
      return null;
    case 'stallwatch':
      require(REPO).capabilities();
      return null;
    case 'sentry':
      require('@sentry/node');
      require('@sentry/node-native');
      return null;
    case 'blocked-at':
      require('blocked-at');
      return null;
    default:
      throw new Error(`unknown detector ${name}`);
  }
}

/**
 * Attaches `name`. `onDetect(epochMs, info)` is called in this process when the detector
 * reports a stall here (Sentry reports from its worker to the ingest sink instead).
 * Returns { attachMs, close(), stats() }.
 */
function attach(name, opts = {}) {
  const thresholdMs = opts.thresholdMs || 100;
  const onDetect = opts.onDetect || (() => {});
  const t0 = performance.now();
  let close = () => {};
  let stats = () => null;
  switch (name) {
    case 'none':
    case 'none-aa': // the A/A control: a second baseline, to show the noise floor
      break;
    case 'stallwatch': {
      const sw = require(REPO);
      const handle = sw.supervise({
        thresholdMs,
        log: opts.logPath ? { path: opts.logPath } : false,
        logFormat: 'json',
        maxFrames: opts.maxFrames || 128,
        maxReportsPerMinute: 10_000,
      });
      handle.on('blocked', (report) =>
        onDetect(report.capturedAt, {
          deliveredAt: epochMs(),
          blockedMs: report.blockedMs,
          frames: report.frames.length,
          partial: report.partial,
          stallId: stallIdOf(report.frames.map((f) => f.name)),
        }),
      );
      close = () => handle.close();
      stats = () => sw.stats();
      break;
    }
    case 'sentry': {
      const Sentry = require('@sentry/node');
      const { eventLoopBlockIntegration } = require('@sentry/node-native');
      Sentry.init({
        dsn: opts.sentryDsn || 'http://public@127.0.0.1:9/1',
        defaultIntegrations: false,
        integrations: [eventLoopBlockIntegration({ threshold: thresholdMs, maxEventsPerHour: 1_000_000 })],
        sendClientReports: false,
      });
      close = () => Sentry.close(0);
      break;
    }
    case 'blocked-at': {
      const blockedAt = require('blocked-at');
      const h = blockedAt((ms) => onDetect(epochMs(), { blockedMs: ms }), { threshold: thresholdMs });
      close = () => h.stop();
      break;
    }
    case 'eld': {
      const { monitorEventLoopDelay } = require('perf_hooks');
      const histogram = monitorEventLoopDelay({ resolution: 10 });
      histogram.enable();
      const interval = Math.max(1, Math.floor(thresholdMs / 2));
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        const lag = now - last - interval;
        last = now;
        if (lag > thresholdMs) onDetect(epochMs(), { blockedMs: lag + interval });
      }, interval);
      timer.unref();
      close = () => {
        clearInterval(timer);
        histogram.disable();
      };
      stats = () => ({ p99DelayMs: histogram.percentile(99) / 1e6 });
      break;
    }
    default:
      throw new Error(`unknown detector ${name}`);
  }
  return { attachMs: performance.now() - t0, close, stats };
}

/** --key=value arguments. */
function parseArgs(argv = process.argv.slice(2)) {
  const out = {};
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m) out[m[1]] = m[2] === undefined ? true : m[2];
  }
  return out;
}

/**
 * Resident bytes of the malloc heap ([heap], the brk area, where glibc serves the main thread's
 * small allocations) and of all anonymous memory, from /proc/self/smaps. The first isolates
 * native data structures such as a code map from the V8 heap (which lives in its own mmaps).
 */
function nativeMemory() {
  const fs = require('fs');
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return { brkHeapRss: NaN };
  }
  let brkHeapRss = 0;
  let current = '';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      current = head[1];
      continue;
    }
    if (current === '[heap]' && line.startsWith('Rss:')) brkHeapRss += Number(/(\d+)/.exec(line)[1]) * 1024;
  }
  return { brkHeapRss };
}

function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

module.exports = { DETECTORS, REPO, attach, probe, parseArgs, emit, epochMs, nativeMemory, stallIdOf };
