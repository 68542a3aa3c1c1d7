/**
 * The one typed seam to the compiled addon. Nothing else in lib/ touches the binding.
 */
import type { BlockReport, StarvationReport, ThreadDump, UnblockedEvent } from './report';

/** Options after validation, as the addon expects them. */
export interface NativeConfig {
  thresholdMs: number;
  /** Signal number (already resolved from its name). */
  signal: number;
  /** 'stderr', an absolute file path, or null for no log. */
  log: 'stderr' | { path: string; maxBytes: number; keep: number } | null;
  logFormat: 'text' | 'json';
  maxFrames: number;
  maxReportsPerMinute: number;
  /** worker_threads threadId of the calling thread (0 = main). */
  threadId: number;
  threadName: string;
  /** Also receive the reports of covered worker threads (supervise({ workers: true })). */
  watchWorkers: boolean;
  sampleIntervalMs: number;
  sampleNative: boolean;
  terminateWorkerAfterMs: number;
  abortAfterMs: number;
  /** Blocked reports also carry every thread's stack. */
  allThreads?: boolean;
  /** Report a loop parked this long with requests in flight and no I/O event; 0 = off. */
  starvationMs?: number;
  /** A reporter worker's subscription: receives forwarded reports, is never monitored itself. */
  sink?: boolean;
  /** A covered worker's subscription: its reports also go to watchWorkers subscribers, from the start. */
  forward?: boolean;
}

export type TerminateOutcome =
  | 'terminated'
  | 'not-terminable'
  | 'not-stalled'
  | 'already-terminating'
  | 'main-thread'
  | 'unknown-thread';

export type NativeEventKind = 'blocked' | 'unblocked' | 'starved';
export type NativeEventCallback = (
  kind: NativeEventKind,
  payload: BlockReport | UnblockedEvent | StarvationReport,
) => void;

export interface NativeCapabilities {
  platform: string;
  arch: string;
  /** True when libunwind was found at build time and loaded at run time. */
  libunwind: boolean;
  /** Why libunwind is not in use, when it is not. */
  libunwindReason?: string;
  /** True when native frames can get source file and line (built with elfutils' headers,
   *  libdw.so.1 loadable at run time). */
  sourceLines: boolean;
  /** Why native frames have no source lines, when they cannot. */
  sourceLinesReason?: string;
  /** Lowest and highest real-time signal numbers (Linux); absent elsewhere. */
  sigrtmin?: number;
  sigrtmax?: number;
}

/** Process-wide capture statistics (the most recent 1024 samples). */
export interface CaptureStats {
  /** Signals that produced a sample. */
  samples: number;
  /** Signals that produced none (not delivered in time, or not sent). */
  failedSignals: number;
  /**
   * Samples whose native frames below the C++ that called into V8 (the loop, node::Start,
   * main...) were reused from the thread's previous capture, every word they were read from
   * checked still in place, instead of walked again with libunwind. x86-64 Linux with libunwind.
   */
  tailReplays: number;
  /** Monitored-thread records not yet destroyed (threads still supervised, or reports pending). */
  liveThreadRecords: number;
  /** Time each sampled thread spent inside the signal handler, in nanoseconds. */
  handlerNs: number[];
  /** Time from sending the signal to the watchdog holding the sample, in nanoseconds. */
  signalToSampleNs: number[];
}

export interface NativeBinding {
  /** Starts monitoring the calling thread for this subscriber; returns its id. Throws on native failure. */
  subscribe(config: NativeConfig, onEvent: NativeEventCallback): number;
  /** Stops one subscriber. Returns false when it was already stopped. */
  unsubscribe(id: number): boolean;
  /** Renders a report as stallwatch's text log format. */
  formatReport(report: BlockReport): string;
  capabilities(): NativeCapabilities;
  stats(): CaptureStats;
  /** The calling thread's loop ran out of work ('beforeExit'): counts as progress, and keeps the
   *  loop alive until the events of a stall that just ended are delivered. */
  markProgress(): void;
  /** Marks the calling thread as a covered worker: its events also go to watchWorkers subscribers. */
  forwardThisThread(): boolean;
  /** Options (JSON) that covered workers adopt; '' turns coverage off. Process-wide. */
  setWorkerDefaults(json: string): void;
  workerDefaults(): string;
  /** Records the name a worker was given, for report headers (Node 20 cannot tell a worker its name). */
  nameThread(threadId: number, name: string): void;
  /** Subscriber `id`'s events also go to the reporter worker subscription `sinkId`. */
  setReporterSink(id: number, sinkId: number): boolean;
  /** Reporter worker: its handler is done with one report (abortAfterMs waits for this). */
  sinkAcknowledge(): void;
  /** Every thread's native stack, now, frozen one at a time with signal `signo`. */
  dumpThreads(signo: number, maxFrames: number): ThreadDump;
  /** Renders a thread dump as text. */
  formatThreadDump(dump: ThreadDump): string;
  /** The text log entry of an 'unblocked' event or a starvation report. */
  formatLogEntry(kind: 'unblocked', entry: UnblockedEvent): string;
  formatLogEntry(kind: 'starvation', entry: StarvationReport): string;
  /** onStall hooks: terminates the stalled worker with this OS tid, if its stall goes on. */
  terminateStalledWorker(tid: number): TerminateOutcome;
  /** onStall hooks: flushes the log (bounded), then abort(). */
  abortProcess(): never;
}
