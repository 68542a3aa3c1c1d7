'use strict';
// 5. Attach cost: the attach call (supervise() for stallwatch) in a fresh process, and with a
//    large heap of small objects; start-up of a compile-heavy workload (require TypeScript and
//    transpile lib/*.ts) with the detector attached first.
// 6. Memory: RSS added by attaching; bytes per compiled JS function (stallwatch's code map).
const { interleave, field } = require('../lib/interleave');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { runWorkload } = require('../lib/proc');
const stats = require('../lib/stats');
const { callgrindAvailable, callgrindWrapper, totalInstructions, functionCounts } = require('../lib/callgrind');

function compare(results, variants, metric, base = 'none') {
  const out = {};
  const b = field(results, base, metric);
  for (const v of variants) {
    const values = field(results, v, metric);
    out[v] = { ...stats.summary(values), values };
    if (v !== base && results[base]) {
      out[v].ratio = stats.pairedRatio(b, values);
      out[v].diff = stats.pairedDiff(b, values);
    }
  }
  return out;
}

async function attachSuite(ctx) {
  const cfg = ctx.config.attach;
  const log = ctx.log;
  const detectors = ctx.detectors;
  const out = { config: cfg };
  log(`attach (fresh process): ${detectors.join(', ')} x ${cfg.rounds} rounds`);
  const fresh = await interleave(
    detectors,
    cfg.rounds,
    (d) => runWorkload('attach.js', [`--detector=${d}`], { nodeArgs: ['--expose-gc'] }),
    { label: 'attach', log },
  );
  out.fresh = { raw: fresh, attachMs: compare(fresh, detectors, 'attachMs'), requireMs: compare(fresh, detectors, 'requireMs') };
  out.memory = {
    rssDelta: compare(fresh, detectors, 'rssDelta'),
    brkHeapDelta: compare(fresh, detectors, 'brkHeapDelta'),
  };

  const big = detectors.filter((d) => d !== 'none');
  if (cfg.heapMB > 0 && big.length) {
    log(`attach (${cfg.heapMB} MB heap of small objects): ${big.join(', ')} x ${cfg.heapRounds} rounds`);
    const heavy = await interleave(
      big,
      cfg.heapRounds,
      (d) =>
        runWorkload('attach.js', [`--detector=${d}`, `--heapMB=${cfg.heapMB}`], {
          nodeArgs: ['--expose-gc', `--max-old-space-size=${cfg.heapMB * 3 + 512}`],
          timeoutMs: 180_000,
        }),
      { label: 'attach-heap', log },
    );
    out.largeHeap = {
      raw: heavy,
      attachMs: compare(heavy, big, 'attachMs', null),
      heapUsedMB: stats.summary(big.flatMap((d) => field(heavy, d, 'heapUsedMB'))),
      heapObjects: stats.summary(big.flatMap((d) => field(heavy, d, 'heapObjects'))),
    };
  }
  return out;
}

async function compileSuite(ctx) {
  const cfg = ctx.config.compile;
  const log = ctx.log;
  // With an A/A control (the baseline twice), as in the throughput test.
  const others = ctx.detectors.filter((d) => d !== 'none');
  const detectors = cfg.aaControl ? ['none', 'none-aa', ...others] : ['none', ...others];
  log(`compile-heavy start-up: ${detectors.join(', ')} x ${cfg.rounds} rounds`);
  const results = await interleave(
    detectors,
    cfg.rounds,
    (d) => runWorkload('compile.js', [`--detector=${d}`, `--threshold=${cfg.thresholdMs}`]),
    { label: 'compile', log },
  );
  const instructions = cfg.callgrindRounds > 0 && callgrindAvailable() ? await compileInstructions(cfg, log) : undefined;
  return {
    config: cfg,
    variants: detectors,
    raw: results,
    instructions,
    totalMs: compare(results, detectors, 'totalMs'),
    mainThreadCpuMs: compare(results, detectors, 'mainThreadCpuMs'),
    processCpuMs: compare(results, detectors, 'processCpuMs'),
    wallMs: compare(results, detectors, 'wallMs'),
    requireMs: compare(results, detectors, 'requireMs'),
    transpileMs: compare(results, detectors, 'transpileMs'),
    captures: field(results, 'stallwatch', 'captures'),
  };
}

// Where stallwatch's start-up instructions go (inclusive counts, so the parts overlap where one
// calls another: V8's replay of existing code at supervise() runs both other parts too).
const START_UP_PARTS = {
  // Line ends of every script that gets code: V8 computes a function's line and column for each
  // code event once any code event listener is installed (Compiler::LogFunctionCompilation),
  // which needs the script's line-end table. Without a listener most scripts never get one.
  lineEnds: /v8::internal::Script::InitLineEnds/,
  // stallwatch's JIT code event handler: names, moves and bytecode line tables into the code map.
  handler: /stallwatch::OnJitCodeEvent\(/,
  // The supervise() call's native part, V8's replay of existing code included.
  attach: /stallwatch::\(anonymous namespace\)::Subscribe\(/,
};

// V8 on the main thread only, with fixed seeds: the count then repeats to about 0.01% between
// identical runs. With V8's background compiler and GC threads, identical runs differed by up to
// 14% (which thread compiles what, and when, varies), hiding the difference measured here.
const DETERMINISTIC_V8 = ['--single-threaded', '--hash-seed=1', '--random-seed=1'];

/** Instructions of the short compile workload under callgrind, per variant and round. */
async function compileInstructions(cfg, log) {
  const variants = cfg.aaControl ? ['none', 'none-aa', 'stallwatch'] : ['none', 'stallwatch'];
  log(`compile-heavy start-up, instructions (callgrind): ${variants.join(', ')} x ${cfg.callgrindRounds} rounds`);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-bench-cg-'));
  try {
    const results = await interleave(
      variants,
      cfg.callgrindRounds,
      async (d, round) => {
        const outFile = path.join(tmpDir, `compile-${d}-${round}.out`);
        const result = await runWorkload(
          'compile.js',
          [`--detector=${d}`, `--threshold=${cfg.callgrindThresholdMs}`, '--libs=0', `--classes=${cfg.callgrindClasses}`],
          { wrapper: callgrindWrapper(outFile), nodeArgs: DETERMINISTIC_V8, timeoutMs: 600_000 },
        );
        const parts = {};
        const rows = functionCounts(outFile, { inclusive: true }) || [];
        for (const [part, pattern] of Object.entries(START_UP_PARTS)) {
          parts[part] = rows.filter((r) => pattern.test(r.fn)).reduce((sum, r) => sum + r.count, 0);
        }
        return { instructions: totalInstructions(outFile), ...parts, captures: result.captures };
      },
      { label: 'compile-callgrind', log },
    );
    const out = { variants, rounds: cfg.callgrindRounds, classes: cfg.callgrindClasses, thresholdMs: cfg.callgrindThresholdMs, nodeArgs: DETERMINISTIC_V8, raw: results };
    out.total = compare(results, variants, 'instructions');
    out.parts = Object.fromEntries(Object.keys(START_UP_PARTS).map((p) => [p, compare(results, variants, p)]));
    return out;
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

async function codeMapSuite(ctx) {
  const cfg = ctx.config.codemap;
  const log = ctx.log;
  if (!ctx.detectors.includes('stallwatch')) return { skipped: 'stallwatch not loadable' };
  const variants = ['none', 'stallwatch'];
  const out = { config: cfg };
  for (const mode of ['keep', 'churn']) {
    log(`code map (${mode}): ${variants.join(', ')} x ${cfg.rounds} rounds, ${cfg.n} functions`);
    const results = await interleave(
      variants,
      cfg.rounds,
      (d) => runWorkload('codemap.js', [`--detector=${d}`, `--n=${cfg.n}`, `--mode=${mode}`], { nodeArgs: ['--expose-gc'] }),
      { label: `codemap-${mode}`, log },
    );
    const per = (metric) => {
      const d = stats.pairedDiff(field(results, 'none', metric), field(results, 'stallwatch', metric));
      return { ...d, perFunction: { median: d.median / cfg.n, min: d.min / cfg.n, max: d.max / cfg.n } };
    };
    out[mode] = {
      raw: results,
      brkHeapPerFn: per('brkHeapDelta'),
      rssPerFn: per('rssDelta'),
      heapUsedPerFn: per('heapUsedDelta'),
      compileMs: compare(results, variants, 'compileMs'),
    };
  }
  return out;
}

module.exports = { attachSuite, compileSuite, codeMapSuite };
