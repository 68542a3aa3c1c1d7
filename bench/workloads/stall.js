'use strict';
// Stalls the event loop on purpose, many times, with one detector attached, and records when
// each stall began and when the detector (in this process) reported it.
//   node stall.js --detector=... --threshold=100 --stall=200 --gap=150 --timer=20 --http=20
//                 [--log=/path/file.jsonl] [--sentryDsn=http://k@127.0.0.1:port/1] [--warm=1500]
//                 [--depth=0] [--maxFrames=128]
// A stall is a busy loop; its start timestamp (performance.timeOrigin + performance.now()) is
// taken just before the loop, in a setTimeout callback ("timer") or in a node:http request
// handler ("http", the request coming from this same process over 127.0.0.1).
// Prints {"ready":true} after the warm-up and {"result":{stalls, detections, stats}} at the end.
const http = require('http');
const { attach, parseArgs, emit, epochMs } = require('../lib/detectors');

const args = parseArgs();
const detector = args.detector || 'stallwatch';
const thresholdMs = Number(args.threshold || 100);
const stallMs = Number(args.stall || 200);
const gapMs = Number(args.gap || 150);
const timerStalls = Number(args.timer || 20);
const httpStalls = Number(args.http || 20);
const depth = Number(args.depth || 0);

const detections = [];
const attached = attach(detector, {
  thresholdMs,
  logPath: args.log || undefined,
  sentryDsn: args.sentryDsn || undefined,
  maxFrames: args.maxFrames ? Number(args.maxFrames) : undefined,
  onDetect: (t, info) => detections.push({ t, ...info }),
});

const stalls = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function spin(untilPerf) {
  // Kept small and monomorphic: what a hot loop in application code looks like.
  let x = 0;
  while (performance.now() < untilPerf) x++;
  return x;
}

/** Recurses `n` frames deep, then spins: a deep JS stack for the capture. */
function deep(n, untilPerf) {
  if (n <= 0) return spin(untilPerf);
  return deep(n - 1, untilPerf) + 1;
}

// Each stall runs in its own function, stall_<id>, so a report whose stack names it can be
// matched to its stall exactly (a late report is never taken for the next stall's).
let nextId = 0;
function stallNow(kind) {
  const id = nextId++;
  const named = new Function('deep', `return function stall_${id}(n, until) { return deep(n, until); }`)(deep);
  const startPerf = performance.now();
  const start = performance.timeOrigin + startPerf;
  named(depth, startPerf + stallMs);
  stalls.push({ id, kind, start, end: epochMs() });
}

async function timerStall() {
  await new Promise((resolve) =>
    setTimeout(() => {
      stallNow('timer');
      resolve();
    }, gapMs),
  );
}

async function main() {
  await sleep(Number(args.warm || 1500));
  emit({ ready: true, pid: process.pid, attachMs: attached.attachMs });
  for (let i = 0; i < timerStalls; i++) await timerStall();

  if (httpStalls > 0) {
    const server = http.createServer((req, res) => {
      stallNow('http');
      res.end('ok');
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const port = server.address().port;
    for (let i = 0; i < httpStalls; i++) {
      await sleep(gapMs);
      await new Promise((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
    }
    agent.destroy();
    server.close();
  }
  // Let late reports (delivered once the loop runs again) arrive.
  await sleep(Math.max(500, gapMs * 2));
  emit({ result: { stalls, detections, stats: attached.stats(), attachMs: attached.attachMs } });
  attached.close();
  process.exit(0);
}

main();
