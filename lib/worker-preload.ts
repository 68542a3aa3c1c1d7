/**
 * Preloaded into workers started after supervise({ workers: true }) (see worker-coverage.ts).
 * Supervises this worker with the options its parent stored, once per thread: if the thread is
 * already supervised (for example by `-r stallwatch/register` inherited through NODE_OPTIONS),
 * it only marks the thread as covered so its reports also reach the parent's handles.
 */
import { isMainThread } from 'worker_threads';
import { loadNative } from './load-native';
import { superviseCoveredWorker } from './index';

if (!isMainThread) {
  try {
    const defaults = loadNative().workerDefaults();
    if (defaults !== '') superviseCoveredWorker(JSON.parse(defaults) as Record<string, unknown>);
  } catch (error) {
    // A diagnostic tool must not take the worker down: say why coverage failed and carry on.
    process.stderr.write(`stallwatch: could not supervise worker ${require('worker_threads').threadId}: ${String(error)}\n`);
  }
}
