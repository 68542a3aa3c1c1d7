'use strict';
// `npm run demo`: starts demo/server.js, calls /fast then /slow, and shows what stallwatch said.
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');

const SERVER = path.join(__dirname, 'server.js');
const REPORT_TIMEOUT_MS = 10000;

function fail(message, details) {
  console.error(`\nnpm run demo: ${message}`);
  const lines = String(details || '').trim().split('\n');
  if (lines[0]) {
    const more = lines.length > 25 ? `\n  | ... (${lines.length - 25} more lines)` : '';
    console.error(`\nThe server's stderr:\n${indent(lines.slice(0, 25).join('\n'), '  | ')}${more}`);
  }
  process.exitCode = 1;
  stopServer();
}

function indent(text, prefix = '    ') {
  return text.split('\n').map((l) => prefix + l).join('\n');
}

// --- the server, as a child process -------------------------------------------------------------

let server = null;
let stdout = '';
let stderr = '';

function startServer() {
  server = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  server.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  return waitFor(() => {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error('server exited');
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
    return m && Number(m[1]);
  }, 10000);
}

function stopServer() {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
  setTimeout(() => { if (server && server.exitCode === null) server.kill('SIGKILL'); }, 2000).unref();
}

process.on('exit', () => { if (server && server.exitCode === null) server.kill('SIGKILL'); });

async function waitFor(probe, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) return null;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function get(port, urlPath) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Date.now() - started }));
    }).on('error', reject);
  });
}

// --- reading stallwatch's text log ---------------------------------------------------------------

const HEADER = /^stallwatch: (.+?) \(tid (\d+)\) blocked for (\d+) ms, state ([\w-]+), at (\S+)$/;

/** Complete reports (header .. blank line) found in a text log. */
function textReports(log) {
  const lines = log.split('\n');
  const reports = [];
  for (let i = 0; i < lines.length; i++) {
    const m = HEADER.exec(lines[i]);
    if (!m) continue;
    const start = i;
    while (i < lines.length - 1 && lines[i] !== '') i++;
    if (lines[i] !== '') break; // still being written
    reports.push({ header: lines[start], frames: lines.slice(start + 1, i), blockedMs: Number(m[3]), state: m[4] });
  }
  return reports;
}

const isCulprit = (line) => line.startsWith('--> ');
const isFold = (line) => /^ +\.\.\. \d+ frames\b/.test(line);

/** The frame the culprit called: the nearest Node.js API frame above it, else the frame above it. */
function calleeOf(frames, culprit) {
  if (culprit <= 0) return undefined;
  for (let i = culprit - 1; i >= 0; i--) if (frames[i].includes('(node:')) return frames[i];
  return frames[culprit - 1];
}

/** `name (file:line:col)` of a frame line, without the `-->`/`at` decoration. */
function frameText(line) {
  return line.replace(/^(-->|\s)*\s*(at\s+)?/, '');
}

// --- the demo -----------------------------------------------------------------------------------

async function main() {
  console.log('stallwatch demo: an HTTP server whose event loop gets stuck on one endpoint.\n');
  const port = await startServer().catch(() => null);
  if (!port) {
    const notBuilt = /Cannot find module|stallwatch\.node|MODULE_NOT_FOUND|ERR_DLOPEN_FAILED/.test(stderr);
    return fail(notBuilt
      ? 'the demo server could not load stallwatch. Build it first: `npm install` (or `npm run build`).'
      : 'the demo server did not start.', stderr);
  }
  console.log("  server      demo/server.js, with supervise({ thresholdMs: 300, log: 'stderr' })");

  const fast = await get(port, '/fast');
  await new Promise((resolve) => setTimeout(resolve, 500)); // longer than the threshold
  const afterFast = textReports(stderr).length;
  console.log(`  GET /fast   ${fast.status} in ${String(fast.ms).padStart(4)} ms   ` +
    (afterFast === 0 ? 'no report: the event loop never stopped' : `unexpected: ${afterFast} report(s)`));

  const slow = await get(port, '/slow');
  const reports = await waitFor(() => {
    const found = textReports(stderr).slice(afterFast);
    return found.length > 0 && found;
  }, REPORT_TIMEOUT_MS);
  if (!reports) {
    return fail(`GET /slow took ${slow.ms} ms, but no stallwatch report appeared on the server's stderr ` +
      `within ${REPORT_TIMEOUT_MS / 1000} s.`, stderr);
  }
  console.log(`  GET /slow   ${slow.status} in ${String(slow.ms).padStart(4)} ms   the event loop was stuck: stallwatch reported it\n`);
  const unblocked = await waitFor(() => /^demo server: event loop running again.*$/m.exec(stderr), 3000);

  const report = reports[0];
  console.log(`What stallwatch wrote to the server's stderr ${report.blockedMs} ms into the stall, while the loop was still stuck:\n`);
  console.log(indent([report.header, ...report.frames].join('\n'), '  '));
  if (unblocked) {
    console.log("\nWhen the loop ran again, server.js's 'unblocked' listener printed:\n");
    console.log(indent(unblocked[0], '  '));
  }

  const frames = report.frames.filter((l) => /^(--> | {4})at /.test(l)); // not the partial/fold lines
  const culprit = frames.find(isCulprit);
  const callee = calleeOf(frames, frames.indexOf(culprit));
  const innermost = frames[0] ? frameText(frames[0]) : '?';
  const stateText = {
    native: `the thread was not running JavaScript but waiting in native code;\n    innermost frame: ${innermost}`,
    js: 'the thread was running JavaScript',
    gc: 'the thread was collecting garbage',
    compiler: 'V8 was compiling code',
    'atomics-wait': 'the thread was waiting in Atomics.wait',
  }[report.state] || `V8 reported the state "${report.state}"`;
  console.log('\nHow to read it:');
  console.log(`  * blocked for ${report.blockedMs} ms: the report was taken once the loop had made no progress for`);
  console.log('    thresholdMs (300 ms) and written at once, while the stall went on' +
    (unblocked ? ` (${/after (\d+) ms/.exec(unblocked[0])[1]} ms in all).` : '.'));
  console.log('    A process that never recovers still says where it is stuck.');
  console.log(`  * state ${report.state}: ${stateText}.`);
  console.log('  * Frames are innermost first: the first one is where the thread is, the ones below are');
  console.log('    how it got there. No frames of stallwatch itself: the stack starts where the thread was stopped.');
  if (report.frames.some(isFold)) {
    console.log('  * "... N frames in node, V8 and libuv internals" folds runtime frames that are not your code;');
    console.log("    the 'blocked' event (and logFormat: 'json') has every frame.");
  }
  if (culprit) {
    console.log('  * --> marks the culprit, the innermost frame of your own code:');
    console.log(`      ${frameText(culprit)}`);
    if (callee) console.log(`    It called ${frameText(callee)}: that is where the time went.`);
  }
  console.log('  * The fix in server.js: do not block a request handler (use the async child_process.exec,');
  console.log('    or move the work to a worker thread).');
  stopServer();
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err), stderr));
