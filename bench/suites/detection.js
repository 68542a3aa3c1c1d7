'use strict';
// 3. Detection latency: from the timestamp taken just before a busy loop to the report being
//    available, over many stalls (in a timer and in an HTTP handler).
//    - stallwatch: report.capturedAt (taken right after the capture, on the watchdog), and the
//      time the JSON line appears in the log file (this process watches the file);
//    - sentry: the time its event envelope reaches a local ingest sink in this process;
//    - blocked-at, eld: the time their callback runs in the stalled process. Both only learn of
//      a stall once it is over, so their latency is bounded below by the stall's length.
//    All times are epoch ms from performance.timeOrigin + performance.now(), compared across
//    processes on the same machine (same clock; origins agree to well under a millisecond).
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { interleave } = require('../lib/interleave');
const { runWorkload, epochMs } = require('../lib/proc');
const { stallIdOf } = require('../lib/detectors');
const stats = require('../lib/stats');

/** A Sentry ingest endpoint that records when each event envelope arrives. */
function startSentrySink() {
  const events = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const t = epochMs();
      let body = Buffer.concat(chunks);
      try {
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      } catch {}
      const lines = body.toString('utf8').split('\n');
      const types = [];
      for (const l of lines.slice(1)) {
        try {
          const o = JSON.parse(l);
          if (o && typeof o.type === 'string') types.push(o.type);
        } catch {}
      }
      const m = /"function":"stall_(\d+)"/.exec(body.toString('utf8'));
      if (types.includes('event')) events.push({ t, stallId: m ? Number(m[1]) : undefined });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        events,
        close: () => new Promise((r) => server.close(r)),
      }),
    ),
  );
}

/** Watches a JSON-lines log file; records when each "blocked" line appears. */
function watchLog(file) {
  fs.writeFileSync(file, '');
  const seen = [];
  let offset = 0;
  let partial = '';
  const readNew = () => {
    const t = epochMs();
    let size;
    try {
      size = fs.statSync(file).size;
    } catch {
      return;
    }
    if (size <= offset) return;
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(size - offset);
    fs.readSync(fd, buf, 0, buf.length, offset);
    fs.closeSync(fd);
    offset = size;
    const text = partial + buf.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop();
    for (const l of lines) {
      try {
        const o = JSON.parse(l);
        if (o.event === 'blocked') seen.push({ t, capturedAt: o.capturedAt, stallId: stallIdOf((o.frames || []).map((f) => f.name)) });
      } catch {}
    }
  };
  const watcher = fs.watch(file, readNew);
  // inotify is prompt; the poll only catches a missed event.
  const poll = setInterval(readNew, 20);
  return {
    seen,
    close() {
      readNew();
      watcher.close();
      clearInterval(poll);
    },
  };
}

/**
 * Attributes detections ({t, stallId?}) to stalls. A detection naming its stall (its stack
 * held stall_<id>) goes to that stall; one without (blocked-at, eld: they have no stack of the
 * stall) goes to the stall whose window [start_i, start_{i+1}) it falls in.
 */
function match(stalls, detections, tailMs) {
  const sortedStalls = [...stalls].sort((a, b) => a.start - b.start);
  const used = new Set();
  const found = new Map();
  for (const s of sortedStalls) {
    const idx = detections.findIndex((d, j) => !used.has(j) && d.stallId !== undefined && d.stallId === s.id);
    if (idx >= 0) {
      used.add(idx);
      found.set(s.id, idx);
    }
  }
  // Then by time, for detections without a usable stall name.
  sortedStalls.forEach((s, i) => {
    if (found.has(s.id)) return;
    const until = i + 1 < sortedStalls.length ? sortedStalls[i + 1].start : s.end + tailMs;
    const idx = detections.findIndex((d, j) => !used.has(j) && d.t >= s.start - 1 && d.t < until);
    if (idx >= 0) {
      used.add(idx);
      found.set(s.id, idx);
    }
  });
  const rows = sortedStalls.map((s) => {
    const idx = found.has(s.id) ? found.get(s.id) : -1;
    const d = idx >= 0 ? detections[idx] : null;
    return { id: s.id, kind: s.kind, latencyMs: d ? d.t - s.start : NaN, stallMs: s.end - s.start, reportedBlockedMs: d && typeof d.blockedMs === 'number' ? d.blockedMs : undefined };
  });
  return { rows, unmatched: detections.length - used.size };
}

async function oneRun(detector, cfg, sink, tmpDir, round) {
  const args = [
    `--detector=${detector}`,
    `--threshold=${cfg.thresholdMs}`,
    `--stall=${cfg.stallMs}`,
    `--gap=${cfg.gapMs}`,
    `--timer=${cfg.timerStalls}`,
    `--http=${cfg.httpStalls}`,
    `--warm=${detector === 'sentry' ? cfg.sentryWarmMs : cfg.warmMs}`,
  ];
  let logWatch = null;
  if (detector === 'stallwatch') {
    const logFile = path.join(tmpDir, `stall-${round}.jsonl`);
    logWatch = watchLog(logFile);
    args.push(`--log=${logFile}`);
  }
  const sinkStart = sink.events.length;
  if (detector === 'sentry') args.push(`--sentryDsn=http://public@127.0.0.1:${sink.port}/1`);
  let result;
  try {
    result = await runWorkload('stall.js', args, { timeoutMs: 180_000 });
  } finally {
    if (logWatch) logWatch.close();
  }
  const tailMs = 2000;
  const detections = detector === 'sentry' ? sink.events.slice(sinkStart) : result.detections;
  const main = match(result.stalls, detections, tailMs);
  const out = { rows: main.rows, unmatched: main.unmatched, stalls: result.stalls.length };
  if (logWatch) out.logRows = match(result.stalls, logWatch.seen, tailMs).rows;
  if (detector === 'stallwatch') {
    out.deliveredRows = match(result.stalls, result.detections.map((d) => ({ t: d.deliveredAt, stallId: d.stallId })), tailMs).rows;
    out.partial = result.detections.filter((d) => d.partial).length;
    // More samples than reports: the first sample of a stall looked incomplete (no JS frames,
    // or GC) and the watchdog sampled again after 4 ms (then 20 ms); capturedAt comes after.
    out.samples = result.stats ? result.stats.samples : undefined;
    out.reports = result.detections.length;
  }
  return out;
}

function latencySummary(rowsPerRound, thresholdMs) {
  const rows = rowsPerRound.flat();
  const lat = rows.map((r) => r.latencyMs).filter(Number.isFinite);
  const t = stats.tail(lat);
  const byKind = {};
  for (const kind of ['timer', 'http']) {
    byKind[kind] = stats.tail(rows.filter((r) => r.kind === kind).map((r) => r.latencyMs).filter(Number.isFinite));
  }
  // For stallwatch: blockedMs in the report is how long the loop had been stuck when the
  // watchdog acted, so latency = (watchdog's wake-up, blockedMs) + (capture and resamples).
  const withBlocked = rows.filter((r) => Number.isFinite(r.latencyMs) && typeof r.reportedBlockedMs === 'number');
  const decomposition = withBlocked.length
    ? {
        watchdogLateMs: stats.tail(withBlocked.map((r) => r.reportedBlockedMs - thresholdMs)),
        afterDecisionMs: stats.tail(withBlocked.map((r) => r.latencyMs - r.reportedBlockedMs)),
      }
    : undefined;
  return {
    ...t,
    decomposition,
    stalls: rows.length,
    missed: rows.filter((r) => !Number.isFinite(r.latencyMs)).length,
    overThreshold: { p50: t.p50 - thresholdMs, p99: t.p99 - thresholdMs, max: t.max - thresholdMs },
    byKind,
  };
}

async function run(ctx) {
  const cfg = ctx.config.detection;
  const detectors = ctx.detectors.filter((d) => d !== 'none');
  const log = ctx.log;
  const out = { config: cfg, notes: [] };
  const sink = await startSentrySink();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-bench-stall-'));
  log(`detection: ${detectors.join(', ')} x ${cfg.rounds} rounds of ${cfg.timerStalls} timer + ${cfg.httpStalls} http stalls (${cfg.stallMs} ms, threshold ${cfg.thresholdMs} ms)`);
  try {
    const results = await interleave(detectors, cfg.rounds, (d, r) => oneRun(d, cfg, sink, tmpDir, r), { label: 'detection', log });
    out.raw = results;
    out.summary = {};
    for (const d of detectors) {
      const ok = results[d].filter((r) => r && r.rows);
      out.summary[d] = latencySummary(ok.map((r) => r.rows), cfg.thresholdMs);
      out.summary[d].unmatched = ok.reduce((a, r) => a + r.unmatched, 0);
      if (d === 'stallwatch') {
        out.summary['stallwatch (log line)'] = latencySummary(ok.map((r) => r.logRows || []), cfg.thresholdMs);
        out.summary['stallwatch (listener)'] = latencySummary(ok.map((r) => r.deliveredRows || []), cfg.thresholdMs);
        out.summary[d].partialReports = ok.reduce((a, r) => a + (r.partial || 0), 0);
        out.summary[d].samples = ok.reduce((a, r) => a + (r.samples || 0), 0);
        out.summary[d].reports = ok.reduce((a, r) => a + (r.reports || 0), 0);
      }
    }
  } finally {
    await sink.close();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  return out;
}

module.exports = { run, match };
