'use strict';
// An HTTP server with a handler that blocks the event loop: it hashes a password with the
// synchronous crypto.pbkdf2Sync (about a second of CPU in OpenSSL, in native code).
//
// It uses no stallwatch API at all. Attach stallwatch from the outside:
//
//   npx stallwatch run -- node examples/blocking-server.js
//   node -r stallwatch/register examples/blocking-server.js
//   STALLWATCH_THRESHOLD_MS=200 NODE_OPTIONS='-r stallwatch/register' node examples/blocking-server.js
//
// On start it sends itself one POST /login (so there is something to see without curl), prints
// the answer and exits. With --serve it keeps running: curl -X POST http://127.0.0.1:3000/login
const crypto = require('node:crypto');
const http = require('node:http');

const serve = process.argv.includes('--serve');

function hashPassword(password, salt) {
  // The bug: the synchronous variant, inside a request handler. Use crypto.pbkdf2 (async),
  // which runs on libuv's thread pool and leaves the event loop free.
  return crypto.pbkdf2Sync(password, salt, 600000, 64, 'sha512').toString('hex');
}

function handleLogin(req, res) {
  const hash = hashPassword('correct horse battery staple', 'per-user-salt');
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ok: true, hash: hash.slice(0, 16) }));
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/login') return handleLogin(req, res);
  res.statusCode = 404;
  res.end('try POST /login\n');
});

server.listen(serve ? Number(process.env.PORT ?? 3000) : 0, '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`blocking-server: listening on http://127.0.0.1:${port}`);
  if (serve) return;
  const started = Date.now();
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/login', agent: false }, (res) => {
    res.resume();
    res.on('end', () => {
      console.log(`blocking-server: POST /login answered ${res.statusCode} after ${Date.now() - started} ms`);
      server.close();
    });
  });
  req.end();
});
