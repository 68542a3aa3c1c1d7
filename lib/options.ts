/**
 * Validation of supervise() options. resolveOptions() is pure (no addon, no I/O) so that every
 * rule can be unit-tested with a stub of the native capabilities.
 *
 * Convention: a value of the wrong type is a TypeError; a value of the right type that is out of
 * range or not one of the allowed values is a RangeError. Messages name the option and what is
 * allowed. `undefined` means "use the default", as with any JS options bag.
 */
import * as path from 'path';
import { describeValue, isPlainObject } from './describe-value';
import type { NativeConfig } from './native';
import { describeAllowedSignals, resolveSignalNumber, type SignalCapabilities } from './signals';

/** A log file. `maxBytes` turns on rotation: before a report would take the file past it, the
 *  file is renamed to `<path>.1` (older ones shift up to `<path>.<keep>`) and a new one begun. */
export interface LogFile {
  path: string;
  maxBytes?: number;
  keep?: number;
}
export type LogTarget = 'stderr' | LogFile | false;
export type LogFormat = 'text' | 'json';

export interface SuperviseOptions {
  /** How long the event loop may make no progress before it counts as blocked. Default 500. */
  thresholdMs?: number;
  /** Signal used to interrupt the stalled thread: 'SIGURG' (default), 'SIGUSR2', 'SIGPROF', or on
   *  Linux 'SIGRTMIN', 'SIGRTMIN+N', 'SIGRTMAX-N', 'SIGRTMAX'. */
  signal?: string;
  /** Where reports are logged: 'stderr' (default), a file (relative paths are resolved against
   *  process.cwd()), or false for no log. */
  log?: LogTarget;
  logFormat?: LogFormat;
  /** Frames kept per report. Default 128. */
  maxFrames?: number;
  /** Reports per minute for this thread; further stalls are counted in `suppressed`. Default 10. */
  maxReportsPerMinute?: number;
  /** Also monitor every worker thread started from this thread after this call (with these
   *  options), and deliver their reports to this handle too. Default false. */
  workers?: boolean;
  /** Keep sampling a stall every this many ms while it lasts; the 'unblocked' event then carries
   *  the aggregated stacks (`profile`). 0 (default) = off. Each sample costs the stuck thread a
   *  signal, so a thread in native code is sampled only once unless `sampleNative` is true. */
  sampleIntervalMs?: number;
  /** Also re-sample stalls in native code (each signal can cut a syscall short with EINTR). */
  sampleNative?: boolean;
  /** Worker threads: terminate a worker (V8 TerminateExecution) whose stall lasts this long, so its
   *  pool can replace it. Cannot stop a thread stuck in native code (reported as such). 0 = off. */
  terminateWorkerAfterMs?: number;
  /** Write the report, then abort() the process (a core dump) when a stall lasts this long. 0 = off. */
  abortAfterMs?: number;
  /** A module (resolved like require() from the calling file) exporting `(report) => void | Promise`.
   *  It runs in a worker thread stallwatch owns and gets every report at once, even while the
   *  stalled thread stays stuck. */
  reporter?: string;
  /** Blocked reports also carry the native stack of every thread of the process (`threads`),
   *  like a JVM thread dump: libuv's threadpool, V8's platform threads, other addons' threads.
   *  Costs each other thread a signal and a short freeze per report. Default false. */
  allThreads?: boolean;
  /** Report (event 'starved', and the log) a loop that stays parked this long with libuv requests
   *  in flight and no I/O event, e.g. threadpool work that never completes; the report carries
   *  every thread's stack. Needs Node 20+. 0 (default) = off. */
  starvationMs?: number;
}

export interface ResolvedOptions {
  readonly thresholdMs: number;
  readonly signal: string;
  /** The number `signal` names on this system. */
  readonly signalNumber: number;
  /** A file target's path is absolute. */
  readonly log: 'stderr' | Readonly<{ path: string; maxBytes: number; keep: number }> | false;
  readonly logFormat: LogFormat;
  readonly maxFrames: number;
  readonly maxReportsPerMinute: number;
  readonly workers: boolean;
  readonly sampleIntervalMs: number;
  readonly sampleNative: boolean;
  readonly terminateWorkerAfterMs: number;
  readonly abortAfterMs: number;
  /** As given; resolved to a file when the handle starts. */
  readonly reporter: string | undefined;
  readonly allThreads: boolean;
  readonly starvationMs: number;
}

interface IntegerRule {
  readonly min: number;
  readonly max: number;
  readonly fallback: number;
}

const INTEGER_OPTIONS = {
  thresholdMs: { min: 10, max: 3_600_000, fallback: 500 },
  maxFrames: { min: 1, max: 1024, fallback: 128 },
  maxReportsPerMinute: { min: 1, max: 10_000, fallback: 10 },
  sampleIntervalMs: { min: 0, max: 60_000, fallback: 0 },
  terminateWorkerAfterMs: { min: 0, max: 86_400_000, fallback: 0 },
  abortAfterMs: { min: 0, max: 86_400_000, fallback: 0 },
  starvationMs: { min: 0, max: 3_600_000, fallback: 0 },
} as const satisfies Record<string, IntegerRule>;

const KNOWN_KEYS: ReadonlySet<string> = new Set<keyof SuperviseOptions>([
  'thresholdMs',
  'signal',
  'log',
  'logFormat',
  'maxFrames',
  'maxReportsPerMinute',
  'workers',
  'sampleIntervalMs',
  'sampleNative',
  'terminateWorkerAfterMs',
  'abortAfterMs',
  'reporter',
  'allThreads',
  'starvationMs',
]);

const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
const LOG_ALLOWED = '"stderr", { path: string } or false';

/** Validates `input` and fills in defaults. Throws TypeError/RangeError on the first bad option. */
export function resolveOptions(
  input: unknown,
  capabilities: SignalCapabilities,
  cwd: string = process.cwd(),
): ResolvedOptions {
  if (input === undefined) input = {};
  if (!isPlainObject(input)) {
    throw new TypeError(`stallwatch: options must be a plain object or undefined, got ${describeValue(input)}`);
  }
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new TypeError(
        `stallwatch: unknown option ${describeValue(key)}; known options are ${[...KNOWN_KEYS].join(', ')}`,
      );
    }
  }
  const options = input as Record<keyof SuperviseOptions, unknown>;
  const signal = resolveSignal(options.signal, capabilities);
  return Object.freeze({
    thresholdMs: resolveInteger('thresholdMs', options.thresholdMs),
    signal: signal.name,
    signalNumber: signal.signalNumber,
    log: resolveLog(options.log, cwd),
    logFormat: resolveLogFormat(options.logFormat),
    maxFrames: resolveInteger('maxFrames', options.maxFrames),
    maxReportsPerMinute: resolveInteger('maxReportsPerMinute', options.maxReportsPerMinute),
    workers: resolveBoolean('workers', options.workers, false),
    sampleIntervalMs: resolveInteger('sampleIntervalMs', options.sampleIntervalMs),
    sampleNative: resolveBoolean('sampleNative', options.sampleNative, false),
    terminateWorkerAfterMs: resolveInteger('terminateWorkerAfterMs', options.terminateWorkerAfterMs),
    abortAfterMs: resolveInteger('abortAfterMs', options.abortAfterMs),
    reporter: resolveReporter(options.reporter),
    allThreads: resolveBoolean('allThreads', options.allThreads, false),
    starvationMs: resolveInteger('starvationMs', options.starvationMs),
  });
}

/** The addon's view of the options, for one subscription on one thread. */
export function toNativeConfig(
  options: ResolvedOptions,
  thread: { threadId: number; threadName: string },
): NativeConfig {
  return {
    thresholdMs: options.thresholdMs,
    signal: options.signalNumber,
    // Copied so the addon never holds (or could mutate) the frozen public object.
    log:
      options.log === false
        ? null
        : options.log === 'stderr'
          ? 'stderr'
          : { path: options.log.path, maxBytes: options.log.maxBytes, keep: options.log.keep },
    logFormat: options.logFormat,
    maxFrames: options.maxFrames,
    maxReportsPerMinute: options.maxReportsPerMinute,
    threadId: thread.threadId,
    threadName: thread.threadName,
    watchWorkers: options.workers,
    sampleIntervalMs: options.sampleIntervalMs,
    sampleNative: options.sampleNative,
    terminateWorkerAfterMs: options.terminateWorkerAfterMs,
    abortAfterMs: options.abortAfterMs,
    allThreads: options.allThreads,
    starvationMs: options.starvationMs,
  };
}

function resolveReporter(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const allowed = 'stallwatch: option "reporter" must be a non-empty module path';
  if (typeof value !== 'string') throw new TypeError(`${allowed}, got ${describeValue(value)}`);
  if (value === '' || value.includes('\0')) throw new RangeError(`${allowed}, got ${describeValue(value)}`);
  return value;
}

function resolveBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`stallwatch: option "${name}" must be true or false, got ${describeValue(value)}`);
  }
  return value;
}

function resolveInteger(name: keyof typeof INTEGER_OPTIONS, value: unknown): number {
  const { min, max, fallback } = INTEGER_OPTIONS[name];
  if (value === undefined) return fallback;
  const allowed = `stallwatch: option "${name}" must be an integer from ${min} to ${max}`;
  if (typeof value !== 'number') throw new TypeError(`${allowed}, got ${describeValue(value)}`);
  // NaN, Infinity and fractions are numbers, so they are range errors, not type errors.
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${allowed}, got ${describeValue(value)}`);
  return value;
}

function resolveSignal(value: unknown, capabilities: SignalCapabilities): { name: string; signalNumber: number } {
  const name = value === undefined ? 'SIGURG' : value;
  if (typeof name === 'string') return { name, signalNumber: resolveSignalNumber(name, capabilities) };
  // A number is a plausible way to name a signal, just not one we accept (numbers differ between
  // systems), so it gets the same RangeError as an unsupported name; other types are TypeErrors.
  const ErrorType = typeof name === 'number' ? RangeError : TypeError;
  throw new ErrorType(
    `stallwatch: option "signal" must be one of ${describeAllowedSignals(capabilities)}, got ${describeValue(name)}`,
  );
}

function resolveLog(value: unknown, cwd: string): ResolvedOptions['log'] {
  if (value === undefined) return 'stderr';
  const allowed = `stallwatch: option "log" must be ${LOG_ALLOWED}`;
  if (value === false || value === 'stderr') return value;
  // Right type (string or boolean), wrong value.
  if (typeof value === 'string' || value === true) throw new RangeError(`${allowed}, got ${describeValue(value)}`);
  if (!isPlainObject(value)) throw new TypeError(`${allowed}, got ${describeValue(value)}`);

  for (const key of Object.keys(value)) {
    if (key !== 'path' && key !== 'maxBytes' && key !== 'keep') {
      throw new TypeError(
        `stallwatch: option "log" has unknown key ${describeValue(key)}; allowed are "path", "maxBytes", "keep"`,
      );
    }
  }
  const maxBytes = resolveBounded('log.maxBytes', (value as { maxBytes?: unknown }).maxBytes, 0, 2 ** 40, 0);
  const keep = resolveBounded('log.keep', (value as { keep?: unknown }).keep, 1, 100, 5);
  const filePath = (value as { path?: unknown }).path;
  const allowedPath = 'stallwatch: option "log.path" must be a non-empty string';
  if (typeof filePath !== 'string') throw new TypeError(`${allowedPath}, got ${describeValue(filePath)}`);
  if (filePath === '') throw new RangeError(`${allowedPath}, got ""`);
  // The addon opens the file with a C string; an embedded NUL would silently truncate the path.
  if (filePath.includes('\0')) throw new RangeError(`${allowedPath} without NUL characters, got ${describeValue(filePath)}`);
  // Resolved now so that a later process.chdir() does not move the log.
  return Object.freeze({ path: path.resolve(cwd, filePath), maxBytes, keep });
}

function resolveBounded(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const allowed = `stallwatch: option "${name}" must be an integer from ${min} to ${max}`;
  if (typeof value !== 'number') throw new TypeError(`${allowed}, got ${describeValue(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${allowed}, got ${describeValue(value)}`);
  return value;
}

function resolveLogFormat(value: unknown): LogFormat {
  if (value === undefined) return 'text';
  const allowed = `stallwatch: option "logFormat" must be "text" or "json"`;
  if (typeof value !== 'string') throw new TypeError(`${allowed}, got ${describeValue(value)}`);
  if (!(LOG_FORMATS as readonly string[]).includes(value)) throw new RangeError(`${allowed}, got ${describeValue(value)}`);
  return value as LogFormat;
}

/** Object literals and Object.create(null); also those from another realm (vm contexts). */

export { describeValue };
