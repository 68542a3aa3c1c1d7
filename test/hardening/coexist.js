'use strict';
// stallwatch next to other users of signals, for test/coexistence.test.js. argv: <scenario> <args...>
// Every scenario runs two JS stalls (stallInCoexistence -> spinFor, 600 ms each) and must end with DONE.
//
//   go <signal> <go-first|stallwatch-first> [self|caller] [stalls] [period]
//       A Go-like runtime (test addon goRuntimeStart): its own chaining SIGURG handler and a thread that
//       preempts with tgkill(SIGURG), installed before or after supervise(). `self` (default): it
//       signals its own thread every 5 ms (Go preempting its own threads). `caller`: it also signals
//       the main thread every [period] ms (default 1; Go preempting Go code that the main thread runs through cgo).
//       NOTE {step: 'go', phase, self, caller, forwarded} before, between and after the stalls.
//   go-pending <signal> <foreign|none>
//       The capture arrives while the thread has the signal blocked for a short while (300 ms: the
//       capture, due 250 ms into the stall, comes while it is blocked, and the unblock is well within
//       the watchdog's 200 ms delivery window). With `foreign`, another user of the signal
//       (the Go-like runtime's handler absorbs it) has one instance of it pending already, as a Go
//       preemption or a kill(1) would. Standard signals do not queue: stallwatch's instance merges into
//       the pending one. NOTE {step: 'go', ...} after the stall.
//   report <stallwatch signal> <node-first|stallwatch-first>
//       Node's diagnostic report on SIGUSR2 (--report-on-signal at startup, or process.report at run
//       time after supervise()). After the stalls the fixture sends itself SIGUSR2 once.
//       NOTE {step: 'report-files', phase, files} before and after that kill.
//   cpu-prof <signal>
//       Run under node --cpu-prof (V8's sampling profiler, SIGPROF every interval, from startup).
//   inspector <signal> <profiler-first|stallwatch-first>
//       Profiler.start through an inspector session in this process, before or after supervise();
//       Profiler.stop after the stalls. NOTE {step: 'profile', samples, nodes}.
//   second-copy <signal A> <signal B> <a-first|b-first> [listener|kill]
//       A second copy of the addon (build/Release/stallwatch.node copied to a temporary directory
//       under another name, loaded with process.dlopen) subscribes on the same thread next to the
//       package's own copy. Reports of the second copy print as REPORT:b / UNBLOCKED:b.
//       After the two stalls (each copy re-installs its handler before each capture), with
//       `listener` an app listener for signal A added before both copies gets one external kill
//       (NOTE {step: 'listener', calls}); with `kill` the process sends itself signal A with no
//       listener, and must end by it as it would without stallwatch.
//   second-copy-code <signal A> <signal B> <a-first|b-first> [timer|http]
//       Two copies on one thread, two stalls in native code (blockInNative), where frames are named
//       from each copy's code map alone (no exact stack is taken). The JS function that calls the
//       addon is compiled between the two attaches and moved by a compacting GC before each stall;
//       the one that stalls is compiled after both. Run with --expose-gc --stress-compaction.
//       Then the copy that attached last closes (NOTE {step: 'closed', copy}) and a third stall,
//       compiled after that, is reported by the remaining copy alone.
//   peer-pause <signal> [timer|http] [maxStalls]
//       The test addon introduces itself as another copy of stallwatch (actAsStallwatchPeer), and
//       each JS stall pauses 15 ms in its code around the time the capture comes (spinInPeerCode at
//       threshold - 5 ms): what a capture landing in another copy's interrupt callback sees. Stalls
//       repeat until one capture took more than one sample (NOTE {step: 'samples', stall, samples}).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const common = require('../fixtures/_common');

const [scenario, ...args] = process.argv.slice(2);

function signalNumber(name) {
  const rt = /^SIGRTMIN\+(\d+)$/.exec(name);
  return rt ? 34 + Number(rt[1]) : os.constants.signals[name];
}

async function twoStalls(expectedUnblocked = 1, between = async () => {}) {
  for (let stall = 1; stall <= 2; stall++) {
    if (stall === 2) await between();
    const before = captureCounts();
    const startedAt = Date.now();
    await common.trigger('timer', function stallInCoexistence() { common.spinFor(600); });
    await common.waitForUnblocked(stall * expectedUnblocked);
    // For a failure's log: whether a capture was attempted for a stall that got no report.
    const after = captureCounts();
    common.say('NOTE', { step: 'captures', stall, startedAt, samples: after.samples - before.samples,
      failedSignals: after.failedSignals - before.failedSignals, reports: common.counts.reports });
  }
}

function captureCounts() {
  const { stats } = require(common.ROOT);
  const { samples, failedSignals } = stats();
  return { samples, failedSignals };
}

// The addon copied to a temporary directory under another name and loaded with process.dlopen:
// another copy of stallwatch, as from another node_modules. subscribe() supervises this thread
// through it; its reports print as REPORT:b / UNBLOCKED:b.
function secondCopy(sig) {
  const source = path.join(common.ROOT, 'build', 'Release', 'stallwatch.node');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-second-copy-'));
  const copy = path.join(dir, 'another-name.node');
  fs.copyFileSync(source, copy);
  const { resolveOptions, toNativeConfig } = require(path.join(common.ROOT, 'dist', 'lib', 'options.js'));
  const counts = { b: 0, bUnblocked: 0 };
  const subscribe = () => {
    const mod = { exports: {} };
    process.dlopen(mod, copy);
    const binding = mod.exports;
    const config = toNativeConfig(resolveOptions({ thresholdMs: common.THRESHOLD_MS, signal: sig, log: false }, binding.capabilities()),
      { threadId: 0, threadName: '' });
    const id = binding.subscribe(config, (kind, payload) => {
      if (kind === 'blocked') { counts.b++; common.say('REPORT', payload, 'b'); }
      if (kind === 'unblocked') { counts.bUnblocked++; common.say('UNBLOCKED', payload, 'b'); }
    });
    return { close: () => binding.unsubscribe(id) };
  };
  return { dir, counts, subscribe };
}

// waitForUnblocked counts the package copy's events; this waits for the second copy's too.
async function waitForSecondCopy(counts, n) {
  const end = Date.now() + 3000;
  while (counts.bUnblocked < n && Date.now() < end) await common.sleep(20);
}

const scenarios = {
  async go() {
    const [sig, order, target = 'self', stallsArg = '2', periodArg = '1'] = args;
    const stalls = Number(stallsArg);
    const addon = common.loadTestAddon();
    const goSigno = os.constants.signals.SIGURG;
    const counts = (phase) => common.say('NOTE', { step: 'go', phase, ...addon.goRuntimeCounts() });
    const start = () => (target === 'caller' ? addon.goRuntimeStart(goSigno, Number(periodArg), true) : addon.goRuntimeStart(goSigno, 5, false));
    let sv;
    if (order === 'go-first') {
      start();
      await common.sleep(100);
      sv = common.watch({ signal: sig, log: false });
    } else {
      sv = common.watch({ signal: sig, log: false });
      start();
    }
    common.ready({ signal: sig, order, target, stalls });
    await common.sleep(200);
    counts('before');
    for (let i = 0; i < stalls; i++) {
      await common.trigger('timer', function stallInCoexistence() { common.spinFor(600); });
      await common.waitForUnblocked(i + 1);
      await common.sleep(50);
      counts(i + 1 < stalls ? 'between' : 'after');
    }
    addon.goRuntimeStop();
    common.done(sv);
  },

  async 'go-pending'() {
    const [sig, foreign] = args;
    const addon = common.loadTestAddon();
    const signo = signalNumber(sig);
    addon.goRuntimeStart(signo, 1000, false); // a handler for the other sender's signal
    const sv = common.watch({ signal: sig, log: false });
    common.ready({ signal: sig, foreign });
    await common.trigger('timer', function stallWithSignalBrieflyBlocked() {
      addon.blockSignalAndSleep(signo, 300, foreign === 'foreign');
      common.spinFor(300);
    });
    await common.waitForUnblocked(1);
    common.say('NOTE', { step: 'go', phase: 'after', ...addon.goRuntimeCounts() });
    addon.goRuntimeStop();
    common.done(sv);
  },

  async report() {
    const [sig, order] = args;
    const dir = process.report.directory;
    const files = () => fs.readdirSync(dir).filter((f) => f.startsWith('report.') && f.endsWith('.json'));
    let sv;
    if (order === 'node-first') {
      // Started with --report-on-signal --report-signal=SIGUSR2 --report-directory=<dir>.
      sv = common.watch({ signal: sig, log: false });
    } else {
      sv = common.watch({ signal: sig, log: false });
      process.report.signal = 'SIGUSR2';
      process.report.reportOnSignal = true;
    }
    common.ready({ signal: sig, order, reportOnSignal: process.report.reportOnSignal, reportSignal: process.report.signal });
    await twoStalls();
    common.say('NOTE', { step: 'report-files', phase: 'after-stalls', files: files().length });
    process.kill(process.pid, 'SIGUSR2');
    const end = Date.now() + 5000;
    while (files().length === 0 && Date.now() < end) await common.sleep(50);
    await common.sleep(200);
    common.say('NOTE', { step: 'report-files', phase: 'after-kill', files: files().length });
    common.done(sv);
  },

  async 'cpu-prof'() {
    const [sig] = args;
    const sv = common.watch({ signal: sig, log: false });
    common.ready({ signal: sig, execArgv: process.execArgv });
    await twoStalls();
    common.done(sv); // --cpu-prof writes the profile at exit
  },

  async inspector() {
    const [sig, order] = args;
    const inspector = require('node:inspector');
    const session = new inspector.Session();
    session.connect();
    const post = (method, params = {}) => new Promise((resolve, reject) => {
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result)));
    });
    const startProfiler = async () => {
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 100 });
      await post('Profiler.start');
    };
    let sv;
    if (order === 'profiler-first') {
      await startProfiler();
      sv = common.watch({ signal: sig, log: false });
    } else {
      sv = common.watch({ signal: sig, log: false });
      await startProfiler();
    }
    common.ready({ signal: sig, order });
    await twoStalls();
    const { profile } = await post('Profiler.stop');
    const names = new Set(profile.nodes.map((n) => n.callFrame.functionName));
    common.say('NOTE', {
      step: 'profile', samples: profile.samples.length, nodes: profile.nodes.length,
      sawStall: names.has('spinFor') && names.has('stallInCoexistence'),
    });
    session.disconnect();
    // A third stall after the profiler stopped (V8 restored the SIGPROF disposition it found).
    common.counts.unblocked = 0;
    await common.trigger('timer', function stallInCoexistence() { common.spinFor(600); });
    await common.waitForUnblocked(1);
    common.done(sv);
  },

  async 'second-copy'() {
    const [sigA, sigB, order, external] = args;
    let listenerCalls = 0;
    if (external === 'listener') process.on(sigA, () => { listenerCalls++; });
    const { dir, counts, subscribe: subscribeB } = secondCopy(sigB);
    let a;
    let b;
    if (order === 'a-first') {
      a = common.watch({ signal: sigA, log: false }, 'a');
      b = subscribeB();
    } else {
      b = subscribeB();
      a = common.watch({ signal: sigA, log: false }, 'a');
    }
    common.ready({ sigA, sigB, order, dir });
    // waitForUnblocked counts the package copy's events; wait for the second copy's too.
    const waitB = (n) => waitForSecondCopy(counts, n);
    await twoStalls(1, () => waitB(1));
    await waitB(2);
    await common.sleep(100);
    fs.rmSync(dir, { recursive: true, force: true });
    if (external === 'listener') {
      process.kill(process.pid, sigA);
      await common.sleep(200);
      common.say('NOTE', { step: 'listener', calls: listenerCalls });
    } else if (external === 'kill') {
      process.kill(process.pid, sigA);
      await common.sleep(1000);
      common.say('NOTE', { step: 'survived' });
    }
    common.done(a, b);
  },

  async 'second-copy-code'() {
    const [sigA, sigB, order, round = 'timer'] = args;
    const addon = common.loadTestAddon();
    function blockForBothCopies(ms) { addon.blockInNative(ms); }
    const { dir, counts, subscribe: subscribeB } = secondCopy(sigB);
    let a;
    let b;
    // blockForBothCopies is compiled (called once) between the two attaches: the copy that was
    // there first knows it from its own handler, then must learn of its moves through the other's.
    if (order === 'a-first') {
      a = common.watch({ signal: sigA, log: false }, 'a');
      blockForBothCopies(0);
      b = subscribeB();
    } else {
      b = subscribeB();
      blockForBothCopies(0);
      a = common.watch({ signal: sigA, log: false }, 'a');
    }
    common.ready({ sigA, sigB, order, dir });
    let junk = [];
    // Fragment the heap and force a full GC (compacting, under --stress-compaction), so the
    // bytecode of blockForBothCopies moves.
    const fragmentAndCompact = (round) => {
      for (let i = 0; i < 2000; i++) junk.push(new Function('x', `return x + ${round * 10000 + i};`));
      for (const f of junk) f(1);
      junk = junk.filter((_, i) => i % 16 === 0);
      global.gc();
    };
    for (let stall = 1; stall <= 2; stall++) {
      fragmentAndCompact(stall);
      // stallAfterBoth is compiled at its first call, after both copies attached.
      await common.trigger(round, function stallAfterBoth() { blockForBothCopies(600); });
      await common.waitForUnblocked(stall);
      await waitForSecondCopy(counts, stall);
    }
    // The copy that attached last (its handler is the one installed) stops: the other must keep
    // getting code events (new code, moves) through the handler it hands over.
    if (order === 'a-first') b.close(); else a.close();
    common.say('NOTE', { step: 'closed', copy: order === 'a-first' ? 'b' : 'a' });
    fragmentAndCompact(3);
    await common.trigger(round, function stallAfterClose() { blockForBothCopies(600); });
    if (order === 'a-first') await common.waitForUnblocked(3); else await waitForSecondCopy(counts, 3);
    await common.sleep(100);
    fs.rmSync(dir, { recursive: true, force: true });
    common.done(a, b);
  },

  async 'peer-pause'() {
    const [sig, round = 'timer', maxStallsArg = '8'] = args;
    const { stats } = require(common.ROOT);
    const addon = common.loadTestAddon();
    addon.actAsStallwatchPeer();
    const sv = common.watch({ signal: sig, log: false });
    common.ready({ sig, round });
    const T = common.THRESHOLD_MS;
    // Until one stall's capture landed in the pause (it took more than one sample), at most maxStalls.
    for (let stall = 1; stall <= Number(maxStallsArg); stall++) {
      const before = stats().samples;
      await common.trigger(round, function stallInCoexistence() {
        common.spinFor(T - 5);
        addon.spinInPeerCode(15);
        common.spinFor(400);
      });
      await common.waitForUnblocked(stall);
      const samples = stats().samples - before;
      common.say('NOTE', { step: 'samples', stall, samples });
      if (samples > 1) break;
    }
    common.done(sv);
  },
};

if (!scenarios[scenario]) {
  process.stderr.write(`unknown scenario ${scenario}\n`);
  process.exit(2);
}
void signalNumber;
common.main(scenarios[scenario]);
