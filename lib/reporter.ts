/**
 * supervise({ reporter }): the application's own report handler, in a worker thread stallwatch
 * owns. The addon's reporter thread forwards each report to that worker as soon as it is built,
 * so the handler runs (and can ship the report) while the stalled thread stays stuck, even
 * forever. The worker is unref'd (it never keeps the process alive), is created with an explicit
 * execArgv (never covered by workers: true) and its subscription is never monitored.
 *
 * Until the worker has started (tens of milliseconds after supervise()), reports go to the log
 * and the 'blocked' listeners only.
 */
import * as path from 'path';
import { startOwnWorker } from './worker-coverage';
import type { NativeBinding } from './native';

const HOST = path.join(__dirname, 'reporter-host.js');

export interface ReporterHandle {
  close(): void;
}

export function startReporter(binding: NativeBinding, subscriptionId: number, modulePath: string): ReporterHandle {
  const worker = startOwnWorker(HOST, {
    workerData: { modulePath },
    execArgv: [],
    name: 'stallwatch-reporter',
  });
  worker.unref();
  worker.on('message', (message: { sinkId?: number }) => {
    if (typeof message?.sinkId === 'number') binding.setReporterSink(subscriptionId, message.sinkId);
  });
  worker.on('error', (error) => {
    process.stderr.write(`stallwatch: the reporter worker for ${modulePath} failed: ${String(error)}\n`);
  });
  return {
    close: () => void worker.terminate(),
  };
}

/**
 * Resolves `spec` the way require() would from the file that called supervise(): the first stack
 * frame outside stallwatch's own files.
 */
export function resolveReporterModule(spec: string): string {
  const callerDir = callerDirectory();
  try {
    return require.resolve(spec, { paths: [callerDir] });
  } catch (error) {
    throw new RangeError(
      `stallwatch: option "reporter": cannot resolve module ${JSON.stringify(spec)} from ${callerDir} (${String(error)})`,
    );
  }
}

function callerDirectory(): string {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[];
    for (const frame of frames) {
      const file = frame.getFileName();
      if (!file || file.startsWith('node:')) continue;
      const filePath = file.startsWith('file:') ? new URL(file).pathname : file;
      if (path.dirname(filePath) === __dirname) continue;
      return path.dirname(filePath);
    }
  } finally {
    Error.prepareStackTrace = original;
  }
  return process.cwd();
}
