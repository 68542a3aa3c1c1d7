/**
 * OpenTelemetry logs: each stall as one log record that follows the OpenTelemetry semantic
 * conventions (`code.*`, `thread.*`), plus `stallwatch.*` attributes. See docs/opentelemetry.md.
 *
 * The @opentelemetry packages are optional peer dependencies: nothing here loads them until an
 * OpenTelemetry function is called, and only @opentelemetry/api-logs, only when no
 * `loggerProvider` is passed. No type of theirs appears in this module's declarations either
 * (the structural types below accept the SDK's), so compiling against stallwatch never needs
 * them.
 *
 *  - otelListener() / emitToOpenTelemetry(): in-process, through the application's global
 *    LoggerProvider; for `sv.on('blocked', ...)`, which runs once the stalled thread's loop
 *    runs again.
 *  - createOtelReporter(): a reporter module's handler (`supervise({ reporter })`) with its own
 *    LoggerProvider, which emits and force-flushes while the stalled thread is still stuck
 *    (lib/otel-reporter.ts is the ready-made one).
 */
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import type { BlockReport, Frame } from './report';

/** An attribute value: what OpenTelemetry accepts for a log record attribute. */
export type OtelAttributeValue = string | number | boolean | Array<string | number | boolean>;
export type OtelAttributes = Record<string, OtelAttributeValue>;

/** The record stallwatch emits: a subset of @opentelemetry/api-logs' `LogRecord`. */
export interface OtelLogRecord {
  /** `stallwatch.blocked`. */
  eventName: string;
  /** When the stack was captured (the report's `capturedAt`), epoch milliseconds. */
  timestamp: number;
  /** When the record was built, epoch milliseconds. */
  observedTimestamp: number;
  /** 13 (`SeverityNumber.WARN`). */
  severityNumber: number;
  severityText: string;
  /** One sentence: which thread, how long, where. */
  body: string;
  attributes: OtelAttributes;
}

/** What stallwatch needs of an OpenTelemetry Logger (the SDK's and the API's loggers qualify). */
export interface OtelLogger {
  emit(record: OtelLogRecord): void;
}

/** What stallwatch needs of a LoggerProvider (@opentelemetry/sdk-logs' LoggerProvider qualifies). */
export interface OtelLoggerProvider {
  getLogger(name: string, version?: string): OtelLogger;
  /** Called by createOtelReporter() after each record, when present. */
  forceFlush?(): Promise<unknown>;
}

export interface OtelOptions {
  /** The provider to log through. Default: the global one (`logs.getLoggerProvider()` of
   *  @opentelemetry/api-logs, which must then be installed). */
  loggerProvider?: OtelLoggerProvider;
  /** Extra attributes for every record; they override stallwatch's own of the same name. */
  attributes?: OtelAttributes;
  /** At most this many frames in `code.stacktrace` (then a `... N more frames` line). Default 128. */
  maxStackFrames?: number;
}

export interface OtelReporterOptions {
  /** Extra attributes for every record; they override stallwatch's own of the same name. */
  attributes?: OtelAttributes;
  /** At most this many frames in `code.stacktrace`. Default 128. */
  maxStackFrames?: number;
  /** How long to wait for forceFlush() before giving up on a record (the report then goes to
   *  stderr). Default 5000, as long as abortAfterMs waits for a reporter module. */
  flushTimeoutMs?: number;
}

/** The instrumentation scope name of stallwatch's logger. */
export const OTEL_LOGGER_NAME = 'stallwatch';
/** The record's event name. */
export const OTEL_EVENT_NAME = 'stallwatch.blocked';
const SEVERITY_WARN = 13; // SeverityNumber.WARN in @opentelemetry/api-logs
const DEFAULT_MAX_STACK_FRAMES = 128;
const DEFAULT_FLUSH_TIMEOUT_MS = 5000;

// ---- The record ------------------------------------------------------------------------------

/**
 * The log record for a report (pure: loads nothing, emits nothing). Attributes, each present
 * only when known: code.function.name, code.file.path, code.line.number, code.column.number
 * (of the culprit frame), code.stacktrace, thread.id, thread.name, process.pid,
 * stallwatch.blocked_ms, stallwatch.state, stallwatch.tid, stallwatch.culprit.kind,
 * stallwatch.culprit.module, stallwatch.frames, stallwatch.partial, stallwatch.suppressed.
 */
export function otelLogRecord(report: BlockReport, options?: Omit<OtelOptions, 'loggerProvider'>): OtelLogRecord {
  checkReport(report, 'otelLogRecord');
  const resolved = resolveRecordOptions(options, 'otelLogRecord');
  return buildRecord(report, resolved);
}

interface RecordOptions {
  attributes: OtelAttributes | undefined;
  maxStackFrames: number;
}

function buildRecord(report: BlockReport, options: RecordOptions): OtelLogRecord {
  const frames = report.frames;
  const culprit = findCulprit(frames);
  const attributes: OtelAttributes = {};
  if (culprit !== undefined) {
    if (culprit.name !== '') attributes['code.function.name'] = culprit.name;
    if (culprit.file !== undefined && culprit.file !== '') attributes['code.file.path'] = filePath(culprit.file);
    if (culprit.line !== undefined) attributes['code.line.number'] = culprit.line;
    if (culprit.column !== undefined) attributes['code.column.number'] = culprit.column;
  }
  attributes['code.stacktrace'] = renderStack(frames, options.maxStackFrames);
  attributes['thread.id'] = report.threadId;
  const threadName = report.threadName ? report.threadName : report.threadId === 0 ? 'main' : undefined;
  if (threadName !== undefined) attributes['thread.name'] = threadName;
  attributes['process.pid'] = report.pid;
  attributes['stallwatch.blocked_ms'] = report.blockedMs;
  attributes['stallwatch.state'] = report.state;
  attributes['stallwatch.tid'] = report.tid;
  if (culprit !== undefined) {
    attributes['stallwatch.culprit.kind'] = culprit.kind;
    if (culprit.kind === 'native' && culprit.module) attributes['stallwatch.culprit.module'] = culprit.module;
  }
  attributes['stallwatch.frames'] = frames.length;
  if (report.partial) attributes['stallwatch.partial'] = report.partial;
  if (report.suppressed) attributes['stallwatch.suppressed'] = report.suppressed;
  if (options.attributes) Object.assign(attributes, options.attributes);

  const where = culprit === undefined ? `, state ${report.state}` : ` in ${frameText(culprit)}`;
  return {
    eventName: OTEL_EVENT_NAME,
    timestamp: report.capturedAt,
    observedTimestamp: Date.now(),
    severityNumber: SEVERITY_WARN,
    severityText: 'WARN',
    body: `Event loop of ${threadLabel(report)} blocked for ${Math.round(report.blockedMs)} ms${where}`,
    attributes,
  };
}

function threadLabel(report: BlockReport): string {
  if (report.threadId === 0) return 'the main thread';
  return `worker ${report.threadId}${report.threadName ? ` ${JSON.stringify(report.threadName)}` : ''}`;
}

// `file:` URLs (ES modules) as paths: code.file.path is a path where there is one.
function filePath(file: string): string {
  if (!file.startsWith('file:')) return file;
  try {
    return fileURLToPath(file);
  } catch {
    return file;
  }
}

// ---- The culprit (docs/log-format.md, "The culprit"; native/report_format.cc OriginOf) --------

/**
 * The innermost frame of the application's own code, dependencies and addons included, as the
 * text log marks it with `-->`: a JS frame of a script that is not node's (`node:`, `internal/`)
 * nor stallwatch's, or a native frame of a module that is neither the node executable nor a
 * system library. V8 frames never are.
 */
export function findCulprit(frames: readonly Frame[]): Frame | undefined {
  return frames.find(isApplicationFrame);
}

function isApplicationFrame(frame: Frame): boolean {
  if (frame.kind === 'js') {
    const file = frame.file;
    if (file === undefined || file === '') return false;
    if (file.startsWith('node:') || file.startsWith('internal/')) return false;
    return !isStallwatchScript(file);
  }
  if (frame.kind === 'native') {
    const module = frame.module;
    if (module === undefined || module === '') return false;
    return !isNodeExecutable(module) && !isSystemLibrary(module);
  }
  return false;
}

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

function isStallwatchScript(file: string): boolean {
  if (file.includes('/node_modules/stallwatch/')) return true;
  const plain = file.startsWith('file://') ? file.slice('file://'.length) : file;
  return plain.startsWith(`${PACKAGE_ROOT}/dist/`) || plain.startsWith(`${PACKAGE_ROOT}/lib/`);
}

let executable: string | undefined;

function isNodeExecutable(module: string): boolean {
  const base = path.posix.basename(module);
  if (base === 'node' || base.startsWith('libnode.')) return true;
  if (executable === undefined) {
    try {
      executable = fs.realpathSync(process.execPath);
    } catch {
      executable = process.execPath;
    }
  }
  return module === executable || module === process.execPath;
}

const SYSTEM_LIBRARY_PREFIXES = ['libc.', 'libstdc++', 'libpthread', 'ld-linux', 'libm.', 'libunwind', 'linux-vdso'];
const SYSTEM_DIRECTORIES = ['/lib/', '/lib64/', '/usr/lib/', '/usr/lib64/', '/System/'];

function isSystemLibrary(module: string): boolean {
  const base = path.posix.basename(module);
  if (SYSTEM_LIBRARY_PREFIXES.some((prefix) => base.startsWith(prefix))) return true;
  if (module.includes('/node_modules/')) return false; // global npm installs: /usr/lib/node_modules
  return SYSTEM_DIRECTORIES.some((dir) => module.startsWith(dir));
}

// ---- code.stacktrace -------------------------------------------------------------------------

/**
 * The frames as the text log writes them (docs/log-format.md), innermost first, one
 * `    at ...` line each, without the culprit mark and without folding.
 */
function renderStack(frames: readonly Frame[], maxFrames: number): string {
  if (frames.length === 0) return '    (no frames captured)';
  const lines = frames.slice(0, maxFrames).map((frame) => `    at ${frameText(frame)}`);
  const left = frames.length - maxFrames;
  if (left > 0) lines.push(`    ... ${left} more frame${left === 1 ? '' : 's'}`);
  return lines.join('\n');
}

function frameText(frame: Frame): string {
  switch (frame.kind) {
    case 'js': {
      const name = frame.name !== '' ? escape(frame.name) : '(anonymous)';
      if (frame.file === undefined || frame.file === '') return name;
      const file = escape(frame.file);
      if (frame.line !== undefined) {
        return `${name} (${file}:${frame.line}${frame.column !== undefined ? `:${frame.column}` : ''})`;
      }
      if (frame.functionLine !== undefined) return `${name} (${file}, defined at line ${frame.functionLine})`;
      return `${name} (${file})`;
    }
    case 'native': {
      const module = frame.module ? escape(frame.module) : 'unknown module';
      const source = frame.file ? `, ${escape(frame.file)}${frame.line !== undefined ? `:${frame.line}` : ''}` : '';
      return `${nativeName(frame)} (${module}${source})`;
    }
    default:
      return `${nativeName(frame)} [v8]`;
  }
}

function nativeName(frame: Frame): string {
  if (frame.name !== '') return escape(frame.name);
  return frame.address ? frame.address : '??';
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f' };

// As the text log does: a name or path never breaks a line.
function escape(text: string): string {
  return text.replace(
    CONTROL_CHARACTERS,
    (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// ---- Options ---------------------------------------------------------------------------------

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function checkOptionsBag(options: unknown, fn: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`stallwatch: ${fn}() options must be an object, got ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

function resolveRecordOptions(options: unknown, fn: string): RecordOptions {
  const bag = checkOptionsBag(options, fn);
  const attributes = bag.attributes;
  if (attributes !== undefined && (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes))) {
    throw new TypeError(`stallwatch: ${fn}() option "attributes" must be an object, got ${describe(attributes)}`);
  }
  return {
    attributes: attributes as OtelAttributes | undefined,
    maxStackFrames: positiveInteger(bag.maxStackFrames, 'maxStackFrames', fn, DEFAULT_MAX_STACK_FRAMES),
  };
}

function positiveInteger(value: unknown, name: string, fn: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') {
    throw new TypeError(`stallwatch: ${fn}() option "${name}" must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw new RangeError(`stallwatch: ${fn}() option "${name}" must be an integer from 1 to 1000000, got ${value}`);
  }
  return value;
}

function checkProvider(provider: unknown, what: string): OtelLoggerProvider {
  if (typeof provider !== 'object' || provider === null || typeof (provider as { getLogger?: unknown }).getLogger !== 'function') {
    throw new TypeError(`stallwatch: ${what} must be an OpenTelemetry LoggerProvider (an object with getLogger()), got ${describe(provider)}`);
  }
  return provider as OtelLoggerProvider;
}

function checkReport(report: unknown, fn: string): void {
  if (typeof report !== 'object' || report === null || !Array.isArray((report as { frames?: unknown }).frames)) {
    throw new TypeError(`stallwatch: ${fn}() expects a BlockReport (an object with a "frames" array), got ${describe(report)}`);
  }
}

// ---- Loading @opentelemetry packages ---------------------------------------------------------

/** Finds a package's entry file from some directories; undefined when it is not installed. */
export type PackageResolver = (name: string, fromDirectories: readonly string[]) => string | undefined;

/** Where optional packages are looked for: from stallwatch (where npm puts peer dependencies),
 *  then from the application's main script and the working directory (other layouts). */
export function searchDirectories(): string[] {
  const dirs = [__dirname];
  const main = require.main?.filename ?? (path.isAbsolute(process.argv[1] ?? '') ? process.argv[1] : undefined);
  if (main) dirs.push(path.dirname(main));
  dirs.push(process.cwd());
  return [...new Set(dirs)];
}

/** Resolves a package from each directory in turn, as require() would from a file there. */
export const resolveOptionalPackage: PackageResolver = (name, fromDirectories) => {
  for (const dir of fromDirectories) {
    try {
      return require.resolve(name, { paths: [dir] });
    } catch {
      // not from here
    }
  }
  return undefined;
};

/**
 * Loads an optional package, or throws an Error that says what is missing and how to install it.
 * `resolver` is for tests. A package that is found but fails to load throws its own error.
 */
export function loadOptionalPackage<T>(name: string, why: string, install: string, resolver: PackageResolver = resolveOptionalPackage): T {
  const dirs = searchDirectories();
  const file = resolver(name, dirs);
  if (file === undefined) {
    const error = new Error(
      `stallwatch: ${why} needs the package ${name}, which is not installed (looked from ${dirs.join(', ')}). ${install}`,
    ) as Error & { code: string };
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return require(file) as T;
}

interface ApiLogsModule {
  logs: { getLogger(name: string, version?: string): OtelLogger };
}

let apiLogs: ApiLogsModule | undefined;

/** @opentelemetry/api-logs, loaded on first use. `resolver` is for tests (then nothing is cached). */
export function loadApiLogs(resolver?: PackageResolver): ApiLogsModule {
  if (resolver === undefined && apiLogs !== undefined) return apiLogs;
  const loaded = loadOptionalPackage<ApiLogsModule>(
    '@opentelemetry/api-logs',
    'OpenTelemetry support (otelListener, emitToOpenTelemetry)',
    'Install it with an OpenTelemetry SDK that registers a global LoggerProvider ' +
      '(npm install @opentelemetry/api-logs @opentelemetry/sdk-logs), or pass options.loggerProvider.',
    resolver,
  );
  if (typeof loaded?.logs?.getLogger !== 'function') {
    throw new Error('stallwatch: @opentelemetry/api-logs has no logs.getLogger(): an unsupported version');
  }
  if (resolver === undefined) apiLogs = loaded;
  return loaded;
}

let packageVersion: string | undefined;

/** stallwatch's version: the instrumentation scope version. */
export function stallwatchVersion(): string {
  if (packageVersion === undefined) {
    try {
      packageVersion = String(
        (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown }).version,
      );
    } catch {
      packageVersion = 'unknown';
    }
  }
  return packageVersion;
}

function loggerFrom(provider: OtelLoggerProvider | undefined): OtelLogger {
  const logger =
    provider === undefined
      ? loadApiLogs().logs.getLogger(OTEL_LOGGER_NAME, stallwatchVersion())
      : provider.getLogger(OTEL_LOGGER_NAME, stallwatchVersion());
  if (typeof logger?.emit !== 'function') {
    throw new TypeError('stallwatch: the LoggerProvider returned a logger without emit()');
  }
  return logger;
}

// ---- In-process ------------------------------------------------------------------------------

/**
 * A 'blocked' listener that emits each report as an OpenTelemetry log record:
 * `supervise().on('blocked', otelListener())`. The logger is taken now, from
 * `options.loggerProvider` or else the global provider (a provider registered later is used as
 * well: the API's logger delegates to it). Throws now when @opentelemetry/api-logs is needed
 * and not installed.
 */
export function otelListener(options?: OtelOptions): (report: BlockReport) => void {
  const bag = checkOptionsBag(options, 'otelListener');
  const recordOptions = resolveRecordOptions(bag, 'otelListener');
  const provider = bag.loggerProvider === undefined ? undefined : checkProvider(bag.loggerProvider, 'otelListener() option "loggerProvider"');
  const logger = loggerFrom(provider);
  return function stallwatchOtelListener(report: BlockReport): void {
    checkReport(report, 'otelListener');
    logger.emit(buildRecord(report, recordOptions));
  };
}

/** Emits one report as an OpenTelemetry log record (see otelListener()). */
export function emitToOpenTelemetry(report: BlockReport, options?: OtelOptions): void {
  checkReport(report, 'emitToOpenTelemetry');
  const bag = checkOptionsBag(options, 'emitToOpenTelemetry');
  const recordOptions = resolveRecordOptions(bag, 'emitToOpenTelemetry');
  const provider =
    bag.loggerProvider === undefined ? undefined : checkProvider(bag.loggerProvider, 'emitToOpenTelemetry() option "loggerProvider"');
  loggerFrom(provider).emit(buildRecord(report, recordOptions));
}

// ---- Reporter modules ------------------------------------------------------------------------

// A reporter worker's process.stderr is piped through the main thread, which may be the stuck
// one: write to the file descriptor.
function writeStderr(text: string): void {
  try {
    fs.writeSync(2, text);
  } catch {
    // nowhere left to say it
  }
}

/**
 * The handler of a reporter module (`supervise({ reporter })`) that sends each report to
 * OpenTelemetry through its own LoggerProvider, in the reporter worker:
 *
 *     // otel-stalls.js
 *     module.exports = require('stallwatch').createOtelReporter(() => new LoggerProvider({ ... }));
 *
 * `setup` runs right after the module is loaded (once the worker listens for reports), and may
 * return a promise. Each report is emitted, then the provider is force-flushed, and the
 * returned promise settles when that is done (so the record is out before an abortAfterMs
 * abort); reports are handled one at a time. Use a BatchLogRecordProcessor: a
 * SimpleLogRecordProcessor's forceFlush() does not wait for an export in flight. If setup
 * failed, or the flush fails or times out, the promise rejects: the worker writes the report
 * to stderr with the error. A setup failure is also written to stderr right away.
 */
export function createOtelReporter(
  setup: () => OtelLoggerProvider | Promise<OtelLoggerProvider>,
  options?: OtelReporterOptions,
): (report: BlockReport) => Promise<void> {
  if (typeof setup !== 'function') {
    throw new TypeError(`stallwatch: createOtelReporter() expects a function returning a LoggerProvider, got ${describe(setup)}`);
  }
  const bag = checkOptionsBag(options, 'createOtelReporter');
  const recordOptions = resolveRecordOptions(bag, 'createOtelReporter');
  const flushTimeoutMs = positiveInteger(bag.flushTimeoutMs, 'flushTimeoutMs', 'createOtelReporter', DEFAULT_FLUSH_TIMEOUT_MS);

  // Setup starts after the current task: loading the SDK and an exporter can take hundreds of
  // milliseconds, and the reporter worker subscribes to reports only once this module is
  // loaded; a report that comes during setup waits for it instead of being missed.
  const ready = new Promise<void>((resolve) => setImmediate(resolve))
    .then(setup)
    .then((provider) => {
      const checked = checkProvider(provider, 'the OpenTelemetry setup function\'s result');
      return { provider: checked, logger: loggerFrom(checked) };
    });
  ready.catch((error: unknown) => {
    writeStderr(
      `stallwatch: OpenTelemetry reporter setup failed; each stall report it receives will be written to stderr instead: ${
        (error as Error)?.stack ?? String(error)
      }\n`,
    );
  });

  // One report at a time: a flush that starts while another is running may return before its
  // own record is out (the SDK's batch processor does), and reports of several threads can
  // arrive together.
  let queue: Promise<unknown> = Promise.resolve();
  return function stallwatchOtelReporter(report: BlockReport): Promise<void> {
    const run = queue.then(async () => {
      checkReport(report, 'createOtelReporter handler');
      const { provider, logger } = await ready;
      logger.emit(buildRecord(report, recordOptions));
      if (typeof provider.forceFlush === 'function') await withTimeout(provider.forceFlush(), flushTimeoutMs);
    });
    queue = run.catch(() => undefined);
    return run;
  };
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`stallwatch: the OpenTelemetry LoggerProvider did not flush within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([Promise.resolve(promise), timeout]).then(
    () => clearTimeout(timer),
    (error: unknown) => {
      clearTimeout(timer);
      throw error;
    },
  );
}
