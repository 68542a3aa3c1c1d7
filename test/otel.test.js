'use strict';
// OpenTelemetry: each stall as a log record (lib/otel.ts, lib/otel-reporter.ts,
// docs/opentelemetry.md), against the real SDK (@opentelemetry/sdk-logs).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { runFixture, parseFixtureOutput, ROOT } = require('./helpers/run-fixture');

const FIXTURES = path.join(__dirname, 'fixtures-otel');
const fixture = (name) => path.join(FIXTURES, name);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-otel-'));
const otel = require(path.join(ROOT, 'dist', 'lib', 'otel.js')); // internals: loadApiLogs, findCulprit

function canResolve(name) {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

const hasSdk = canResolve('@opentelemetry/api-logs') && canResolve('@opentelemetry/sdk-logs');
const NO_SDK = hasSdk ? false : '@opentelemetry/api-logs and @opentelemetry/sdk-logs are not installed (devDependencies)';

// A report as the addon builds it: an addon's native function, called from app code, itself
// called from node's timers; the innermost frames are libc, V8 and node.
function sampleReport(overrides = {}) {
  return {
    threadId: 0,
    tid: 4242,
    pid: 4242,
    blockedMs: 503.2,
    capturedAt: 1795346401123,
    state: 'js',
    frames: [
      { kind: 'native', name: 'read', module: '/usr/lib/x86_64-linux-gnu/libc.so.6' },
      { kind: 'native', name: 'uv__fs_read', file: 'src/unix/fs.c', line: 386, module: '/usr/bin/node' },
      { kind: 'v8', name: 'Builtins_CEntry', address: '0x7f00000010' },
      { kind: 'js', name: 'readSync', file: 'node:fs', line: 740, column: 3, functionLine: 730 },
      { kind: 'js', name: 'readConfig', file: '/app/server.js', line: 5, column: 10, functionLine: 4 },
      { kind: 'js', name: 'handler', file: '/app/server.js', line: 12, column: 3 },
      { kind: 'js', name: 'listOnTimeout', file: 'node:internal/timers', line: 581, column: 17 },
      { kind: 'native', name: '_start', module: '/usr/bin/node' },
    ],
    ...overrides,
  };
}

// ---- The record (pure) -----------------------------------------------------------------------

test('the package exports the OpenTelemetry API', () => {
  const stallwatch = require(ROOT);
  for (const name of ['otelListener', 'emitToOpenTelemetry', 'otelLogRecord', 'createOtelReporter']) {
    assert.equal(typeof stallwatch[name], 'function', `stallwatch.${name}`);
  }
});

test('a record: WARN, event name, capture time, code.* of the culprit, thread, stall length', () => {
  const record = otel.otelLogRecord(sampleReport());
  assert.equal(record.severityNumber, 13);
  assert.equal(record.severityText, 'WARN');
  assert.equal(record.eventName, 'stallwatch.blocked');
  assert.equal(record.timestamp, 1795346401123);
  assert.equal(typeof record.observedTimestamp, 'number');
  assert.equal(record.body, 'Event loop of the main thread blocked for 503 ms in readConfig (/app/server.js:5:10)');
  const a = record.attributes;
  assert.equal(a['code.function.name'], 'readConfig');
  assert.equal(a['code.file.path'], '/app/server.js');
  assert.equal(a['code.line.number'], 5);
  assert.equal(a['code.column.number'], 10);
  assert.equal(a['thread.id'], 0);
  assert.equal(a['thread.name'], 'main');
  assert.equal(a['process.pid'], 4242);
  assert.equal(a['stallwatch.blocked_ms'], 503.2);
  assert.equal(a['stallwatch.state'], 'js');
  assert.equal(a['stallwatch.tid'], 4242);
  assert.equal(a['stallwatch.culprit.kind'], 'js');
  assert.equal(a['stallwatch.frames'], 8);
  assert.equal(a['stallwatch.partial'], undefined);
  assert.equal(a['stallwatch.suppressed'], undefined);
  assert.equal(
    a['code.stacktrace'],
    [
      '    at read (/usr/lib/x86_64-linux-gnu/libc.so.6)',
      '    at uv__fs_read (/usr/bin/node, src/unix/fs.c:386)',
      '    at Builtins_CEntry [v8]',
      '    at readSync (node:fs:740:3)',
      '    at readConfig (/app/server.js:5:10)',
      '    at handler (/app/server.js:12:3)',
      '    at listOnTimeout (node:internal/timers:581:17)',
      '    at _start (/usr/bin/node)',
    ].join('\n'),
  );
  for (const value of Object.values(a)) assert.ok(['string', 'number'].includes(typeof value), 'valid attribute values');
});

test('a worker, partial, suppressed: thread.name, stallwatch.partial, stallwatch.suppressed', () => {
  const record = otel.otelLogRecord(sampleReport({ threadId: 3, threadName: 'image-resizer', partial: 'no JS stack: timeout', suppressed: 2 }));
  assert.equal(record.attributes['thread.id'], 3);
  assert.equal(record.attributes['thread.name'], 'image-resizer');
  assert.equal(record.attributes['stallwatch.partial'], 'no JS stack: timeout');
  assert.equal(record.attributes['stallwatch.suppressed'], 2);
  assert.match(record.body, /^Event loop of worker 3 "image-resizer" blocked for 503 ms in readConfig/);
  const unnamed = otel.otelLogRecord(sampleReport({ threadId: 4 }));
  assert.equal(unnamed.attributes['thread.name'], undefined, 'a worker without a name has no thread.name');
});

test('the culprit: innermost application frame, an addon native frame included; never node, V8, libc or stallwatch', () => {
  const addon = { kind: 'native', name: 'Sleep(Napi::CallbackInfo const&)', file: '../src/addon.cc', line: 20, module: '/app/node_modules/x/build/Release/x.node' };
  const own = { kind: 'js', name: 'deliver', file: path.join(ROOT, 'dist', 'lib', 'supervisor.js'), line: 3 };
  const installed = { kind: 'js', name: 'emit', file: '/app/node_modules/stallwatch/dist/lib/index.js', line: 1 };
  const frames = sampleReport().frames;
  const report = sampleReport({ frames: [frames[0], own, installed, addon, ...frames.slice(1)] });
  assert.equal(otel.findCulprit(report.frames), addon);
  const a = otel.otelLogRecord(report).attributes;
  assert.equal(a['code.function.name'], 'Sleep(Napi::CallbackInfo const&)');
  assert.equal(a['code.file.path'], '../src/addon.cc');
  assert.equal(a['code.line.number'], 20);
  assert.equal(a['stallwatch.culprit.kind'], 'native');
  assert.equal(a['stallwatch.culprit.module'], '/app/node_modules/x/build/Release/x.node');

  const internalsOnly = sampleReport({ state: 'native', frames: frames.filter((f) => !f.file?.startsWith('/app/')) });
  const none = otel.otelLogRecord(internalsOnly);
  for (const key of ['code.function.name', 'code.file.path', 'code.line.number', 'stallwatch.culprit.kind']) {
    assert.equal(none.attributes[key], undefined, key);
  }
  assert.equal(none.body, 'Event loop of the main thread blocked for 503 ms, state native');
  assert.equal(otel.otelLogRecord(sampleReport({ frames: [] })).attributes['code.stacktrace'], '    (no frames captured)');
});

test('code.file.path is a path for an ES module; a frame without a known line has no code.line.number', () => {
  const a = otel.otelLogRecord(sampleReport({
    frames: [{ kind: 'js', name: 'load', file: 'file:///app/my%20server.mjs', functionLine: 7 }],
  })).attributes;
  assert.equal(a['code.file.path'], '/app/my server.mjs');
  assert.equal(a['code.line.number'], undefined, 'the definition line is never given as the executing line');
  assert.equal(a['code.stacktrace'], '    at load (file:///app/my%20server.mjs, defined at line 7)');
});

test('code.stacktrace: anonymous and unnamed frames, control characters escaped, maxStackFrames', () => {
  const frames = [
    { kind: 'js', name: '', file: '/app/a.js', line: 1, column: 2 },
    { kind: 'js', name: 'evil\nname', file: '/app/b\tc.js', line: 3 },
    { kind: 'js', name: 'noScript' },
    { kind: 'native', name: '', module: '/app/x.node', address: '0x7f3a1c0ffee0' },
    { kind: 'native', name: '' },
    { kind: 'v8', name: '', address: '0x10' },
  ];
  const stack = otel.otelLogRecord(sampleReport({ frames })).attributes['code.stacktrace'];
  assert.equal(stack, [
    '    at (anonymous) (/app/a.js:1:2)',
    '    at evil\\nname (/app/b\\tc.js:3)',
    '    at noScript',
    '    at 0x7f3a1c0ffee0 (/app/x.node)',
    '    at ?? (unknown module)',
    '    at 0x10 [v8]',
  ].join('\n'));
  const cut = otel.otelLogRecord(sampleReport({ frames }), { maxStackFrames: 2 }).attributes['code.stacktrace'];
  assert.equal(cut.split('\n').length, 3);
  assert.equal(cut.split('\n')[2], '    ... 4 more frames');
});

test('options: extra attributes override; invalid options and reports are TypeError/RangeError', () => {
  const a = otel.otelLogRecord(sampleReport(), { attributes: { 'service.component': 'api', 'thread.name': 'event-loop' } }).attributes;
  assert.equal(a['service.component'], 'api');
  assert.equal(a['thread.name'], 'event-loop');
  assert.throws(() => otel.otelLogRecord(sampleReport(), { attributes: 'x' }), TypeError);
  assert.throws(() => otel.otelLogRecord(sampleReport(), { maxStackFrames: 0 }), RangeError);
  assert.throws(() => otel.otelLogRecord(sampleReport(), { maxStackFrames: '5' }), TypeError);
  assert.throws(() => otel.otelLogRecord({}), /expects a BlockReport/);
  assert.throws(() => otel.otelListener({ loggerProvider: {} }), /must be an OpenTelemetry LoggerProvider/);
  assert.throws(() => otel.otelListener({ loggerProvider: { getLogger: () => ({}) } }), /logger without emit/);
  assert.throws(() => otel.createOtelReporter('nope'), TypeError);
  assert.throws(() => otel.createOtelReporter(() => ({ getLogger() {} }), { flushTimeoutMs: -1 }), RangeError);
});

// ---- Loading @opentelemetry/api-logs ---------------------------------------------------------

test('without @opentelemetry/api-logs: a clear error (injected resolver), and it is loaded once found', () => {
  const asked = [];
  assert.throws(
    () => otel.loadApiLogs((name, dirs) => { asked.push([name, dirs]); return undefined; }),
    (error) => {
      assert.equal(error.code, 'MODULE_NOT_FOUND');
      assert.match(error.message, /^stallwatch: OpenTelemetry support \(otelListener, emitToOpenTelemetry\) needs the package @opentelemetry\/api-logs, which is not installed/);
      assert.match(error.message, /npm install @opentelemetry\/api-logs @opentelemetry\/sdk-logs/);
      assert.match(error.message, /options\.loggerProvider/);
      return true;
    },
  );
  assert.equal(asked[0][0], '@opentelemetry/api-logs');
  assert.ok(asked[0][1].includes(path.join(ROOT, 'dist', 'lib')), 'looked from stallwatch first');
  assert.ok(asked[0][1].includes(process.cwd()), 'and from the working directory');
  const fake = path.join(tmp(), 'api-logs.js');
  fs.writeFileSync(fake, 'exports.logs = { getLogger: () => ({ emit() {} }) };');
  assert.equal(typeof otel.loadApiLogs(() => fake).logs.getLogger, 'function');
  const broken = path.join(tmp(), 'api-logs.js');
  fs.writeFileSync(broken, 'exports.logs = {};');
  assert.throws(() => otel.loadApiLogs(() => broken), /unsupported version/);
});

test('an application without OpenTelemetry: requiring stallwatch works, the helpers say what is missing', async () => {
  const result = await runFixture(fixture('without-otel.js'), { nodeArgs: ['-r', fixture('hide-otel.js')], timeoutMs: 20000 });
  const out = parseFixtureOutput(result.stdout);
  assert.ok(out.done, result.describe());
  assert.deepEqual(out.notes[0], { required: true, hidden: true });
  for (const what of ['otelListener', 'emitToOpenTelemetry']) {
    const note = out.notes.find((n) => n.what === what);
    assert.equal(note.threw, true, `${what} threw`);
    assert.equal(note.code, 'MODULE_NOT_FOUND');
    assert.match(note.message, /needs the package @opentelemetry\/api-logs, which is not installed/);
  }
  assert.equal(out.notes.find((n) => n.record).record.attributes['code.function.name'], 'work', 'otelLogRecord needs nothing');
  assert.equal(out.notes.find((n) => n.emitted).emitted.length, 1, 'an explicit loggerProvider needs nothing');
});

// ---- Emitting --------------------------------------------------------------------------------

test('emitToOpenTelemetry and otelListener with an explicit provider: the record is emitted as built', () => {
  const emitted = [];
  const scopes = [];
  const provider = { getLogger: (name, version) => { scopes.push([name, version]); return { emit: (r) => emitted.push(r) }; } };
  otel.emitToOpenTelemetry(sampleReport(), { loggerProvider: provider });
  otel.otelListener({ loggerProvider: provider, attributes: { a: 1 } })(sampleReport());
  assert.equal(emitted.length, 2);
  assert.equal(emitted[0].attributes['code.function.name'], 'readConfig');
  assert.equal(emitted[1].attributes.a, 1);
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(scopes[0], ['stallwatch', version]);
});

test('createOtelReporter: emits, then force-flushes, and settles after the flush; a stuck flush times out', async () => {
  const events = [];
  let releaseFlush;
  const provider = {
    getLogger: () => ({ emit: (record) => events.push(`emit ${record.attributes['code.function.name']}`) }),
    forceFlush: () => new Promise((resolve) => { events.push('flush'); releaseFlush = () => { events.push('flushed'); resolve(); }; }),
  };
  const handler = otel.createOtelReporter(async () => provider);
  const done = handler(sampleReport()).then(() => events.push('settled'));
  while (!releaseFlush) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(events, ['emit readConfig', 'flush']);
  releaseFlush();
  await done;
  assert.deepEqual(events, ['emit readConfig', 'flush', 'flushed', 'settled']);

  const stuck = otel.createOtelReporter(() => ({ getLogger: () => ({ emit() {} }), forceFlush: () => new Promise(() => {}) }), { flushTimeoutMs: 50 });
  await assert.rejects(stuck(sampleReport()), /did not flush within 50 ms/);
});

test('createOtelReporter: reports that arrive together are emitted and flushed one after the other', async () => {
  const events = [];
  const provider = {
    getLogger: () => ({ emit: (record) => events.push(`emit ${record.attributes['thread.id']}`) }),
    forceFlush: async () => {
      events.push('flush');
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.push('flushed');
    },
  };
  const handler = otel.createOtelReporter(() => provider);
  await Promise.all([handler(sampleReport({ threadId: 0 })), handler(sampleReport({ threadId: 1 }))]);
  assert.deepEqual(events, ['emit 0', 'flush', 'flushed', 'emit 1', 'flush', 'flushed']);
});

test('the real SDK in process: otelListener through the global LoggerProvider', { skip: NO_SDK }, () => {
  const { logs } = require('@opentelemetry/api-logs');
  const { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } = require('@opentelemetry/sdk-logs');
  const exporter = new InMemoryLogRecordExporter();
  const listener = otel.otelListener(); // before the provider is registered: the API's logger delegates
  logs.setGlobalLoggerProvider(new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] }));
  try {
    listener(sampleReport());
    const [record] = exporter.getFinishedLogRecords();
    assert.ok(record, 'exported');
    assert.equal(record.severityNumber, 13);
    assert.equal(record.eventName, 'stallwatch.blocked');
    assert.equal(record.instrumentationScope.name, 'stallwatch');
    assert.equal(record.attributes['code.function.name'], 'readConfig');
    assert.deepEqual(record.hrTime, [1795346401, 123000000]);
  } finally {
    logs.disable();
  }
});

test('in process: a stall in a named function becomes an OpenTelemetry log record', { skip: NO_SDK }, async () => {
  const result = await runFixture(fixture('in-process.js'), { timeoutMs: 20000 });
  const out = parseFixtureOutput(result.stdout);
  assert.ok(out.done, result.describe());
  const fn = out.notes.find((n) => n.fn).fn;
  const records = out.notes.find((n) => n.records).records;
  assert.equal(records.length, 1, `one record per stall: ${JSON.stringify(records)}`);
  const [record] = records;
  assertStallRecord(record, { fn: 'stallHere', file: fn.file, start: fn.start, end: fn.end });
  assert.equal(record.scope.name, 'stallwatch');
  assert.equal(record.attributes['stallwatch.state'], 'js');
  const [explicit] = out.notes.find((n) => n.explicit).explicit;
  assert.equal(explicit.attributes['code.function.name'], 'stallHere', 'the explicit provider got it too');
  assert.equal(explicit.attributes['deployment.environment.name'], 'test');
});

function assertStallRecord(record, { fn, file, start, end }) {
  const a = record.attributes;
  assert.equal(record.severityNumber, 13);
  assert.equal(record.severityText, 'WARN');
  assert.equal(record.eventName, 'stallwatch.blocked');
  assert.match(record.body, new RegExp(`^Event loop of the main thread blocked for \\d+ ms in ${fn} \\(`));
  assert.equal(a['code.function.name'], fn);
  assert.equal(a['code.file.path'], file);
  assert.equal(typeof a['code.line.number'], 'number');
  if (start !== undefined) {
    assert.ok(a['code.line.number'] > start && a['code.line.number'] < end, `line ${a['code.line.number']} inside ${fn} (${start}-${end})`);
  }
  assert.equal(a['thread.id'], 0);
  assert.equal(a['thread.name'], 'main');
  assert.ok(a['stallwatch.blocked_ms'] >= 200, `stall length ${a['stallwatch.blocked_ms']} >= threshold`);
  assert.match(a['code.stacktrace'], new RegExp(`(^|\\n)    at ${fn} \\(${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+\\)\\n`));
}

// ---- The never-ending case: stallwatch/otel-reporter -------------------------------------------

const deadlockSource = fs.readFileSync(fixture('deadlock.js'), 'utf8').split('\n');
const deadlockFn = {
  fn: 'waitForNotify',
  file: fixture('deadlock.js'),
  start: deadlockSource.findIndex((l) => l.includes('function waitForNotify')) + 1,
  end: deadlockSource.findIndex((l) => l.startsWith('}, 500);')) + 1,
};

async function runDeadlockWithSetup(setup, args = []) {
  const records = path.join(tmp(), 'records.jsonl');
  const result = await runFixture(fixture('deadlock.js'), {
    args,
    env: { STALLWATCH_OTEL_SETUP: setup, OTEL_RECORDS_FILE: records },
    timeoutMs: 20000,
    waitFor: () => fs.existsSync(records) && fs.readFileSync(records, 'utf8').includes('\n'),
  });
  assert.ok(result.matched && result.aliveAtMatch, `exported while the main thread was still stuck: ${result.describe()}`);
  const lines = fs.readFileSync(records, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { result, exported: lines[0] };
}

test('a deadlocked main thread: stallwatch/otel-reporter exports the record through the app\'s setup module', { skip: NO_SDK }, async (t) => {
  const { result, exported } = await runDeadlockWithSetup(fixture('file-setup.js'));
  assertStallRecord(exported.record, deadlockFn);
  assert.equal(exported.record.attributes['stallwatch.state'], 'atomics-wait');
  assert.equal(exported.record.scope.name, 'stallwatch');
  const started = parseFixtureOutput(result.stdout).notes.find((n) => n.stallStartedAt)?.stallStartedAt;
  if (started) t.diagnostic(`stall start to record exported (threshold 200 ms): ${exported.exportedAt - started} ms`);
});

test('an ES module setup (export default async function) works too', { skip: NO_SDK }, async () => {
  const { exported } = await runDeadlockWithSetup(fixture('file-setup.mjs'));
  assertStallRecord(exported.record, deadlockFn);
});

test('abortAfterMs: the process aborts only after a slow exporter has the record', { skip: NO_SDK }, async () => {
  const records = path.join(tmp(), 'records.jsonl');
  const result = await runFixture(fixture('deadlock.js'), {
    env: { STALLWATCH_OTEL_SETUP: fixture('file-setup.js'), OTEL_RECORDS_FILE: records, OTEL_EXPORT_DELAY_MS: 1500, FIXTURE_ABORT_AFTER_MS: 700, NODE_OPTIONS: undefined },
    wrap: ['sh', '-c', 'ulimit -c 0; exec "$@"', 'sh'], // no core file in the repository
    timeoutMs: 20000,
  });
  assert.equal(result.signal, 'SIGABRT', result.describe());
  assert.ok(fs.existsSync(records), `the record was exported before the abort: ${result.describe()}`);
  const exported = JSON.parse(fs.readFileSync(records, 'utf8').trim().split('\n')[0]);
  assertStallRecord(exported.record, deadlockFn);
  const started = parseFixtureOutput(result.stdout).notes.find((n) => n.stallStartedAt)?.stallStartedAt;
  assert.ok(exported.exportedAt - started >= 1500, `exported ${exported.exportedAt - started} ms into the stall, after the 700 ms abort deadline`);
});

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
test('the reporter is found by its package name, stallwatch/otel-reporter', {
  skip: NO_SDK || (pkg.exports?.['./otel-reporter'] ? false : 'package.json has no "./otel-reporter" export yet'),
}, async () => {
  const { exported } = await runDeadlockWithSetup(fixture('file-setup.js'), ['stallwatch/otel-reporter']);
  assertStallRecord(exported.record, deadlockFn);
});

const hasOtlpHttp = canResolve('@opentelemetry/exporter-logs-otlp-http');
test('OTEL_EXPORTER_OTLP_ENDPOINT: the record goes to a collector over OTLP/HTTP while the thread is stuck', {
  skip: NO_SDK || (hasOtlpHttp ? false : '@opentelemetry/exporter-logs-otlp-http is not installed'),
}, async () => {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      requests.push({ url: req.url, type: req.headers['content-type'], body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const result = await runFixture(fixture('deadlock.js'), {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.address().port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'stallwatch-otlp-test',
      },
      timeoutMs: 20000,
      waitFor: () => requests.length > 0,
    });
    assert.ok(result.matched && result.aliveAtMatch, `sent while the main thread was still stuck: ${result.describe()}`);
  } finally {
    server.close();
  }
  const [request] = requests;
  assert.equal(request.url, '/v1/logs');
  assert.match(request.type, /json/);
  const { resourceLogs: [resourceLogs] } = JSON.parse(request.body);
  const resource = Object.fromEntries(resourceLogs.resource.attributes.map(({ key, value }) => [key, value]));
  assert.deepEqual(resource['service.name'], { stringValue: 'stallwatch-otlp-test' });
  const [scopeLogs] = resourceLogs.scopeLogs;
  assert.equal(scopeLogs.scope.name, 'stallwatch');
  const [logRecord] = scopeLogs.logRecords;
  // OTLP/JSON attributes ({key, value: {stringValue | intValue | doubleValue}}) as plain values.
  const value = (v) => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue);
  const record = {
    severityNumber: logRecord.severityNumber,
    severityText: logRecord.severityText,
    eventName: logRecord.eventName,
    body: logRecord.body.stringValue,
    attributes: Object.fromEntries(logRecord.attributes.map(({ key, value: v }) => [key, value(v)])),
  };
  assertStallRecord(record, deadlockFn);
});

test('nothing configured: the reporter says so when it starts, and each report still reaches stderr', async () => {
  const result = await runFixture(fixture('deadlock.js'), {
    env: { STALLWATCH_OTEL_SETUP: undefined, OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: undefined },
    timeoutMs: 20000,
    waitFor: (s) => /failed on this report/.test(s.stderr) && /--> at waitForNotify/.test(s.stderr),
  });
  assert.ok(result.matched && result.aliveAtMatch, result.describe());
  assert.match(result.stderr, /OpenTelemetry reporter setup failed; each stall report it receives will be written to stderr instead: Error: stallwatch\/otel-reporter: no OpenTelemetry exporter is configured/);
  assert.ok(result.stderr.indexOf('setup failed') < result.stderr.indexOf('failed on this report'), 'said at start, before the stall');
});
