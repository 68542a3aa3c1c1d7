'use strict';
// Run with -r ./hide-otel.js: no @opentelemetry package resolves. Requiring stallwatch works;
// the OpenTelemetry helpers that need @opentelemetry/api-logs throw a clear error; those that do
// not (otelLogRecord, an explicit loggerProvider) still work. Prints NOTE lines, then DONE.
if (process.env.NODE_TEST_CONTEXT && !process.env.STALLWATCH_FIXTURE) process.exit(0);
const fs = require('fs');
const path = require('path');
const say = (kind, value) => fs.writeSync(1, value === undefined ? `${kind}\n` : `${kind} ${JSON.stringify(value)}\n`);

const stallwatch = require(path.resolve(__dirname, '..', '..'));
say('NOTE', { required: typeof stallwatch.supervise === 'function', hidden: !canResolve('@opentelemetry/api-logs') });

const report = {
  threadId: 0, tid: 1, pid: 1, blockedMs: 300, capturedAt: Date.now(), state: 'js',
  frames: [{ kind: 'js', name: 'work', file: '/app/work.js', line: 3, column: 5 }],
};
for (const [what, call] of [
  ['otelListener', () => stallwatch.otelListener()],
  ['emitToOpenTelemetry', () => stallwatch.emitToOpenTelemetry(report)],
]) {
  try {
    call();
    say('NOTE', { what, threw: false });
  } catch (error) {
    say('NOTE', { what, threw: true, name: error.name, code: error.code, message: error.message });
  }
}
say('NOTE', { record: stallwatch.otelLogRecord(report) });
const emitted = [];
stallwatch.otelListener({ loggerProvider: { getLogger: () => ({ emit: (record) => emitted.push(record) }) } })(report);
say('NOTE', { emitted });
say('DONE');

function canResolve(name) {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
