'use strict';
// Exporters of StallProfiles (lib/export/): folded stacks, pprof and DevTools .cpuprofile. Pure
// TypeScript working on hand-made profiles (test/fixtures-export/profile.js): no addon needed.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Profile } = require('pprof-format');
const { toFolded } = require('../dist/lib/export/folded.js');
const { toPprof } = require('../dist/lib/export/pprof.js');
const { toCpuProfile } = require('../dist/lib/export/cpuprofile.js');
const { frameLabel, foldedLabel, functionName } = require('../dist/lib/export/frame-label.js');
const fx = require('./fixtures-export/profile.js');

const EXPORTERS = { toFolded, toPprof, toCpuProfile };

/** An 'unblocked' event carrying `profile`, as the Supervisor emits it. */
function unblockedEvent(profile) {
  return { threadId: 0, tid: 4242, pid: 4242, blockedMs: 1003.4, profile };
}

function emptyProfile() {
  return { intervalMs: 10, startedAt: fx.STARTED_AT, endedAt: fx.STARTED_AT, samples: 0, stacks: [] };
}

/** A profile of one stack of `frames` (innermost first) seen `count` times. */
function oneStack(frames, count = 3) {
  return { intervalMs: 10, startedAt: fx.STARTED_AT, endedAt: fx.STARTED_AT + (count - 1) * 10, samples: count, stacks: [{ frames, count }] };
}

/** The stacks of the fixture that hold samples, hottest first. */
function sampledStacks(profile) {
  return profile.stacks.filter((s) => s.count > 0).sort((a, b) => b.count - a.count);
}

// ---- Folded stacks --------------------------------------------------------------------------

/** Parses folded output the way flamegraph.pl and speedscope do: count after the last space. */
function parseFolded(text) {
  assert.equal(typeof text, 'string');
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), 'every line ends with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const m = /^(.+) (\d+)$/.exec(line);
      assert.ok(m, `folded line ${JSON.stringify(line)} is "<frames> <count>"`);
      return { frames: m[1].split(';'), count: Number(m[2]) };
    });
}

describe('toFolded', () => {
  it('writes one line per stack, root first, with its count, sorted', () => {
    assert.equal(toFolded(fx.makeProfile()), fx.EXPECTED_FOLDED);
  });

  it('round-trips: every sampled stack once, counts summing to the samples, spinFor hottest', () => {
    const profile = fx.makeProfile();
    const lines = parseFolded(toFolded(profile));
    assert.equal(lines.length, sampledStacks(profile).length, 'one line per stack with samples');
    assert.equal(lines.reduce((sum, l) => sum + l.count, 0), fx.SAMPLES);
    for (const stack of sampledStacks(profile)) {
      const expected = stack.frames.map(foldedLabel).reverse();
      const matches = lines.filter((l) => JSON.stringify(l.frames) === JSON.stringify(expected));
      assert.equal(matches.length, 1, `one line for the stack ending in ${expected.at(-1)}`);
      assert.equal(matches[0].count, stack.count);
    }
    const hottest = lines.reduce((a, b) => (b.count > a.count ? b : a));
    assert.equal(hottest.frames.at(-1), 'spinFor (server.js:5)', 'the leaf of the hottest stack is last');
    assert.equal(hottest.frames[0], '__libc_start_call_main [libc.so.6]', 'the root is first');
    const spinFor = lines.filter((l) => l.frames.at(-1).startsWith('spinFor ')).reduce((n, l) => n + l.count, 0);
    assert.equal(spinFor, 80, 'spinFor is 80% of the samples');
    const json = lines.filter((l) => l.frames.includes('JSON.parse')).reduce((n, l) => n + l.count, 0);
    assert.equal(json, 20, 'JSON.parse is 20% of the samples');
  });

  it('does not depend on the order of the stacks', () => {
    const profile = fx.makeProfile();
    const reversed = { ...profile, stacks: [...profile.stacks].reverse() };
    const rotated = { ...profile, stacks: [...profile.stacks.slice(2), ...profile.stacks.slice(0, 2)] };
    assert.equal(toFolded(reversed), fx.EXPECTED_FOLDED);
    assert.equal(toFolded(rotated), fx.EXPECTED_FOLDED);
  });

  it("takes an 'unblocked' event's profile", () => {
    assert.equal(toFolded(unblockedEvent(fx.makeProfile())), fx.EXPECTED_FOLDED);
  });

  it('gives an empty string for a profile without samples', () => {
    assert.equal(toFolded(emptyProfile()), '');
    assert.equal(toFolded({ ...emptyProfile(), stacks: [{ frames: [{ kind: 'js', name: 'f' }], count: 0 }] }), '');
  });

  it('keeps `;` and line breaks out of labels', () => {
    const frames = [
      { kind: 'js', name: 'get a;b', file: '/app/we;ird.js', line: 3 },
      { kind: 'js', name: 'line\nbreak\r\u2028x', file: '/app/ok.js', functionLine: 8 },
      { kind: 'native', name: 'tab\there;', module: '/opt/lib;x.so' },
      { kind: 'v8', name: 'a;;b' },
    ];
    const text = toFolded(oneStack(frames, 7));
    assert.equal(text, 'a,,b [v8];tab here, [lib,x.so];line break  x (ok.js, defined at line 8);get a,b (we,ird.js:3) 7\n');
    const [line] = parseFolded(text);
    assert.equal(line.frames.length, frames.length, 'one frame per frame: no `;` inside a label');
    assert.equal(text.split('\n').length, 2, 'a single line');
  });

  it('merges stacks whose labels are equal, and names a stack without frames', () => {
    const at = (address) => ({ kind: 'native', name: 'memcpy', module: fx.LIBC, address });
    const profile = {
      ...emptyProfile(),
      stacks: [
        { frames: [at('0x7f0000000010'), { kind: 'js', name: 'copy', file: '/app/a.js', line: 2 }], count: 4 },
        { frames: [at('0x7f0000000020'), { kind: 'js', name: 'copy', file: '/app/a.js', line: 2 }], count: 6 },
        { frames: [], count: 3 },
      ],
    };
    assert.equal(toFolded(profile), '(no frames captured) 3\ncopy (a.js:2);memcpy [libc.so.6] 10\n');
  });
});

describe('frame labels', () => {
  const cases = [
    [{ kind: 'js', name: 'handler', file: '/app/server.js', line: 12, column: 3, functionLine: 10 }, 'handler (server.js:12)'],
    [{ kind: 'js', name: 'handler', file: 'file:///app/server.mjs', functionLine: 10 }, 'handler (server.mjs, defined at line 10)'],
    [{ kind: 'js', name: 'handler', file: '/app/server.js' }, 'handler (server.js)'],
    [{ kind: 'js', name: '', file: 'node:internal/fs/utils', line: 4 }, '(anonymous) (node:internal/fs/utils:4)'],
    [{ kind: 'js', name: '', address: '0x1234' }, '(anonymous)'],
    [{ kind: 'native', name: 'uv__fs_read', module: '/usr/bin/node', file: 'src/unix/fs.c', line: 386 }, 'uv__fs_read [node]'],
    [{ kind: 'native', name: '', module: '/usr/lib/libc.so.6', address: '0x7f3a1c0ffee0' }, '0x7f3a1c0ffee0 [libc.so.6]'],
    [{ kind: 'native', name: 'work', address: '0x10' }, 'work [unknown module]'],
    [{ kind: 'native', name: '' }, '?? [unknown module]'],
    [{ kind: 'v8', name: 'Builtins_JSEntry', module: '/usr/bin/node', address: '0x10' }, 'Builtins_JSEntry [v8]'],
    [{ kind: 'v8', name: '', address: '0x3e8f2a0c1d40' }, '0x3e8f2a0c1d40 [v8]'],
    [{ kind: 'v8', name: '' }, '?? [v8]'],
  ];
  for (const [frame, label] of cases) {
    it(`${JSON.stringify(frame)} -> ${label}`, () => assert.equal(frameLabel(frame), label));
  }
});

// ---- pprof ----------------------------------------------------------------------------------

const num = (v) => {
  assert.ok(typeof v === 'number' || typeof v === 'bigint', `a number, got ${typeof v}`);
  return Number(v);
};

/**
 * Decodes pprof bytes with pprof-format and checks what `go tool pprof` checks when it loads a
 * profile (profile.CheckValid): ids non-zero and unique, every reference resolves, one value per
 * sample type, string indices in the table, whose first entry is ''.
 */
function decodePprof(bytes) {
  assert.ok(bytes instanceof Uint8Array, 'toPprof returns a Uint8Array');
  assert.notEqual(bytes[0], 0x1f, 'raw protobuf, not gzip');
  const p = Profile.decode(bytes);
  const strings = p.stringTable.strings;
  assert.equal(strings[0], '', 'string 0 is the empty string');
  assert.equal(new Set(strings).size, strings.length, 'strings are deduplicated');
  const str = (i) => {
    const n = num(i);
    assert.ok(Number.isInteger(n) && n >= 0 && n < strings.length, `string index ${n} in the table`);
    return strings[n];
  };
  const byId = (list, what) => {
    const map = new Map();
    for (const item of list) {
      const id = num(item.id);
      assert.ok(id > 0, `${what} id ${id} is not 0`);
      assert.ok(!map.has(id), `${what} id ${id} is unique`);
      map.set(id, item);
    }
    return map;
  };
  const functions = byId(p.function, 'function');
  const locations = byId(p.location, 'location');
  const mappings = byId(p.mapping, 'mapping');

  const fn = (f) => ({ name: str(f.name), systemName: str(f.systemName), filename: str(f.filename), startLine: num(f.startLine) });
  const fnKeys = [...functions.values()].map((f) => JSON.stringify(fn(f)));
  assert.equal(new Set(fnKeys).size, fnKeys.length, 'functions are deduplicated');
  const mappingFiles = [...mappings.values()].map((m) => str(m.filename));
  assert.equal(new Set(mappingFiles).size, mappingFiles.length, 'one mapping per module');

  for (const loc of locations.values()) {
    assert.ok(loc.line.length >= 1, `location ${loc.id} has a line`);
    for (const line of loc.line) assert.ok(functions.has(num(line.functionId)), `function ${line.functionId} exists`);
    const m = num(loc.mappingId);
    assert.ok(m === 0 || mappings.has(m), `mapping ${m} exists`);
  }
  for (const s of p.sample) {
    assert.equal(s.value.length, p.sampleType.length, 'one value per sample type');
    assert.ok(s.locationId.length >= 1, 'a sample has locations');
    for (const id of s.locationId) assert.ok(locations.has(num(id)), `location ${id} exists`);
  }

  /** A sample's frames, innermost first, as plain objects. */
  const frames = (s) =>
    s.locationId.map((id) => {
      const loc = locations.get(num(id));
      const f = fn(functions.get(num(loc.line[0].functionId)));
      const m = num(loc.mappingId);
      return {
        ...f,
        line: num(loc.line[0].line),
        column: num(loc.line[0].column),
        address: num(loc.address),
        module: m === 0 ? undefined : str(mappings.get(m).filename),
      };
    });
  return { p, str, functions, locations, mappings, fn, frames };
}

describe('toPprof', () => {
  it('decodes with pprof-format into a valid profile with the sample types, period and times', () => {
    const { p, str } = decodePprof(toPprof(fx.makeProfile()));
    assert.deepEqual(p.sampleType.map((t) => [str(t.type), str(t.unit)]), [['samples', 'count'], ['wall', 'nanoseconds']]);
    assert.deepEqual([str(p.periodType.type), str(p.periodType.unit)], ['wall', 'nanoseconds']);
    assert.equal(num(p.period), fx.INTERVAL_MS * 1e6);
    assert.equal(str(p.defaultSampleType), 'wall');
    assert.equal(BigInt(p.timeNanos), BigInt(fx.STARTED_AT) * 1_000_000n, 'timeNanos is startedAt, exactly');
    assert.equal(num(p.durationNanos), (fx.SAMPLES - 1) * fx.INTERVAL_MS * 1e6, 'durationNanos is endedAt - startedAt');
  });

  it('has one sample per stack, with count and wall = count × interval', () => {
    const profile = fx.makeProfile();
    const { p } = decodePprof(toPprof(profile));
    assert.equal(p.sample.length, sampledStacks(profile).length);
    assert.deepEqual(p.sample.map((s) => num(s.value[0])).sort((a, b) => b - a), sampledStacks(profile).map((s) => s.count));
    for (const s of p.sample) assert.equal(num(s.value[1]), num(s.value[0]) * fx.INTERVAL_MS * 1e6);
    assert.equal(p.sample.reduce((n, s) => n + num(s.value[0]), 0), fx.SAMPLES);
  });

  it('keeps every frame of every stack, innermost first; the hottest leaf is spinFor', () => {
    const profile = fx.makeProfile();
    const d = decodePprof(toPprof(profile));
    const decoded = d.p.sample.map((s) => ({ count: num(s.value[0]), frames: d.frames(s) }));
    for (const stack of sampledStacks(profile)) {
      const got = decoded.filter((s) => s.count === stack.count);
      assert.equal(got.length, 1);
      const expected = stack.frames.map((f) => ({
        name: functionName(f),
        systemName: functionName(f),
        filename: f.file ?? '',
        startLine: f.functionLine ?? 0,
        line: f.line ?? 0,
        column: f.column ?? 0,
        address: Number(BigInt(f.address ?? 0)),
        module: f.kind === 'js' ? undefined : f.module,
      }));
      assert.deepEqual(got[0].frames, expected);
    }
    const hottest = decoded.reduce((a, b) => (b.count > a.count ? b : a));
    assert.deepEqual(
      { name: hottest.frames[0].name, filename: hottest.frames[0].filename, line: hottest.frames[0].line, startLine: hottest.frames[0].startLine },
      { name: 'spinFor', filename: fx.APP, line: 5, startLine: 3 },
    );
  });

  it('has one location per distinct frame, one function per function, one mapping per module', () => {
    const profile = fx.makeProfile();
    const d = decodePprof(toPprof(profile));
    const distinctFrames = new Set(sampledStacks(profile).flatMap((s) => s.frames.map((f) => JSON.stringify(f))));
    assert.equal(d.locations.size, distinctFrames.size);
    const spinFor = [...d.functions.entries()].filter(([, f]) => d.str(f.name) === 'spinFor');
    assert.equal(spinFor.length, 1, 'one spinFor function');
    const spinForLocations = [...d.locations.values()].filter((l) => num(l.line[0].functionId) === spinFor[0][0]);
    assert.deepEqual(spinForLocations.map((l) => num(l.line[0].line)).sort(), [5, 6], 'its two lines are two locations');
    assert.deepEqual([...d.mappings.values()].map((m) => d.str(m.filename)).sort(), [fx.LIBC, fx.NODE].sort());
    assert.equal(d.str(d.mappings.get(1).filename), fx.NODE, 'the executable, not libc, is the first mapping');
    for (const m of d.mappings.values()) assert.equal(m.hasFunctions, true, 'pprof must not symbolize the addresses again');
    assert.ok(!d.p.stringTable.strings.includes('epoll_wait'), 'a stack without samples adds nothing');
  });

  it("takes an 'unblocked' event's profile", () => {
    assert.deepEqual(toPprof(unblockedEvent(fx.makeProfile())), toPprof(fx.makeProfile()));
  });

  it('encodes a profile without samples', () => {
    const { p, str } = decodePprof(toPprof(emptyProfile()));
    assert.equal(p.sample.length, 0);
    assert.equal(p.location.length, 0);
    assert.equal(p.sampleType.length, 2);
    assert.equal(str(p.sampleType[1].type), 'wall');
    assert.equal(BigInt(p.timeNanos), BigInt(fx.STARTED_AT) * 1_000_000n);
    assert.equal(num(p.durationNanos), 0);
  });

  it('keeps names as they are (`;` included), a stack without frames, and sub-millisecond times', () => {
    const profile = {
      intervalMs: 2.5,
      startedAt: fx.STARTED_AT + 0.25,
      endedAt: fx.STARTED_AT + 5.25,
      samples: 5,
      stacks: [{ frames: [{ kind: 'js', name: 'get a;b', file: '/app/we;ird.js', line: 3 }], count: 3 }, { frames: [], count: 2 }],
    };
    const d = decodePprof(toPprof(profile));
    const names = d.p.sample.map((s) => d.frames(s).map((f) => f.name));
    assert.deepEqual(names, [['get a;b'], ['(no frames captured)']]);
    assert.equal(d.frames(d.p.sample[0])[0].filename, '/app/we;ird.js');
    assert.equal(BigInt(d.p.timeNanos), BigInt(fx.STARTED_AT) * 1_000_000n + 250_000n);
    assert.equal(num(d.p.durationNanos), 5_000_000);
    assert.equal(num(d.p.period), 2_500_000);
    assert.deepEqual(d.p.sample.map((s) => num(s.value[1])), [7_500_000, 5_000_000]);
  });
});

// ---- DevTools .cpuprofile -------------------------------------------------------------------

/**
 * What DevTools' CPUProfileDataModel relies on when it loads a .cpuprofile: nodes[0] is the
 * root; node ids unique; children resolve; a tree (one parent each, all reachable from the root,
 * no cycle); callFrames complete; one timeDelta per sample; samples name nodes. Holds for V8's
 * own output (checked below), so it is not a description of this implementation.
 */
function assertDevToolsLoadable(cp) {
  assert.ok(cp && typeof cp === 'object');
  for (const key of ['startTime', 'endTime']) assert.ok(Number.isFinite(cp[key]), `${key} is a number`);
  assert.ok(cp.endTime >= cp.startTime, 'endTime >= startTime');
  assert.ok(Array.isArray(cp.nodes) && cp.nodes.length >= 1, 'nodes is a non-empty array');
  assert.ok(Array.isArray(cp.samples) && Array.isArray(cp.timeDeltas), 'samples and timeDeltas are arrays');
  assert.equal(cp.samples.length, cp.timeDeltas.length, 'one timeDelta per sample');
  for (const d of cp.timeDeltas) assert.ok(Number.isFinite(d), 'timeDeltas are numbers');

  const nodes = new Map();
  for (const node of cp.nodes) {
    assert.ok(Number.isInteger(node.id), `node id ${node.id} is an integer`);
    assert.ok(!nodes.has(node.id), `node id ${node.id} is unique`);
    nodes.set(node.id, node);
    const c = node.callFrame;
    assert.ok(c && typeof c === 'object', 'callFrame');
    assert.equal(typeof c.functionName, 'string');
    assert.equal(typeof c.scriptId, 'string');
    assert.equal(typeof c.url, 'string');
    assert.ok(Number.isInteger(c.lineNumber) && c.lineNumber >= -1, `lineNumber ${c.lineNumber} is 0-based or -1`);
    assert.ok(Number.isInteger(c.columnNumber) && c.columnNumber >= -1, `columnNumber ${c.columnNumber} is 0-based or -1`);
    assert.ok(Number.isInteger(node.hitCount) && node.hitCount >= 0, 'hitCount');
    if (node.children !== undefined) assert.ok(Array.isArray(node.children), 'children is an array');
    for (const t of node.positionTicks ?? []) {
      assert.ok(Number.isInteger(t.line) && t.line >= 1 && Number.isInteger(t.ticks) && t.ticks >= 1, 'positionTicks');
    }
  }
  const root = cp.nodes[0];
  assert.equal(root.callFrame.functionName, '(root)', 'nodes[0] is the root');

  const parent = new Map();
  for (const node of cp.nodes) {
    for (const child of node.children ?? []) {
      assert.ok(nodes.has(child), `child ${child} of node ${node.id} exists`);
      assert.ok(!parent.has(child), `node ${child} has one parent`);
      parent.set(child, node.id);
    }
  }
  assert.ok(!parent.has(root.id), 'the root has no parent');
  const seen = new Set();
  const stack = [root.id];
  while (stack.length) {
    const id = stack.pop();
    assert.ok(!seen.has(id), `no cycle through node ${id}`);
    seen.add(id);
    stack.push(...(nodes.get(id).children ?? []));
  }
  assert.equal(seen.size, nodes.size, 'every node is reachable from the root');
  for (const id of cp.samples) assert.ok(nodes.has(id), `sample ${id} is a node id`);
  return { nodes, parent };
}

/** Our own promises, beyond loadability. */
function assertConsistent(cp, samples) {
  const { nodes, parent } = assertDevToolsLoadable(cp);
  assert.equal(cp.samples.length, samples);
  const hits = new Map();
  for (const id of cp.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  for (const node of cp.nodes) assert.equal(node.hitCount, hits.get(node.id) ?? 0, `hitCount of node ${node.id} = its samples`);
  assert.equal(cp.nodes.reduce((n, node) => n + node.hitCount, 0), samples, 'hitCounts sum to the samples');
  for (const node of cp.nodes) {
    const ticks = (node.positionTicks ?? []).reduce((n, t) => n + t.ticks, 0);
    assert.ok(ticks <= node.hitCount, 'positionTicks count self samples');
  }
  assert.equal(cp.nodes[0].id, 1, 'root id is 1');
  assert.equal(cp.nodes[0].hitCount, 0);
  for (const d of cp.timeDeltas) assert.ok(Number.isInteger(d) && d >= 0, 'timeDeltas are whole microseconds');
  assert.deepEqual(JSON.parse(JSON.stringify(cp)), cp, 'JSON.stringify-able without loss');
  return { nodes, parent };
}

/** Root-first function names from the root to `id`. */
function pathTo(id, nodes, parent) {
  const names = [];
  for (let at = id; at !== undefined; at = parent.get(at)) names.unshift(nodes.get(at).callFrame.functionName);
  return names;
}

describe('toCpuProfile', () => {
  it('is a tree DevTools loads, consistent with the samples', () => {
    assertConsistent(toCpuProfile(fx.makeProfile()), fx.SAMPLES);
  });

  it("matches the shape of V8's own .cpuprofile (node --cpu-prof)", (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-cpuprof-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const script = 'function spin(){let x=0;for(let i=0;i<2e7;i++)x+=i;return x} spin()';
    const run = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const [file] = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    const v8 = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    assertDevToolsLoadable(v8); // the checks describe the format, not this implementation

    const ours = toCpuProfile(fx.makeProfile());
    assert.deepEqual(Object.keys(ours), Object.keys(v8), 'top-level keys, in order');
    const shape = (node) => ({
      keys: Object.keys(node).filter((k) => k !== 'children' && k !== 'positionTicks'),
      callFrame: Object.entries(node.callFrame).map(([k, v]) => [k, typeof v]),
    });
    assert.deepEqual(shape(ours.nodes[0]), shape(v8.nodes[0]));
    assert.deepEqual(ours.nodes[0].callFrame, v8.nodes[0].callFrame, 'the same root');
    for (const node of ours.nodes) assert.deepEqual(shape(node), shape(v8.nodes[0]));
    const v8Ticks = v8.nodes.find((n) => n.positionTicks)?.positionTicks[0];
    if (v8Ticks) assert.deepEqual(Object.keys(ours.nodes.find((n) => n.positionTicks).positionTicks[0]), Object.keys(v8Ticks));
  });

  it('has spinFor as the hottest leaf, under handler, with its lines 0-based and 1-based where due', () => {
    const cp = toCpuProfile(fx.makeProfile());
    const { nodes, parent } = assertConsistent(cp, fx.SAMPLES);
    const hottest = cp.nodes.reduce((a, b) => (b.hitCount > a.hitCount ? b : a));
    assert.deepEqual(hottest.callFrame, {
      functionName: 'spinFor',
      scriptId: hottest.callFrame.scriptId,
      url: 'file:///app/server.js',
      lineNumber: 2, // functionLine 3, 0-based
      columnNumber: -1, // the definition column is not known
    });
    assert.notEqual(hottest.callFrame.scriptId, '0');
    assert.equal(hottest.hitCount, 80, 'lines 5 and 6 of spinFor are one function node');
    assert.deepEqual(hottest.positionTicks, [{ line: 5, ticks: 60 }, { line: 6, ticks: 20 }], 'executing lines, 1-based');
    assert.deepEqual(pathTo(hottest.id, nodes, parent).slice(0, 3), ['(root)', '__libc_start_call_main [libc.so.6]', 'main [node]']);
    assert.deepEqual(pathTo(hottest.id, nodes, parent).slice(-3), ['emit', 'handler', 'spinFor']);
    assert.equal(cp.samples[0], hottest.id, 'samples list the hottest stack first');
    const anonymous = cp.nodes.find((n) => n.callFrame.url === 'node:_http_common');
    assert.deepEqual(anonymous.callFrame, { ...anonymous.callFrame, functionName: '', lineNumber: 75 }, "V8's '' for (anonymous)");
    const native = cp.nodes.filter((n) => n.callFrame.functionName.endsWith('[node]'));
    for (const n of native) assert.deepEqual(n.callFrame, { functionName: n.callFrame.functionName, scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 });
  });

  it('merges the stacks into a tree: one node per call path', () => {
    const profile = fx.makeProfile();
    const cp = toCpuProfile(profile);
    const { nodes, parent } = assertConsistent(cp, fx.SAMPLES);
    const paths = cp.nodes.map((n) => JSON.stringify(pathTo(n.id, nodes, parent)));
    assert.equal(new Set(paths).size, paths.length, 'no two nodes for one call path');
    // The root; the 10 base frames the four stacks share; handler (one function: lines 12 and
    // 14 are one node); spinFor | readBody, JSON.parse, Builtins_JsonParse, then ParseJsonValue |
    // ScanJsonString, libc.
    assert.equal(cp.nodes.length, 1 + 10 + 1 + 1 + 3 + 1 + 2);
    const leaves = cp.nodes.filter((n) => n.children.length === 0);
    assert.deepEqual(leaves.map((n) => [n.callFrame.functionName, n.hitCount]).sort(), [
      ['0x7f3a1c0ffee0 [libc.so.6]', 5],
      ['spinFor', 80],
      ['v8::internal::JsonParser<unsigned short>::ParseJsonValue() [node]', 15],
    ]);
    const handlers = cp.nodes.filter((n) => n.callFrame.functionName === 'handler');
    assert.equal(handlers.length, 1, 'handler, at line 12 or 14, is one node');
    assert.deepEqual(handlers[0].children.map((id) => nodes.get(id).callFrame.functionName), ['spinFor', 'readBody']);
    assert.equal(handlers[0].hitCount, 0);
  });

  it('times samples one interval apart, in microseconds', () => {
    const cp = toCpuProfile(fx.makeProfile());
    assert.equal(cp.startTime, fx.STARTED_AT * 1000);
    assert.equal(cp.timeDeltas[0], 0, 'the first sample at startTime');
    assert.ok(cp.timeDeltas.slice(1).every((d) => d === fx.INTERVAL_MS * 1000));
    assert.equal(cp.endTime, cp.startTime + fx.SAMPLES * fx.INTERVAL_MS * 1000, 'each sample stands for one interval');
  });

  it("takes an 'unblocked' event's profile, and does not depend on the order of the stacks", () => {
    const expected = toCpuProfile(fx.makeProfile());
    assert.deepEqual(toCpuProfile(unblockedEvent(fx.makeProfile())), expected);
    const profile = fx.makeProfile();
    assert.deepEqual(toCpuProfile({ ...profile, stacks: [...profile.stacks].reverse() }), expected);
    // Two scripts, each first in one order: node ids and scriptIds still come out the same.
    const a = { frames: [{ kind: 'js', name: 'a', file: '/app/a.js', line: 2, functionLine: 1 }], count: 2 };
    const b = { frames: [{ kind: 'js', name: 'b', file: '/app/b.js', line: 2, functionLine: 1 }], count: 2 };
    const ab = toCpuProfile({ ...emptyProfile(), stacks: [a, b] });
    assert.deepEqual(toCpuProfile({ ...emptyProfile(), stacks: [b, a] }), ab);
    assert.deepEqual(ab.nodes.slice(1).map((n) => [n.callFrame.functionName, n.callFrame.scriptId]), [['a', '1'], ['b', '2']]);
  });

  it('gives just the root for a profile without samples', () => {
    const cp = toCpuProfile(emptyProfile());
    assertConsistent(cp, 0);
    assert.equal(cp.nodes.length, 1);
    assert.deepEqual(cp.samples, []);
    assert.deepEqual(cp.timeDeltas, []);
    assert.equal(cp.endTime, cp.startTime);
  });

  it('keeps names as they are (`;` included) and names a stack without frames', () => {
    const profile = {
      ...emptyProfile(),
      stacks: [{ frames: [{ kind: 'js', name: 'get a;b', file: '/app/my dir/x.js', line: 3, functionLine: 1 }], count: 3 }, { frames: [], count: 2 }],
    };
    const cp = toCpuProfile(profile);
    assertConsistent(cp, 5);
    const [a, none] = cp.nodes.slice(1);
    assert.deepEqual(a.callFrame, { functionName: 'get a;b', scriptId: '1', url: 'file:///app/my%20dir/x.js', lineNumber: 0, columnNumber: -1 });
    assert.equal(none.callFrame.functionName, '(no frames captured)');
  });
});

// ---- Bad input ------------------------------------------------------------------------------

describe('bad input', () => {
  /** Asserts `fn` throws exactly `ErrorType` with a stallwatch message matching every pattern. */
  function assertThrows(fn, ErrorType, ...patterns) {
    let thrown;
    try {
      fn();
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown, 'expected a throw');
    assert.equal(thrown.constructor, ErrorType, `expected ${ErrorType.name}, got ${thrown.constructor.name}: ${thrown.message}`);
    assert.match(thrown.message, /^stallwatch: /);
    for (const pattern of patterns) assert.match(thrown.message, pattern);
  }

  for (const [name, exporter] of Object.entries(EXPORTERS)) {
    it(`${name}() throws a TypeError when there is no profile`, () => {
      const caller = new RegExp(`${name}\\(\\)`);
      assertThrows(() => exporter(), TypeError, caller, /StallProfile/, /got undefined/);
      assertThrows(() => exporter(null), TypeError, caller, /got null/);
      assertThrows(() => exporter('profile'), TypeError, /got "profile"/);
      assertThrows(() => exporter([]), TypeError, /got an array/);
      // An 'unblocked' event of a stall that was not sampled.
      assertThrows(() => exporter({ threadId: 0, tid: 1, pid: 1, blockedMs: 900 }), TypeError, /without "stacks" or "profile"/, /sampleIntervalMs/);
      assertThrows(() => exporter({ threadId: 0, profile: undefined }), TypeError, /"profile" is undefined/, /sampleIntervalMs/);
      assertThrows(() => exporter({ threadId: 0, profile: 42 }), TypeError, /"profile" must be a StallProfile/, /got 42/);
    });

    it(`${name}() names the field of a malformed profile`, () => {
      const withStacks = (stacks) => ({ ...emptyProfile(), stacks });
      assertThrows(() => exporter({ ...emptyProfile(), stacks: undefined }), TypeError, /profile\.stacks must be an array/);
      assertThrows(() => exporter({ ...emptyProfile(), intervalMs: '10' }), TypeError, /profile\.intervalMs must be a number/);
      assertThrows(() => exporter({ ...emptyProfile(), intervalMs: 0 }), RangeError, /profile\.intervalMs must be greater than 0/);
      assertThrows(() => exporter({ ...emptyProfile(), startedAt: NaN }), RangeError, /profile\.startedAt must be finite/);
      assertThrows(() => exporter(withStacks([{ frames: 'x', count: 1 }])), TypeError, /profile\.stacks\[0\]\.frames must be an array/);
      assertThrows(() => exporter(withStacks([{ frames: [], count: -1 }])), RangeError, /profile\.stacks\[0\]\.count must be an integer >= 0/);
      assertThrows(() => exporter(withStacks([{ frames: [{ kind: 'js', name: 'f' }], count: 1 }, { frames: [{ kind: 'cpp', name: 'f' }], count: 1 }])), TypeError, /profile\.stacks\[1\]\.frames\[0\]\.kind/);
      assertThrows(() => exporter(withStacks([{ frames: [{ kind: 'js' }], count: 1 }])), TypeError, /frames\[0\]\.name must be a string/);
      assertThrows(() => exporter(withStacks([{ frames: [{ kind: 'js', name: 'f', line: 0 }], count: 1 }])), RangeError, /frames\[0\]\.line must be an integer >= 1/);
      assertThrows(() => exporter(withStacks([{ frames: [{ kind: 'native', name: 'f', module: 7 }], count: 1 }])), TypeError, /frames\[0\]\.module must be a string/);
      assertThrows(() => exporter(withStacks([{ frames: [{ kind: 'js', name: 'f', generatedLine: 2.5 }], count: 1 }])), RangeError, /frames\[0\]\.generatedLine must be an integer >= 1/);
    });
  }
});

describe('the package\'s exporters', () => {
  it('load on first use, and give what the exporters give', () => {
    // In a fresh process: require('stallwatch') must not load the exporters or their pprof
    // encoder (about 6 ms of start-up); the first call does.
    const script = `
      const loaded = () => Object.keys(require.cache).filter((f) => /[\\\\/]lib[\\\\/]export[\\\\/]|pprof-format/.test(f)).length;
      const sw = require(${JSON.stringify(path.join(__dirname, '..'))});
      const fx = require(${JSON.stringify(path.join(__dirname, 'fixtures-export', 'profile.js'))});
      const before = loaded();
      const folded = sw.toFolded(fx.makeProfile());
      const pprof = Buffer.from(sw.toPprof(fx.makeProfile())).toString('base64');
      const cpuprofile = sw.toCpuProfile(fx.makeProfile());
      console.log(JSON.stringify({ before, after: loaded(), folded, pprof, cpuprofile }));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.before, 0, 'nothing of lib/export or pprof-format loaded by require()');
    assert.ok(out.after > 0, 'loaded by the first call');
    assert.equal(out.folded, toFolded(fx.makeProfile()));
    assert.equal(out.pprof, Buffer.from(toPprof(fx.makeProfile())).toString('base64'));
    assert.deepEqual(out.cpuprofile, toCpuProfile(fx.makeProfile()));
  });
});
