'use strict';
// In-process OpenTelemetry: the application registers a global LoggerProvider (the real SDK, an
// in-memory exporter) and attaches otelListener(); stallHere() busy-loops from a timer. Once the
// loop runs again, prints the exported records (NOTE {records}) and the line range of stallHere
// (NOTE {fn}). A second listener logs through an explicit provider with extra attributes
// (NOTE {explicit}).
if (process.env.NODE_TEST_CONTEXT && !process.env.STALLWATCH_FIXTURE) process.exit(0);
const fs = require('fs');
const path = require('path');
const { logs } = require('@opentelemetry/api-logs');
const { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } = require('@opentelemetry/sdk-logs');
const { recordToJson } = require('./_records');
const ROOT = path.resolve(__dirname, '..', '..');
const { supervise, otelListener } = require(ROOT);

const say = (kind, value) => fs.writeSync(1, `${kind} ${JSON.stringify(value)}\n`);

const exporter = new InMemoryLogRecordExporter();
logs.setGlobalLoggerProvider(new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] }));
const explicitExporter = new InMemoryLogRecordExporter();
const explicitProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: explicitExporter })] });

const sv = supervise({ thresholdMs: 200, log: false });
sv.on('blocked', otelListener());
sv.on('blocked', otelListener({ loggerProvider: explicitProvider, attributes: { 'deployment.environment.name': 'test' } }));
sv.on('unblocked', () => {
  setTimeout(() => {
    say('NOTE', { records: exporter.getFinishedLogRecords().map(recordToJson) });
    say('NOTE', { explicit: explicitExporter.getFinishedLogRecords().map(recordToJson) });
    sv.close();
    fs.writeSync(1, 'DONE\n');
    process.exit(0);
  }, 100);
});

const source = fs.readFileSync(__filename, 'utf8').split('\n');
say('NOTE', {
  fn: {
    file: __filename,
    start: source.findIndex((l) => l.startsWith('function stallHere')) + 1,
    end: source.findIndex((l) => l.startsWith('} // end of stallHere')) + 1,
  },
});

function stallHere() {
  const end = Date.now() + 800;
  let x = 0;
  for (let i = 0; Date.now() < end; i++) x += Math.sqrt(i);
  return x;
} // end of stallHere

setTimeout(stallHere, 100);
