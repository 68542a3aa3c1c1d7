'use strict';
// log rotation: several stalls into a small log file rotated with keep 2.
const path = require('path');
const { supervise } = require(path.resolve(__dirname, '..', '..'));
const sv = supervise({ thresholdMs: 100, log: { path: process.argv[2], maxBytes: 4000, keep: 2 }, logFormat: 'json', maxReportsPerMinute: 100 });
let stalls = 0;
sv.on('unblocked', () => {
  if (++stalls === 6) { setTimeout(() => { sv.close(); console.log('DONE'); }, 200); return; }
  setTimeout(stall, 30);
});
function stall() { const end = Date.now() + 250; while (Date.now() < end); }
setTimeout(stall, 30);
