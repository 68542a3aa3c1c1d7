'use strict';
// An application's OpenTelemetry setup module for stallwatch/otel-reporter
// (STALLWATCH_OTEL_SETUP): an SDK LoggerProvider whose exporter appends each record as a JSON
// line to $OTEL_RECORDS_FILE (an in-memory exporter would stay inside the reporter worker).
// A batch processor that would wait a minute on its own: only stallwatch's forceFlush() sends
// the record in time. OTEL_EXPORT_DELAY_MS: the exporter answers that much later (a slow
// collector).
const fs = require('fs');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { recordToJson } = require('./_records');

class FileLogRecordExporter {
  constructor(file) {
    this.file = file;
  }
  export(records, done) {
    const delay = Number(process.env.OTEL_EXPORT_DELAY_MS || 0);
    if (delay > 0) setTimeout(() => this.write(records, done), delay);
    else this.write(records, done);
  }
  write(records, done) {
    try {
      for (const record of records) {
        fs.appendFileSync(this.file, `${JSON.stringify({ exportedAt: Date.now(), record: recordToJson(record) })}\n`);
      }
      done({ code: 0 });
    } catch (error) {
      done({ code: 1, error });
    }
  }
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

module.exports = function setup() {
  return new LoggerProvider({
    processors: [
      new BatchLogRecordProcessor({
        exporter: new FileLogRecordExporter(process.env.OTEL_RECORDS_FILE),
        scheduledDelayMillis: 60000,
        exportTimeoutMillis: 10000,
      }),
    ],
  });
};
