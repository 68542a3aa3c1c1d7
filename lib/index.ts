/**
 * stallwatch public API. Requiring this module never loads the addon; supervise(), formatReport()
 * and capabilities() do, on first use.
 */
import { loadNative } from './load-native';
import type { CaptureStats, NativeCapabilities } from './native';
import { describeValue, type SuperviseOptions } from './options';
import type { BlockReport, ThreadDump } from './report';
import { resolveSignalNumber } from './signals';
import { lastSupervisedSignal, Supervisor, threadHandleCount } from './supervisor';

export type {
  BlockReport,
  Frame,
  StallProfile,
  StarvationReport,
  ThreadDump,
  ThreadStack,
  UnblockedEvent,
  VmState,
} from './report';
// The profile exporters load on first use: they and the pprof encoder they need are about 6 ms,
// a third of require('stallwatch'), which most services would pay at start-up for nothing.
type Exporters = typeof import('./export');
let exporters: Exporters | undefined;
function loadExporters(): Exporters {
  exporters ??= require('./export') as Exporters;
  return exporters;
}
/** Folded stacks of a StallProfile, or of the `profile` of an 'unblocked' event (export/folded.ts). */
export function toFolded(input: ProfileSource): string {
  return loadExporters().toFolded(input);
}
/** A StallProfile as a pprof protobuf, raw (not gzipped) (export/pprof.ts). */
export function toPprof(input: ProfileSource): Uint8Array {
  return loadExporters().toPprof(input);
}
/** A DevTools .cpuprofile of a StallProfile, or of an 'unblocked' event's `profile` (export/cpuprofile.ts). */
export function toCpuProfile(input: ProfileSource): CpuProfile {
  return loadExporters().toCpuProfile(input);
}
export { createOtelReporter, emitToOpenTelemetry, otelListener, otelLogRecord } from './otel';
export type {
  OtelAttributes,
  OtelAttributeValue,
  OtelLogger,
  OtelLoggerProvider,
  OtelLogRecord,
  OtelOptions,
  OtelReporterOptions,
} from './otel';
import type { CpuProfile, ProfileSource } from './export';
export type { CpuProfile, CpuProfileCallFrame, CpuProfileNode, ProfileSource } from './export';
export type { LogFormat, LogTarget, ResolvedOptions, SuperviseOptions } from './options';
// A type only: handles come from supervise(); the constructor's binding parameter is internal.
export type { Supervisor };
export type Capabilities = NativeCapabilities;
export type { OnStallHook, StallActions } from './reporter-host';
export type { TerminateOutcome } from './native';
export type { CaptureStats };

/**
 * Starts monitoring the calling thread (main thread or a worker). Reports are emitted on this
 * thread as 'blocked' once its loop runs again, followed by 'unblocked' with the stall's length.
 */
export function supervise(options?: SuperviseOptions): Supervisor {
  return new Supervisor(options, loadNative());
}

/** The handle a covered worker's preload created (see worker-preload.ts); undefined elsewhere. */
export let workerSupervisor: Supervisor | undefined;

/**
 * Internal, for the worker preload: supervises this worker thread once, with its parent's
 * options, and marks it as covered so that its reports also reach the parent's handles.
 */
export function superviseCoveredWorker(options: Record<string, unknown>): void {
  const binding = loadNative();
  if (threadHandleCount() === 0) workerSupervisor = new Supervisor(options, binding, undefined, { forward: true });
  binding.forwardThisThread();
}

/** Renders a report as stallwatch's text log format. */
export function formatReport(report: BlockReport): string {
  const candidate: unknown = report;
  if (typeof candidate !== 'object' || candidate === null || !Array.isArray((candidate as { frames?: unknown }).frames)) {
    throw new TypeError(
      `stallwatch: formatReport() expects a BlockReport (an object with a "frames" array), got ${describeValue(candidate)}`,
    );
  }
  return loadNative().formatReport(report);
}

export interface DumpThreadsOptions {
  /** The signal that freezes each thread for its walk. Default: the signal of this thread's
   *  latest supervise() call, else 'SIGURG'. Same names as supervise()'s `signal`. */
  signal?: string;
  /** Frames kept per thread, 1 to 1024. Default 128. */
  maxFrames?: number;
}

/**
 * The native stack of every thread of the process, now: like a JVM thread dump or Go's SIGQUIT
 * dump. Each thread is frozen in turn (a signal, then a short wait in its handler) while this
 * thread walks its stack; threads that block the signal are listed without a stack. Runs
 * synchronously on the calling thread: tens of milliseconds, more the first time (symbol tables).
 */
export function dumpThreads(options?: DumpThreadsOptions): ThreadDump {
  const candidate: unknown = options ?? {};
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    throw new TypeError(`stallwatch: dumpThreads() options must be an object, got ${describeValue(candidate)}`);
  }
  for (const key of Object.keys(candidate)) {
    if (key !== 'signal' && key !== 'maxFrames') {
      throw new TypeError(`stallwatch: dumpThreads() has no option ${JSON.stringify(key)}; known are signal, maxFrames`);
    }
  }
  const { signal, maxFrames } = candidate as { signal?: unknown; maxFrames?: unknown };
  const binding = loadNative();
  const signalName = signal ?? lastSupervisedSignal() ?? 'SIGURG';
  if (typeof signalName !== 'string') {
    throw new TypeError(`stallwatch: dumpThreads() option "signal" must be a signal name, got ${describeValue(signalName)}`);
  }
  const signo = resolveSignalNumber(signalName, binding.capabilities());
  const frames = maxFrames ?? 128;
  if (typeof frames !== 'number') {
    throw new TypeError(`stallwatch: dumpThreads() option "maxFrames" must be an integer from 1 to 1024, got ${describeValue(frames)}`);
  }
  if (!Number.isInteger(frames) || frames < 1 || frames > 1024) {
    throw new RangeError(`stallwatch: dumpThreads() option "maxFrames" must be an integer from 1 to 1024, got ${describeValue(frames)}`);
  }
  return binding.dumpThreads(signo, frames);
}

/** Renders a dumpThreads() result as text (the same layout as a report's `all threads` section). */
export function formatThreadDump(dump: ThreadDump): string {
  const candidate: unknown = dump;
  if (typeof candidate !== 'object' || candidate === null || !Array.isArray((candidate as { threads?: unknown }).threads)) {
    throw new TypeError(
      `stallwatch: formatThreadDump() expects a ThreadDump (an object with a "threads" array), got ${describeValue(candidate)}`,
    );
  }
  return loadNative().formatThreadDump(dump);
}

/** Capture statistics for this process: how long stalled threads spent in the signal handler. */
export function stats(): CaptureStats {
  return loadNative().stats();
}

/** What the addon supports on this system (libunwind, real-time signal range, ...). */
export function capabilities(): Capabilities {
  return loadNative().capabilities();
}
