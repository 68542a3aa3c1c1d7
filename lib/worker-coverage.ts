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

// Flags of this process that Node refuses in a worker's execArgv (V8 and process-wide options
// such as --max-old-space-size or --expose-gc). They apply to the whole process anyway, so a
// covered worker's execArgv leaves them out. Learnt from Node's own error, once.
const rejectedInWorkers = new Set<string>();

function coveredExecArgv(): string[] {
  return [...process.execArgv.filter((flag) => !rejectedInWorkers.has(flag)), '--require', WORKER_PRELOAD];
}

/** The flags an ERR_WORKER_INVALID_EXEC_ARGV error names ("...: --a, --b"), if any. */
function rejectedFlags(error: unknown): string[] {
  if ((error as { code?: string })?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return [];
  const message = String((error as Error).message);
  const at = message.lastIndexOf(': ');
  return at < 0 ? [] : message.slice(at + 2).split(', ').map((f) => f.trim()).filter(Boolean);
}

function patchWorker(binding: NativeBinding): void {
  class SupervisedWorker extends OriginalWorker {
    constructor(filename: string | URL, options?: workerThreads.WorkerOptions) {
      const covered = options?.execArgv === undefined;
      if (!covered) {
        super(filename, options);
      } else {
        try {
          super(filename, { ...options, execArgv: coveredExecArgv() });
        } catch (error) {
          const flags = rejectedFlags(error);
          if (flags.length === 0 || !flags.every((f) => process.execArgv.includes(f))) throw error;
          for (const flag of flags) rejectedInWorkers.add(flag);
          super(filename, { ...options, execArgv: coveredExecArgv() });
        }
        if (typeof options?.name === 'string' && options.name !== '') {
          const threadId = this.threadId;
          binding.nameThread(threadId, options.name);
          this.once('exit', () => binding.nameThread(threadId, ''));
        }
      }
    }
  }
  (workerThreads as { Worker: typeof OriginalWorker }).Worker = SupervisedWorker;
}
