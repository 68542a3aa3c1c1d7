'use strict';
// The never-ending case: the main thread waits forever for a notify scheduled on itself, and
// the OpenTelemetry reporter module ships the stall from stallwatch's reporter worker.
// argv[2]: the reporter module (default: the built stallwatch/otel-reporter). Its configuration
// comes from the environment (STALLWATCH_OTEL_SETUP, OTEL_EXPORTER_OTLP_ENDPOINT, ...).
// FIXTURE_ABORT_AFTER_MS: supervise with abortAfterMs.
if (process.env.NODE_TEST_CONTEXT && !process.env.STALLWATCH_FIXTURE) process.exit(0);
const fs = require('fs');
const path = require('path');
const ROOT = path.resolve(__dirname, '..', '..');
const { supervise } = require(ROOT);

const reporter = process.argv[2] || path.join(ROOT, 'dist', 'lib', 'otel-reporter.js');
const abortAfterMs = Number(process.env.FIXTURE_ABORT_AFTER_MS || 0);
supervise({ thresholdMs: 200, log: false, reporter, abortAfterMs });
fs.writeSync(1, `READY ${JSON.stringify({ pid: process.pid })}\n`);
const sab = new Int32Array(new SharedArrayBuffer(4));
// Give the reporter worker time to start (and to set up OpenTelemetry), then deadlock.
setTimeout(function waitForNotify() {
  fs.writeSync(1, `NOTE ${JSON.stringify({ stallStartedAt: Date.now() })}\n`);
  setImmediate(() => Atomics.notify(sab, 0));
  Atomics.wait(sab, 0, 0);
}, 500);
