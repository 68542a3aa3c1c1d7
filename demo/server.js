'use strict';
// A small HTTP service with a fast and a slow endpoint, watched by stallwatch.
//
//   GET /fast   answers at once
//   GET /slow   builds a "report" synchronously: blocks the event loop for about 1.3 s
//
// Try it by hand:   node demo/server.js      then   curl http://127.0.0.1:3000/slow
// or let demo/run-demo.js (`npm run demo`) drive it and explain what stallwatch printed.
const http = require('node:http');
const { execSync } = require('node:child_process');
const { supervise } = require('stallwatch'); // in this repository: the package itself, built in dist/

// If the event loop makes no progress for 300 ms, print where it is stuck on stderr, at once.
const watchdog = supervise({ thresholdMs: 300, log: 'stderr' });
watchdog.on('unblocked', ({ blockedMs }) => {
  console.error(`demo server: event loop running again after ${Math.round(blockedMs)} ms`);
});

function handleFast(req, res) {
  res.end('fast\n');
}

function buildReport() {
  // The bug: synchronous work inside a request handler. execSync waits for its child process
  // (a stand-in for a slow tool or a slow disk) while nothing else in this server can run.
  const generatedAt = execSync('sleep 1.2; date -u +%FT%TZ', { encoding: 'utf8' }).trim();
  let checksum = 0;
  for (let i = 0; i < 3e6; i++) checksum = (checksum * 31 + i) % 1000003;
  return `report ${checksum} generated at ${generatedAt}\n`;
}

function handleSlow(req, res) {
  res.end(buildReport());
}

const server = http.createServer(function route(req, res) {
  if (req.url === '/fast') return handleFast(req, res);
  if (req.url === '/slow') return handleSlow(req, res);
  res.statusCode = 404;
  res.end('try /fast or /slow\n');
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`demo server listening on http://127.0.0.1:${server.address().port}`);
});

process.on('SIGTERM', () => {
  watchdog.close();
  server.close();
  server.closeAllConnections();
});
