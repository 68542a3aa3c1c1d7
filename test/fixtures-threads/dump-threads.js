'use strict';
// dumpThreads() while all four libuv threadpool threads are held by the test addon's async
// work, called from a timer and from an HTTP handler. argv[2]: 'timer' | 'http'.
// Prints NOTE {dump, text} and DONE.
const path = require('path');
const { say, trigger, main, loadTestAddon, ROOT } = require('../fixtures/_common');
const { dumpThreads, formatThreadDump, supervise } = require(ROOT);

main(async () => {
  const mode = process.argv[2] || 'timer';
  // Supervised, so stallwatch's own threads (which block every signal) are in the dump too.
  const handle = supervise({ thresholdMs: 5000, log: false });
  const addon = loadTestAddon();
  const released = new Promise((resolve) => addon.occupyThreadpool(4, 1500, resolve));
  let dump;
  await trigger(mode, function takeDump() {
    dump = dumpThreads({ maxFrames: 64 });
  });
  say('NOTE', { dump, text: formatThreadDump(dump), callerTid: dump.threads.find((t) => t.runState === 'running' && t.role === 'main JS thread')?.tid });
  await released;
  handle.close();
  say('DONE');
  process.exit(0);
});
