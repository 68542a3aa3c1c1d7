'use strict';
// Reports that are never lost, stall profiles, and recovery actions.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Profile } = require('pprof-format');
const { runFixture, parseFixtureOutput, ROOT } = require('./helpers/run-fixture');
const { toFolded, toPprof, toCpuProfile } = require(ROOT);

const FIXTURES = path.join(__dirname, 'fixtures-never-lost');
const fixture = (name) => path.join(FIXTURES, `${name}.js`);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-'));

test('a 3 s busy stall sampled every 10 ms gives a profile whose hottest stack is the busy function, in three formats', async (t) => {
  const logFile = path.join(tmp(), 'profile.jsonl');
  const result = await runFixture(fixture('profile'), { args: [logFile], timeoutMs: 30000 });
  const out = parseFixtureOutput(result.stdout);
  assert.ok(out.done, result.describe());
  const event = out.unblocked[0];
  // The JSON log's unblocked entry has the same profile.
  const logged = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.event === 'unblocked');
  assert.ok(logged && logged.profile, 'the JSON log has the profile');
  assert.equal(logged.profile.samples, event.profile.samples);
  assert.deepEqual(logged.profile.stacks[0].frames.map((f) => f.name), event.profile.stacks[0].frames.map((f) => f.name));
  assert.ok(event.blockedMs >= 2900, `the stall lasted ${event.blockedMs} ms`);
  const profile = event.profile;
  assert.ok(profile, 'the unblocked event carries the profile');
  assert.equal(profile.intervalMs, 10);
  assert.equal(profile.samples, profile.stacks.reduce((n, s) => n + s.count, 0), 'samples add up');
  // 10 ms over ~2.8 s is ~280 samples on an idle machine; a loaded one keeps fewer (a sample is
  // skipped when the reporter is behind). Sampling speed is measured in bench/, not here.
  assert.ok(profile.samples >= 30, `sampled repeatedly: ${profile.samples} samples`);
  t.diagnostic(`profile: ${profile.samples} samples, ${profile.stacks.length} distinct stacks`);
  // Where the time went: most samples contain hotLoop.
  const withHot = profile.stacks.filter((s) => s.frames.some((f) => f.kind === 'js' && f.name === 'hotLoop'));
  const hotCount = withHot.reduce((n, s) => n + s.count, 0);
  assert.ok(hotCount / profile.samples > 0.6, `hotLoop in ${hotCount} of ${profile.samples} samples`);

  // Folded: every line "a;b;c N", counts add up, the heaviest line passes through hotLoop.
  const folded = toFolded(event).trim().split('\n');
  let total = 0;
  for (const line of folded) {
    const m = /^(.+) (\d+)$/.exec(line);
    assert.ok(m, `folded line format: ${line}`);
    total += Number(m[2]);
  }
  assert.equal(total, profile.samples);
  const heaviest = folded.reduce((a, b) => (Number(b.split(' ').pop()) > Number(a.split(' ').pop()) ? b : a));
  assert.match(heaviest, /hotLoop/);

  // pprof: decoded by pprof-format; the samples of hotLoop's stacks dominate.
  const decoded = Profile.decode(toPprof(event));
  const strings = decoded.stringTable.strings;
  const fnName = new Map(decoded.function.map((f) => [Number(f.id), strings[Number(f.name)]]));
  const locFns = new Map(decoded.location.map((l) => [Number(l.id), l.line.map((ln) => fnName.get(Number(ln.functionId)))]));
  let pprofHot = 0;
  let pprofTotal = 0;
  for (const sample of decoded.sample) {
    const count = Number(sample.value[0]);
    pprofTotal += count;
    if (sample.locationId.some((id) => (locFns.get(Number(id)) || []).some((n) => /hotLoop/.test(n)))) pprofHot += count;
  }
  assert.equal(pprofTotal, profile.samples);
  assert.equal(pprofHot, hotCount);

  // .cpuprofile: the structure DevTools loads; hit counts add up; the hottest leaf's path has hotLoop.
  const cpu = toCpuProfile(event);
  const byId = new Map(cpu.nodes.map((n) => [n.id, n]));
  assert.equal(cpu.samples.length, cpu.timeDeltas.length);
  for (const id of cpu.samples) assert.ok(byId.has(id));
  for (const n of cpu.nodes) for (const c of n.children || []) assert.ok(byId.has(c));
  assert.equal(cpu.nodes.reduce((n, node) => n + node.hitCount, 0), profile.samples);
  assert.ok(cpu.nodes.some((n) => n.callFrame.functionName === 'hotLoop'));
});

test('terminateWorkerAfterMs terminates a spinning worker; the pool replaces it and keeps serving', async () => {
  const result = await runFixture(fixture('terminate-pool'), { timeoutMs: 30000 });
  const out = parseFixtureOutput(result.stdout);
  assert.ok(out.done, result.describe());
  const exits = out.notes.filter((n) => n.exit !== undefined);
  assert.equal(exits.length, 2, `the spinning worker exited (terminated), then the native one: ${JSON.stringify(exits)}`);
  assert.ok(out.notes.some((n) => n.message === 'done after'), 'the replacement served the next task');
  assert.ok(out.reports.some((r) => r.frames.some((f) => f.name === 'runTask')), 'the stall was reported first');
  assert.match(result.stderr, /worker \d+ \(tid \d+\) terminated \(terminateWorkerAfterMs\) after a \d+ ms stall/);
  assert.match(result.stderr, /stuck in native code and cannot be terminated/, 'a native stall is reported as not terminable');
});

test('abortAfterMs writes the report, then aborts (SIGABRT)', async () => {
  const dir = tmp();
  const log = path.join(dir, 'stalls.jsonl');
  const result = await runFixture(fixture('abort'), { args: [log], timeoutMs: 20000, env: { NODE_OPTIONS: undefined } });
  assert.equal(result.signal, 'SIGABRT', result.describe());
  const text = fs.readFileSync(log, 'utf8');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.some((l) => l.event === 'blocked' && l.frames.some((f) => f.name === 'neverReturns')), `report on disk: ${text}`);
  assert.ok(lines.some((l) => l.event === 'abort'), 'and the abort line after it');
});

test('log rotation keeps whole reports and at most keep old files', async () => {
  const dir = tmp();
  const log = path.join(dir, 'stalls.jsonl');
  const result = await runFixture(fixture('rotate'), { args: [log], timeoutMs: 30000 });
  assert.ok(parseFixtureOutput(result.stdout).done, result.describe());
  const files = fs.readdirSync(dir).sort();
  assert.deepEqual(files, ['stalls.jsonl', 'stalls.jsonl.1', 'stalls.jsonl.2'], `rotated files: ${files}`);
  let blocked = 0;
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    assert.ok(text.endsWith('\n'));
    for (const line of text.trim().split('\n')) {
      const obj = JSON.parse(line); // a split report would not parse
      if (obj.event === 'blocked') blocked++;
    }
    assert.ok(fs.statSync(path.join(dir, f)).size <= 4000 || text.trim().split('\n').length === 1, `${f} within maxBytes`);
  }
  assert.ok(blocked >= 2, 'reports survive in the kept files');
});

test('SIGKILL right after detection: the JSON report is already on disk and valid', async () => {
  const dir = tmp();
  const log = path.join(dir, 'stalls.jsonl');
  const result = await runFixture(fixture('killed'), {
    args: [log],
    timeoutMs: 20000,
    // Kill the moment the file has a complete line: a liveness probe's SIGKILL.
    waitFor: () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('\n'),
  });
  assert.ok(result.matched && result.aliveAtMatch, 'killed while still stuck');
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  const report = JSON.parse(lines[0]);
  assert.equal(report.event, 'blocked');
  assert.equal(report.state, 'atomics-wait');
  assert.ok(report.frames.some((f) => f.name === 'deadlocked'));
});

test('a deadlocked main thread: the reporter module ships the report while the thread stays stuck', async (t) => {
  const dir = tmp();
  const sink = path.join(dir, 'shipped.jsonl');
  const delays = [];
  for (let run = 0; run < 3; run++) {
    fs.rmSync(sink, { force: true });
    const result = await runFixture(fixture('reporter-deadlock'), {
      args: ['./file-sink.js'],
      env: { SINK_FILE: sink },
      timeoutMs: 20000,
      waitFor: () => fs.existsSync(sink) && fs.readFileSync(sink, 'utf8').includes('\n'),
    });
    assert.ok(result.matched && result.aliveAtMatch, `shipped while the main thread was still stuck: ${result.describe()}`);
    const shipped = JSON.parse(fs.readFileSync(sink, 'utf8').trim().split('\n')[0]);
    assert.equal(shipped.report.state, 'atomics-wait');
    assert.equal(shipped.report.threadId, 0);
    assert.ok(shipped.report.frames.some((f) => f.kind === 'js' && f.name === 'waitForNotify'));
    const started = parseFixtureOutput(result.stdout).notes.find((n) => n.stallStartedAt)?.stallStartedAt;
    if (started) delays.push(shipped.shippedAt - started);
  }
  delays.sort((a, b) => a - b);
  t.diagnostic(`stall start to report shipped by the reporter (threshold 200 ms): ${delays.join(', ')} ms; median ${delays[1]} ms`);
});

test('a reporter module that fails still leaves the report on stderr, with the error', async () => {
  const result = await runFixture(fixture('reporter-deadlock'), {
    args: ['./throwing-sink.mjs'],
    timeoutMs: 20000,
    waitFor: (s) => /collector unreachable/.test(s.stderr) && /--> at waitForNotify/.test(s.stderr),
  });
  assert.ok(result.matched, result.describe());
  assert.match(result.stderr, /the reporter module .*throwing-sink\.mjs failed on this report: Error: collector unreachable/);
});

test('an unresolvable reporter module is a RangeError naming the option', () => {
  const { supervise } = require(ROOT);
  assert.throws(() => supervise({ reporter: './no-such-module.js', log: false }), (e) => e instanceof RangeError && /option "reporter": cannot resolve module/.test(e.message));
});
