'use strict';
// A wrong name is worse than none. These run the same stalling function across forced
// compacting GCs and check that (a) its code really moved (the sampled addresses differ
// between reports), and (b) every JS frame is named correctly, or not at all with `partial`
// saying why.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { runFixture, parseFixtureOutput } = require('./helpers/run-fixture');

// Everything that can legitimately be on the stalled thread's JS stack in this fixture.
// ('anonymous': the functions `new Function` makes in the optimized-moved mode; V8 13 (Node 24)
// can name the same frames 'eval' in the interrupt-time stack, seen once in a CI rehearsal with a
// sample inside fragmentAndCompact's natives.optimize: a name no other function here has, so never
// a stale one.)
const EXPECTED_NAMES = new Set(['culprit', 'caller', 'round', 'fragmentAndCompact', 'listOnTimeout', 'processTimers', 'anonymous', 'eval', '']);

const UNNAMED_MOVED = /^\d+ JS frame\(s\) are unnamed: their code was created or moved after the sample was taken, so a name could be wrong\.$/;
const UNNAMED_MOVED_OR_GC_ONLY = new RegExp(`${UNNAMED_MOVED.source}|^Every sample landed in garbage collection, which shows no JS frames\\.$`);

function jsFrames(report) {
  return report.frames.filter((f) => f.kind === 'js');
}

function checkNames(reports) {
  for (const report of reports) {
    for (const frame of jsFrames(report)) {
      assert.ok(EXPECTED_NAMES.has(frame.name), `unexpected JS frame name ${JSON.stringify(frame.name)} in ${JSON.stringify(jsFrames(report))}`);
    }
  }
}

async function run(mode, nodeArgs, withStdout = false) {
  // Eight rounds: under load many samples land in GC, where the frames come from the exact stack
  // (no sampled address), so a round may show no address of `caller` at all.
  const result = await runFixture('compaction', { args: [mode, '8'], nodeArgs, timeoutMs: 90000 });
  const out = parseFixtureOutput(result.stdout);
  assert.ok(out.done, `fixture finished (exit ${result.code}, stderr: ${result.stderr.slice(-500)})`);
  return withStdout ? { reports: out.reports, stdout: result.stdout } : out.reports;
}

// Every tier above the interpreter off, so the stalled functions stay bytecode. V8 10.2 (Node 18)
// has no --maglev flag (Maglev became switchable in V8 11), and Node refuses an unknown V8 flag
// ("bad option"), so --no-maglev is passed from Node 20 on only.
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const INTERPRETER_ONLY = ['--no-opt', '--no-sparkplug', ...(NODE_MAJOR >= 20 ? ['--no-maglev'] : [])];

test('bytecode moved by compaction keeps its correct name', async (t) => {
  const reports = await run('interpreted', ['--expose-gc', '--stress-compaction', ...INTERPRETER_ONLY]);
  assert.ok(reports.length >= 4, `one report per round, got ${reports.length}`);
  checkNames(reports);
  const callerAddresses = new Set();
  let complete = 0;
  for (const report of reports) {
    const names = jsFrames(report).map((f) => f.name);
    // GetStackSample's frames of `caller` point into its BytecodeArray.
    const callerFrame = jsFrames(report).find((f) => f.name === 'caller' && f.address);
    if (callerFrame) callerAddresses.add(callerFrame.address);
    if (names.includes('culprit')) {
      assert.equal(names[0], 'culprit', `culprit is the innermost JS frame: ${names}`);
      assert.equal(names[1], 'caller', `then its caller: ${names}`);
    }
    // --stress-compaction makes every other GC a compacting one, and the spinning loop allocates
    // (Date.now()'s numbers): a compaction can move the frames' bytecode between the sample and
    // the report. Those frames are then unnamed, and partial says exactly that. On a loaded
    // machine every sample of a round can also land in a GC pause (no JS frames, so no name to
    // get wrong), with the exact stack not in time to replace them; partial says that too.
    if (report.partial === undefined) complete++;
    else assert.match(report.partial, UNNAMED_MOVED_OR_GC_ONLY, 'the only incompleteness: code moved after the sample, or GC only');
  }
  assert.ok(complete >= 4, `most reports are complete (${complete} of ${reports.length})`);
  t.diagnostic(`caller's bytecode addresses across rounds: ${[...callerAddresses].join(' ')}; ${complete} of ${reports.length} reports complete`);
  assert.ok(callerAddresses.size >= 2, `the bytecode moved between rounds (addresses: ${[...callerAddresses].join(', ')})`);
});

test('under --stress-compaction with the optimizing tiers on, names are never wrong', async (t) => {
  const reports = await run('optimized', ['--expose-gc', '--stress-compaction']);
  assert.ok(reports.length >= 4, `one report per round, got ${reports.length}`);
  checkNames(reports);
  const named = reports.filter((r) => jsFrames(r).some((f) => f.name === 'culprit'));
  assert.ok(named.length >= 3, `most reports name the culprit (${named.length} of ${reports.length})`);
  const culpritAddresses = new Set(reports.flatMap((r) => jsFrames(r).filter((f) => f.name === 'culprit' && f.address).map((f) => f.address)));
  t.diagnostic(`culprit code addresses across rounds: ${[...culpritAddresses].join(' ') || '(none sampled)'}`);
});

test('optimized code moved by compaction keeps its correct name', async (t) => {
  // culprit is optimized once (no OSR, so no second code object), caller never; the code space
  // is fragmented before each full GC, which then compacts it. --trace-opt/--trace-deopt show
  // culprit had exactly one optimized code object all along: its sampled pc at different
  // places in different rounds can then only mean that code object moved.
  // V8 12+ (Node 22+) tiers up through Maglev first, a second optimized code object: off.
  const noMaglev = Number(process.versions.node.split('.')[0]) >= 22 ? ['--no-maglev'] : [];
  const { reports, stdout } = await run('optimized-moved', ['--allow-natives-syntax', '--expose-gc',
    '--compact-on-every-full-gc', '--no-use-osr', ...noMaglev, '--trace-opt', '--trace-deopt'], true);
  checkNames(reports);
  const completed = stdout.split('\n').filter((l) => /^\[(completed compiling|optimizing) .*<JSFunction culprit /.test(l));
  assert.equal(completed.length, 1, `culprit was optimized exactly once:\n${completed.join('\n')}`);
  assert.doesNotMatch(stdout, /deoptimiz[^\n]*<JSFunction culprit |bailout[^\n]*<JSFunction culprit /, 'culprit was never deoptimized');
  const named = reports.filter((r) => jsFrames(r)[0]?.name === 'culprit');
  assert.ok(named.length >= 4, `most rounds' reports name the culprit innermost (${named.length} of ${reports.length})`);
  for (const report of named) {
    assert.equal(jsFrames(report)[1]?.name, 'caller', 'then its caller');
    assert.equal(report.partial, undefined, `complete capture: ${report.partial}`);
  }
  const addresses = [...new Set(named.map((r) => jsFrames(r)[0].address).filter(Boolean))];
  t.diagnostic(`culprit's optimized code sampled at: ${addresses.join(' ')}`);
  // The sampled pcs of one code object in place lie within its few hundred bytes; a compaction
  // puts it elsewhere (moves seen here: hundreds of KB).
  const spread = addresses.length ? Math.max(...addresses.map(Number)) - Math.min(...addresses.map(Number)) : 0;
  assert.ok(spread > 0x10000, `the optimized code moved between rounds (sampled at ${addresses.join(', ')})`);
});

// A compacting GC can move an InstructionStream that a compiler thread allocated but has not
// linked to its Code yet. V8's listener behind v8::CodeEventHandler (ExternalLogEventListener::
// CodeMoveEvent) read that Code and faulted on a GC thread: on Node 24, whose Sparkplug compiles
// on a background thread, this fixture crashed 2 runs in 6 with that listener installed. From
// V8 11 on stallwatch takes names and moves from the JIT code event handler only, whose move
// logging skips such a stream (code_events.cc). Background Sparkplug is forced on every major.
test('code compiled on background threads while GCs compact code: the supervised process never crashes', { timeout: 180000 }, async (t) => {
  const runs = 6;
  let compiled = 0;
  for (let i = 0; i < runs; i++) {
    const r = await runFixture('code-move-stress', { args: ['2500'], nodeArgs: ['--expose-gc', '--stress-compaction', '--concurrent-sparkplug'], timeoutMs: 60000 });
    assert.equal(r.signal, null, `run ${i + 1} of ${runs} died of ${r.signal} (stderr: ${r.stderr.slice(-500)})`);
    assert.equal(r.code, 0, `run ${i + 1} of ${runs} exited with ${r.code} (stderr: ${r.stderr.slice(-500)})`);
    const done = /^DONE (.*)$/m.exec(r.stdout);
    assert.ok(done, `run ${i + 1} finished its work`);
    compiled += JSON.parse(done[1]).compiled;
  }
  t.diagnostic(`${runs} runs, ${compiled} functions compiled under --stress-compaction --concurrent-sparkplug, no crash`);
});
