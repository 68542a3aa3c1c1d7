'use strict';
// Reproducer: how many 200 ms stalls (threshold 100 ms) get no 'blocked' report, or a report
// whose stack does not contain the stalled function. Each stall runs in its own function
// stall_<i> (a busy loop on performance.now()) from a setTimeout callback.
//   node bench/probes/missed-stalls.js [stalls=60]      (STALLWATCH_BENCH_REPO=... for another build)
// (Finding in bench/RESULTS.md.) Not part of npm run bench.
const path = require('path');
const repo = process.env.STALLWATCH_BENCH_REPO || path.resolve(__dirname, '..', '..');
const sw = require(repo);

const total = Number(process.argv[2] || 60);
const handle = sw.supervise({ thresholdMs: 100, log: false, maxReportsPerMinute: 10_000 });
const reports = [];
handle.on('blocked', (r) => reports.push(r));

function spin(until) {
  let x = 0;
  while (performance.now() < until) x++;
  return x;
}

async function main() {
  const stalls = [];
  for (let i = 0; i < total; i++) {
    await new Promise((resolve) =>
      setTimeout(() => {
        const f = new Function('spin', `return function stall_${i}(u) { return spin(u); }`)(spin);
        const start = performance.now();
        f(start + 200);
        stalls.push({ i, ms: performance.now() - start });
        resolve();
      }, 150),
    );
  }
  await new Promise((r) => setTimeout(r, 500));
  const named = new Set();
  const unnamed = [];
  for (const r of reports) {
    const m = r.frames.map((f) => /^stall_(\d+)$/.exec(f.name)).find(Boolean);
    if (m) named.add(Number(m[1]));
    else unnamed.push(r);
  }
  const s = sw.stats();
  console.log(
    JSON.stringify({
      stalls: stalls.length,
      reports: reports.length,
      withoutReport: stalls.length - reports.length,
      reportsWithoutTheStalledFunction: unnamed.length,
      samples: s.samples,
      failedSignals: s.failedSignals,
    }),
  );
  for (const r of unnamed.slice(0, 3)) {
    console.log(JSON.stringify({ state: r.state, partial: r.partial, blockedMs: r.blockedMs, frames: r.frames.map((f) => `${f.kind}:${f.name}`) }));
  }
  handle.close();
}

main();
