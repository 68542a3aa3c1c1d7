/**
 * Zero-code attach. Loading this module supervises the main thread, configured by the
 * STALLWATCH_* environment variables (lib/env-config.ts):
 *
 *   node -r stallwatch/register app.js
 *   node --import stallwatch/register app.mjs          (--import: Node >= 18.18)
 *   NODE_OPTIONS='-r stallwatch/register' npm start
 *
 * It never stops the program: a bad variable, a missing addon or a failing supervise() prints
 * ONE line on stderr and the program runs unsupervised. Loading it again on the same thread
 * (-r twice, -r plus NODE_OPTIONS, --import plus require, or a second copy of the package)
 * does nothing more: the first registration's state is kept on globalThis.
 *
 * Worker threads: Node runs `-r` preloads in every worker too; this module does nothing there.
 * STALLWATCH_WORKERS=1 covers workers the supported way: the main thread's supervisor gets
 * `workers: true` (lib/worker-coverage.ts), which supervises each new worker and forwards its
 * reports to the main thread's handle.
 *
 * The supervisor is exported so the program can listen:
 *   require('stallwatch/register').supervisor?.on('blocked', (report) => ...)
 */
import * as workerThreads from 'worker_threads';
import { parseEnvConfig } from './env-config';
import { supervise, type Supervisor } from './index';
import { loadNative } from './load-native';

interface RegisterState {
  supervisor: Supervisor | undefined;
  /** Why this thread is not supervised, when it is not. */
  error: string | undefined;
}

const STATE_KEY = Symbol.for('stallwatch.register');

function say(line: string): void {
  // One line per message, whatever the message holds (load errors span several lines).
  process.stderr.write(`${line.replace(/\s*\n\s*/g, ' ').trimEnd()}\n`);
}

function register(): RegisterState {
  const global = globalThis as unknown as Record<symbol, RegisterState | undefined>;
  const existing = global[STATE_KEY];
  if (existing !== undefined) return existing;
  const state: RegisterState = { supervisor: undefined, error: undefined };
  global[STATE_KEY] = state;

  if (!workerThreads.isMainThread) {
    state.error = 'stallwatch/register supervises the main thread only';
    return state;
  }
  const stop = (message: string): RegisterState => {
    state.error = message;
    say(message);
    return state;
  };

  let capabilities;
  try {
    capabilities = loadNative().capabilities();
  } catch (error) {
    return stop(`${error instanceof Error ? error.message : String(error)} The program continues without stallwatch.`);
  }

  const parsed = parseEnvConfig(process.env, { capabilities, cwd: process.cwd() });
  for (const warning of parsed.warnings) say(warning);
  if (!parsed.ok) return stop(parsed.message);

  try {
    state.supervisor = supervise(parsed.config.options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return stop(`stallwatch: could not start supervision (${message.replace(/^stallwatch: /, '')}). The program continues without stallwatch.`);
  }
  return state;
}

const state = register();

/** The supervisor this module started; undefined when it did not start (see `error`). */
export const supervisor: Supervisor | undefined = state.supervisor;
/** Why the thread is not supervised (the line printed on stderr); undefined when it is. */
export const error: string | undefined = state.error;
