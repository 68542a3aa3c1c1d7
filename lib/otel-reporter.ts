/**
 * stallwatch/otel-reporter: a ready-made reporter module that sends each stall to OpenTelemetry
 * from stallwatch's reporter worker, while the stalled thread is still stuck (even forever):
 *
 *     supervise({ reporter: 'stallwatch/otel-reporter' })
 *
 * The worker cannot use the application's LoggerProvider (that lives on the stalled thread), so
 * it builds its own, once, when it loads this module. Configuration, from the environment (the
 * worker gets a copy of process.env when supervise() is called):
 *
 *  1. STALLWATCH_OTEL_SETUP=<module>: the application's setup module (a path, absolute or
 *     relative to the working directory; CommonJS or ESM) exporting a function that returns a
 *     LoggerProvider (or a promise of one), or a LoggerProvider itself.
 *  2. Otherwise, when OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set:
 *     an @opentelemetry/sdk-logs LoggerProvider with a BatchLogRecordProcessor and the OTLP
 *     log exporter for OTEL_EXPORTER_OTLP_LOGS_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL
 *     (`http/json`: @opentelemetry/exporter-logs-otlp-http, `http/protobuf`: …-otlp-proto,
 *     `grpc`: …-otlp-grpc; when neither is set, the first of those installed), configured by the
 *     exporter itself from the standard OTEL_EXPORTER_OTLP_* variables; resource from
 *     OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES and the host.
 *  3. Otherwise nothing is configured: that is said on stderr when the worker starts, and each
 *     report is written to stderr.
 *
 * STALLWATCH_OTEL_FLUSH_TIMEOUT_MS (default 5000): how long each record's forceFlush() may take.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createRequire } from 'module';
import { pathToFileURL } from 'url';
import {
  createOtelReporter,
  loadOptionalPackage,
  resolveOptionalPackage,
  searchDirectories,
  type OtelLoggerProvider,
} from './otel';

const OTLP_EXPORTERS: Record<string, string> = {
  'http/json': '@opentelemetry/exporter-logs-otlp-http',
  'http/protobuf': '@opentelemetry/exporter-logs-otlp-proto',
  grpc: '@opentelemetry/exporter-logs-otlp-grpc',
};

/** An error in the configuration: its message says everything, a stack would only repeat it. */
function configError<E extends Error>(error: E): E {
  error.stack = `${error.name}: ${error.message}`;
  return error;
}

function writeStderr(text: string): void {
  try {
    fs.writeSync(2, text);
  } catch {
    // nowhere left to say it
  }
}

// tsc compiles import() to require() for CommonJS output; this keeps a real dynamic import, for
// ESM setup modules on Node versions whose require() cannot load them.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

async function providerFromEnvironment(): Promise<OtelLoggerProvider> {
  const setupModule = process.env.STALLWATCH_OTEL_SETUP;
  if (setupModule) return providerFromSetupModule(path.resolve(setupModule));
  if (process.env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return otlpProvider();
  throw configError(
    new Error(
      'stallwatch/otel-reporter: no OpenTelemetry exporter is configured: set STALLWATCH_OTEL_SETUP to a module ' +
        'exporting () => LoggerProvider, or OTEL_EXPORTER_OTLP_ENDPOINT with @opentelemetry/sdk-logs and ' +
        '@opentelemetry/exporter-logs-otlp-http installed (docs/opentelemetry.md)',
    ),
  );
}

async function providerFromSetupModule(file: string): Promise<OtelLoggerProvider> {
  let loaded: unknown;
  try {
    loaded = require(file);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_REQUIRE_ESM') {
      throw new Error(`stallwatch/otel-reporter: cannot load STALLWATCH_OTEL_SETUP module ${file}: ${String(error)}`, { cause: error });
    }
    loaded = await importModule(pathToFileURL(file).href);
  }
  const isProvider = (value: unknown): boolean =>
    typeof value === 'object' && value !== null && typeof (value as { getLogger?: unknown }).getLogger === 'function';
  const exported = (loaded as { default?: unknown } | null)?.default;
  for (const candidate of [loaded, exported]) {
    if (typeof candidate === 'function') return (await (candidate as () => unknown)()) as OtelLoggerProvider;
    if (isProvider(candidate)) return candidate as OtelLoggerProvider;
  }
  throw configError(
    new TypeError(
      `stallwatch/otel-reporter: STALLWATCH_OTEL_SETUP module ${file} must export a function returning a LoggerProvider ` +
        '(module.exports or export default), or a LoggerProvider',
    ),
  );
}

// The parts of @opentelemetry/sdk-logs, the exporters and @opentelemetry/resources used here.
interface ExportResult {
  code: number;
  error?: Error;
}
interface LogRecordExporter {
  export(records: Array<{ body?: unknown }>, done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}
interface SdkLogs {
  LoggerProvider: new (config: { resource?: unknown; processors: unknown[] }) => OtelLoggerProvider;
  BatchLogRecordProcessor: new (options: unknown) => unknown;
}
interface Resource {
  merge(other: Resource | null): Resource;
}
interface Resources {
  defaultResource?: () => Resource;
  detectResources?: (config: { detectors: unknown[] }) => Resource;
  envDetector?: unknown;
  hostDetector?: unknown;
}

function otlpProvider(): OtelLoggerProvider {
  const protocol = (process.env.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL || process.env.OTEL_EXPORTER_OTLP_PROTOCOL || '').trim();
  let candidates: string[];
  if (protocol === '') {
    candidates = Object.values(OTLP_EXPORTERS);
  } else {
    const exporter = OTLP_EXPORTERS[protocol];
    if (exporter === undefined) {
      throw configError(
        new RangeError(
          `stallwatch/otel-reporter: OTLP protocol ${JSON.stringify(protocol)} is not one of ${Object.keys(OTLP_EXPORTERS).join(', ')}`,
        ),
      );
    }
    candidates = [exporter];
  }
  const dirs = searchDirectories();
  let exporterFile: string | undefined;
  const exporterName = candidates.find((name) => (exporterFile = resolveOptionalPackage(name, dirs)) !== undefined);
  if (exporterName === undefined || exporterFile === undefined) {
    const error = new Error(
      `stallwatch/otel-reporter: OTEL_EXPORTER_OTLP_ENDPOINT is set but no OTLP log exporter is installed ` +
        `(looked for ${candidates.join(', ')} from ${dirs.join(', ')}). Install one: npm install ${candidates[0]} @opentelemetry/sdk-logs`,
    ) as Error & { code: string };
    error.code = 'MODULE_NOT_FOUND';
    throw configError(error);
  }
  const sdk = loadOptionalPackage<SdkLogs>(
    '@opentelemetry/sdk-logs',
    'stallwatch/otel-reporter with OTEL_EXPORTER_OTLP_ENDPOINT',
    'Install it: npm install @opentelemetry/sdk-logs',
  );
  const { OTLPLogExporter } = require(exporterFile) as { OTLPLogExporter: new () => LogRecordExporter };
  const exporter = reportingFailures(new OTLPLogExporter());
  // A batch processor, whose forceFlush() waits until the export is done (a simple processor's
  // does not wait for an export in flight). Records are sent by the flush after each one, not
  // on a timer. The argument fits both signatures: ({ exporter, ...config }) in recent SDKs,
  // (exporter, config?) in older ones.
  const processor = new sdk.BatchLogRecordProcessor({ ...exporter, exporter, scheduledDelayMillis: 1000 });
  return new sdk.LoggerProvider({ resource: resource(resolveOptionalPackage('@opentelemetry/sdk-logs', dirs)), processors: [processor] });
}

/** The SDK's default resource, plus what the environment (OTEL_SERVICE_NAME,
 *  OTEL_RESOURCE_ATTRIBUTES) and the host say. Not the process detector: in this worker it would
 *  describe the worker's script as the process's command. */
function resource(sdkFile: string | undefined): Resource | undefined {
  if (sdkFile === undefined) return undefined;
  try {
    // @opentelemetry/resources is the SDK's own dependency: resolve it from there.
    const resources = createRequire(sdkFile)('@opentelemetry/resources') as Resources;
    if (!resources.defaultResource || !resources.detectResources) return undefined;
    const detectors = [resources.envDetector, resources.hostDetector].filter(Boolean);
    return resources.defaultResource().merge(resources.detectResources({ detectors }));
  } catch {
    return undefined; // the SDK's default resource
  }
}

// The SDK reports failed exports to its global error handler, silent by default: a stall that
// did not reach the collector is said on stderr instead.
function reportingFailures(exporter: LogRecordExporter): LogRecordExporter {
  return {
    export(records, done) {
      exporter.export(records, (result) => {
        if (result.code !== 0) {
          writeStderr(
            `stallwatch/otel-reporter: OTLP export failed (${result.error?.message ?? 'unknown error'}): ${records
              .map((record) => String(record.body))
              .join('; ')}\n`,
          );
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => (exporter.forceFlush ? exporter.forceFlush() : Promise.resolve()),
  };
}

function flushTimeoutMs(): number | undefined {
  const text = process.env.STALLWATCH_OTEL_FLUSH_TIMEOUT_MS;
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`stallwatch/otel-reporter: STALLWATCH_OTEL_FLUSH_TIMEOUT_MS must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

export = createOtelReporter(providerFromEnvironment, { flushTimeoutMs: flushTimeoutMs() });
