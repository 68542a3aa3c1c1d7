'use strict';
// Supervisor against a fake NativeBinding: event delivery, independence of handles, close(),
// and what happens when a listener throws. No addon needed.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { Supervisor } = require('../dist/lib/supervisor.js');

const CAPS = Object.freeze({ platform: 'linux', arch: 'x64', libunwind: true, sigrtmin: 34, sigrtmax: 64 });
const THREAD = Object.freeze({ threadId: 0, threadName: '' });

/**
 * A stand-in for the addon. Like the real one, it fans a stall of the thread out to every
 * subscriber. It keeps callbacks after unsubscribe so tests can play events the addon had
 * already queued when close() was called.
 */
function fakeBinding({ capabilities = CAPS, subscribeError } = {}) {
  const subscribers = new Map(); // id -> { config, onEvent, active }
  let nextId = 1;
  return {
    subscribeCalls: [],
    unsubscribeCalls: [],
    subscribers,
    subscribe(config, onEvent) {
      this.subscribeCalls.push(config);
      if (subscribeError) throw subscribeError;
      const id = nextId++;
      subscribers.set(id, { config, onEvent, active: true });
      return id;
    },
    unsubscribe(id) {
      this.unsubscribeCalls.push(id);
      const subscriber = subscribers.get(id);
      const wasActive = subscriber !== undefined && subscriber.active;
      if (subscriber) subscriber.active = false;
      return wasActive;
    },
    formatReport() {
      return '';
    },
    capabilities() {
      return capabilities;
    },
    stats() {
      return { samples: 0, failedSignals: 0, liveThreadRecords: 0, handlerNs: [], signalToSampleNs: [] };
    },
    markProgress() {},
    /** Delivers to every active subscriber, as the addon does (each call returns normally). */
    fire(kind, payload) {
      for (const { onEvent, active } of subscribers.values()) if (active) onEvent(kind, payload);
    },
    /** Delivers to one subscriber whether or not it is still active. */
    fireTo(id, kind, payload) {
      subscribers.get(id).onEvent(kind, payload);
    },
  };
}

function report(overrides = {}) {
  return { threadId: 0, tid: 101, pid: 100, blockedMs: 612, capturedAt: 1_700_000_000_000, state: 'js', frames: [], ...overrides };
}

function collect(sv, event) {
  const seen = [];
  sv.on(event, (payload) => seen.push(payload));
  return seen;
}

describe('subscription', () => {
  it('subscribes once with the resolved options and the thread identity', () => {
    const binding = fakeBinding();
    const sv = new Supervisor({ thresholdMs: 100, signal: 'SIGRTMIN+1', log: false }, binding, { threadId: 4, threadName: 'pool' });
    assert.equal(binding.subscribeCalls.length, 1);
    assert.deepEqual(binding.subscribeCalls[0], {
      thresholdMs: 100,
      signal: 35,
      log: null,
      logFormat: 'text',
      maxFrames: 128,
      maxReportsPerMinute: 10,
      threadId: 4,
      threadName: 'pool',
      watchWorkers: false,
      sampleIntervalMs: 0,
      sampleNative: false,
      terminateWorkerAfterMs: 0,
      abortAfterMs: 0,
      allThreads: false,
      starvationMs: 0,
    });
    assert.equal(sv.closed, false);
    assert.equal(sv.options.thresholdMs, 100);
    assert.equal(sv.options.signal, 'SIGRTMIN+1');
    assert.ok(Object.isFrozen(sv.options));
  });

  it('defaults to the calling thread: the main thread here', () => {
    const binding = fakeBinding();
    new Supervisor(undefined, binding);
    assert.equal(binding.subscribeCalls[0].threadId, 0);
    assert.equal(binding.subscribeCalls[0].threadName, '');
  });

  it('validates options with the binding capabilities before subscribing', () => {
    const binding = fakeBinding({ capabilities: { platform: 'darwin', arch: 'arm64', libunwind: false } });
    assert.throws(() => new Supervisor({ signal: 'SIGRTMIN' }, binding, THREAD), { name: 'RangeError', message: /Linux-only/ });
    assert.throws(() => new Supervisor({ thresholdMs: 1 }, binding, THREAD), RangeError);
    assert.throws(() => new Supervisor({ bogus: 1 }, binding, THREAD), TypeError);
    assert.equal(binding.subscribeCalls.length, 0);
  });

  it('propagates a native subscribe failure', () => {
    const failure = new Error('watchdog thread could not start');
    const binding = fakeBinding({ subscribeError: failure });
    assert.throws(() => new Supervisor({}, binding, THREAD), (error) => error === failure);
  });
});

describe('events', () => {
  it('emits blocked and unblocked with the payload objects as given', () => {
    const binding = fakeBinding();
    const sv = new Supervisor({}, binding, THREAD);
    const blocked = collect(sv, 'blocked');
    const unblocked = collect(sv, 'unblocked');
    const blockReport = report();
    const unblockedEvent = { threadId: 0, tid: 101, pid: 100, blockedMs: 1500 };
    binding.fire('blocked', blockReport);
    binding.fire('unblocked', unblockedEvent);
    assert.equal(blocked.length, 1);
    assert.equal(blocked[0], blockReport, 'same object, not a copy');
    assert.deepEqual(unblocked, [unblockedEvent]);
    assert.equal(unblocked[0], unblockedEvent);
  });

  it('gives two handles on one thread every report each', () => {
    const binding = fakeBinding();
    const a = new Supervisor({}, binding, THREAD);
    const b = new Supervisor({ thresholdMs: 1000 }, binding, THREAD);
    const seenA = collect(a, 'blocked');
    const seenB = collect(b, 'blocked');
    binding.fire('blocked', report({ blockedMs: 600 }));
    binding.fire('blocked', report({ blockedMs: 1200 }));
    assert.deepEqual(seenA.map((r) => r.blockedMs), [600, 1200]);
    assert.deepEqual(seenB.map((r) => r.blockedMs), [600, 1200]);
    assert.equal(binding.subscribeCalls.length, 2);
    assert.equal(binding.subscribeCalls[1].thresholdMs, 1000);
  });

  it('keeps the other handle working when one is closed', () => {
    const binding = fakeBinding();
    const a = new Supervisor({}, binding, THREAD);
    const b = new Supervisor({}, binding, THREAD);
    const seenA = collect(a, 'blocked');
    const seenB = collect(b, 'blocked');
    a.close();
    binding.fire('blocked', report());
    assert.equal(seenA.length, 0);
    assert.equal(seenB.length, 1);
    assert.deepEqual(binding.unsubscribeCalls, [1], 'only the closed handle unsubscribed');
    assert.equal(b.closed, false);
  });

  it('drops events the addon delivers after close()', () => {
    const binding = fakeBinding();
    const sv = new Supervisor({}, binding, THREAD);
    const blocked = collect(sv, 'blocked');
    const unblocked = collect(sv, 'unblocked');
    sv.close();
    binding.fireTo(1, 'blocked', report());
    binding.fireTo(1, 'unblocked', { threadId: 0, tid: 1, pid: 1, blockedMs: 700 });
    assert.equal(blocked.length + unblocked.length, 0);
  });
});

describe('close()', () => {
  it('unsubscribes exactly once, however often it is called', () => {
    const binding = fakeBinding();
    const sv = new Supervisor({}, binding, THREAD);
    sv.close();
    sv.close();
    sv.close();
    assert.deepEqual(binding.unsubscribeCalls, [1]);
    assert.equal(sv.closed, true);
  });

  it('does not unsubscribe again after a failed unsubscribe', () => {
    const binding = fakeBinding();
    const sv = new Supervisor({}, binding, THREAD);
    binding.unsubscribe = (id) => {
      binding.unsubscribeCalls.push(id);
      throw new Error('native failure');
    };
    assert.throws(() => sv.close(), /native failure/);
    sv.close();
    assert.deepEqual(binding.unsubscribeCalls, [1]);
    assert.equal(sv.closed, true);
  });
});

describe('listener exceptions', () => {
  it('emit "error" with the thrown value when there is an error listener', () => {
    const binding = fakeBinding();
    const sv = new Supervisor({}, binding, THREAD);
    const boom = new Error('listener bug');
    const errors = collect(sv, 'error');
    sv.on('blocked', () => {
      throw boom;
    });
    assert.doesNotThrow(() => binding.fire('blocked', report()), 'nothing is thrown into the addon');
    assert.deepEqual(errors, [boom]);
    assert.equal(errors[0], boom);
  });

  it('rethrow on the next tick when there is no error listener, never into the addon', (t) => {
    const scheduled = [];
    t.mock.method(process, 'nextTick', (callback) => scheduled.push(callback));
    const binding = fakeBinding();
    const sv = new Supervisor({}, binding, THREAD);
    const boom = new Error('listener bug');
    sv.on('unblocked', () => {
      throw boom;
    });
    assert.doesNotThrow(() => binding.fire('unblocked', { threadId: 0, tid: 1, pid: 1, blockedMs: 800 }));
    t.mock.restoreAll();
    assert.equal(scheduled.length, 1);
    assert.throws(() => scheduled[0](), (error) => error === boom);
  });

  it('rethrow on the next tick an error thrown by the error listener itself', (t) => {
    const scheduled = [];
    t.mock.method(process, 'nextTick', (callback) => scheduled.push(callback));
    const binding = fakeBinding();
    const sv = new Supervisor({}, binding, THREAD);
    const second = new Error('error listener bug');
    sv.on('blocked', () => {
      throw new Error('listener bug');
    });
    sv.on('error', () => {
      throw second;
    });
    assert.doesNotThrow(() => binding.fire('blocked', report()));
    t.mock.restoreAll();
    assert.equal(scheduled.length, 1);
    assert.throws(() => scheduled[0](), (error) => error === second);
  });

  it('do not stop delivery to other handles or to later events', () => {
    const binding = fakeBinding();
    const faulty = new Supervisor({}, binding, THREAD);
    const healthy = new Supervisor({}, binding, THREAD);
    const errors = collect(faulty, 'error');
    let calls = 0;
    faulty.on('blocked', () => {
      calls++;
      throw new Error('listener bug');
    });
    const seen = collect(healthy, 'blocked');
    binding.fire('blocked', report());
    binding.fire('blocked', report());
    assert.equal(calls, 2);
    assert.equal(errors.length, 2);
    assert.equal(seen.length, 2);
  });

  it('an unknown event kind from the addon is reported, not emitted', () => {
    const binding = fakeBinding();
    const sv = new Supervisor({}, binding, THREAD);
    const errors = collect(sv, 'error');
    const weird = collect(sv, 'stalled');
    binding.fire('stalled', report());
    assert.equal(weird.length, 0);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /unknown native event kind "stalled"/);
  });

  it('crash the process like any uncaught listener exception (real process)', () => {
    // The real nextTick, end to end: the process must die with the listener's error.
    const script = `
      const { Supervisor } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'lib', 'supervisor.js'))});
      let onEvent;
      const binding = {
        subscribe(config, callback) { onEvent = callback; return 1; },
        unsubscribe() { return true; },
        formatReport() { return ''; },
        capabilities() { return {}; },
        stats() { return { samples: 0, failedSignals: 0, liveThreadRecords: 0, handlerNs: [], signalToSampleNs: [] }; },
        markProgress() {},
      };
      const sv = new Supervisor({}, binding, { threadId: 0, threadName: '' });
      sv.on('blocked', () => { throw new Error('listener bug 4711'); });
      onEvent('blocked', { frames: [] });
      console.log('delivery returned');
    `;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(child.stdout.trim(), 'delivery returned');
    assert.equal(child.status, 1, child.stderr);
    assert.match(child.stderr, /Error: listener bug 4711/);
  });
});
