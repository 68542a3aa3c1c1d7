/**
 * stallwatch public API. Requiring this module never loads the addon; supervise(), formatReport()
 * and capabilities() do, on first use.
 */
import { loadNative } from './load-native';
import type { CaptureStats, NativeCapabilities } from './native';
import { describeValue, type SuperviseOptions } from './options';
import type { BlockReport } from './report';
import { Supervisor, threadHandleCount } from './supervisor';

export type { BlockReport, Frame, StallProfile, UnblockedEvent, VmState } from './report';
export { toCpuProfile, toFolded, toPprof } from './export';
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
export type { CpuProfile, CpuProfileCallFrame, CpuProfileNode, ProfileSource } from './export';
export type { LogFormat, LogTarget, ResolvedOptions, SuperviseOptions } from './options';
// A type only: handles come from supervise(); the constructor's binding parameter is internal.
export type { Supervisor };
export type Capabilities = NativeCapabilities;
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
  if (threadHandleCount() === 0) workerSupervisor = new Supervisor(options, binding);
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

/** Capture statistics for this process: how long stalled threads spent in the signal handler. */
export function stats(): CaptureStats {
  return loadNative().stats();
}

/** What the addon supports on this system (libunwind, real-time signal range, ...). */
export function capabilities(): Capabilities {
  return loadNative().capabilities();
}
