/**
 * Loads the compiled addon on first use, so that `require('stallwatch')` itself never throws:
 * a service can import stallwatch unconditionally and decide at supervise() time what a missing
 * build means for it.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { NativeBinding } from './native';

type BindingsLoader = (options: { bindings: string; module_root: string }) => unknown;

const REQUIRED_FUNCTIONS = ['subscribe', 'unsubscribe', 'formatReport', 'capabilities', 'stats'] as const;

let cachedBinding: NativeBinding | undefined;

export function loadNative(): NativeBinding {
  // Failures are not cached: a retry after `npm rebuild` in a long-lived REPL should work.
  cachedBinding ??= loadUncached();
  return cachedBinding;
}

function loadUncached(): NativeBinding {
  let binding: unknown;
  try {
    // `bindings` ships no types; its call signature is declared above.
    const bindings = require('bindings') as BindingsLoader;
    binding = bindings({ bindings: 'stallwatch', module_root: packageRoot() });
  } catch (error) {
    throw loadError(error);
  }
  const missing = REQUIRED_FUNCTIONS.filter((name) => typeof (binding as Record<string, unknown>)[name] !== 'function');
  if (missing.length > 0) {
    // Typically a stale build from an older version of the C++ sources.
    throw loadError(new Error(`the loaded addon lacks ${missing.join(', ')}`));
  }
  return binding as NativeBinding;
}

/** The nearest directory above this file with a package.json: the package root whether this
 *  runs from dist/lib (published) or lib (ts-node, tests). */
function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, '..', '..');
    dir = parent;
  }
  return dir;
}

function loadError(cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(
    `stallwatch: could not load the native addon for ${process.platform}-${process.arch} (libc: ${libc()}), ` +
      `Node ${process.version} (ABI ${process.versions.modules}): ${reason}\n` +
      `The addon is built at install time; rebuild it for this platform and Node version with \`npm rebuild stallwatch\`.`,
    { cause },
  );
}

function libc(): string {
  if (process.platform !== 'linux') return 'n/a';
  try {
    // getReport() is slow-ish (it gathers a whole diagnostic report) but this is the error path.
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    const glibc = report?.header?.glibcVersionRuntime;
    return glibc ? `glibc ${glibc}` : 'musl (no glibc found)';
  } catch {
    return 'unknown';
  }
}
