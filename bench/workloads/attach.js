'use strict';
// Attach cost and resident memory of one detector in a fresh process.
//   node [--expose-gc] [--max-old-space-size=4096] attach.js --detector=... [--heapMB=0]
// The detector's module is required first (timed separately), then the attach call itself
// is timed (for stallwatch: supervise(), which loads the addon on first use). With --heapMB
// the heap is first filled with that many MB of small live objects.
// RSS is read after a gc() and a settle time both before and after attaching.
const { attach, parseArgs, emit, REPO, nativeMemory } = require('../lib/detectors');

const args = parseArgs();
const detector = args.detector || 'none';
const heapMB = Number(args.heapMB || 0);
const settleMs = Number(args.settle || 300);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const gc = typeof global.gc === 'function' ? global.gc : () => {};

function fillHeap(mb) {
  const target = mb * 1024 * 1024;
  const chunks = [];
  let objects = 0;
  const t0 = performance.now();
  while (process.memoryUsage().heapUsed < target) {
    const a = new Array(100_000);
    for (let i = 0; i < a.length; i++) a[i] = { i, s: null };
    chunks.push(a);
    objects += a.length;
  }
  return { chunks, objects, fillMs: performance.now() - t0 };
}

async function main() {
  const heap = heapMB > 0 ? fillHeap(heapMB) : null;
  const r0 = performance.now();
  switch (detector) {
    case 'stallwatch':
      require(REPO);
      break;
    case 'sentry':
      require('@sentry/node');
      require('@sentry/node-native');
      break;
    case 'blocked-at':
      require('blocked-at');
      break;
    default:
      break;
  }
  const requireMs = performance.now() - r0;
  gc();
  await sleep(settleMs);
  gc();
  const mem0 = process.memoryUsage();
  const nat0 = nativeMemory();
  const attached = attach(detector, { thresholdMs: Number(args.threshold || 100) });
  await sleep(settleMs);
  gc();
  const mem1 = process.memoryUsage();
  const nat1 = nativeMemory();
  emit({
    result: {
      detector,
      heapMB,
      heapObjects: heap ? heap.objects : 0,
      fillMs: heap ? heap.fillMs : 0,
      heapUsedMB: mem0.heapUsed / 1048576,
      requireMs,
      attachMs: attached.attachMs,
      rssBefore: mem0.rss,
      rssAfter: mem1.rss,
      rssDelta: mem1.rss - mem0.rss,
      brkHeapDelta: nat1.brkHeapRss - nat0.brkHeapRss,
      heapUsedDelta: mem1.heapUsed - mem0.heapUsed,
      externalDelta: mem1.external - mem0.external,
    },
  });
  attached.close();
  if (heap) heap.chunks.length = 0;
  process.exit(0);
}

main();
