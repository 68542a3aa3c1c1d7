'use strict';
// Exit code and signal pass-through for `stallwatch run`:
//   exit-code.js code N      prints NODE_OPTIONS and whether stallwatch/register was preloaded
//                            and supervising, then exits with N
//   exit-code.js wait        prints READY, then waits; on SIGTERM prints GOT SIGTERM and exits 42
//   exit-code.js wait-bare   prints READY, then waits with no signal handlers (dies of the signal)
if (process.env.NODE_TEST_CONTEXT && !process.env.STALLWATCH_FIXTURE) process.exit(0);
const fs = require('node:fs');

const [mode, arg] = process.argv.slice(2);
const say = (line) => fs.writeSync(1, `${line}\n`);
if (mode === 'code') {
  say(`NODE_OPTIONS ${JSON.stringify(process.env.NODE_OPTIONS ?? null)}`);
  // Set by stallwatch/register when it ran as a preload (before this script).
  say(`PRELOADED ${globalThis[Symbol.for('stallwatch.register')]?.supervisor !== undefined}`);
  process.exit(Number(arg));
} else {
  if (mode === 'wait') {
    process.on('SIGTERM', () => {
      say('GOT SIGTERM');
      process.exit(42);
    });
  }
  setInterval(() => {}, 1000);
  say('READY');
}
