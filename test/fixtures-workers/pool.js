'use strict';
// A tiny pool of 4 worker threads (no dependencies): 16 tasks, each given to an idle worker
// through postMessage and run in the worker's 'message' handler (onTask). Task #9 blocks for
// 900 ms in rebuildSearchIndex(); the others take ~30 ms in resizeThumbnail().
// argv: self|covered
//   self     each pool worker supervises itself (REPORT:pool-<i> from that worker's handle);
//            the main thread supervises only itself (REPORT:main)
//   covered  the pool workers have no stallwatch code; the main thread calls
//            supervise({ workers: true }) first (REPORT:main gets the workers' reports)
// Prints NOTE {step: 'pool', workers: [{name, threadId}]} and one NOTE {step: 'task', ...} per task
// (which worker ran it: as the pool assigned it and as the worker says).
const path = require('node:path');
const common = require('../fixtures/_common');
const w = require('./_worker');

const mode = process.argv[2] || 'self';
const SIZE = 4;
const TASKS = 16;
const BLOCKING_TASK = 9;

class TinyPool {
  constructor(size, file, workerData) {
    // Looked up now: in 'covered' mode supervise({ workers: true }) has patched the class.
    const { Worker } = require('node:worker_threads');
    this.idle = [];
    this.queue = [];
    this.pending = new Map();
    this.workers = [];
    for (let i = 0; i < size; i++) {
      const name = `pool-${i}`;
      const worker = new Worker(file, { name, workerData: { ...workerData, name } });
      worker.poolName = name;
      w.relay(worker, name, (m) => {
        if (!m || m.taskDone === undefined) return;
        const job = this.pending.get(m.taskDone);
        this.pending.delete(m.taskDone);
        this.idle.push(worker);
        job.resolve({ ...m, assignedTo: worker.threadId, assignedName: name });
        this.dispatch();
      });
      w.exited(worker);
      this.workers.push(worker);
    }
  }

  async start() {
    await Promise.all(this.workers.map((wk) => w.nextMessage(wk, (m) => m && m.ready)));
    this.idle.push(...this.workers);
  }

  run(task) {
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.dispatch();
    });
  }

  dispatch() {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift();
      const job = this.queue.shift();
      this.pending.set(job.task.id, job);
      worker.postMessage(job.task);
    }
  }

  close() {
    return Promise.all(this.workers.map((wk) => wk.terminate()));
  }
}

common.main(async () => {
  const mainSv = common.watch({ workers: mode === 'covered' }, 'main');
  const pool = new TinyPool(SIZE, path.join(__dirname, 'pool-worker.js'), { supervise: mode === 'self' });
  await pool.start();
  common.say('NOTE', { step: 'pool', workers: pool.workers.map((wk) => ({ name: wk.poolName, threadId: wk.threadId })) });
  common.ready({ mode });
  const results = await Promise.all(Array.from({ length: TASKS }, (_, id) =>
    pool.run({ id, kind: id === BLOCKING_TASK ? 'block' : 'light' })));
  for (const r of results) {
    common.say('NOTE', { step: 'task', id: r.taskDone, kind: r.kind, ranOn: r.threadId, assignedTo: r.assignedTo, name: r.assignedName, start: r.start, end: r.end });
  }
  // The 'unblocked' event of the blocking task's worker: on the main handle (covered) or posted by
  // the worker itself (self).
  await w.until(() => common.counts.unblocked + w.relayed.UNBLOCKED > 0, 5000, 'unblocked').catch(() => {});
  await common.sleep(300);
  await pool.close();
  common.done(mainSv);
});
