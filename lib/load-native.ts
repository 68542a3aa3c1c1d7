/**
 * Loads the compiled addon on first use, so that `require('stallwatch')` itself never throws:
 * a service can import stallwatch unconditionally and decide at supervise() time what a missing
 * build means for it.
 *
 * Where the addon comes from, in this order:
 *   1. a prebuilt binary shipped in the package, matching this platform, arch, C library and
 *      Node ABI: prebuilds/<platform>-<arch>/node.abi<N>.node (glibc, macOS) or
 *      node.abi<N>.musl.node (musl), made by scripts/prebuild.js;
 *   2. a local build (build/Release/stallwatch.node, found through `bindings`), made by
 *      node-gyp at install time when no prebuild matched, or by `npm run build`.
 * Exception: when build/Release/stallwatch.node is newer than the matching prebuild, the local
 * build goes first. Someone compiled it after the prebuild was made (a developer after editing
 * native/, or `npm rebuild --build-from-source`), so it is the one they mean to run. Files
 * unpacked from an npm tarball all carry the same old timestamp, so in an installed package
 * the prebuild wins unless a build was made after installation.
 * If the first candidate fails to load (a prebuild needing a newer glibc/libstdc++ than this
 * system has, say), the other is tried; the error names every attempt.
 *
 * Kept free of anything but `fs`/`path` at module level: scripts/install.js requires this file
 * at install time to decide whether a compile is needed.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { NativeBinding } from './native';

type BindingsLoader = (options: { bindings: string; module_root: string }) => unknown;

// Every function of NativeBinding (lib/native.ts): keep in sync. A binary that lacks one was built
// from older sources (a stale prebuild or build/), and the other candidate is tried instead.
const REQUIRED_FUNCTIONS = [
  'subscribe',
  'unsubscribe',
  'formatReport',
  'capabilities',
  'stats',
  'markProgress',
  'forwardThisThread',
  'setWorkerDefaults',
  'workerDefaults',
  'nameThread',
  'setReporterSink',
  'sinkAcknowledge',
  'dumpThreads',
  'formatThreadDump',
  'formatLogEntry',
  'terminateStalledWorker',
  'abortProcess',
] as const satisfies ReadonlyArray<keyof NativeBinding>;

/** The C library of this process, as far as prebuild selection is concerned. */
export type Libc = 'glibc' | 'musl' | 'unknown' | 'n/a';

/** Where the loaded addon came from (for diagnostics and the package tests). */
export interface NativeOrigin {
  kind: 'prebuild' | 'local-build';
  /** The file, when known (the local build is located by `bindings`). */
  file?: string;
}

let cachedBinding: NativeBinding | undefined;
let cachedOrigin: NativeOrigin | undefined;

export function loadNative(): NativeBinding {
  // Failures are not cached: a retry after `npm rebuild` in a long-lived REPL should work.
  if (cachedBinding === undefined) {
    const { binding, origin } = loadUncached();
    cachedBinding = binding;
    cachedOrigin = origin;
  }
  return cachedBinding;
}

/** Which file loadNative() loaded; undefined before the first successful load. */
export function nativeOrigin(): NativeOrigin | undefined {
  return cachedOrigin;
}

/** `node.abi115.node`, or `node.abi115.musl.node` for musl. */
export function prebuildFileName(abi: string | number, libc: Libc): string {
  return libc === 'musl' ? `node.abi${abi}.musl.node` : `node.abi${abi}.node`;
}

/** prebuilds/<platform>-<arch> under the package root. */
export function prebuildDirectory(root: string = packageRoot(), platform = process.platform, arch = process.arch): string {
  return path.join(root, 'prebuilds', `${platform}-${arch}`);
}

/** The prebuild this process would load, or undefined when the package has none for it. */
export function findPrebuild(root: string = packageRoot()): string | undefined {
  const file = path.join(prebuildDirectory(root), prebuildFileName(process.versions.modules, detectLibc()));
  return fs.existsSync(file) ? file : undefined;
}

/** The local build's usual location (bindings also looks in a few others). */
export function localBuildFile(root: string = packageRoot()): string {
  return path.join(root, 'build', 'Release', 'stallwatch.node');
}

interface Attempt {
  what: string;
  error: unknown;
}

function loadUncached(): { binding: NativeBinding; origin: NativeOrigin } {
  const root = packageRoot();
  const prebuild = findPrebuild(root);
  const local = localBuildFile(root);
  const localFirst = prebuild !== undefined && isNewer(local, prebuild);

  const loaders: Array<() => { binding: NativeBinding; origin: NativeOrigin }> = [];
  if (prebuild !== undefined) {
    loaders.push(() => ({ binding: checked(require(prebuild)), origin: { kind: 'prebuild', file: prebuild } }));
  }
  const fromBindings = (): { binding: NativeBinding; origin: NativeOrigin } => {
    // `bindings` ships no types; its call signature is declared above.
    const bindings = require('bindings') as BindingsLoader;
    const binding = checked(bindings({ bindings: 'stallwatch', module_root: root }));
    return { binding, origin: { kind: 'local-build', file: fs.existsSync(local) ? local : undefined } };
  };
  if (localFirst) loaders.unshift(fromBindings);
  else loaders.push(fromBindings);

  const attempts: Attempt[] = [];
  for (const load of loaders) {
    try {
      return load();
    } catch (error) {
      attempts.push({ what: load === fromBindings ? 'local build' : `prebuild ${prebuild}`, error });
    }
  }
  if (prebuild === undefined) {
    const dir = prebuildDirectory(root);
    attempts.unshift({
      what: 'prebuild',
      error: new Error(`none for this system (${path.join(dir, prebuildFileName(process.versions.modules, detectLibc()))}; ${describeAvailable(dir)})`),
    });
  }
  throw loadError(attempts);
}

/** Throws when `binding` is not a complete stallwatch addon. */
function checked(binding: unknown): NativeBinding {
  const missing = REQUIRED_FUNCTIONS.filter(
    (name) => typeof (binding as Record<string, unknown> | null)?.[name] !== 'function',
  );
  if (missing.length > 0) {
    // Typically a stale build from an older version of the C++ sources.
    throw new Error(`the loaded addon lacks ${missing.join(', ')} (built from older sources?)`);
  }
  return binding as NativeBinding;
}

function isNewer(file: string, than: string): boolean {
  try {
    return fs.statSync(file).mtimeMs > fs.statSync(than).mtimeMs;
  } catch {
    return false;
  }
}

function describeAvailable(dir: string): string {
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith('.node'));
  } catch {
    return 'the package has no prebuilds for this platform and arch';
  }
  return names.length === 0 ? 'that directory is empty' : `available there: ${names.sort().join(', ')}`;
}

/** The nearest directory above this file with a package.json: the package root whether this
 *  runs from dist/lib (published) or lib (ts-node, tests). */
export function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, '..', '..');
    dir = parent;
  }
  return dir;
}

function loadError(attempts: Attempt[]): Error {
  const reasons = attempts.map(({ what, error }) => `${what}: ${shortReason(error)}`);
  const last = attempts[attempts.length - 1];
  return new Error(
    `stallwatch: could not load the native addon for ${process.platform}-${process.arch} (libc: ${describeLibc()}), ` +
      `Node ${process.version} (ABI ${process.versions.modules}). ${reasons.join('; ')}.\n` +
      `Install a version of stallwatch with a prebuild for this system, or build the addon: ` +
      `\`npm rebuild stallwatch --build-from-source\` (needs a C++ compiler, make and python3).`,
    { cause: last?.error },
  );
}

function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // bindings lists every path it tried, a dozen lines; they all mean "not built".
  if (message.startsWith('Could not locate the bindings file')) return 'not built (no build/Release/stallwatch.node)';
  return message.split('\n')[0];
}

let cachedLibc: Libc | undefined;

/**
 * glibc or musl, from the C library mapped into this process (cheap: one read of
 * /proc/self/maps); falls back to process.report, which gathers a whole diagnostic report.
 */
export function detectLibc(): Libc {
  if (cachedLibc !== undefined) return cachedLibc;
  if (process.platform !== 'linux') return (cachedLibc = 'n/a');
  try {
    const maps = fs.readFileSync('/proc/self/maps', 'latin1');
    if (/\/(ld-musl-[^/\s]*\.so|libc\.musl-[^/\s]*\.so)/.test(maps)) return (cachedLibc = 'musl');
    if (/\/libc\.so\.6\b|\/libc-2\.\d+\.so\b/.test(maps)) return (cachedLibc = 'glibc');
  } catch {
    // no /proc: fall through
  }
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    cachedLibc = report?.header?.glibcVersionRuntime ? 'glibc' : 'musl';
  } catch {
    cachedLibc = 'unknown';
  }
  return cachedLibc;
}

function describeLibc(): string {
  const libc = detectLibc();
  if (libc !== 'glibc') return libc;
  try {
    // Slow-ish (a whole diagnostic report), but this is the error path.
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    const version = report?.header?.glibcVersionRuntime;
    return version ? `glibc ${version}` : 'glibc';
  } catch {
    return 'glibc';
  }
}
