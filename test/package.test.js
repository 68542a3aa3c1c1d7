'use strict';
// The npm package end to end: what `npm pack` puts in the tarball, and that the tarball installs
// OFFLINE (bindings and node-addon-api from the npm cache) into a fresh project and captures a
// stall with `node -r stallwatch/register` — once normally, once with no compiler, make or
// python on PATH, where only the prebuilt binary can make it work.
//
// The tarball gets a prebuild for the running Node: the one in prebuilds/ when it is newer than
// every native source, otherwise one built now with scripts/prebuild.js (about a minute) into an
// unpacked copy of the tarball, which is then packed again. The repository is never modified:
// `npm pack` runs with --ignore-scripts (no `prepare`, so dist/ must already be built).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, before, after } = require('node:test');
const { ROOT, run, count, MAIN_HEADER } = require('./fixtures-register/_run');

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

before(async () => {
  assert.ok(npmCli, `npm not found next to ${process.execPath}`);
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'lib', 'register.js')), 'dist/ is not built: run `npm run build:ts`');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-package-'));

  const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT });
  explain(packed, () => assert.equal(packed.code, 0, 'npm pack'));
  const [info] = JSON.parse(packed.stdout);
  packedFiles = info.files.map((f) => f.path);
  tarball = path.join(tmp, info.filename);

  const own = path.join(ROOT, PREBUILD_PATH);
  const fresh = fs.existsSync(own) &&
    fs.statSync(own).mtimeMs > newestMtime([path.join(ROOT, 'native'), path.join(ROOT, 'binding.gyp')]);
  if (fresh) return;
  // Build a prebuild into an unpacked copy of the tarball and pack that copy again.
  const stage = path.join(tmp, 'stage');
  fs.mkdirSync(stage);
  const untar = await run('tar', ['-xzf', tarball, '-C', stage]);
  explain(untar, () => assert.equal(untar.code, 0, 'tar -x'));
  const pkgDir = path.join(stage, 'package');
  const built = await run(process.execPath, [path.join(ROOT, 'scripts', 'prebuild.js'), '--out', path.join(pkgDir, 'prebuilds')], {
    timeoutMs: 300000,
    rawEnv: npmEnv({ npm_config_nodedir: process.env.npm_config_nodedir || (fs.existsSync('/usr/include/node/node.h') ? '/usr' : '') }),
  });
  explain(built, () => assert.equal(built.code, 0, 'scripts/prebuild.js'));
  fs.rmSync(tarball);
  const repacked = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: pkgDir });
  explain(repacked, () => assert.equal(repacked.code, 0, 'npm pack of the staged copy'));
  tarball = path.join(tmp, JSON.parse(repacked.stdout)[0].filename);
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

/** A fresh project with the tarball installed offline; returns its directory and npm's result. */
async function installInto(name, { env, rawEnv } = {}) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  fs.writeFileSync(path.join(dir, 'block.js'), [
    'function spinInInstalledApp(ms) { const end = Date.now() + ms; while (Date.now() < end); }',
    "setTimeout(() => { spinInInstalledApp(800); setTimeout(() => console.log('DONE'), 400); }, 50);",
    '',
  ].join('\n'));
  const result = await npm(['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], { cwd: dir, env, rawEnv });
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

test('installed offline from the tarball: the prebuild is used, -r stallwatch/register reports a stall', { timeout: 400000 }, async () => {
  const { dir, result } = await installInto('app-with-compiler');
  explain(result, () => {
    assert.equal(result.code, 0, 'npm install --offline');
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
  // A PATH with node, npm and sh only.
  const bin = path.join(tmp, 'no-compiler-bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync(npmCli, path.join(bin, 'npm'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  const env = npmEnv({ PATH: bin, CC: '', CXX: '' });
  const probe = await run('/bin/sh', ['-c', 'for t in cc c++ gcc g++ clang make python3 python node-gyp; do command -v $t; done; echo END'], { rawEnv: env });
  explain(probe, () => assert.equal(probe.stdout, 'END\n', 'no compiler, make, python or node-gyp on this PATH'));

  // Control: forcing a compile on this PATH fails, so a success below is the prebuild's.
  const forced = await installInto('app-forced-compile', { rawEnv: { ...env, STALLWATCH_BUILD_FROM_SOURCE: '1' } });
  explain(forced.result, () => {
    assert.notEqual(forced.result.code, 0, 'a compile cannot succeed without a compiler');
    assert.match(forced.result.stdout + forced.result.stderr, /stallwatch: building from source as asked; compiling with node-gyp/);
  });

  const { dir, result } = await installInto('app-no-compiler', { rawEnv: env });
  explain(result, () => {
    assert.equal(result.code, 0, 'npm install --offline without a compiler');
    assert.match(result.stdout + result.stderr, /stallwatch: using the prebuilt binary/);
  });
  assert.ok(!fs.existsSync(path.join(dir, 'node_modules', 'stallwatch', 'build')), 'nothing was compiled');
  const r = await run(path.join(bin, 'node'), ['-r', 'stallwatch/register', 'block.js'], {
    cwd: dir,
    rawEnv: { ...env, STALLWATCH_THRESHOLD_MS: '200' },
  });
  assertInstalledReport(r, dir);
});
