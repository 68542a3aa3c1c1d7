'use strict';
// Stuck forever; the test SIGKILLs it as soon as the report line is in the file.
const path = require('path');
const { supervise } = require(path.resolve(__dirname, '..', '..'));
supervise({ thresholdMs: 200, log: { path: process.argv[2] }, logFormat: 'json' });
console.log('READY {}');
const sab = new Int32Array(new SharedArrayBuffer(4));
setTimeout(function deadlocked() { setImmediate(() => Atomics.notify(sab, 0)); Atomics.wait(sab, 0, 0); }, 50);
