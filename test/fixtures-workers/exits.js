'use strict';
// Workers that die while stalled, one after the other, then a stall of the main thread itself.
// argv: covered|self
//   covered  main: supervise({ workers: true }); the workers have no stallwatch code
//   self     main: supervise() (itself only); each worker supervises itself
// Scenarios (exit-worker.js):
//   terminate-spinning     spins forever in spinForever(); terminated once the main handle has its
//                          report (covered) or 700 ms into the stall (self)
//   terminate-at-<d>       spins forever in spinUntilTerminated(); terminated threshold + d ms
//                          after the stall began: around the capture (d from -20 to +80)
//   terminate-atomics      Atomics.wait forever in waitUntilTerminated(); terminated after 700 ms
//   exit-in-stall          stallThenExit(): 500 ms busy, then process.exit(7)
//   throw-in-stall         stallThenThrow(): 500 ms busy, then throws ('error' event)
//   throw-at-start         throws while loading
// then mainStallAfterWorkers() blocks the main thread 700 ms from a timer.
// Prints NOTE {step: 'exit', scenario, threadId, code, at, terminateMs, error} per worker,
// NOTE {step: 'stats', ...} and the usual REPORT:main / REPORT:<scenario> lines.
const path = require('node:path');
const common = require('../fixtures/_common');
const w = require('./_worker');

const mode = process.argv[2] || 'covered';
const DELTAS = [-20, 0, 5, 10, 20, 35, 50, 80];

function mainStallAfterWorkers() {
  common.spinFor(700);
}

common.main(async () => {
  const sv = common.watch({ workers: mode === 'covered' }, 'main');
  const mainReports = [];
  sv.on('blocked', (r) => mainReports.push(r));
  const { Worker } = require('node:worker_threads');
  const { stats } = require(w.ROOT);
  common.ready({ mode });

  async function runScenario(scenario, drive) {
    const worker = new Worker(path.join(__dirname, 'exit-worker.js'), {
      name: scenario, workerData: { scenario, supervise: mode === 'self' },
    });
    let error = null;
    worker.on('error', (err) => { error = String(err && err.message); });
    w.relay(worker, scenario);
    const exit = w.exited(worker);
    let terminateMs = null;
    if (drive && (await drive(worker))) {
      const t0 = Date.now();
      await worker.terminate();
      terminateMs = Date.now() - t0;
    }
    const code = await exit;
    common.say('NOTE', { step: 'exit', scenario, threadId: worker.id, code, at: worker.exitedAt, terminateMs, error });
    await common.sleep(50);
  }

  const blockingStart = (worker) => w.nextMessage(worker, (m) => m && m.blocking !== undefined).then((m) => m.blocking);

  await runScenario('terminate-spinning', async (worker) => {
    const start = await blockingStart(worker);
    if (mode === 'covered') {
      await w.until(() => mainReports.some((r) => r.threadId === worker.threadId), 5000, 'the main handle to report the worker');
    } else {
      await common.sleep(Math.max(0, start + 700 - Date.now()));
    }
    return true;
  });
  for (const d of DELTAS) {
    await runScenario(`terminate-at-${d}`, async (worker) => {
      const start = await blockingStart(worker);
      await common.sleep(Math.max(0, start + w.THRESHOLD_MS + d - Date.now()));
      return true;
    });
  }
  await runScenario('terminate-atomics', async (worker) => {
    const start = await blockingStart(worker);
    await common.sleep(Math.max(0, start + 700 - Date.now()));
    return true;
  });
  await runScenario('exit-in-stall');
  await runScenario('throw-in-stall');
  await runScenario('throw-at-start');

  // Anything still to come for the dead workers would arrive now.
  await common.sleep(500);
  common.say('NOTE', { step: 'workers-done', at: Date.now() });

  const before = counts();
  await common.trigger('timer', mainStallAfterWorkers);
  await w.until(() => counts() > before, 5000, "the main thread's unblocked event").catch(() => {});
  await common.sleep(100);
  const s = stats();
  common.say('NOTE', { step: 'stats', samples: s.samples, failedSignals: s.failedSignals });
  common.done(sv);

  function counts() {
    return common.counts.unblocked;
  }
});
