'use strict';
// Fault scenarios for test/faults.test.js. argv: <scenario> [args...]
//
//   supervise-log <path>          supervise({log: {path}}): NOTE {step: 'supervise', ok, name, message}
//   full-disk                     log to /dev/full (every write fails with ENOSPC), one JS stall: the
//                                 report must still reach the 'blocked' listener and the app go on
//   blocked-signal <signal> <ms>  a timer calls the test addon's blockSignalAndSleep(): the thread has
//                                 the capture signal blocked for <ms>; NOTE {step: 'unblocked-signal',
//                                 pending} says whether the (late) signal was pending at the unblock
//   max-frames <n> <depth> <js|native>  recursion <depth> deep, then a stall in JS or in the addon,
//                                 with supervise({maxFrames: n})
//   spawn <signal> [stall]        spawnSync a fresh node that sends itself <signal>; with "stall", the
//                                 spawn happens while the parent stalls in execFileSync (so it is
//                                 being captured meanwhile). NOTE {step: 'child', ...}
//   fork <signal> <how>           fork() without exec (test addon): the child has stallwatch's handler
//                                 but none of its threads and sends itself <signal> via <how>
//                                 (kill|sigqueue|tgkill). NOTE {step: 'child', ...}
const { spawnSync, execFileSync } = require('node:child_process');
const os = require('node:os');
const common = require('../fixtures/_common');

const [scenario, ...args] = process.argv.slice(2);

/** Signal name (as supervise() takes it) -> number on this system (glibc: SIGRTMIN is 34). */
function signalNumber(name) {
  const rt = /^SIGRTMIN\+(\d+)$/.exec(name);
  if (rt) return 34 + Number(rt[1]);
  return os.constants.signals[name];
}

async function stallOnce(fn) {
  await common.trigger('timer', fn);
  // Returns as soon as the event is in; the long bound only matters on a machine so loaded
  // that delivery took over 3 s (seen once in CI).
  await common.waitForUnblocked(1, 15000);
}

const scenarios = {
  'supervise-log': async () => {
    const [logPath] = args;
    common.ready({ logPath });
    try {
      const sv = common.watch({ log: { path: logPath } });
      common.say('NOTE', { step: 'supervise', ok: true });
      sv.close();
    } catch (error) {
      common.say('NOTE', { step: 'supervise', ok: false, name: error.name, message: error.message });
    }
    common.done();
  },

  'full-disk': async () => {
    const sv = common.watch({ log: { path: '/dev/full' } });
    common.ready({ log: '/dev/full' });
    await stallOnce(function stallWithFullDisk() { common.spinFor(700); });
    // The writer thread has tried (and failed) by now; the app is still here and still monitored.
    await common.sleep(200);
    await stallOnce(function secondStallWithFullDisk() { common.spinFor(700); });
    common.say('NOTE', { step: 'alive-after-failed-writes' });
    common.done(sv);
  },

  'blocked-signal': async () => {
    const [sig, ms] = [args[0], Number(args[1] || 1200)];
    const addon = common.loadTestAddon();
    const sv = common.watch({ signal: sig, log: false });
    common.ready({ signal: sig, signo: signalNumber(sig) });
    let pending = null;
    await stallOnce(function sleepWithSignalBlocked() { pending = addon.blockSignalAndSleep(signalNumber(sig), ms); });
    common.say('NOTE', { step: 'unblocked-signal', pending });
    // A second stall, signal not blocked: the thread is still sampled normally.
    common.counts.unblocked = 0;
    await stallOnce(function stallAfterwards() { common.spinFor(600); });
    const { stats } = require(common.ROOT);
    common.say('NOTE', { step: 'stats', ...pick(stats(), ['samples', 'failedSignals']) });
    common.done(sv);
  },

  'max-frames': async () => {
    const [n, depth, where] = [Number(args[0]), Number(args[1]), args[2] || 'js'];
    const addon = where === 'native' ? common.loadTestAddon() : null;
    const sv = common.watch({ maxFrames: n, log: false });
    common.ready({ maxFrames: n, depth, where });
    function recurse(level) {
      if (level === 0) {
        if (addon) addon.blockInNative(700);
        else common.spinFor(700);
        return 0;
      }
      return recurse(level - 1) + 1;
    }
    await stallOnce(function deepStall() { recurse(depth); });
    common.done(sv);
  },

  spawn: async () => {
    const [sig, when] = args;
    const signo = signalNumber(sig);
    const sv = common.watch({ signal: sig, log: false });
    common.ready({ signal: sig, signo, when });
    // The child prints "alive" if it survives its own signal.
    const child = `process.kill(process.pid, ${signo}); setTimeout(() => process.stdout.write('alive'), 300);`;
    if (when === 'stall') {
      await stallOnce(function spawnWhileStalled() {
        let out = '';
        let status = 0;
        let signal = null;
        try {
          // The parent blocks here for > thresholdMs: it is captured while the child runs.
          out = execFileSync(process.execPath, ['-e', `setTimeout(() => { ${child} }, 500)`], {
            encoding: 'utf8', timeout: 10000,
          });
        } catch (error) {
          out = error.stdout || '';
          status = error.status;
          signal = error.signal;
        }
        common.say('NOTE', { step: 'child', out, status, signal });
      });
    } else {
      const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', timeout: 10000 });
      common.say('NOTE', { step: 'child', out: r.stdout, status: r.status, signal: r.signal });
    }
    common.done(sv);
  },

  fork: async () => {
    const [sig, how] = args;
    const addon = common.loadTestAddon();
    const sv = common.watch({ signal: sig, log: false });
    common.ready({ signal: sig, how });
    // One stall first, so the handler has certainly been installed and used.
    await stallOnce(function stallBeforeFork() { common.spinFor(500); });
    const r = addon.forkAndSignal(signalNumber(sig), how);
    common.say('NOTE', { step: 'child', ...r });
    common.done(sv);
  },
};

function pick(o, keys) {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

if (!scenarios[scenario]) {
  process.stderr.write(`unknown scenario ${scenario}; one of ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}
common.main(scenarios[scenario]);
