#!/usr/bin/env node
'use strict';
// stallwatch benchmarks: `npm run bench` (from the repository root) or `node bench/run.js`.
// Not a test: it measures, it does not gate. A full run writes bench/results/latest.json and
// latest.md, and the tables into bench/RESULTS.md (between the generated-section markers; text
// outside them is kept); --quick/--only runs write bench/results/latest-partial.*.
//
//   node bench/run.js [--quick] [--only=throughput,idle,detection,capture,attach,compile,codemap]
//                     [--detectors=none,stallwatch,...] [--no-callgrind]
// --quick: a few rounds of everything, a couple of minutes, for checking the bench itself.
// --render: re-render the tables from bench/results/latest.json (after changing lib/report.js).
// --snapshot: benchmark a copy of the current build (build/Release/*.node, dist/, package.json)
//   taken at start, so that a rebuild of the shared checkout during the run cannot break it.
// STALLWATCH_BENCH_REPO=/path/to/checkout benchmarks another build of stallwatch.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const BENCH = __dirname;
const RESULTS_DIR = path.join(BENCH, 'results');
const START = Date.now();

function log(msg) {
  const s = ((Date.now() - START) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[bench ${s}s] ${msg}\n`);
}

function parseCli() {
  const out = {};
  for (const a of process.argv.slice(2)) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m) out[m[1]] = m[2] === undefined ? true : m[2];
  }
  return out;
}

/** Installs bench/ dependencies when missing; returns a note on failure (offline, ...). */
function ensureDependencies() {
  if (fs.existsSync(path.join(BENCH, 'node_modules', '.package-lock.json'))) return null;
  log('bench/node_modules missing: npm install (bench/ only; the library does not depend on these)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: BENCH, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  if (r.status === 0) return null;
  const why = r.error ? r.error.message : `npm install exited with ${r.status}`;
  const note = `Could not install the bench dependencies (${why}); probably offline. The alternatives that need them (sentry, blocked-at) are skipped; run \`npm install\` in bench/ with network access to include them.`;
  log(note);
  return note;
}

/** Copies what `require(repo)` needs into bench/results/snapshot/ and points the bench at it. */
function takeSnapshot(repo) {
  const dir = path.join(RESULTS_DIR, 'snapshot');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  const built = path.join(repo, 'build', 'Release', 'stallwatch.node');
  if (!fs.existsSync(built)) return null;
  fs.copyFileSync(built, path.join(dir, 'build', 'Release', 'stallwatch.node'));
  fs.cpSync(path.join(repo, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(repo, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** Loads a detector in a child process (so a crash or a bad binary cannot take us down). */
function probeDetector(name) {
  const code = `require(${JSON.stringify(path.join(BENCH, 'lib', 'detectors.js'))}).probe(${JSON.stringify(name)})`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: BENCH, encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return null;
  const lines = (r.stderr || r.error?.message || '').split('\n').filter((l) => /^\s*(\w*Error|\[cause\]):/.test(l));
  return (lines[0] || `exit ${r.status}`).trim().slice(0, 300);
}

/** The addon may be mid-rebuild in a shared checkout: wait for it (bounded). */
async function waitForStallwatch(maxMs) {
  const t0 = Date.now();
  let why = probeDetector('stallwatch');
  while (why && Date.now() - t0 < maxMs) {
    log(`stallwatch does not load yet (${why.slice(0, 120)}...); retrying in 10 s`);
    await new Promise((r) => setTimeout(r, 10_000));
    why = probeDetector('stallwatch');
  }
  return why;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus.length ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    kernel: os.release(),
    node: process.version,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    hostname: os.hostname(),
  };
}

function stallwatchVersion(repo) {
  const git = (args) => spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  const status = git(['status', '--porcelain', '--', 'native', 'lib', 'binding.gyp']);
  return {
    commit: head.status === 0 ? head.stdout.trim() : 'unknown',
    dirty: status.status === 0 && status.stdout.trim().length > 0,
    repo,
  };
}

const FULL = {
  throughput: {
    rounds: 5,
    requests: 30_000,
    warmup: 4_000,
    // blocked-at captures a stack trace for every async resource (~1k req/s): fewer requests.
    requestsFor: { 'blocked-at': 4_000 },
    warmupFor: { 'blocked-at': 1_000 },
    connections: 8,
    thresholdMs: 100,
    settleMs: 300,
    aaControl: true,
    timeoutMs: 60_000,
    callgrindRounds: 2,
    callgrindDetectors: ['none', 'stallwatch', 'none-aa'],
    callgrindWarmup: 5000,
    callgrindRequests: 1000,
    callgrindThresholdMs: 10_000,
  },
  idle: { rounds: 2, durationMs: 10_000, thresholdMs: 100, settleMs: 1000, strace: true },
  detection: { rounds: 2, thresholdMs: 100, stallMs: 200, gapMs: 150, timerStalls: 20, httpStalls: 20, warmMs: 500, sentryWarmMs: 2500 },
  capture: { rounds: 3, thresholdMs: 10, stallMs: 30, gapMs: 15, stalls: 100, deepDepth: 120 },
  attach: { rounds: 7, heapMB: 1024, heapRounds: 2 },
  // callgrind: the short form of the workload (no lib.d.ts parse, 30 classes), ~40 s per run;
  // threshold scaled with valgrind's ~50x slow-down so that no capture happens in the run. One
  // round: the count repeats to a few thousand instructions (the A/A control shows it).
  compile: { rounds: 6, thresholdMs: 500, aaControl: true, callgrindRounds: 1, callgrindClasses: 30, callgrindThresholdMs: 120_000 },
  codemap: { rounds: 3, n: 50_000 },
};

const QUICK = {
  throughput: { ...FULL.throughput, rounds: 2, requests: 10_000, warmup: 2_000, requestsFor: { 'blocked-at': 1000 }, callgrindRounds: 1, callgrindDetectors: ['none', 'stallwatch'], aaControl: false, callgrindWarmup: 500, callgrindRequests: 300 },
  idle: { ...FULL.idle, rounds: 1, durationMs: 3000, settleMs: 500 },
  detection: { ...FULL.detection, rounds: 1, timerStalls: 5, httpStalls: 5 },
  capture: { ...FULL.capture, rounds: 1, stalls: 20 },
  attach: { ...FULL.attach, rounds: 2, heapMB: 256, heapRounds: 1 },
  compile: { ...FULL.compile, rounds: 2, aaControl: false, callgrindRounds: 1 },
  codemap: { rounds: 1, n: 10_000 },
};

const SUITES = ['throughput', 'idle', 'detection', 'capture', 'attach', 'compile', 'codemap'];
const MARK_START = '<!-- bench:results:start (generated by bench/run.js; edit outside the markers) -->';
const MARK_END = '<!-- bench:results:end -->';

function writeResultsMd(markdown) {
  const file = path.join(BENCH, 'RESULTS.md');
  const generated = `${MARK_START}\n\n${markdown}\n\n${MARK_END}`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const a = text.indexOf(MARK_START);
  const b = text.indexOf(MARK_END);
  if (a >= 0 && b > a) text = text.slice(0, a) + generated + text.slice(b + MARK_END.length);
  else text = `# stallwatch benchmark results\n\nProduced by \`npm run bench\` (bench/run.js). The tables are regenerated on every run; the findings below them are written by hand.\n\n${generated}\n\n## Findings\n\n(none yet)\n`;
  fs.writeFileSync(file, text);
}

/** --render: rebuild latest.md and RESULTS.md's tables from latest.json, measuring nothing. */
function renderOnly() {
  const results = JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, 'latest.json'), 'utf8'));
  const markdown = require('./lib/report').render(results);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.md'), `# stallwatch benchmark\n\n${markdown}\n`);
  writeResultsMd(markdown);
  log('re-rendered bench/results/latest.md and bench/RESULTS.md from latest.json');
}

async function main() {
  const cli = parseCli();
  if (cli.render) return renderOnly();
  const config = cli.quick ? QUICK : FULL;
  if (cli['no-callgrind']) {
    config.throughput.callgrindRounds = 0;
    config.compile.callgrindRounds = 0;
  }
  const only = cli.only ? String(cli.only).split(',') : SUITES;
  const wanted = cli.detectors ? String(cli.detectors).split(',') : ['none', 'stallwatch', 'sentry', 'blocked-at', 'eld'];

  const depsNote = ensureDependencies();
  let sourceVersion = null;
  if (cli.snapshot) {
    const repo = process.env.STALLWATCH_BENCH_REPO ? path.resolve(process.env.STALLWATCH_BENCH_REPO) : path.resolve(BENCH, '..');
    // Wait until the checkout's addon loads, then freeze that build.
    process.env.STALLWATCH_BENCH_REPO = repo;
    const why = await waitForStallwatch(180_000);
    const dir = why ? null : takeSnapshot(repo);
    if (dir) {
      sourceVersion = stallwatchVersion(repo);
      process.env.STALLWATCH_BENCH_REPO = dir;
      log(`benchmarking a snapshot of ${repo} (${sourceVersion.commit}${sourceVersion.dirty ? ', uncommitted changes' : ''}) in ${dir}`);
    }
  }
  const { REPO } = require('./lib/detectors');
  const skipped = {};
  const detectors = [];
  for (const d of wanted) {
    const why = d === 'stallwatch' ? await waitForStallwatch(180_000) : probeDetector(d);
    if (why) {
      skipped[d] = why;
      log(`skipping ${d}: ${why}`);
    } else detectors.push(d);
  }
  if (!detectors.includes('none')) throw new Error('the baseline (none) must run');

  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    stallwatch: sourceVersion ? { ...sourceVersion, snapshot: REPO } : stallwatchVersion(REPO),
    detectors,
    detectorsSkipped: skipped,
    notes: depsNote ? [depsNote] : [],
    config,
  };
  log(`machine: ${results.machine.cpu}, ${results.machine.cores} cores, Linux ${results.machine.kernel}, Node ${results.machine.node}`);
  const ctx = { config, detectors, log };
  const suites = {
    throughput: () => require('./suites/throughput').run(ctx),
    idle: () => require('./suites/idle').run(ctx),
    detection: () => require('./suites/detection').run(ctx),
    capture: () => require('./suites/capture').run(ctx),
    attach: () => require('./suites/startup').attachSuite(ctx),
    compile: () => require('./suites/startup').compileSuite(ctx),
    codemap: () => require('./suites/startup').codeMapSuite(ctx),
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  // Other work on the machine: the 1-minute load average, sampled every 5 s.
  const loadSamples = [];
  const loadTimer = setInterval(() => loadSamples.push(os.loadavg()[0]), 5000);
  loadTimer.unref();
  for (const name of SUITES) {
    if (!only.includes(name)) continue;
    const t0 = Date.now();
    const firstSample = loadSamples.length;
    const loadBefore = os.loadavg()[0];
    try {
      results[name] = await suites[name]();
    } catch (error) {
      log(`${name} failed: ${error.stack || error}`);
      results[name] = { error: String(error.message || error) };
    }
    results[name].seconds = (Date.now() - t0) / 1000;
    const samples = [loadBefore, ...loadSamples.slice(firstSample), os.loadavg()[0]];
    results[name].loadavg = { min: Math.min(...samples), median: require('./lib/stats').median(samples), max: Math.max(...samples) };
    log(`${name} done in ${results[name].seconds.toFixed(0)} s`);
    // Partial results survive a later crash.
    fs.writeFileSync(path.join(RESULTS_DIR, 'in-progress.json'), JSON.stringify(results, null, 1));
  }
  clearInterval(loadTimer);
  results.durationS = (Date.now() - START) / 1000;
  const { render } = require('./lib/report');
  const markdown = render(results);
  // Only a full run replaces latest.* and the tables in RESULTS.md; a quick or partial run
  // (checking the bench itself) writes latest-partial.* and leaves them alone.
  const full = !cli.quick && only.length === SUITES.length;
  const base = full ? 'latest' : 'latest-partial';
  fs.writeFileSync(path.join(RESULTS_DIR, `${base}.json`), JSON.stringify(results, null, 1));
  fs.writeFileSync(path.join(RESULTS_DIR, `${base}.md`), `# stallwatch benchmark\n\n${markdown}\n`);
  if (full) writeResultsMd(markdown);
  else log('partial or quick run: wrote bench/results/latest-partial.*; latest.* and bench/RESULTS.md left unchanged');
  process.stdout.write(`${markdown}\n`);
  fs.rmSync(path.join(RESULTS_DIR, 'in-progress.json'), { force: true });
  log(`done in ${results.durationS.toFixed(0)} s: bench/results/${base}.md, ${base}.json`);
}

main().catch((error) => {
  log(error.stack || String(error));
  process.exit(1);
});
