'use strict';
// A 3-second busy stall sampled every 10 ms: its profile arrives with 'unblocked'.
const path = require('path');
const { supervise } = require(path.resolve(__dirname, '..', '..'));
// argv[2], when given: a JSON log, whose unblocked entry carries the profile too.
const log = process.argv[2] ? { path: process.argv[2] } : false;
const sv = supervise({ thresholdMs: 200, sampleIntervalMs: 10, log, logFormat: 'json' });
sv.on('unblocked', (e) => {
  process.stdout.write(`UNBLOCKED ${JSON.stringify(e)}\n`);
  sv.close();
  console.log('DONE');
});
function hotLoop(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  return x;
}
setTimeout(function stallForAWhile() { hotLoop(3000); }, 50);
