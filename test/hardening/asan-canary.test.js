'use strict';
// Proves that the sanitizer run of scripts/test-asan.sh is real: the stallwatch addon that the suite
// loads is instrumented, and AddressSanitizer is active in the processes it runs (a deliberate
// out-of-bounds write in the test addon's canary build must produce ASan's report).
//
// Run by scripts/test-asan.sh only (it is outside test/*.test.js on purpose). Outside an ASan build it
// skips with the reason.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { test } = require('node:test');
const { ROOT, TEST_ADDON } = require('../helpers/run-fixture');

const asanActive = /libasan/.test(process.env.LD_PRELOAD || '');

function loadTestAddon() {
  try {
    return require(TEST_ADDON);
  } catch (error) {
    return { loadError: error };
  }
}

test('the stallwatch addon under test is built with ASan and UBSan', { skip: !asanActive && 'not an ASan run (LD_PRELOAD has no libasan)' }, () => {
  const { capabilities } = require(ROOT);
  capabilities(); // loads the addon
  const maps = fs.readFileSync('/proc/self/maps', 'utf8');
  const loaded = [...new Set(maps.split('\n').map((l) => l.split(/\s+/)[5]).filter((p) => p && /stallwatch\.node$/.test(p)))];
  assert.deepEqual(loaded, [path.join(ROOT, 'build', 'Release', 'stallwatch.node')], 'the package root\'s build is the one loaded');
  const image = fs.readFileSync(loaded[0]);
  assert.ok(image.includes('__asan_report_store'), 'stallwatch.node calls ASan\'s checks (built with -fsanitize=address)');
  assert.ok(image.includes('__ubsan_handle_'), 'stallwatch.node calls UBSan\'s handlers (built with -fsanitize=undefined)');
});

test('a planted out-of-bounds write is reported by AddressSanitizer', { skip: !asanActive && 'not an ASan run (LD_PRELOAD has no libasan)' }, (t) => {
  const addon = loadTestAddon();
  if (typeof addon.asanCanary !== 'function') {
    assert.fail(`the test addon has no asanCanary(): scripts/test-asan.sh builds it with -DSTALLWATCH_ASAN_CANARY (${TEST_ADDON})`);
  }
  // Reports go to stderr here (no log_path), so they do not count as findings of the suite.
  const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', UBSAN_OPTIONS: 'print_stacktrace=1' };
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(TEST_ADDON)}).asanCanary(); console.log('NOT DETECTED')`], {
    env, encoding: 'utf8', timeout: 30000,
  });
  t.diagnostic(r.stderr.split('\n').filter((l) => /ERROR: AddressSanitizer|SUMMARY/.test(l)).join(' | '));
  assert.equal(r.stdout.includes('NOT DETECTED'), false, 'the process went on after the overflow');
  assert.match(r.stderr, /ERROR: AddressSanitizer: heap-buffer-overflow/);
  assert.match(r.stderr, /WRITE of size 1/);
  assert.match(r.stderr, /#0 0x[0-9a-f]+ in (stallwatch_test::)?(\(anonymous namespace\)::)?AsanCanary/);
  assert.match(r.stderr, /0 bytes to the right of 16-byte region/);
  assert.notEqual(r.status, 0, 'ASan aborted the process');
});
