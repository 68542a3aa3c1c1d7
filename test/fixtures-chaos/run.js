'use strict';
// The chaos scenario of test/chaos.test.js. The main thread supervises itself and every worker
// (workers: true, JSON log to a file, stall sampling on) and, for `seconds`:
//   - starts workers (test/fixtures-chaos/worker.js) and ends each after a random lifetime, by
//     worker.terminate() (possibly mid-stall) or by asking it to exit;
//   - blocks its own loop now and then from a timer, and from its HTTP request handler when a
//     worker's request asks for it;
//   - relays the workers' ground truth.
// Twice (after a quarter of the run and at its end) it ends every worker, forces a GC and notes
// the RSS, so that the two figures compare like with like.
//
// argv: logPath dir seconds seed thresholdMs sampleIntervalMs maxWorkers
// Protocol lines (test/fixtures/_common.js): READY; NOTE:stall (a stall's ground truth, see
// stalls.js stall(); `interrupted` ones were cut short by terminate()); NOTE:heard (a 'blocked'
// event of the main handle); NOTE:worker-error; NOTE:rss; NOTE:summary; DONE.
const http = require('node:http');
const path = require('node:path');
const common = require('../fixtures/_common');
const { KINDS, KIND_NAMES, configure, stall } = require('./stalls');
const { random } = require('./random');

const [logPath, dir, seconds, seed, thresholdMs, sampleIntervalMs, maxWorkers] = process.argv.slice(2)
  .map((v, i) => (i < 2 ? v : Number(v)));
const rnd = random(seed);
const { say } = common;

const stalls = new Map(); // `${threadId}:${start}` -> record: a stall is counted once
function record(r) {
  const key = `${r.threadId}:${r.start}`;
  if (stalls.has(key)) return;
  stalls.set(key, r);
  say('NOTE', r, 'stall');
}

const counts = { created: 0, terminated: 0, askedToExit: 0, heard: 0, unblocked: 0, profiled: 0 };
const live = new Set();
let creating = true;
let ending = false;

common.main(async () => {
  const { supervise } = require(common.ROOT);
  const sv = supervise({
    thresholdMs, sampleIntervalMs, workers: true, log: { path: logPath }, logFormat: 'json', maxReportsPerMinute: 10000,
  });
  sv.on('blocked', (r) => {
    counts.heard++;
    say('NOTE', { threadId: r.threadId, tid: r.tid, capturedAt: r.capturedAt, blockedMs: r.blockedMs }, 'heard');
  });
  sv.on('unblocked', (e) => {
    counts.unblocked++;
    if (e.profile && e.profile.samples > 0) counts.profiled++;
  });
  const { Worker } = require('node:worker_threads'); // after supervise(): the covering subclass
  configure(dir);

  const server = http.createServer(function onRequest(req, res) {
    const q = new URL(req.url, 'http://x').searchParams;
    if (q.get('kind') in KINDS && !ending) record(stall(q.get('kind'), Number(q.get('ms')), 'http'));
    res.end('ok');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  common.ready({ seed, port });

  function startWorker() {
    const slot = new SharedArrayBuffer(16);
    const w = new Worker(path.join(__dirname, 'worker.js'), {
      workerData: { seed: rnd.int(1, 2 ** 31), slot, dir, port, thresholdMs },
    });
    const id = w.threadId;
    counts.created++;
    live.add(w);
    let terminateAt = null;
    w.on('message', (m) => {
      if (m.stall) record(m.stall);
      else if (m.ask && !ending) w.postMessage({ stall: m.ask });
    });
    w.on('error', (err) => say('NOTE', { threadId: id, error: String(err && err.stack || err) }, 'worker-error'));
    w.exitedPromise = new Promise((resolve) => w.once('exit', () => {
      live.delete(w);
      const [start, kindIndex] = new Float64Array(slot);
      // Mid-stall when terminated (or killed right after it, before its record was posted): the
      // stall lasted at least until terminate() was called, at most until 'exit'.
      setTimeout(() => {
        if (start > 0 && !stalls.has(`${id}:${start}`)) {
          const kind = KIND_NAMES[kindIndex];
          const end = Date.now();
          record({ threadId: id, kind, culprit: KINDS[kind].culprit, trigger: 'unknown', start, end,
            ms: end - start, minMs: Math.max(0, (terminateAt ?? end) - start), interrupted: true });
        }
        resolve();
      }, 100); // messages the worker posted before it died come first
    }));
    const lifetime = rnd.int(500, 5000);
    w.endIt = (how) => {
      if (terminateAt !== null) return;
      terminateAt = Date.now();
      if (how === 'terminate') { counts.terminated++; w.terminate(); } else { counts.askedToExit++; w.postMessage({ exit: true }); }
    };
    setTimeout(() => w.endIt(rnd.next() < 0.5 ? 'terminate' : 'exit'), lifetime);
  }

  (function manageWorkers() {
    if (ending) return;
    if (creating && live.size < maxWorkers) startWorker();
    setTimeout(manageWorkers, rnd.int(100, 600));
  })();

  (function mainStalls() {
    if (ending) return;
    setTimeout(function onMainTimer() {
      if (ending) return;
      record(stall(rnd.pick(KIND_NAMES), rnd.duration(thresholdMs), 'timer'));
      mainStalls();
    }, rnd.int(200, 1500));
  })();

  /** Ends every worker, waits for them, forces a GC and notes the RSS under `label`. */
  async function quiesceAndMeasure(label) {
    creating = false;
    const all = [...live];
    for (const w of all) w.endIt('terminate');
    await Promise.all(all.map((w) => w.exitedPromise));
    await common.sleep(200);
    global.gc();
    await common.sleep(100);
    global.gc();
    const rss = process.memoryUsage().rss;
    say('NOTE', { label, rss, at: Date.now() }, 'rss');
    creating = true;
    return rss;
  }

  const started = Date.now();
  await common.sleep(seconds * 250);
  const rssWarm = await quiesceAndMeasure('warm');
  await common.sleep(Math.max(0, started + seconds * 1000 - Date.now()));
  const rssEnd = await quiesceAndMeasure('end');
  ending = true;
  server.close();
  server.closeAllConnections?.();
  await common.sleep(1500); // reports of the last stalls reach the listener
  const st = require(common.ROOT).stats();
  const capture = { samples: st.samples, failedSignals: st.failedSignals,
    maxSignalToSampleMs: Math.max(0, ...st.signalToSampleNs) / 1e6, maxHandlerMs: Math.max(0, ...st.handlerNs) / 1e6 };
  say('NOTE', { ...counts, stalls: stalls.size, seconds: (Date.now() - started) / 1000, rssWarm, rssEnd, capture }, 'summary');
  common.done(sv);
});
