'use strict';
// `npm run demo` (node demo/run-demo.js), the first command a newcomer runs, works and names the
// /slow handler.
const assert = require('node:assert/strict');
const path = require('node:path');
const { test, before } = require('node:test');
const { runFixture, ROOT } = require('./helpers/run-fixture');
const { preflight, explain } = require('./helpers/checks');

before(preflight);

test('npm run demo: exits 0 and shows the report naming the /slow handler', { timeout: 90000 }, async () => {
  const r = await runFixture(path.join(ROOT, 'demo', 'run-demo.js'), { timeoutMs: 60000 });
  explain(r, () => {
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /GET \/fast .*no report/);
    assert.match(r.stdout, /^ *stallwatch: main thread \(tid \d+\) blocked for \d+ ms, state \w+/m);
    assert.match(r.stdout, /\bat handleSlow \(.*demo[\\/]server\.js[:,]/, 'the /slow handler, with its file');
    assert.match(r.stdout, /^ *--> .*\bbuildReport\b/m, 'the culprit line');
    assert.match(r.stdout, /How to read it/);
  });
});
