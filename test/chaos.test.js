'use strict';
// Chaos: a bounded randomized run (test/fixtures-chaos/run.js). The main thread and a changing set
// of workers (created and ended all the time, some terminated mid-stall) block their loops in
// every way stallwatch must explain (JS busy loop, Atomics.wait, FIFO read, an addon sleeping,
// catastrophic RegExp, huge JSON, allocation storms, forced compacting GCs), from timers, HTTP
// handlers and response callbacks, and worker message handlers, with a 100 ms threshold and stall
// sampling on. Every stall is logged by the fixture (thread, culprit function, start, end), so the
// reports can be matched to stalls one to one (test/fixtures-chaos/match.js):
//   - no crash, no hang: the fixture ends on time with exit code 0;
//   - every stall of at least twice the threshold is reported, once, by its own thread, with its
//     own function as the culprit; no stall is reported twice; no report of an idle loop, and no
//     report naming a stall function when its thread was not in that stall;
//   - at least 95% of the reports are complete (no `partial`);
//   - every report of the JSON log reaches the main thread's listener exactly once;
//   - RSS flat: with no worker alive and after a GC, the RSS at the end is within RSS_BOUND_MB of
//     the RSS after the first quarter of the run (whatever the run's length); not under ASan.
// STALLWATCH_CHAOS_SECONDS sets the length (default 60); STALLWATCH_CHAOS_SEED replays a run.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, before } = require('node:test');
const { runFixture, parseJsonLog, ROOT } = require('./helpers/run-fixture');
const { UNDER_ASAN, preflight, explain, assertCleanExit, assertNoCaptureMachinery } = require('./helpers/checks');
const { match, culpritName } = require('./fixtures-chaos/match');

const SECONDS = Number(process.env.STALLWATCH_CHAOS_SECONDS || 60);
const SEED = Number(process.env.STALLWATCH_CHAOS_SEED || (Date.now() % 2 ** 31));
const THRESHOLD_MS = 100;
const SAMPLE_INTERVAL_MS = 10;
const MAX_WORKERS = 3;
const RSS_BOUND_MB = 48;
const MIN_COMPLETE = 0.95;
// Under npm run test:asan (UNDER_ASAN) the RSS bound is not checked; every other check applies.

before(preflight);

const mb = (bytes) => (bytes / (1024 * 1024)).toFixed(1);
const brief = (r) => `thread ${r.threadId} at ${r.capturedAt} (${r.blockedMs} ms, state ${r.state}, culprit ${r.culprit})` +
  `${r.partial ? ` partial: ${r.partial}` : ''}\n${r.text}`;
const stallText = (s) => `thread ${s.threadId} ${s.kind} ${s.culprit} via ${s.trigger}, ${s.start}..${s.end} (${s.ms} ms` +
  `${s.interrupted ? `, interrupted, at least ${s.minMs} ms` : ''})`;

// Not in npm test: its ground truth is wall-clock stall lengths, which npm test's other test
// files running alongside would stretch. CI runs it alone after npm test (.ci/run), by
// `npm run test:chaos`.
const CHAOS_SKIP = process.env.STALLWATCH_CHAOS === '1' ? false
  : 'runs alone, by npm run test:chaos (CI does, after npm test)';

test(`chaos: ${SECONDS} s of workers coming and going and loops blocking every way`, { timeout: SECONDS * 1000 + 120000, skip: CHAOS_SKIP }, async (t) => {
  assert.ok(Number.isFinite(SECONDS) && SECONDS >= 5, `STALLWATCH_CHAOS_SECONDS must be a number >= 5, got ${process.env.STALLWATCH_CHAOS_SECONDS}`);
  const { formatReport } = require(ROOT);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-chaos-'));
  const logPath = path.join(dir, 'reports.jsonl');
  // Kept when the test fails (with the fixture's output), for a look at the whole run.
  let keep = false;
  t.after(() => { if (!keep) fs.rmSync(dir, { recursive: true, force: true }); });
  const r = await runFixture(path.join(__dirname, 'fixtures-chaos', 'run.js'), {
    args: [logPath, dir, SECONDS, SEED, THRESHOLD_MS, SAMPLE_INTERVAL_MS, MAX_WORKERS],
    nodeArgs: ['--expose-gc'],
    timeoutMs: SECONDS * 1000 + 90000,
  });
  const failures = [];
  explain(r, () => {
    assertCleanExit(r);
    assert.doesNotMatch(r.stderr, /fixture failed|Assertion|Segmentation|Aborted|AddressSanitizer|runtime error:/);
    assert.deepEqual(r.out.tagged['worker-error']?.notes ?? [], [], 'no worker threw');
  });

  const stalls = r.out.tagged.stall.notes;
  const heard = r.out.tagged.heard?.notes ?? [];
  const summary = r.out.tagged.summary.notes[0];
  const reports = parseJsonLog(fs.readFileSync(logPath, 'utf8')).filter((e) => e.event === 'blocked');
  for (const rep of reports) {
    rep.text = formatReport(rep);
    rep.culprit = culpritName(rep.text);
  }
  const m = match(stalls, reports, THRESHOLD_MS);
  // The stack of a report taken inside an injected stall starts at the interrupted instruction: no
  // frame of the signal handler or the unwinder. (Reports at a stall's edge or unattributed are left
  // out: a worker starting up or tearing down can genuinely be stuck in stallwatch's own code, its
  // code-event listener or its teardown say; they are listed.)
  const machinery = [];
  for (const { report } of [...m.matchedReports, ...m.unnamed, ...m.wrongCulprit]) {
    try { assertNoCaptureMachinery(report); } catch (err) { machinery.push({ report, err }); }
  }

  // Every JSON-log report reaches the main handle's listener once (workers' too: workers: true).
  const unheard = [];
  const pool = heard.map((h) => ({ ...h, used: false }));
  for (const rep of reports) {
    const h = pool.find((x) => !x.used && x.threadId === rep.threadId && x.tid === rep.tid && Math.abs(x.capturedAt - rep.capturedAt) < 1);
    if (h) h.used = true; else unheard.push(rep);
  }
  const unlogged = pool.filter((h) => !h.used);

  const partial = reports.filter((rep) => rep.partial !== undefined);
  const partialRatio = reports.length ? partial.length / reports.length : 0;
  const mismatches = m.wrongCulprit.length + m.stray.length + m.idle.length + m.duplicate.length + m.missed.length;
  t.diagnostic(`chaos summary: ${summary.seconds.toFixed(1)} s, seed ${SEED}, threads created ${summary.created + 1} ` +
    `(workers terminated ${summary.terminated}, asked to exit ${summary.askedToExit}), stalls injected ${stalls.length} ` +
    `(${m.mustCount} >= 2x threshold, ${stalls.filter((s) => s.interrupted).length} cut short by terminate), ` +
    `stalls reported ${reports.length} (matched ${m.matched}, at an edge ${m.edge.length}, partial without culprit ${m.unnamed.length}, other ${m.other.length}), ` +
    `mismatches ${mismatches} (missed ${m.missed.length}, duplicate ${m.duplicate.length}, wrong culprit ${m.wrongCulprit.length}, ` +
    `stray ${m.stray.length}, idle ${m.idle.length}), listener: unheard ${unheard.length}, not in log ${unlogged.length}, ` +
    `partial ratio ${(partialRatio * 100).toFixed(1)}% (${partial.length}), profiles ${summary.profiled}/${summary.unblocked}, ` +
    `RSS ${mb(summary.rssWarm)} MB -> ${mb(summary.rssEnd)} MB; capture stats ${JSON.stringify(summary.capture)}`);
  // Unattributed reports: genuine stalls nobody injected (workers starting up, a busy moment of
  // the main thread). Counted by culprit; the test does not fail on them.
  const byCulprit = new Map();
  for (const o of m.other) byCulprit.set(o.report.culprit, (byCulprit.get(o.report.culprit) || 0) + 1);
  t.diagnostic(`unattributed reports by culprit: ${[...byCulprit].map(([c, n]) => `${c} x${n}`).join(', ') || 'none'}`);
  const reasons = new Map();
  for (const p of partial) reasons.set(p.partial, (reasons.get(p.partial) || 0) + 1);
  for (const [why, n] of reasons) t.diagnostic(`partial x${n}: ${why}`);

  const check = (ok, what, items, show) => { if (!ok) failures.push(`${what}:\n${items.slice(0, 5).map(show).join('\n---\n')}`); };
  check(m.missed.length === 0, `${m.missed.length} stalls of >= 2x the threshold were not reported`, m.missed, (x) => stallText(x.stall));
  check(m.duplicate.length === 0, `${m.duplicate.length} stalls were reported more than once`, m.duplicate,
    (x) => `${stallText(x.stall)}\n${x.reports.map(brief).join('\n')}`);
  check(m.wrongCulprit.length === 0, `${m.wrongCulprit.length} reports name the wrong culprit`, m.wrongCulprit,
    (x) => `${stallText(x.stall)}\n${brief(x.report)}`);
  check(m.stray.length === 0, `${m.stray.length} reports name a stall function outside any stall of their thread`, m.stray, (x) => brief(x.report));
  check(m.idle.length === 0, `${m.idle.length} reports of an idle loop`, m.idle, (x) => brief(x.report));
  check(machinery.length === 0, `${machinery.length} reports show the capture machinery`, machinery,
    (x) => `${x.err.message}\n${brief(x.report)}`);
  check(unheard.length === 0, `${unheard.length} logged reports never reached the main listener`, unheard, brief);
  check(unlogged.length === 0, `${unlogged.length} listener reports are not in the log`, unlogged, (h) => JSON.stringify(h));
  check(partialRatio <= 1 - MIN_COMPLETE, `${(partialRatio * 100).toFixed(1)}% of the reports are partial`, partial, brief);
  if (UNDER_ASAN) t.diagnostic('RSS bound not checked: the ASan runtime is preloaded');
  else check(summary.rssEnd - summary.rssWarm <= RSS_BOUND_MB * 1024 * 1024,
    `RSS grew ${mb(summary.rssEnd - summary.rssWarm)} MB (bound ${RSS_BOUND_MB} MB)`, [], String);
  check(m.mustCount >= SECONDS / 2, `only ${m.mustCount} stalls of >= 2x the threshold in ${SECONDS} s: the run proves little`, [], String);
  if (failures.length > 0) {
    keep = true;
    fs.writeFileSync(path.join(dir, 'stdout.txt'), r.stdout);
    fs.writeFileSync(path.join(dir, 'stderr.txt'), r.stderr);
    t.diagnostic(`the run is kept in ${dir} (reports.jsonl, stdout.txt, stderr.txt)`);
  }
  assert.deepEqual(failures, [], `seed ${SEED} (STALLWATCH_CHAOS_SEED replays the random choices)`);
});
