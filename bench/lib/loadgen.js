'use strict';
// Closed-loop HTTP/1.1 keep-alive load generator with per-request latency in microseconds.
// (autocannon records latency in whole milliseconds, too coarse to see a 1% change of a
// ~1 ms p99; this client is a raw socket writer with a minimal response parser.)
//
//   node loadgen.js --port=N --connections=8 --warmup=2000 --requests=20000 [--wait]
// Runs the warm-up, prints {"ready":true}, and with --wait waits for {"cmd":"go"} on stdin
// before the measured requests; prints {"result": {...}} and exits. --timeout bounds the
// measured phase (ms); requests not answered by then count as errors.
const net = require('net');
const readline = require('readline');
const { parseArgs, emit } = require('./detectors');

const args = parseArgs();
const port = Number(args.port);
const connections = Number(args.connections || 8);
const warmup = Number(args.warmup || 2000);
const requests = Number(args.requests || 20000);
const timeoutMs = Number(args.timeout || 60_000);
const pathName = args.path || '/';
const REQUEST = Buffer.from(`GET ${pathName} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`, 'latin1');
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');

function runPhase(count, record) {
  return new Promise((resolve) => {
    const latencies = record ? new Float64Array(count) : null;
    let sent = 0;
    let done = 0;
    let errors = 0;
    let finished = false;
    const sockets = [];
    const t0 = process.hrtime.bigint();
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const elapsedNs = Number(process.hrtime.bigint() - t0);
      for (const s of sockets) s.destroy();
      resolve({ done, errors: errors + (count - done), elapsedNs, latencies: latencies ? latencies.subarray(0, done) : null });
    };
    const timer = setTimeout(finish, timeoutMs);
    for (let c = 0; c < Math.min(connections, count); c++) {
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
      sockets.push(socket);
      let buf = Buffer.alloc(0);
      let startedAt = 0n;
      const sendOne = () => {
        if (sent >= count) return;
        sent++;
        startedAt = process.hrtime.bigint();
        socket.write(REQUEST);
      };
      socket.on('connect', sendOne);
      socket.on('data', (chunk) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (;;) {
          const he = buf.indexOf(HEADER_END);
          if (he < 0) return;
          const head = buf.latin1Slice(0, he);
          const m = /content-length:\s*(\d+)/i.exec(head);
          const total = he + 4 + (m ? Number(m[1]) : 0);
          if (buf.length < total) return;
          const now = process.hrtime.bigint();
          if (latencies) latencies[done] = Number(now - startedAt) / 1000;
          if (!head.startsWith('HTTP/1.1 200')) errors++;
          done++;
          buf = buf.subarray(total);
          if (done >= count) return finish();
          sendOne();
        }
      });
      socket.on('error', () => {
        errors++;
      });
    }
  });
}

function percentile(sortedArr, p) {
  if (sortedArr.length === 0) return NaN;
  const rank = (p / 100) * (sortedArr.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sortedArr[lo] + (sortedArr[hi] - sortedArr[lo]) * (rank - lo);
}

async function main() {
  if (warmup > 0) await runPhase(warmup, false);
  emit({ ready: true });
  if (args.wait) {
    const rl = readline.createInterface({ input: process.stdin });
    await new Promise((resolve) => rl.on('line', (l) => l.includes('"go"') && (rl.close(), resolve())));
  }
  const r = await runPhase(requests, true);
  const sortedLat = Float64Array.from(r.latencies).sort();
  emit({
    result: {
      requests: r.done,
      errors: r.errors,
      elapsedMs: r.elapsedNs / 1e6,
      rps: r.done / (r.elapsedNs / 1e9),
      p50us: percentile(sortedLat, 50),
      p99us: percentile(sortedLat, 99),
      maxUs: sortedLat.length ? sortedLat[sortedLat.length - 1] : NaN,
    },
  });
  process.exit(0);
}

main();
