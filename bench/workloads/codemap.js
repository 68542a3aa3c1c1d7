'use strict';
// Memory per compiled JS function with a detector attached (for stallwatch: its JS code map,
// fed by V8 code events).
//   node --expose-gc codemap.js --detector=none|stallwatch --n=100000 [--mode=keep|churn]
// keep:  compiles n distinct named functions, calls each once (so V8 creates its bytecode and
//        reports a code event), keeps them alive; reports RSS/heap before and after.
// churn: the same n functions compiled in 10 batches, each batch dropped and collected before
//        the next: code that no longer exists should not cost memory.
// The per-entry cost is estimated by the orchestrator as
//   (rssDelta[stallwatch] - rssDelta[none]) / n   (paired, interleaved rounds).
const { attach, parseArgs, emit, nativeMemory } = require('../lib/detectors');

const args = parseArgs();
const detector = args.detector || 'none';
const n = Number(args.n || 100_000);
const mode = args.mode || 'keep';
const gc = typeof global.gc === 'function' ? global.gc : () => {};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function compileBatch(from, to) {
  const fns = new Array(to - from);
  for (let i = from; i < to; i++) {
    // Distinct source and name: no compilation-cache hits, one code map entry (and name) each.
    const f = new Function(`return function fn_${i}(a) { return a + ${i}; }`)();
    f(1);
    fns[i - from] = f;
  }
  return fns;
}

async function main() {
  const attached = attach(detector, { thresholdMs: 1000 });
  // Warm up the compile path so lazily allocated V8/stallwatch structures exist in both cases.
  compileBatch(n + 1, n + 1001);
  gc();
  await sleep(200);
  gc();
  const m0 = process.memoryUsage();
  const n0 = nativeMemory();
  const t0 = performance.now();
  let keep = null;
  if (mode === 'keep') {
    keep = compileBatch(0, n);
  } else {
    const batch = Math.ceil(n / 10);
    for (let from = 0; from < n; from += batch) {
      let fns = compileBatch(from, Math.min(n, from + batch));
      fns = null;
      gc();
    }
  }
  const compileMs = performance.now() - t0;
  gc();
  await sleep(200);
  gc();
  const m1 = process.memoryUsage();
  const n1 = nativeMemory();
  emit({
    result: {
      detector,
      mode,
      n,
      compileMs,
      rssDelta: m1.rss - m0.rss,
      brkHeapDelta: n1.brkHeapRss - n0.brkHeapRss,
      heapUsedDelta: m1.heapUsed - m0.heapUsed,
      heapTotalDelta: m1.heapTotal - m0.heapTotal,
      kept: keep ? keep.length : 0,
    },
  });
  attached.close();
  process.exit(0);
}

main();
