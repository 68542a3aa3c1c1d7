'use strict';
// Zero-code attach, plus a listener: the supervisor started by `-r stallwatch/register` is
// exported, so the program can react to stalls (count them, send them somewhere) without
// starting a second one.
//
//   STALLWATCH_THRESHOLD_MS=200 node -r stallwatch/register examples/register-listener.js
//
// Without -r, the require below starts supervision itself (same STALLWATCH_* variables).
const { supervisor, error } = require('stallwatch/register');

if (supervisor) {
  supervisor.on('blocked', (report) => {
    const culprit = report.frames.find((f) => f.kind === 'js' && f.file && !f.file.startsWith('node:'));
    console.log(`listener: stall of ${Math.round(report.blockedMs)} ms in ${culprit ? `${culprit.name} (${culprit.file}:${culprit.line})` : 'unknown code'}`);
  });
} else {
  console.log(`listener: not supervised: ${error}`);
}

function parseHugeConfig() {
  // A stand-in for synchronous work: about 800 ms of CPU.
  const end = Date.now() + 800;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}

setTimeout(parseHugeConfig, 50);
