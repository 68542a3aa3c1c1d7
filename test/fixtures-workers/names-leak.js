'use strict';
// Worker names under supervise({ workers: true }): the patched Worker constructor tells the addon
// each covered worker's name (for threadName and the log header). Nothing may outlive the worker.
// Creates WORKERS named workers one after the other, each with a 1 MiB name, and terminates each
// once online; measures RSS (after gc) after the first 5 and after all of them.
// argv: supervised|plain [workers]. Prints NOTE {step: 'rss', first, last, workers}.
const v8 = require('node:v8');
const vm = require('node:vm');
const common = require('../fixtures/_common');
const w = require('./_worker');

const mode = process.argv[2] || 'supervised';
const WORKERS = Number(process.argv[3]) || 25;
const FIRST = 5;
const NAME_BYTES = 1024 * 1024;

v8.setFlagsFromString('--expose-gc');
const gc = global.gc || vm.runInNewContext('gc');

async function settledRss() {
  for (let i = 0; i < 3; i++) {
    gc();
    await common.sleep(30);
  }
  return process.memoryUsage().rss;
}

common.main(async () => {
  const sv = mode === 'supervised' ? common.watch({ workers: true, log: false }, 'main') : { close() {} };
  const { Worker } = require('node:worker_threads');
  common.ready({ mode, workers: WORKERS });
  let first = 0;
  for (let i = 0; i < WORKERS; i++) {
    // A distinct string each time (V8 could share a repeated literal).
    const name = `w${i}-`.padEnd(NAME_BYTES, String.fromCharCode(97 + (i % 26)));
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true, name });
    const exit = w.exited(worker);
    await new Promise((resolve) => worker.once('online', resolve));
    await worker.terminate();
    await exit;
    if (i + 1 === FIRST) first = await settledRss();
  }
  await common.sleep(100);
  const last = await settledRss();
  common.say('NOTE', { step: 'rss', mode, first, last, workers: WORKERS });
  common.done(sv);
});
