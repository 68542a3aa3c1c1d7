'use strict';
// Source maps: JS frames of scripts with a source map point at the original file, line and name
// (lib/source-maps.ts), with the generated position kept in generatedFile/Line/Column.
//  - end to end: test/fixtures-sourcemap/busy.js (compiled from busy.ts by tsc, both committed)
//    stalls in a busy loop from a timer and from an HTTP handler, with and without
//    --enable-source-maps (Node's own map cache vs. stallwatch reading the map from disk);
//  - the mapper on hand-made reports and maps, in this process;
//  - Supervisor: reports go through the mapper, and a mapper failure never loses a report.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { describe, test, before, after } = require('node:test');
const { runFixture, parseTextReports, ROOT } = require('./helpers/run-fixture');
const { explain, assertCleanExit } = require('./helpers/checks');

const DIST = path.join(ROOT, 'dist', 'lib');
const FIXTURE_DIR = path.join(ROOT, 'test', 'fixtures-sourcemap');
const TS_FILE = path.join(FIXTURE_DIR, 'busy.ts');
const JS_FILE = path.join(FIXTURE_DIR, 'busy.js');
const FIXTURE_THRESHOLD_MS = 200; // busy.ts
const TIMEOUT = { timeout: 60000 };

before(() => {
  assert.ok(fs.existsSync(path.join(DIST, 'source-maps.js')),
    `stallwatch is not built (${path.join(DIST, 'source-maps.js')} is missing): run \`npm run build:ts\``);
});

const GENERATED_FIELDS = ['generatedFile', 'generatedLine', 'generatedColumn'];

/** 1-based line numbers of the lines of `file` that contain `text`. */
function linesWith(file, text) {
  const found = [];
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => { if (line.includes(text)) found.push(i + 1); });
  return found;
}

/** 1-based line and column of the first `needle` on the (only) line that contains `marker`. */
function positionOf(file, marker, needle) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(marker));
  assert.ok(index >= 0, `${marker} in ${file}`);
  return { line: index + 1, column: lines[index].indexOf(needle) + 1 };
}

function expectedPositions(file) {
  const [loopStart] = linesWith(file, '// LOOP-START');
  const [loopEnd] = linesWith(file, '// LOOP-END');
  return {
    loop: [loopStart + 1, loopEnd - 1],
    crunchNumbers: linesWith(file, 'function crunchNumbers(')[0],
    handleWork: linesWith(file, 'function handleWork(')[0],
    call: positionOf(file, '// CALL-SITE', 'crunchNumbers('),
  };
}

describe('end to end: a TypeScript busy loop compiled with tsc --sourceMap', () => {
  const ts = expectedPositions(TS_FILE);
  const js = expectedPositions(JS_FILE);

  test('the committed fixture is compiled from busy.ts and keeps lines apart', () => {
    assert.ok(fs.existsSync(`${JS_FILE}.map`), 'busy.js.map is committed next to busy.js');
    assert.match(fs.readFileSync(JS_FILE, 'utf8'), /\n\/\/# sourceMappingURL=busy\.js\.map\s*$/);
    assert.deepEqual(JSON.parse(fs.readFileSync(`${JS_FILE}.map`, 'utf8')).sources, ['busy.ts']);
    // Otherwise the test could not tell a mapped line from an unmapped one.
    assert.notEqual(ts.loop[0], js.loop[0]);
    assert.notEqual(ts.call.line, js.call.line);
    assert.notEqual(ts.crunchNumbers, js.crunchNumbers);
  });

  for (const [label, nodeArgs] of [['without --enable-source-maps (map read from disk)', []],
    ['with --enable-source-maps (Node\'s map cache)', ['--enable-source-maps']]]) {
    for (const trigger of ['timer', 'http']) {
      test(`${label}, from ${trigger === 'timer' ? 'a timer' : 'an HTTP request handler'}`, TIMEOUT, async () => {
        const r = await runFixture(JS_FILE, { args: [trigger], nodeArgs });
        explain(r, () => {
          assertCleanExit(r);
          const cached = r.out.notes.find((n) => 'sourceMapCached' in n);
          assert.equal(cached?.sourceMapCached, nodeArgs.includes('--enable-source-maps'),
            'Node caches the map only with --enable-source-maps');
          assert.equal(r.out.reports.length, 1, 'one report for one stall');
          const report = r.out.reports[0];
          assert.ok(report.blockedMs >= FIXTURE_THRESHOLD_MS, `blockedMs ${report.blockedMs}`);

          // The culprit: the innermost JS frame, in the loop of crunchNumbers.
          const culprit = report.frames.find((f) => f.kind === 'js');
          assert.equal(culprit.name, 'crunchNumbers');
          assert.equal(culprit.file, TS_FILE);
          assert.ok(culprit.line >= ts.loop[0] && culprit.line <= ts.loop[1],
            `line ${culprit.line} is in the loop of busy.ts (lines ${ts.loop.join('-')})`);
          assert.ok(Number.isInteger(culprit.column) && culprit.column >= 1, `column ${culprit.column}`);
          assert.equal(culprit.functionLine, ts.crunchNumbers, 'functionLine is the definition in busy.ts');
          assert.equal(culprit.generatedFile, JS_FILE);
          assert.ok(culprit.generatedLine >= js.loop[0] && culprit.generatedLine <= js.loop[1],
            `generatedLine ${culprit.generatedLine} is in the loop of busy.js (lines ${js.loop.join('-')})`);
          assert.ok(Number.isInteger(culprit.generatedColumn) && culprit.generatedColumn >= 1);

          // Its caller, at the call site.
          const caller = report.frames[report.frames.indexOf(culprit) + 1];
          assert.deepEqual(
            { name: caller.name, file: caller.file, line: caller.line, column: caller.column, functionLine: caller.functionLine },
            { name: 'handleWork', file: TS_FILE, line: ts.call.line, column: ts.call.column, functionLine: ts.handleWork });
          assert.deepEqual(
            { generatedFile: caller.generatedFile, generatedLine: caller.generatedLine, generatedColumn: caller.generatedColumn },
            { generatedFile: JS_FILE, generatedLine: js.call.line, generatedColumn: js.call.column });

          // Frames of scripts without a map (_common.js, Node's own) and non-JS frames: untouched.
          const others = report.frames.filter((f) => f.file !== TS_FILE);
          assert.ok(others.some((f) => f.kind === 'js' && f.file.endsWith(path.join('fixtures', '_common.js'))),
            'the trigger frames of _common.js are there');
          assert.ok(others.some((f) => f.kind !== 'js'), 'native frames are there');
          for (const f of others) {
            for (const k of GENERATED_FIELDS) assert.equal(k in f, false, `unmapped frame has no ${k}: ${JSON.stringify(f)}`);
          }

          // The text log is written natively at detection time: generated positions.
          const [text] = parseTextReports(r.stderr);
          assert.ok(text, 'the text log has the report');
          assert.ok(text.culprit.includes(`${JS_FILE}:${culprit.generatedLine}:${culprit.generatedColumn}`),
            `the text log names the generated position: ${text.culprit}`);
        });
      });
    }
  }
});

// ---- The mapper, on hand-made maps ---------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function vlq(n) {
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v) digit |= 32;
    out += B64[digit];
  } while (v);
  return out;
}

/** segments: [genLine, genColumn, sourceIndex, origLine, origColumn, nameIndex?], all 0-based, sorted. */
function encodeMappings(segments) {
  const lines = [];
  const prev = { source: 0, line: 0, column: 0, name: 0 };
  for (const [gl, gc, src, ol, oc, name] of segments) {
    while (lines.length <= gl) lines.push([]);
    const row = lines[gl];
    const prevColumn = row.length ? row[row.length - 1].gc : 0;
    let seg = vlq(gc - prevColumn) + vlq(src - prev.source) + vlq(ol - prev.line) + vlq(oc - prev.column);
    Object.assign(prev, { source: src, line: ol, column: oc });
    if (name !== undefined) {
      seg += vlq(name - prev.name);
      prev.name = name;
    }
    row.push({ gc, seg });
  }
  return lines.map((row) => row.map((s) => s.seg).join(',')).join(';');
}

// The generated script of the hand-made map (the text matters little: only positions do).
const GENERATED_LINES = [
  '"use strict";', //                          line 1: no mapping
  'function a(n) {', //                        line 2: -> orig.ts:10:1
  '  for (;;) n++;', //                        line 3, col 3 -> orig.ts:12:5
  '}',
  'function b() {', //                         line 5 -> orig.ts:20:1
  '  return a(1); }', //                       line 6, col 3 -> 21:3; col 10 -> 21:10 named realName
  'function c(){for(;;);}', //                 line 7, col 1 -> 31:1; col 14 -> 41:3 (minified style)
];
const SEGMENTS = [
  [1, 0, 0, 9, 0],
  [2, 2, 0, 11, 4],
  [4, 0, 0, 19, 0],
  [5, 2, 0, 20, 2],
  [5, 9, 0, 20, 9, 0],
  [6, 0, 0, 30, 0],
  [6, 13, 0, 40, 2],
];

describe('the mapper on hand-made reports', () => {
  const { mapReport } = require(path.join(DIST, 'source-maps.js'));
  let dir;
  const file = (...parts) => path.join(dir, ...parts);

  /**
   * Writes <dir>/dist/<name>.js. By default it ends with `//# sourceMappingURL=<name>.js.map` and
   * that map is written too (fields of `map` override the default payload; `mapText` replaces it);
   * with `comment`, the script ends with that line instead and no map file is written.
   */
  function writeGenerated(name, { map = {}, mapText, comment } = {}) {
    const payload = { version: 3, file: `${name}.js`, sources: ['../src/orig.ts'], names: ['realName'], mappings: encodeMappings(SEGMENTS), ...map };
    const tail = comment ?? `//# sourceMappingURL=${name}.js.map`;
    fs.writeFileSync(file('dist', `${name}.js`), `${GENERATED_LINES.join('\n')}\n${tail}\n`);
    if (comment === undefined) fs.writeFileSync(file('dist', `${name}.js.map`), mapText ?? JSON.stringify(payload));
    return file('dist', `${name}.js`);
  }

  function report(frames) {
    return { threadId: 0, tid: 1, pid: 1, blockedMs: 300, capturedAt: 1_700_000_000_000, state: 'js', frames };
  }

  const js = (name, fileName, line, column, functionLine) => ({
    kind: 'js', name, file: fileName,
    ...(line !== undefined && { line }), ...(column !== undefined && { column }),
    ...(functionLine !== undefined && { functionLine }), address: '0x1234',
  });
  const nativeFrame = { kind: 'native', name: 'uv_run', module: '/usr/bin/node', address: '0x42' };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-sourcemaps-'));
    fs.mkdirSync(file('dist'));
    fs.mkdirSync(file('src'));
    fs.writeFileSync(file('plain.js'), 'function main() {}\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('maps file, line, column and functionLine, keeps the generated position, takes the name from the call site', () => {
    const gen = writeGenerated('basic');
    const input = report([
      js('a', gen, 3, 3, 2), // called from b at line 6 col 10, where the map names the callee realName
      js('b', gen, 6, 10, 5), // called from plain.js: no name from the map
      js('main', file('plain.js'), 1, 1, 1),
      js('listOnTimeout', 'node:internal/timers', 581, 17, 524),
      nativeFrame,
    ]);
    const before = structuredClone(input);
    const out = mapReport(input);
    assert.deepEqual(input, before, 'the input report is not modified');
    assert.notEqual(out, input);
    assert.deepEqual(out.frames[0], {
      kind: 'js', name: 'realName', file: file('src', 'orig.ts'), line: 12, column: 5, functionLine: 10, address: '0x1234',
      generatedFile: gen, generatedLine: 3, generatedColumn: 3,
    });
    assert.deepEqual(out.frames[1], {
      kind: 'js', name: 'b', file: file('src', 'orig.ts'), line: 21, column: 10, functionLine: 20, address: '0x1234',
      generatedFile: gen, generatedLine: 6, generatedColumn: 10,
    });
    assert.equal(out.frames[2], input.frames[2], 'a script without a map: the very same frame');
    assert.equal(out.frames[3], input.frames[3], "Node's own scripts: the very same frame");
    assert.equal(out.frames[4], input.frames[4], 'native frames: the very same frame');
    const { frames: _f, ...rest } = out;
    const { frames: _g, ...restIn } = input;
    assert.deepEqual(rest, restIn, 'the other report fields are kept');
    assert.equal(mapReport(out), out, 'mapping a mapped report changes nothing');
  });

  test('a report with nothing to map is returned as is', () => {
    const input = report([js('main', file('plain.js'), 1, 1, 1), nativeFrame, { kind: 'v8', name: 'Builtins_JSEntry', address: '0x1' }]);
    assert.equal(mapReport(input), input);
    assert.equal(mapReport(report([])).frames.length, 0);
  });

  test('positions the map does not cover are left alone', () => {
    const gen = writeGenerated('uncovered');
    const input = report([js('top', gen, 1, 1, 1)]);
    assert.equal(mapReport(input), input);
  });

  test('functionLine is dropped when only a guess (function and position on one generated line)', () => {
    const gen = writeGenerated('minified');
    const [frame] = mapReport(report([js('c', gen, 7, 14, 7)])).frames;
    assert.deepEqual(frame, {
      kind: 'js', name: 'c', file: file('src', 'orig.ts'), line: 41, column: 3, address: '0x1234',
      generatedFile: gen, generatedLine: 7, generatedColumn: 14,
    });
  });

  test('a frame without a known line is mapped by its definition line', () => {
    const gen = writeGenerated('noline');
    const [frame] = mapReport(report([js('a', gen, undefined, undefined, 2)])).frames;
    assert.deepEqual(frame, { kind: 'js', name: 'a', file: file('src', 'orig.ts'), functionLine: 10, address: '0x1234', generatedFile: gen });
  });

  test('inline data: maps; a file: URL script (ESM) keeps URLs', () => {
    const payload = { version: 3, sources: ['inline-orig.ts'], names: ['realName'], mappings: encodeMappings(SEGMENTS) };
    const data = Buffer.from(JSON.stringify(payload)).toString('base64');
    const gen = writeGenerated('inline', { comment: `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${data}` });
    const url = pathToFileURL(gen).href;
    const [frame] = mapReport(report([js('a', url, 3, 3, 2)])).frames;
    assert.equal(frame.file, pathToFileURL(file('dist', 'inline-orig.ts')).href);
    assert.equal(frame.generatedFile, url);
    assert.equal(frame.line, 12);
  });

  test('sourceRoot is applied', () => {
    const gen = writeGenerated('rooted', { map: { sourceRoot: '/srv/app/', sources: ['lib/x.ts'] } });
    const [frame] = mapReport(report([js('a', gen, 3, 3, 2)])).frames;
    assert.equal(frame.file, path.resolve('/srv/app/lib/x.ts'));
  });

  test('a broken, missing or oversized map leaves the frames alone', () => {
    const broken = writeGenerated('broken', { mapText: '{"version":3,"mappings":' });
    const missing = writeGenerated('missing');
    fs.rmSync(`${missing}.map`);
    const wrongType = writeGenerated('wrongtype', { comment: '//# sourceMappingURL=data:text/plain,hello' });
    const remote = writeGenerated('remote', { comment: '//# sourceMappingURL=https://example.invalid/x.js.map' });
    const small = writeGenerated('small', { map: { mappings: 'AAAA;'.repeat(1000) } });
    const big = writeGenerated('big', { map: { mappings: 'AAAA;'.repeat(240_000) } }); // > 1 MiB of mappings
    for (const gen of [broken, missing, wrongType, remote, big]) {
      const input = report([js('a', gen, 3, 3, 2)]);
      assert.equal(mapReport(input), input, path.basename(gen));
    }
    assert.equal(mapReport(report([js('a', small, 3, 3, 2)])).frames[0].generatedFile, small, 'control: a small map maps');
  });

  test('maps are cached per script file, and so is "no map"', () => {
    const gen = writeGenerated('cached');
    assert.equal(mapReport(report([js('a', gen, 3, 3, 2)])).frames[0].line, 12);
    fs.rmSync(`${gen}.map`);
    assert.equal(mapReport(report([js('a', gen, 3, 3, 2)])).frames[0].line, 12, 'still mapped: read once');

    const later = writeGenerated('later', { comment: '' });
    const input = report([js('a', later, 3, 3, 2)]);
    assert.equal(mapReport(input), input);
    writeGenerated('later');
    assert.equal(mapReport(input), input, 'still unmapped: looked up once');
  });

  test("Node's own cache is used when it has the map (scripts loaded with source maps enabled)", () => {
    const gen = writeGenerated('nodecache');
    const wasEnabled = process.sourceMapsEnabled;
    process.setSourceMapsEnabled(true);
    try {
      require(gen);
    } finally {
      process.setSourceMapsEnabled(Boolean(wasEnabled));
    }
    assert.ok(require('node:module').findSourceMap(gen), 'Node cached the map');
    fs.rmSync(`${gen}.map`); // only Node's cache has it now
    const [frame] = mapReport(report([js('a', gen, 3, 3, 2)])).frames;
    assert.equal(frame.file, file('src', 'orig.ts'));
    assert.equal(frame.line, 12);
    assert.equal(frame.generatedLine, 3);
  });

  test('never throws', () => {
    for (const bad of [null, undefined, {}, { frames: 'x' }, { frames: [null, 1, { kind: 'js', file: 7 }] }]) {
      assert.equal(mapReport(bad), bad);
    }
    const gen = writeGenerated('weird');
    const input = report([{ kind: 'js', name: 'a', file: gen, line: -4, column: 1.5 }]);
    assert.doesNotThrow(() => mapReport(input));
  });
});

// ---- Supervisor delivery -----------------------------------------------------------------

describe('Supervisor delivers mapped reports', () => {
  const { Supervisor } = require(path.join(DIST, 'supervisor.js'));
  const sourceMaps = require(path.join(DIST, 'source-maps.js'));
  const CAPS = Object.freeze({ platform: 'linux', arch: 'x64', libunwind: true, sigrtmin: 34, sigrtmax: 64 });

  function fakeBinding() {
    let onEvent;
    return {
      subscribe(_config, callback) { onEvent = callback; return 1; },
      unsubscribe() { return true; },
      capabilities() { return CAPS; },
      formatReport() { return ''; },
      markProgress() {},
      fire(kind, payload) { onEvent(kind, payload); },
    };
  }

  const blocked = () => ({
    threadId: 0, tid: 1, pid: 1, blockedMs: 300, capturedAt: 1_700_000_000_000, state: 'js',
    frames: [{ kind: 'js', name: 'crunchNumbers', file: JS_FILE, line: 17, column: 5, functionLine: 13 }],
  });

  test("'blocked' reports are mapped; 'unblocked' events are passed as is", () => {
    const binding = fakeBinding();
    const sv = new Supervisor({ log: false }, binding, { threadId: 0, threadName: '' });
    const seen = [];
    sv.on('blocked', (r) => seen.push(r));
    sv.on('unblocked', (e) => seen.push(e));
    try {
      binding.fire('blocked', blocked());
      const unblocked = { threadId: 0, tid: 1, pid: 1, blockedMs: 1000 };
      binding.fire('unblocked', unblocked);
      assert.equal(seen.length, 2);
      assert.equal(seen[0].frames[0].file, TS_FILE);
      assert.equal(seen[0].frames[0].generatedFile, JS_FILE);
      assert.equal(seen[1], unblocked);
    } finally {
      sv.close();
    }
  });

  test('a failing mapper never loses the report', () => {
    const binding = fakeBinding();
    const sv = new Supervisor({ log: false }, binding, { threadId: 0, threadName: '' });
    const seen = [];
    const errors = [];
    sv.on('blocked', (r) => seen.push(r));
    sv.on('error', (e) => errors.push(e));
    const original = sourceMaps.mapReport;
    sourceMaps.mapReport = () => { throw new Error('mapper failure'); };
    try {
      const payload = blocked();
      binding.fire('blocked', payload);
      assert.deepEqual(errors, []);
      assert.equal(seen.length, 1);
      assert.equal(seen[0], payload, 'the unmapped report, as the addon built it');
    } finally {
      sourceMaps.mapReport = original;
      sv.close();
    }
  });
});
