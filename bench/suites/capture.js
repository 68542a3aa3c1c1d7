'use strict';
// 4. Capture pause: time the stalled thread spends inside stallwatch's signal handler
//    (stats().handlerNs) and from sending the signal to the watchdog holding the sample
//    (stats().signalToSampleNs), at maxFrames 128, for a shallow stack and for a stack
//    about 128 frames deep (JS recursion under a timer callback). Each round is a fresh
//    process; its first capture (libunwind and V8 caches cold) is reported apart from the
//    steady state (every later capture).
const { interleave } = require('../lib/interleave');
const { runWorkload } = require('../lib/proc');
const stats = require('../lib/stats');

async function oneRun(variant, cfg) {
  const depth = variant === 'deep' ? cfg.deepDepth : 0;
  const r = await runWorkload('stall.js', [
    '--detector=stallwatch',
    `--threshold=${cfg.thresholdMs}`,
    `--stall=${cfg.stallMs}`,
    `--gap=${cfg.gapMs}`,
    `--timer=${cfg.stalls}`,
    '--http=0',
    `--depth=${depth}`,
    '--maxFrames=128',
    '--warm=300',
  ]);
  const s = r.stats || { handlerNs: [], signalToSampleNs: [] };
  const frames = r.detections.map((d) => d.frames).filter(Number.isFinite);
  return {
    handlerNs: s.handlerNs,
    signalToSampleNs: s.signalToSampleNs,
    samples: s.samples,
    failedSignals: s.failedSignals,
    reports: r.detections.length,
    stalls: r.stalls.length,
    framesMedian: stats.median(frames),
    framesMax: frames.length ? Math.max(...frames) : NaN,
    partial: r.detections.filter((d) => d.partial).length,
    partialReasons: r.detections
      .filter((d) => d.partial)
      .reduce((acc, d) => {
        for (const sentence of String(d.partial).split(/(?<=\.)\s+/)) acc[sentence] = (acc[sentence] || 0) + 1;
        return acc;
      }, {}),
  };
}

async function run(ctx) {
  const cfg = ctx.config.capture;
  const log = ctx.log;
  const out = { config: cfg, notes: [] };
  if (!ctx.detectors.includes('stallwatch')) return { skipped: 'stallwatch not loadable' };
  const variants = ['shallow', 'deep'];
  log(`capture: ${variants.join(', ')} x ${cfg.rounds} rounds of ${cfg.stalls} stalls (threshold ${cfg.thresholdMs} ms)`);
  const results = await interleave(variants, cfg.rounds, (v) => oneRun(v, cfg), { label: 'capture', log });
  out.raw = results;
  out.summary = {};
  for (const v of variants) {
    const ok = results[v].filter((r) => r && Array.isArray(r.handlerNs));
    const firsts = ok.map((r) => r.handlerNs[0]).filter(Number.isFinite);
    const steady = ok.flatMap((r) => r.handlerNs.slice(1));
    const sigFirst = ok.map((r) => r.signalToSampleNs[0]).filter(Number.isFinite);
    const sigSteady = ok.flatMap((r) => r.signalToSampleNs.slice(1));
    const us = (xs) => xs.map((x) => x / 1000);
    out.summary[v] = {
      processes: ok.length,
      firstCaptureUs: stats.summary(us(firsts)),
      steadyHandlerUs: stats.tail(us(steady)),
      allHandlerUs: stats.tail(us(ok.flatMap((r) => r.handlerNs))),
      firstSignalToSampleUs: stats.summary(us(sigFirst)),
      steadySignalToSampleUs: stats.tail(us(sigSteady)),
      framesMedian: stats.median(ok.map((r) => r.framesMedian)),
      framesMax: Math.max(...ok.map((r) => r.framesMax)),
      failedSignals: ok.reduce((a, r) => a + (r.failedSignals || 0), 0),
      partialReports: ok.reduce((a, r) => a + r.partial, 0),
      samples: ok.reduce((a, r) => a + (r.samples || 0), 0),
      reports: ok.reduce((a, r) => a + r.reports, 0),
      partialReasons: ok.reduce((acc, r) => {
        for (const [k, v] of Object.entries(r.partialReasons || {})) acc[k] = (acc[k] || 0) + v;
        return acc;
      }, {}),
    };
  }
  return out;
}

module.exports = { run };
