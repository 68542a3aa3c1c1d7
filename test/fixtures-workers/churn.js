'use strict';
// Churn: workers created and ended in a loop (4 alive at a time, 500 in all, at most 90 s) with
// supervision on, some of them blocking past the threshold (100 ms here) so that captures happen
// while threads come and go. Three kinds of workers, in turn:
//   covered  created after supervise({ workers: true }) on the main thread, no stallwatch code
//   self     created with an explicit execArgv (not covered), supervises itself
//   both     covered AND supervising itself
// Each worker: from a timer, maybe spins (churnSpin, 10%) or waits (churnWait, Atomics.wait with a
// timeout, 20%) 40..260 ms; then either ends by itself or waits to be terminated (after 0..120 ms;
// some are terminated before they are even online).
// argv: [seed] [total cycles, 500] [time bound ms, 90000] ['noblock': no worker blocks]
// Prints REPORT:main (main handle), REPORT:self (posted by self/both workers), NOTE {step: 'exit',
// threadId, at, code} per worker, NOTE {step: 'rss', phase, rss, cycles}, NOTE {step: 'churn', ...}.
// gc: through v8.setFlagsFromString('--expose-gc'), not the command line (see workers.test.js:
// with --expose-gc in process.execArgv, covered workers fail to start).
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const common = require('../fixtures/_common');
const w = require('./_worker');

const TOTAL = Number(process.argv[3]) || 500;
const FIRST = 50;
const CONCURRENCY = 4;
const MAX_MS = Number(process.argv[4]) || 90000; // idle: ~20 s; under the load of other jobs, up to ~60 s seen
const THRESHOLD = 100;
const NO_BLOCK = process.argv[5] === 'noblock'; // for investigating: churn without captures
const seed = Number(process.argv[2]) || (Date.now() % 100000);

v8.setFlagsFromString('--expose-gc');
const gc = global.gc || vm.runInNewContext('gc');

function mulberry32(a) {
  return function next() {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// RSS of what is still allocated: after GC, freed heap memory that glibc's arenas keep for
// threads that have exited is handed back (malloc_trim through the test addon), so that growth
// means memory still held, not allocator caching across 500 thread lifetimes.
const { trimMalloc, mallocInfo } = require(common.TEST_ADDON || require('path').join(w.ROOT, 'test', 'addon', 'build', 'Release', 'stallwatch_test_addon.node'));
async function settledRss() {
  // 'last-resort': the memory-reducing full GC V8 runs before giving up on an allocation,
  // which also shrinks the young generation; a plain gc() leaves the heap sized by GC
  // heuristics, which varied by -3 .. +4 MB between runs under CPU load, with or without
  // stallwatch. Repeated until the heap stops shrinking (at least 3, at most 12 rounds):
  // what a dead worker leaves to collect (its Worker, ports, their native wrappers) goes in
  // stages, through weak callbacks that run between GCs, and under CPU load three rounds
  // were not always enough (+2.7 MB of V8 heap "kept", with stallwatch loaded or not).
  let previous = Infinity;
  for (let i = 0; i < 12; i++) {
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    await common.sleep(50);
    const used = process.memoryUsage().heapUsed;
    if (i >= 2 && previous - used < 64 * 1024) break;
    previous = used;
  }
  // The median of three readings, so one reading taken while a V8 or libuv thread holds a
  // transient buffer does not decide the figure.
  const readings = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) await common.sleep(50);
    trimMalloc();
    readings.push(process.memoryUsage().rss);
  }
  return w.median(readings);
}

// Where the memory is, to tell growth of the V8 heap from the C heap (glibc's count of bytes
// in use, free in arenas, mmapped) and from other anonymous memory (thread stacks, V8 pages).
function memoryDetail(phase) {
  // For investigating: STALLWATCH_CHURN_SMAPS=<prefix> keeps /proc/self/smaps at each measurement.
  if (process.env.STALLWATCH_CHURN_SMAPS) {
    const fs = require('node:fs');
    fs.writeFileSync(`${process.env.STALLWATCH_CHURN_SMAPS}-${phase}.txt`, fs.readFileSync('/proc/self/smaps'));
    if (process.env.STALLWATCH_CHURN_HEAPSNAP) v8.writeHeapSnapshot(`${process.env.STALLWATCH_CHURN_SMAPS}-${phase}.heapsnapshot`);
  }
  const m = process.memoryUsage();
  const detail = { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, malloc: mallocInfo() };
  for (const space of v8.getHeapSpaceStatistics()) detail[`v8_${space.space_name}`] = space.space_used_size;
  try {
    const rollup = require('node:fs').readFileSync('/proc/self/smaps_rollup', 'utf8');
    for (const key of ['Anonymous', 'Private_Dirty', 'Shared_Clean', 'Private_Clean']) {
      const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup);
      if (match) detail[key] = Number(match[1]) * 1024;
    }
    detail.mappings = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\n').length - 1;
  } catch { /* not Linux */ }
  return detail;
}

common.main(async () => {
  const rng = mulberry32(seed);
  const sv = common.watch({ workers: true, thresholdMs: THRESHOLD }, 'main');
  const { Worker } = require('node:worker_threads'); // patched (unless NO_SUPERVISE)
  const { stats } = require(w.ROOT);
  const file = path.join(__dirname, 'churn-worker.js');
  const figures = { seed, created: 0, ended: 0, terminated: 0, natural: 0, errors: 0, blockers: 0, longBlockers: 0 };
  common.ready({ seed, total: TOTAL });
  // Warm-up: the first report loads the symbol tables (a one-time cost of tens of MB): take it
  // before any RSS measurement.
  await common.trigger('timer', function warmUpStall() { common.spinFor(THRESHOLD + 150); });
  await common.waitForUnblocked(1);
  const started = Date.now();
  const live = new Set();

  async function cycle(i) {
    const kind = ['covered', 'self', 'both'][i % 3];
    const r = rng();
    const action = NO_BLOCK ? 'none' : r < 0.1 ? 'spin' : r < 0.3 ? 'wait' : 'none';
    const ms = action === 'none' ? 0 : 40 + Math.floor(rng() * 220);
    const natural = rng() < 0.25;
    const early = !natural && rng() < 0.1;
    const killAfter = Math.floor(rng() * 120);
    if (action !== 'none') figures.blockers++;
    if (ms > THRESHOLD) figures.longBlockers++;
    const workerData = { self: kind !== 'covered' && !common.NO_SUPERVISE, thresholdMs: THRESHOLD, action, ms, natural, delay: Math.floor(rng() * 30) };
    const worker = new Worker(file, kind === 'self' ? { execArgv: [], workerData } : { workerData, name: `churn-${i}` });
    figures.created++;
    worker.on('error', (err) => { figures.errors++; common.say('NOTE', { step: 'worker-error', i, kind, error: String(err && err.stack) }); });
    w.relay(worker, 'self');
    const exit = w.exited(worker);
    if (!natural) {
      if (!early) await Promise.race([new Promise((resolve) => worker.once('online', resolve)), exit]);
      await common.sleep(killAfter);
      figures.terminated++;
      await worker.terminate();
    } else {
      figures.natural++;
    }
    const code = await exit;
    figures.ended++;
    common.say('NOTE', { step: 'exit', i, kind, threadId: worker.id, at: worker.exitedAt, code, action, ms });
  }

  let next = 0;
  async function runUntil(count) {
    while (next < count || live.size > 0) {
      while (next < count && live.size < CONCURRENCY && Date.now() - started < MAX_MS) {
        const p = cycle(next++).catch((err) => { figures.errors++; common.say('NOTE', { step: 'cycle-error', error: String(err) }); });
        live.add(p);
        p.finally(() => live.delete(p));
      }
      if (live.size === 0) break; // out of time
      await Promise.race(live);
    }
  }

  await runUntil(FIRST);
  const rssFirst = await settledRss();
  const first = memoryDetail('first');
  common.say('NOTE', { step: 'rss', phase: 'first', cycles: figures.ended, rss: rssFirst, ...first });
  for (let mark = 250; mark < TOTAL; mark += 250) { // the trend, for longer runs
    await runUntil(mark);
    common.say('NOTE', { step: 'rss', phase: 'mark', cycles: figures.ended, rss: await settledRss(), ...memoryDetail(`mark${mark}`) });
  }
  await runUntil(TOTAL);
  await common.sleep(300); // events of the last workers
  const rssLast = await settledRss();
  const last = memoryDetail('last');
  common.say('NOTE', { step: 'rss', phase: 'last', cycles: figures.ended, rss: rssLast, ...last });
  const s = common.NO_SUPERVISE ? { samples: 0, failedSignals: 0, liveThreadRecords: 0 } : stats();
  common.say('NOTE', {
    step: 'churn', ...figures, elapsedMs: Date.now() - started, samples: s.samples, failedSignals: s.failedSignals,
    rssFirst, rssLast, cHeapFirst: first.malloc.inUse, cHeapLast: last.malloc.inUse,
    heapUsedFirst: first.heapUsed, heapUsedLast: last.heapUsed, liveThreadRecords: s.liveThreadRecords, reportsMain: common.counts.reports, reportsSelf: w.relayed.REPORT,
  });
  common.done(sv);
});
