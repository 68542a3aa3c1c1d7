'use strict';
// abortAfterMs: the report is written to the log file, then the process aborts (SIGABRT).
const path = require('path');
const { supervise } = require(path.resolve(__dirname, '..', '..'));
supervise({ thresholdMs: 200, abortAfterMs: 700, log: { path: process.argv[2] }, logFormat: 'json' });
console.log('READY {}');
setTimeout(function neverReturns() { for (;;) {} }, 50);
