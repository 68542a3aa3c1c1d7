/**
 * Runs inside the reporter worker (see reporter.ts): loads the application's handler module,
 * subscribes as a sink (receives forwarded reports, is never monitored itself) and calls the
 * handler with each report. If the handler throws or rejects, the report still reaches stderr,
 * with the error.
 */
import { writeSync } from 'fs';
import { parentPort, threadId, workerData } from 'worker_threads';
import { pathToFileURL } from 'url';
import { constants } from 'os';
import { loadNative } from './load-native';
import type { NativeBinding, TerminateOutcome } from './native';
import type { BlockReport } from './report';

type Handler = (report: BlockReport) => unknown;

/** What an onStall hook may do about the stall a report describes. */
export interface StallActions {
  /** Terminates the worker the report is about, if its stall is still going on (V8
   *  TerminateExecution, as terminateWorkerAfterMs does). A worker stuck in native code cannot be
   *  stopped that way: 'not-terminable' (it exits when the call returns). */
  terminateWorker(): TerminateOutcome;
  /** Waits (at most 5 s) for report handlers still running, flushes the log, then abort()s the
   *  process for a core dump. Never resolves. */
  abort(): Promise<never>;
}

/** A reporter module's optional `onStall` export: custom policy, run for every blocked report
 *  in the reporter worker, while the stalled thread may still be stuck. */
export type OnStallHook = (report: BlockReport, actions: StallActions) => unknown;

interface ReporterModule {
  handler?: Handler;
  onStall?: OnStallHook;
}

// A worker's process.stderr is piped through the main thread, which may be the one that is
// stuck: write to the file descriptor directly.
function writeStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr closed: nothing left to tell
  }
}

// tsc compiles import() to require() for CommonJS output; this keeps a real dynamic import,
// which ESM reporter modules need.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

// module.exports = fn (optionally with fn.onStall), module.exports = { onStall }, or ESM
// `export default fn` and/or `export function onStall`.
async function loadReporterModule(modulePath: string): Promise<ReporterModule> {
  let loaded: unknown;
  try {
    loaded = require(modulePath);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw error;
    loaded = await importModule(pathToFileURL(modulePath).href);
  }
  const exported = loaded as { default?: unknown; onStall?: unknown } | undefined;
  const handler = typeof loaded === 'function' ? loaded : exported?.default;
  const onStall =
    exported?.onStall ?? (exported?.default as { onStall?: unknown } | undefined)?.onStall;
  if (typeof handler !== 'function' && typeof onStall !== 'function') {
    throw new TypeError(
      `stallwatch: reporter module ${modulePath} must export a function (module.exports or export default), an onStall function, or both`,
    );
  }
  if (onStall !== undefined && typeof onStall !== 'function') {
    throw new TypeError(`stallwatch: reporter module ${modulePath}: onStall must be a function`);
  }
  return {
    handler: typeof handler === 'function' ? (handler as Handler) : undefined,
    onStall: onStall as OnStallHook | undefined,
  };
}

// Handlers still running; abort() gives them a bounded time to ship their report.
const inFlight = new Set<Promise<unknown>>();

function actionsFor(binding: NativeBinding, report: BlockReport): StallActions {
  return {
    terminateWorker: () => binding.terminateStalledWorker(report.tid),
    abort: async () => {
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, 5000))]);
      return binding.abortProcess();
    },
  };
}

function reportFailure(modulePath: string, what: string, error: unknown, binding: NativeBinding, report: BlockReport): void {
  writeStderr(
    `stallwatch: the reporter module ${modulePath} failed ${what}: ${(error as Error)?.stack ?? String(error)}\n${binding.formatReport(report)}`,
  );
}

async function main(): Promise<void> {
  const { modulePath } = workerData as { modulePath: string };
  const binding = loadNative();
  const { handler, onStall } = await loadReporterModule(modulePath);
  const sinkId = binding.subscribe(
    {
      thresholdMs: 3_600_000, // never used: a sink is not monitored
      signal: constants.signals.SIGURG,
      log: null,
      logFormat: 'text',
      maxFrames: 1024,
      maxReportsPerMinute: 10_000,
      threadId,
      threadName: 'stallwatch-reporter',
      watchWorkers: false,
      sampleIntervalMs: 0,
      sampleNative: false,
      terminateWorkerAfterMs: 0,
      abortAfterMs: 0,
      sink: true,
    },
    (kind, payload) => {
      if (kind !== 'blocked') return;
      const report = payload as BlockReport;
      const handled = Promise.resolve()
        .then(() => handler?.(report))
        .catch((error: unknown) => reportFailure(modulePath, 'on this report', error, binding, report))
        .finally(() => {
          inFlight.delete(handled);
          binding.sinkAcknowledge();
        });
      inFlight.add(handled);
      if (onStall !== undefined) {
        Promise.resolve()
          .then(() => onStall(report, actionsFor(binding, report)))
          .catch((error: unknown) => reportFailure(modulePath, 'in onStall', error, binding, report));
      }
    },
  );
  // The sink's deliveries do not keep a loop alive; this worker lives as long as the process
  // (its Worker is unref'd, so it never holds the process open).
  setInterval(() => {}, 1 << 30);
  parentPort?.postMessage({ sinkId });
}

main().catch((error: unknown) => {
  writeStderr(`stallwatch: reporter worker could not start: ${(error as Error)?.stack ?? String(error)}\n`);
});
