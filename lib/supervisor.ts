/**
 * One supervise() handle: a native subscription for the calling thread, surfaced as events.
 * Handles are independent: each has its own subscription, gets every report, and closing one
 * leaves the others working.
 */
import { EventEmitter } from 'events';
import * as workerThreads from 'worker_threads';
import type { NativeBinding, NativeEventKind } from './native';
import { resolveOptions, toNativeConfig, type ResolvedOptions } from './options';
import { startWorkerCoverage, stopWorkerCoverage } from './worker-coverage';
import { resolveReporterModule, startReporter, type ReporterHandle } from './reporter';
import type { BlockReport, StarvationReport, UnblockedEvent } from './report';
import { mapReport } from './source-maps';

export interface ThreadIdentity {
  threadId: number;
  threadName: string;
}

export interface Supervisor {
  on(event: 'blocked', listener: (report: BlockReport) => void): this;
  on(event: 'unblocked', listener: (event: UnblockedEvent) => void): this;
  /** `starvationMs`: the loop waited with requests in flight and no I/O event. */
  on(event: 'starved', listener: (report: StarvationReport) => void): this;
  /** A 'blocked' or 'unblocked' listener threw (see Supervisor#deliver). */
  on(event: 'error', listener: (error: unknown) => void): this;
  once(event: 'blocked', listener: (report: BlockReport) => void): this;
  once(event: 'unblocked', listener: (event: UnblockedEvent) => void): this;
  once(event: 'starved', listener: (report: StarvationReport) => void): this;
  once(event: 'error', listener: (error: unknown) => void): this;
  off(event: 'blocked', listener: (report: BlockReport) => void): this;
  off(event: 'unblocked', listener: (event: UnblockedEvent) => void): this;
  off(event: 'starved', listener: (report: StarvationReport) => void): this;
  off(event: 'error', listener: (error: unknown) => void): this;
}

// This module is loaded once per thread (each worker has its own copy), so these are per thread.
// libuv runs timers at the end of a loop iteration: when a stall happens in the last callback
// a thread runs, its loop ends without another iteration hook, and the stall's events would
// be lost. 'beforeExit' runs right then: it tells the addon the loop moved (closing the
// episode) and lets it keep the loop alive until the events are delivered.
let openHandles = 0;
/** The capture signal of this thread's most recent supervise() (dumpThreads() defaults to it). */
let lastSignal: string | undefined;

export function lastSupervisedSignal(): string | undefined {
  return lastSignal;
}
let onBeforeExit: (() => void) | undefined;

function watchLoopEnd(binding: NativeBinding): void {
  if (openHandles++ === 0) {
    onBeforeExit = () => binding.markProgress();
    process.on('beforeExit', onBeforeExit);
  }
}

/** How many open supervise() handles this thread has. */
export function threadHandleCount(): number {
  return openHandles;
}

function unwatchLoopEnd(): void {
  if (--openHandles === 0 && onBeforeExit) {
    process.off('beforeExit', onBeforeExit);
    onBeforeExit = undefined;
  }
}

export class Supervisor extends EventEmitter {
  /** The validated options, defaults filled in. Frozen. */
  readonly options: ResolvedOptions;
  readonly #binding: NativeBinding;
  readonly #subscriptionId: number;
  #closed = false;
  #reporter: ReporterHandle | undefined;

  /**
   * Internal: use supervise(). The binding and thread are parameters so tests can inject fakes.
   * Throws TypeError/RangeError for bad options, or the addon's error if it cannot subscribe.
   */
  constructor(options: unknown, binding: NativeBinding, thread: ThreadIdentity = currentThread()) {
    super();
    this.#binding = binding;
    this.options = resolveOptions(options, binding.capabilities());
    const reporterModule = this.options.reporter === undefined ? undefined : resolveReporterModule(this.options.reporter);
    // Arrow function: the addon calls it as a plain function, without `this`.
    this.#subscriptionId = binding.subscribe(toNativeConfig(this.options, thread), (kind, payload) =>
      this.#deliver(kind, payload),
    );
    watchLoopEnd(binding);
    lastSignal = this.options.signal;
    if (this.options.workers) startWorkerCoverage(binding, this.options);
    if (reporterModule !== undefined) this.#reporter = startReporter(binding, this.#subscriptionId, reporterModule);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops this handle's monitoring. Idempotent; other handles on this thread are unaffected. */
  close(): void {
    if (this.#closed) return;
    // Set first: if unsubscribe throws, a retry must not unsubscribe twice, and events the addon
    // had already queued must still be dropped.
    this.#closed = true;
    unwatchLoopEnd();
    if (this.options.workers) stopWorkerCoverage(this.#binding);
    this.#reporter?.close();
    this.#binding.unsubscribe(this.#subscriptionId);
  }

  #deliver(kind: NativeEventKind, payload: BlockReport | UnblockedEvent | StarvationReport): void {
    // The addon may have queued events for this thread before close(); nobody wants them now.
    if (this.#closed) return;
    try {
      if (kind !== 'blocked' && kind !== 'unblocked' && kind !== 'starved') {
        throw new Error(`stallwatch: internal error: unknown native event kind ${JSON.stringify(kind)}`);
      }
      // Payloads are passed through as built by the addon (plain objects), not copied; a report
      // with source-mapped JS frames is a copy (lib/source-maps.ts). mapReport does not throw;
      // if it ever did, the report goes out unmapped rather than as a listener error.
      let event = payload;
      if (kind === 'blocked') {
        try {
          event = mapReport(payload as BlockReport);
        } catch {
          event = payload;
        }
      }
      this.emit(kind, event);
    } catch (error) {
      this.#reportListenerError(error);
    }
  }

  /**
   * A listener threw. With an ordinary EventEmitter the exception would propagate to whoever
   * called emit(); here that is the addon's callback into JS, where what happens to a thrown
   * exception depends on the C++ side and may be swallowed. So: emit 'error' when someone
   * listens for it; otherwise rethrow on the next tick, where it becomes an 'uncaughtException'
   * exactly like a throw from any other listener. (An 'error' listener that itself throws is
   * rethrown the same way.) As with EventEmitter, listeners after the throwing one do not run
   * for that event; other handles get their own delivery and are unaffected.
   */
  #reportListenerError(error: unknown): void {
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', error);
        return;
      } catch (errorListenerError) {
        error = errorListenerError;
      }
    }
    process.nextTick(() => {
      throw error;
    });
  }
}

function currentThread(): ThreadIdentity {
  // worker_threads.threadName exists from Node 22.20 / 24.6; on older Node no public API exposes
  // a worker's name, so it is reported as ''. The main thread has no name by definition.
  const threadName = (workerThreads as { threadName?: unknown }).threadName;
  return {
    threadId: workerThreads.threadId,
    threadName: !workerThreads.isMainThread && typeof threadName === 'string' ? threadName : '',
  };
}
