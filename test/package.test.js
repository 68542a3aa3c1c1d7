'use strict';
// The npm package end to end: what `npm pack` puts in the tarball, and that the tarball installs
// into a fresh project (its dependencies from the npm cache when there, else the registry:
// `npm ci` caches only the abbreviated metadata, and npm 11 asks for the full document when it
// installs a tarball, so --offline fails on a fresh machine) and captures a
// stall with `node -r stallwatch/register` — once normally, once with no compiler, make or
// python on PATH, where only the prebuilt binary can make it work.
//
// A third install runs with no compiler AND no libunwind8: in a mount namespace (unshare -m)
// where every libunwind.so.8 the dynamic loader could find is bind-mounted over by an empty file.
// The prebuild links libunwind in, so its report must still come from libunwind, not from the
// frame-pointer fallback.
//
// The tarball gets a prebuild for the running Node: the one in prebuilds/ when it is newer than
// every native source, otherwise one built now with scripts/prebuild.js (13 s on 2 idle cores,
// 96 s measured under load, plus about 18 s once for the static libunwind, cached in
// .prebuild-deps/, gitignored; see docs/install.md) into an
// unpacked copy of the tarball, which is then packed again. The repository is otherwise never
// modified: `npm pack` runs with --ignore-scripts (no `prepare`, so dist/ must already be built).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { test, before, after } = require('node:test');
const { ROOT, run, count, MAIN_HEADER } = require('./fixtures-register/_run');
const { UNDER_ASAN } = require('./helpers/checks');

const PREBUILD_NAME = `node.abi${process.versions.modules}.node`;
const PREBUILD_PATH = `prebuilds/${process.platform}-${process.arch}/${PREBUILD_NAME}`;

let tmp;
let tarball;
let packedFiles;

/** npm's environment for a child: the test's, minus settings an outer `npm test` exported. */
function npmEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && key.toLowerCase() !== 'npm_config_cache') continue;
    if (key === 'INIT_CWD' || key === 'NODE_TEST_CONTEXT' || key === 'NODE_OPTIONS' || key.startsWith('STALLWATCH_')) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

const npmCli = (() => {
  // npm's JS entry next to this node (run with process.execPath, so PATH does not matter).
  const candidates = [
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ];
  return candidates.find((file) => fs.existsSync(file));
})();

function npm(args, options = {}) {
  return run(process.execPath, [npmCli, ...args], { timeoutMs: 180000, ...options, rawEnv: options.rawEnv ?? npmEnv(options.env) });
}

/** `npm pack --json`'s array. npm 10 (the npm of the Node 18-22 packages) runs the `prepare`
 *  script despite --ignore-scripts, and its output comes first on stdout. */
function packJson(stdout) {
  const start = stdout.search(/^\[$/m);
  return JSON.parse(start >= 0 ? stdout.slice(start) : stdout);
}

function explain(result, fn) {
  try {
    fn();
  } catch (error) {
    error.message += `\n${result.describe()}`;
    throw error;
  }
}

function newestMtime(paths) {
  let newest = 0;
  const visit = (p) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of paths) visit(p);
  return newest;
}

// Under npm run test:asan these tests have nothing to check: they build and install the normal,
// uninstrumented prebuild, and the ASan runtime preloaded into apt-get, make and the compiler
// makes that build run past its time limit. npm test runs them.
if (UNDER_ASAN) {
  test('the npm package: tarball, prebuild, installs', { skip: 'under ASan: they test the normal prebuild; npm test runs them' }, () => {});
  return;  // a CommonJS module may return early: nothing below is registered
}

before(async () => {
  assert.ok(npmCli, `npm not found next to ${process.execPath}`);
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'lib', 'register.js')), 'dist/ is not built: run `npm run build:ts`');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-package-'));

  const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT });
  explain(packed, () => assert.equal(packed.code, 0, 'npm pack'));
  const [info] = packJson(packed.stdout);
  packedFiles = info.files.map((f) => f.path);
  tarball = path.join(tmp, info.filename);

  const own = path.join(ROOT, PREBUILD_PATH);
  const fresh = fs.existsSync(own) && fs.statSync(own).mtimeMs > newestMtime([
    path.join(ROOT, 'native'), path.join(ROOT, 'binding.gyp'),
    path.join(ROOT, 'scripts', 'prebuild.js'), path.join(ROOT, 'scripts', 'build-static-libunwind.sh'),
  ]);
  if (fresh) return;
  // Build a prebuild into an unpacked copy of the tarball and pack that copy again.
  const stage = path.join(tmp, 'stage');
  fs.mkdirSync(stage);
  const untar = await run('tar', ['-xzf', tarball, '-C', stage]);
  explain(untar, () => assert.equal(untar.code, 0, 'tar -x'));
  const pkgDir = path.join(stage, 'package');
  const started = Date.now();
  const built = await run(process.execPath, [path.join(ROOT, 'scripts', 'prebuild.js'), '--abi', process.versions.modules, '--out', path.join(pkgDir, 'prebuilds')], {
    timeoutMs: 300000,
    // Headers: an outer npm's nodedir setting, else prebuild.js's default, the running node's
    // own prefix (under npm run test:matrix, that major's headers; /usr for /usr/bin/node).
    rawEnv: npmEnv(process.env.npm_config_nodedir ? { npm_config_nodedir: process.env.npm_config_nodedir } : {}),
  });
  explain(built, () => assert.equal(built.code, 0, 'scripts/prebuild.js'));
  console.log(`# built the prebuild for ABI ${process.versions.modules} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // Packed again with tar, as npm packs (a gzipped tar of package/): npm 10 would run the
  // package's prepare script (tsc) in the staged copy despite --ignore-scripts.
  const repacked = await run('tar', ['-czf', tarball, '-C', stage, 'package']);
  explain(repacked, () => assert.equal(repacked.code, 0, 'tar -c of the staged copy'));
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('npm pack: the tarball holds what an install and the CLI need, and nothing else', () => {
  const files = new Set(packedFiles);
  const must = [
    'package.json', 'README.md', 'CHANGELOG.md', 'binding.gyp',
    'scripts/install.js', 'scripts/detect-libunwind.js',
    'bin/stallwatch.js',
    'dist/lib/index.js', 'dist/lib/index.mjs', 'dist/lib/index.d.ts', 'dist/lib/index.d.mts',
    'dist/lib/register.js', 'dist/lib/register.d.ts', 'register.mjs', 'register.d.mts', 'register.js', 'register.d.ts',
    'dist/lib/cli.js', 'dist/lib/env-config.js', 'dist/lib/load-native.js', 'dist/lib/worker-preload.js',
    'demo/run-demo.js', 'demo/server.js',
  ];
  if (fs.existsSync(path.join(ROOT, 'LICENSE'))) must.push('LICENSE');
  // Every source binding.gyp compiles, and every file under native/ (headers included), so
  // `node-gyp rebuild` works from the tarball.
  const gyp = fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8');
  for (const [, source] of gyp.matchAll(/"(native\/[^"]+\.cc)"/g)) must.push(source);
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      if (entry.isDirectory()) walk(`${dir}/${entry.name}`);
      else must.push(`${dir}/${entry.name}`);
    }
  };
  walk('native');
  for (const file of must) assert.ok(files.has(file), `${file} is in the tarball`);

  // Every path package.json points at is in the tarball.
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin)];
  const collect = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v).forEach(collect));
  collect(pkg.exports);
  for (const target of targets) assert.ok(files.has(path.posix.normalize(target)), `${target} (package.json) is in the tarball`);

  for (const file of files) {
    assert.doesNotMatch(file, /^(test|lib|bench|examples|build|node_modules|\.ci|\.git)\//, `${file} does not belong in the tarball`);
    assert.ok(!file.endsWith('.map'), `${file}: no source maps (their sources are not shipped)`);
    assert.ok(!/\.ts$/.test(file) || /\.d\.m?ts$/.test(file), `${file}: no TypeScript sources`);
    assert.notEqual(file, 'scripts/prebuild.js', 'the prebuild script is for publishing, not installing');
  }
  if (fs.existsSync(path.join(ROOT, PREBUILD_PATH))) assert.ok(files.has(PREBUILD_PATH), `${PREBUILD_PATH} is packed`);
});

let noCompiler;
/** A PATH with node, npm and sh only (made once), and npm's environment with it. */
async function noCompilerPath() {
  if (noCompiler) return noCompiler;
  const bin = path.join(tmp, 'no-compiler-bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync(npmCli, path.join(bin, 'npm'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  const env = npmEnv({ PATH: bin, CC: '', CXX: '' });
  const probe = await run('/bin/sh', ['-c', 'for t in cc c++ gcc g++ clang make python3 python node-gyp; do command -v $t; done; echo END'], { rawEnv: env });
  explain(probe, () => assert.equal(probe.stdout, 'END\n', 'no compiler, make, python or node-gyp on this PATH'));
  noCompiler = { bin, env };
  return noCompiler;
}

/** A fresh project with the tarball installed; returns its directory and npm's result. */
async function installInto(name, { env, rawEnv } = {}) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  fs.writeFileSync(path.join(dir, 'block.js'), [
    'function spinInInstalledApp(ms) { const end = Date.now() + ms; while (Date.now() < end); }',
    "setTimeout(() => { spinInInstalledApp(800); setTimeout(() => console.log('DONE'), 400); }, 50);",
    '',
  ].join('\n'));
  const result = await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], { cwd: dir, env, rawEnv });
  return { dir, result };
}

function assertInstalledReport(r, dir) {
  explain(r, () => {
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^DONE$/m);
    assert.equal(count(r.stderr, MAIN_HEADER), 1, 'one report');
    // file:line:column, or the definition line when the exact (interrupt-time) stack came too late.
    const file = path.join(dir, 'block.js').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(r.stderr, new RegExp(`^--> at spinInInstalledApp \\(${file}(:\\d+:\\d+|, defined at line 1)\\)$`, 'm'),
      'the culprit is the app function');
    assert.match(r.stderr, /^stallwatch: main thread \(tid \d+\) unblocked after \d+ ms$/m);
  });
}

test('installed from the tarball: the prebuild is used, -r stallwatch/register reports a stall', { timeout: 400000 }, async () => {
  const { dir, result } = await installInto('app-with-compiler');
  explain(result, () => {
    assert.equal(result.code, 0, 'npm install');
    assert.match(result.stdout + result.stderr, /stallwatch: using the prebuilt binary prebuilds\/[\w-]+\/node\.abi\d+\.node; nothing to compile/);
  });
  const installed = path.join(dir, 'node_modules', 'stallwatch');
  assert.ok(fs.existsSync(path.join(installed, PREBUILD_PATH)), 'the prebuild was installed');
  assert.ok(!fs.existsSync(path.join(installed, 'build')), 'nothing was compiled');
  const { dependencies } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const dep of Object.keys(dependencies)) {
    assert.ok(fs.existsSync(path.join(dir, 'node_modules', dep, 'package.json')), `${dep} installed from the npm cache`);
  }

  const env = { STALLWATCH_THRESHOLD_MS: '200' };
  assertInstalledReport(await run(process.execPath, ['-r', 'stallwatch/register', 'block.js'], { cwd: dir, env }), dir);

  // The loaded binary is the prebuild.
  const origin = await run(process.execPath, ['-e', [
    `const loader = require(${JSON.stringify(path.join(installed, 'dist', 'lib', 'load-native.js'))});`,
    "require('stallwatch').capabilities();",
    'console.log(JSON.stringify(loader.nativeOrigin()));',
  ].join('\n')], { cwd: dir });
  explain(origin, () => assert.deepEqual(JSON.parse(origin.stdout), { kind: 'prebuild', file: path.join(installed, PREBUILD_PATH) }));

  // ESM: --import stallwatch/register and named imports from the installed package.
  fs.writeFileSync(path.join(dir, 'app.mjs'), [
    "import { supervise, formatReport } from 'stallwatch';",
    "import { supervisor } from 'stallwatch/register';",
    "if (typeof supervise !== 'function' || typeof formatReport !== 'function') throw new Error('named exports missing');",
    "if (!supervisor) throw new Error('stallwatch/register did not supervise');",
    'function spinInInstalledApp(ms) { const end = Date.now() + ms; while (Date.now() < end); }',
    "setTimeout(() => { spinInInstalledApp(800); setTimeout(() => console.log('DONE'), 400); }, 50);",
    '',
  ].join('\n'));
  const esm = await run(process.execPath, ['--import', 'stallwatch/register', 'app.mjs'], { cwd: dir, env });
  explain(esm, () => {
    assert.equal(esm.code, 0);
    assert.equal(count(esm.stderr, MAIN_HEADER), 1);
    assert.match(esm.stderr, /^--> at spinInInstalledApp \(file:\/\/.*app\.mjs(:\d+:\d+|, defined at line \d+)\)$/m);
  });

  // The bin: npx stallwatch run.
  const bin = path.join(dir, 'node_modules', '.bin', 'stallwatch');
  assert.ok(fs.existsSync(bin), 'node_modules/.bin/stallwatch');
  const viaCli = await run(bin, ['run', '--threshold-ms', '200', '--', 'node', 'block.js'], { cwd: dir });
  assertInstalledReport(viaCli, dir);

  // npx stallwatch demo: the demo ships in the package; it runs from a temporary copy, so its
  // server is application code and gets the culprit mark.
  const demo = await run(bin, ['demo'], { cwd: dir, timeoutMs: 60000 });
  explain(demo, () => {
    assert.equal(demo.code, 0);
    assert.match(demo.stdout, /^ *--> .*\bbuildReport \(.*stallwatch-demo-[^/]+\/server\.js/m);
  });
});

test('installed with no compiler, make or python on PATH: the prebuild makes it work', { timeout: 400000 }, async () => {
  const { bin, env } = await noCompilerPath();

  // Control: forcing a compile on this PATH fails, so a success below is the prebuild's.
  const forced = await installInto('app-forced-compile', { rawEnv: { ...env, STALLWATCH_BUILD_FROM_SOURCE: '1' } });
  explain(forced.result, () => {
    assert.notEqual(forced.result.code, 0, 'a compile cannot succeed without a compiler');
    assert.match(forced.result.stdout + forced.result.stderr, /stallwatch: building from source as asked; compiling with node-gyp/);
  });

  const { dir, result } = await installInto('app-no-compiler', { rawEnv: env });
  explain(result, () => {
    assert.equal(result.code, 0, 'npm install without a compiler');
    assert.match(result.stdout + result.stderr, /stallwatch: using the prebuilt binary/);
  });
  assert.ok(!fs.existsSync(path.join(dir, 'node_modules', 'stallwatch', 'build')), 'nothing was compiled');
  const r = await run(path.join(bin, 'node'), ['-r', 'stallwatch/register', 'block.js'], {
    cwd: dir,
    rawEnv: { ...env, STALLWATCH_THRESHOLD_MS: '200' },
  });
  assertInstalledReport(r, dir);

  // Neither the prebuild (now not an ELF file) nor a local build loads: the error names the
  // system the binary was wanted for, and why each candidate failed.
  fs.writeFileSync(path.join(dir, 'node_modules', 'stallwatch', PREBUILD_PATH), 'not an ELF file\n');
  const broken = await run(path.join(bin, 'node'), ['-e', "try { require('stallwatch').capabilities(); } catch (e) { console.log(e.message); process.exit(3); }"], { cwd: dir, rawEnv: env });
  explain(broken, () => {
    assert.equal(broken.code, 3);
    assert.ok(broken.stdout.includes(`could not load the native addon for ${process.platform}-${process.arch} (libc: glibc `), 'platform, arch, libc');
    assert.ok(broken.stdout.includes(`Node ${process.version} (ABI ${process.versions.modules})`), 'Node version and ABI');
    assert.match(broken.stdout, /prebuild \S+node\.abi\d+\.node: .*(invalid ELF header|file too short)/);
    assert.match(broken.stdout, /local build: not built/);
  });
});

/** Every file the dynamic loader could open for libunwind.so.8 here (ldconfig's cache and the
 *  default directories), as real paths: bind mounts follow symlinks. */
function libunwindFiles() {
  const candidates = [];
  const ldconfig = ['/sbin/ldconfig', '/usr/sbin/ldconfig'].find((file) => fs.existsSync(file));
  if (ldconfig) {
    const cache = spawnSync(ldconfig, ['-p'], { encoding: 'utf8' });
    for (const [, file] of (cache.stdout || '').matchAll(/^\s*libunwind\.so\.8 .*=> (\S+)$/gm)) candidates.push(file);
  }
  const triplet = `${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`;
  for (const dir of ['/lib', '/lib64', '/usr/lib', '/usr/lib64', '/usr/local/lib', `/lib/${triplet}`, `/usr/lib/${triplet}`]) {
    candidates.push(path.join(dir, 'libunwind.so.8'));
  }
  return [...new Set(candidates.filter((file) => fs.existsSync(file)).map((file) => fs.realpathSync(file)))];
}

/**
 * How to run a command in a private mount namespace: `unshare -m` as root, `unshare -rm` (a user
 * namespace) otherwise; undefined (with the reason) when neither works here.
 */
function mountNamespace() {
  if (process.platform !== 'linux') return { skip: 'mount namespaces are Linux only' };
  const unshare = ['/usr/bin/unshare', '/bin/unshare'].find((file) => fs.existsSync(file));
  const mount = ['/usr/bin/mount', '/bin/mount'].find((file) => fs.existsSync(file));
  if (!unshare || !mount) return { skip: 'no unshare or mount binary (util-linux)' };
  const tries = process.getuid?.() === 0 ? [['-m'], ['-r', '-m']] : [['-r', '-m']];
  for (const flags of tries) {
    const probe = spawnSync(unshare, [...flags, '--propagation', 'private', mount, '--bind', '/dev/null', '/dev/null']);
    if (probe.status === 0) return { unshare, mount, flags };
  }
  return { skip: 'unshare -m needs root, and unprivileged user namespaces are not available here' };
}

test('installed with no compiler and no libunwind8: the prebuild loads and unwinds with its own libunwind', { timeout: 400000 }, async (t) => {
  const ns = mountNamespace();
  if (ns.skip) {
    t.skip(ns.skip);
    return;
  }
  const { bin, env } = await noCompilerPath();
  const hidden = libunwindFiles();
  const empty = path.join(tmp, 'empty-libunwind.so.8');
  fs.writeFileSync(empty, '');
  // sh hide.sh -- CMD ARGS: bind-mounts the empty file over each libunwind.so.8, then runs CMD.
  const hide = path.join(tmp, 'hide-libunwind.sh');
  fs.writeFileSync(hide, [
    'for f in ' + hidden.map((f) => `'${f}'`).join(' ') + `; do ${ns.mount} --bind '${empty}' "$f" || exit 97; done`,
    'exec "$@"',
    '',
  ].join('\n'));
  const hidden_run = (file, args, options) => run(ns.unshare, [...ns.flags, '--propagation', 'private', '/bin/sh', hide, file, ...args], options);

  // Control: in the namespace, no libunwind.so.8 can be read; and a local build that uses the
  // system's libunwind (the dlopen path) reports it missing there.
  const sizes = await hidden_run(path.join(bin, 'node'), ['-e', 'console.log(JSON.stringify(process.argv.slice(1).map((f) => require("fs").readFileSync(f).length)))', ...hidden], { rawEnv: env });
  explain(sizes, () => {
    assert.equal(sizes.code, 0);
    assert.deepEqual(JSON.parse(sizes.stdout), hidden.map(() => 0), `${hidden.join(', ')} are hidden`);
  });
  const localBuild = path.join(ROOT, 'build', 'Release', 'stallwatch.node');
  const capabilitiesOf = (file) => ['-e', 'console.log(JSON.stringify(require(process.argv[1]).capabilities()))', file];
  if (hidden.length > 0 && fs.existsSync(localBuild)) {
    const outside = await run(process.execPath, capabilitiesOf(localBuild), { rawEnv: env });
    if (outside.code === 0 && JSON.parse(outside.stdout).libunwind === true) {
      const inside = await hidden_run(path.join(bin, 'node'), capabilitiesOf(localBuild), { rawEnv: env });
      explain(inside, () => {
        assert.equal(inside.code, 0);
        assert.match(JSON.parse(inside.stdout).libunwindReason, /libunwind\.so\.8 could not be loaded/, 'the dlopen path finds no libunwind');
      });
    }
  }

  const dir = path.join(tmp, 'app-no-libunwind');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app-no-libunwind', version: '1.0.0', private: true }));
  // Blocked in native code (a futex wait in libc, called by V8), so the report has native
  // frames both below and above code built without frame pointers.
  fs.writeFileSync(path.join(dir, 'wait.js'), [
    'function waitInInstalledApp(ms) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }',
    "setTimeout(() => { waitInInstalledApp(800); setTimeout(() => console.log('DONE'), 400); }, 50);",
    '',
  ].join('\n'));
  const installed = await hidden_run(path.join(bin, 'node'), [npmCli, 'install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball],
    { cwd: dir, rawEnv: env, timeoutMs: 180000 });
  explain(installed, () => {
    assert.equal(installed.code, 0, 'npm install without a compiler or libunwind8');
    assert.match(installed.stdout + installed.stderr, /stallwatch: using the prebuilt binary prebuilds\/[\w-]+\/node\.abi\d+\.node; nothing to compile/);
  });
  const pkg = path.join(dir, 'node_modules', 'stallwatch');
  assert.ok(!fs.existsSync(path.join(pkg, 'build')), 'nothing was compiled');

  const r = await hidden_run(path.join(bin, 'node'), [
    '-r', 'stallwatch/register',
    '-e', `process.on('exit', () => console.log('ORIGIN ' + JSON.stringify({ origin: require(${JSON.stringify(path.join(pkg, 'dist', 'lib', 'load-native.js'))}).nativeOrigin(), capabilities: require('stallwatch').capabilities() })))`,
    '-r', './wait.js',
  ], { cwd: dir, rawEnv: { ...env, STALLWATCH_THRESHOLD_MS: '200', STALLWATCH_LOG_FORMAT: 'json' } });
  explain(r, () => {
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^DONE$/m);
    const { origin, capabilities } = JSON.parse(r.stdout.match(/^ORIGIN (.*)$/m)[1]);
    assert.deepEqual(origin, { kind: 'prebuild', file: path.join(pkg, PREBUILD_PATH) }, 'the prebuild was loaded');
    assert.equal(capabilities.libunwind, true, 'libunwind works without libunwind.so.8');
    assert.equal(capabilities.libunwindReason, undefined);

    const blocked = r.stderr.split('\n').filter((line) => line.startsWith('{"event":"blocked"')).map((line) => JSON.parse(line));
    assert.equal(blocked.length, 1, 'one report');
    const [report] = blocked;
    assert.doesNotMatch(report.partial ?? '', /frame-pointer walk|libunwind error/, 'libunwind walked the whole stack');
    const names = report.frames.map((f) => `${f.kind}:${f.name}`);
    const at = (pattern) => names.findIndex((name) => pattern.test(name));
    const libcFrame = report.frames.findIndex((f) => f.kind === 'native' && /\/libc\.so\.6$/.test(f.module ?? ''));
    const culprit = at(/^js:waitInInstalledApp$/);
    const loop = at(/^native:uv_run$/);
    assert.ok(libcFrame >= 0, `a native frame in libc: ${names.join(' | ')}`);
    assert.ok(culprit > libcFrame, `the JS culprit is above libc: ${names.join(' | ')}`);
    assert.ok(loop > culprit, `the walk goes on through V8 to the event loop: ${names.join(' | ')}`);
  });
});
