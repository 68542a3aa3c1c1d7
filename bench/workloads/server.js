'use strict';
// node:http hello world on 127.0.0.1 with one detector attached. Used for the load test and,
// with no traffic, for the idle test.
//   node server.js --detector=none|stallwatch|sentry|blocked-at|eld [--threshold=100] [--port=0]
// Prints {"ready":true,"port":N,"pid":N} once listening. Exits on SIGTERM/SIGINT.
const http = require('http');
const { attach, parseArgs, emit } = require('../lib/detectors');

const args = parseArgs();
const detector = args.detector || 'none';
const thresholdMs = Number(args.threshold || 100);

const attached = attach(detector, { thresholdMs });

const BODY = Buffer.from('hello world\n');
const server = http.createServer((req, res) => {
  if (req.url === '/__stats') {
    // Diagnostics for the orchestrator, called outside measured windows.
    const body = JSON.stringify({ stats: attached.stats(), memory: process.memoryUsage() });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
});
server.keepAliveTimeout = 60_000;

server.listen(Number(args.port || 0), '127.0.0.1', () => {
  emit({ ready: true, port: server.address().port, pid: process.pid, attachMs: attached.attachMs });
});

function shutdown() {
  // process.exit: under callgrind the profile is written at exit.
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
