'use strict';
// Preload (node -r): makes every @opentelemetry/* package unresolvable, as in an application
// that does not use OpenTelemetry, without touching node_modules.
const Module = require('module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function hideOpenTelemetry(request, ...rest) {
  if (/^@opentelemetry\//.test(request)) {
    const error = new Error(`Cannot find module '${request}' (hidden by hide-otel.js)`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
