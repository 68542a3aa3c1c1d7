/**
 * supervise({ workers: true }): every worker thread started from this thread afterwards is
 * supervised too, with no code in the worker. New Workers get a preload in their execArgv; the
 * preload supervises the worker with the options stored here and marks it as covered, so its
 * reports also reach the handles that asked for workers (straight from the addon's reporter
 * thread, even while the worker stays stuck).
 *
 * Opt-out: a Worker created with an explicit `execArgv` is left alone. Code that took a
 * reference to `worker_threads.Worker` before supervise() ran keeps the original class: call
 * supervise() early, or use `node -r stallwatch/register` with STALLWATCH_WORKERS=1.
 */
import * as path from 'path';
import * as workerThreads from 'worker_threads';
import type { NativeBinding } from './native';
import type { ResolvedOptions } from './options';

/** The class as Node provides it; stallwatch's own workers are created with it, never covered. */
export const OriginalWorker = workerThreads.Worker;

export const WORKER_PRELOAD = path.join(__dirname, 'worker-preload.js');

let coveringHandles = 0;

export function startWorkerCoverage(binding: NativeBinding, options: ResolvedOptions): void {
  binding.setWorkerDefaults(JSON.stringify(workerOptionsFrom(options)));
  if (coveringHandles++ === 0) patchWorker(binding);
}

export function stopWorkerCoverage(binding: NativeBinding): void {
  if (--coveringHandles > 0) return;
  binding.setWorkerDefaults('');
  (workerThreads as { Worker: typeof OriginalWorker }).Worker = OriginalWorker;
}

/** The options a covered worker passes to its own supervise(): the parent's, minus `workers`. */
function workerOptionsFrom(options: ResolvedOptions): Record<string, unknown> {
  return {
    thresholdMs: options.thresholdMs,
    signal: options.signal,
    log: options.log,
    logFormat: options.logFormat,
    maxFrames: options.maxFrames,
    maxReportsPerMinute: options.maxReportsPerMinute,
    sampleIntervalMs: options.sampleIntervalMs,
    sampleNative: options.sampleNative,
    terminateWorkerAfterMs: options.terminateWorkerAfterMs,
    abortAfterMs: options.abortAfterMs,
  };
}

function patchWorker(binding: NativeBinding): void {
  class SupervisedWorker extends OriginalWorker {
    constructor(filename: string | URL, options?: workerThreads.WorkerOptions) {
      const covered = options?.execArgv === undefined;
      super(
        filename,
        covered ? { ...options, execArgv: [...process.execArgv, '--require', WORKER_PRELOAD] } : options,
      );
      if (covered && typeof options?.name === 'string' && options.name !== '') {
        binding.nameThread(this.threadId, options.name);
      }
    }
  }
  (workerThreads as { Worker: typeof OriginalWorker }).Worker = SupervisedWorker;
}
