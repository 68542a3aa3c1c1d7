'use strict';
// `const { Worker } = require('worker_threads')` taken BEFORE supervise({ workers: true }): that
// class cannot add the preload, so its worker is not covered. stallwatch must say so (one process
// warning, code STALLWATCH_WORKER_NOT_COVERED, naming the worker) instead of missing it in
// silence; a worker from the class as it is after supervise() is covered and not warned about,
// nor is stallwatch's own reporter worker. Prints NOTE {step: 'workers', early, late},
// NOTE {step: 'warning', code, message} for each warning, REPORT:main for the late worker's stall.
const path = require('node:path');
const { Worker: EarlyWorker } = require('node:worker_threads');
const common = require('../fixtures/_common');
const w = require('./_worker');

process.on('warning', (warning) => common.say('NOTE', { step: 'warning', code: warning.code, message: warning.message }));

common.main(async () => {
  const sv = common.watch({ workers: true, reporter: path.join(__dirname, '..', 'fixtures-never-lost', 'file-sink.js') }, 'main');
  common.ready();
  const { Worker: LateWorker } = require('node:worker_threads');
  const early = new EarlyWorker(path.join(__dirname, 'plain-worker.js'), { name: 'early' });
  const late = new LateWorker(path.join(__dirname, 'plain-worker.js'), { name: 'late' });
  common.say('NOTE', { step: 'workers', early: early.threadId, late: late.threadId });
  w.relay(early, 'early');
  w.relay(late, 'late');
  await Promise.all([w.exited(early), w.exited(late)]);
  await w.until(() => common.counts.unblocked > 0, 3000, 'unblocked').catch(() => {});
  await common.sleep(100);  // 'worker' events and warnings are emitted on later ticks
  common.done(sv);
});
