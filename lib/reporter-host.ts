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
import type { BlockReport } from './report';

type Handler = (report: BlockReport) => unknown;

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

async function loadHandler(modulePath: string): Promise<Handler> {
  let loaded: unknown;
  try {
    loaded = require(modulePath);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw error;
    loaded = await importModule(pathToFileURL(modulePath).href);
  }
  const candidate = typeof loaded === 'function' ? loaded : (loaded as { default?: unknown })?.default;
  if (typeof candidate !== 'function') {
    throw new TypeError(`stallwatch: reporter module ${modulePath} must export a function (module.exports or export default)`);
  }
  return candidate as Handler;
}

async function main(): Promise<void> {
  const { modulePath } = workerData as { modulePath: string };
  const binding = loadNative();
  const handler = await loadHandler(modulePath);
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
      Promise.resolve()
        .then(() => handler(report))
        .catch((error: unknown) => {
          writeStderr(
            `stallwatch: the reporter module ${modulePath} failed on this report: ${
              (error as Error)?.stack ?? String(error)
            }\n${binding.formatReport(report)}`,
          );
        })
        .finally(() => binding.sinkAcknowledge());
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
