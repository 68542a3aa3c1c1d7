// ESM consumers: named imports of 'stallwatch' and 'stallwatch/register' resolve through the
// package's "exports" map (self-reference) to the ESM entries, and share one module instance
// with CommonJS. Run by test/register.test.js (the suite's glob only picks up *.test.js), or
// directly: node --test test/esm.test.mjs
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import stallwatchDefault, { supervise, formatReport, capabilities, stats } from 'stallwatch';

const require = createRequire(import.meta.url);

test('stallwatch: named exports are the CommonJS functions', () => {
  const cjs = require('stallwatch');
  for (const [name, fn] of Object.entries({ supervise, formatReport, capabilities, stats })) {
    assert.equal(typeof fn, 'function', `${name} is a function`);
    assert.equal(fn, cjs[name], `${name} is the same function as require('stallwatch').${name}`);
  }
  assert.equal(stallwatchDefault, cjs, 'the default export is module.exports');
});

test('stallwatch: capabilities() and formatReport() work from ESM', () => {
  const caps = capabilities();
  assert.equal(caps.platform, process.platform);
  assert.equal(caps.arch, process.arch);
  const text = formatReport({
    threadId: 0, tid: 42, pid: 42, blockedMs: 503, capturedAt: Date.UTC(2026, 10, 22, 11, 20, 1, 123), state: 'js',
    frames: [{ kind: 'js', name: 'readConfig', file: '/app/server.js', line: 5, column: 10 }],
  });
  assert.match(text, /^stallwatch: main thread \(tid 42\) blocked for 503 ms, state js, at 2026-11-22T11:20:01\.123Z\n/);
  assert.match(text, /^--> at readConfig \(\/app\/server\.js:5:10\)$/m);
});

test("stallwatch/register: named exports { supervisor, error }, the same as require's", async () => {
  const esm = await import('stallwatch/register');
  const cjs = require('stallwatch/register');
  assert.deepEqual(Object.keys(esm).sort(), ['default', 'error', 'supervisor']);
  assert.equal(esm.supervisor, cjs.supervisor, 'one registration for ESM and CommonJS');
  assert.equal(esm.error, undefined, `registered without error (${esm.error})`);
  assert.equal(typeof esm.supervisor.on, 'function', 'a Supervisor');
  assert.equal(esm.supervisor.options.thresholdMs, Number(process.env.STALLWATCH_THRESHOLD_MS ?? 500), 'configured from STALLWATCH_*');
  esm.supervisor.close();
});
