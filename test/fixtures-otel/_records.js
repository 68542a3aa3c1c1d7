'use strict';
// Shared by the OpenTelemetry fixtures: a log record exported by the SDK (a ReadableLogRecord),
// as plain JSON for the test to check.
function recordToJson(record) {
  return {
    hrTime: record.hrTime,
    severityNumber: record.severityNumber,
    severityText: record.severityText,
    body: record.body,
    eventName: record.eventName,
    attributes: record.attributes,
    scope: { name: record.instrumentationScope.name, version: record.instrumentationScope.version },
    resource: record.resource && record.resource.attributes,
  };
}

module.exports = { recordToJson };
