/**
 * supervise({ workers: true }): every worker thread started from this thread afterwards is
 * supervised too, with no code in the worker. New Workers get a preload in their execArgv; the
 * preload supervises the worker with the options stored here and marks it as covered, so its
 * reports also reach the handles that asked for workers (straight from the addon's reporter
 * thread, even while the worker stays stuck).
 *
 * Opt-out: a Worker created with an explicit `execArgv` is left alone. Code that took a
 * reference to `worker_threads.Worker` before supervise() ran keeps the original class: call
 * supervise() early, or use `node -r stallwatch/register` with STALLWATCH_WORKERS=1. Such a
 * worker cannot be covered once it runs, so it is named in a process warning instead of being
 * missed in silence (Node's process 'worker' event tells of every new worker of this thread).
 */
import * as path from 'path';
import * as workerThreads from 'worker_threads';
import type { NativeBinding } from './native';
import type { ResolvedOptions } from './options';

/** The class as Node provides it; stallwatch's own workers are created with it, never covered. */
export const OriginalWorker = workerThreads.Worker;

/** Workers stallwatch starts for itself: never covered, never warned about. */
const ownWorkers = new WeakSet<object>();

export function startOwnWorker(filename: string, options: workerThreads.WorkerOptions): workerThreads.Worker {
  const worker = new OriginalWorker(filename, options);
  ownWorkers.add(worker);
  return worker;
}

export const WORKER_PRELOAD = path.join(__dirname, 'worker-preload.js');

let coveringHandles = 0;
let SupervisedWorkerClass: typeof OriginalWorker | undefined;
let warnedUncovered = false;

// Node emits 'worker' on `process` after a worker of this thread has been created (on a later
// tick, so a worker from startOwnWorker() is already in ownWorkers).
function onWorkerCreated(worker: workerThreads.Worker): void {
  if (warnedUncovered || ownWorkers.has(worker)) return;
  if (SupervisedWorkerClass !== undefined && worker instanceof SupervisedWorkerClass) return;
  warnedUncovered = true;
  process.emitWarning(
    `worker ${worker.threadId} was created with the worker_threads.Worker class as it was before ` +
      'supervise({ workers: true }) ran, so it is not supervised. Call supervise() before the code that ' +
      'takes worker_threads.Worker, or start node with -r stallwatch/register and STALLWATCH_WORKERS=1. ' +
      '(Said once per thread.)',
    { type: 'StallwatchWarning', code: 'STALLWATCH_WORKER_NOT_COVERED' },
  );
}

export function startWorkerCoverage(binding: NativeBinding, options: ResolvedOptions): void {
  binding.setWorkerDefaults(JSON.stringify(workerOptionsFrom(options)));
  if (coveringHandles++ === 0) {
    patchWorker(binding);
    process.on('worker', onWorkerCreated);
  }
}

export function stopWorkerCoverage(binding: NativeBinding): void {
  if (--coveringHandles > 0) return;
  binding.setWorkerDefaults('');
  (workerThreads as { Worker: typeof OriginalWorker }).Worker = OriginalWorker;
  process.off('worker', onWorkerCreated);
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
  SupervisedWorkerClass = SupervisedWorker;
  (workerThreads as { Worker: typeof OriginalWorker }).Worker = SupervisedWorker;
}
