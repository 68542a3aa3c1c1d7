'use strict';
// supervise({ workers: true }) in a process started with node options that Node refuses in a
// worker's execArgv (V8 options such as --max-old-space-size or --expose-gc, per-process ones such
// as --title): the application's `new Worker()` must still work, and the worker be covered.
// Run with such options (the test passes them). Prints NOTE {step: 'construct-error'} if
// `new Worker()` threw, else the main handle's REPORT:main / UNBLOCKED:main for the worker's
// 800 ms stall in resizeHugeImage().
const path = require('node:path');
const common = require('../fixtures/_common');
const w = require('./_worker');

common.main(async () => {
  const sv = common.watch({ workers: true }, 'main');
  common.ready({ execArgv: process.execArgv });
  const { Worker } = require('node:worker_threads');
  let worker;
  try {
    worker = new Worker(path.join(__dirname, 'plain-worker.js'), { name: 'with-node-flags' });
  } catch (err) {
    common.say('NOTE', { step: 'construct-error', code: err.code, message: err.message });
    common.done(sv);
    return;
  }
  w.relay(worker, 'with-node-flags');
  const exit = w.exited(worker);
  common.say('NOTE', { step: 'worker', threadId: worker.threadId });
  const code = await exit;
  common.say('NOTE', { step: 'exit', threadId: worker.id, code });
  await w.until(() => common.counts.unblocked > 0, 3000, 'unblocked').catch(() => {});
  common.done(sv);
});
