#!/usr/bin/env node
// The package's install script (package.json "scripts.install").
//
// Installed from the npm registry or a tarball: if the package ships a prebuilt binary for this
// platform, arch, libc and Node ABI (prebuilds/, see scripts/prebuild.js) and it loads here,
// nothing is compiled, so no compiler, make or python is needed. Otherwise: node-gyp rebuild.
//
// Always compiles (node-gyp rebuild), as before prebuilds existed:
//   - in a source checkout (a .git next to package.json): the sources may be newer than any
//     prebuild lying around;
//   - with `npm install --build-from-source` (npm_config_build_from_source) or
//     STALLWATCH_BUILD_FROM_SOURCE=1.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');

const truthy = (value) => value !== undefined && value !== '' && value !== '0' && value !== 'false';

function say(message) {
  console.log(`stallwatch: ${message}`);
}

/** Why a compile is needed, or undefined when the prebuild can be used (then its path is logged). */
function prebuildUsable() {
  if (truthy(process.env.npm_config_build_from_source) || truthy(process.env.STALLWATCH_BUILD_FROM_SOURCE)) {
    return 'building from source as asked';
  }
  if (fs.existsSync(path.join(ROOT, '.git'))) return 'source checkout: building from source';
  let loader;
  try {
    loader = require(path.join(ROOT, 'dist', 'lib', 'load-native.js'));
  } catch {
    return 'dist/ is not built, cannot look for a prebuild';
  }
  const prebuild = loader.findPrebuild(ROOT);
  if (prebuild === undefined) {
    return `no prebuilt binary for ${process.platform}-${process.arch} ${loader.detectLibc()} Node ABI ${process.versions.modules}`;
  }
  // Load it in a child: a binary built against a newer glibc/libstdc++ than this system has
  // fails here, and is then replaced by a local build (which the loader prefers once it exists).
  const check = spawnSync(process.execPath, ['-e', 'require(process.argv[1]).capabilities()', prebuild], {
    encoding: 'utf8',
    timeout: 30000,
  });
  if (check.status !== 0) {
    const reason = (check.stderr || '').split('\n').find((line) => /Error|error:/.test(line)) || `exit ${check.status}`;
    return `the prebuilt binary ${path.relative(ROOT, prebuild)} does not load here (${reason.trim()})`;
  }
  say(`using the prebuilt binary ${path.relative(ROOT, prebuild)}; nothing to compile`);
  return undefined;
}

function compile(reason) {
  say(`${reason}; compiling with node-gyp (needs a C++ compiler, make and python3)`);
  // npm gives scripts the path of its bundled node-gyp; outside npm, fall back to PATH.
  const gyp = process.env.npm_config_node_gyp;
  const result =
    gyp && fs.existsSync(gyp)
      ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: ROOT, stdio: 'inherit' })
      : spawnSync('node-gyp rebuild', { cwd: ROOT, stdio: 'inherit', shell: true });
  if (result.status !== 0) {
    console.error(
      `stallwatch: the native addon could not be built for ${process.platform}-${process.arch}, Node ${process.version} ` +
        `(ABI ${process.versions.modules}). Install g++, make and python3, or use a stallwatch version with a prebuilt ` +
        'binary for this system.',
    );
    process.exit(result.status ?? 1);
  }
}

const reason = prebuildUsable();
if (reason !== undefined) compile(reason);
