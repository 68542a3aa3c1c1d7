#!/usr/bin/env bash
# npm run test:cmake [-- <test files>]
#
# Builds the addon with CMake (CMakeLists.txt, through cmake-js) and runs the capture tests against
# that build, in a copy of the repository (STALLWATCH_CMAKE_DIR, default a per-checkout directory
# under $TMPDIR) so ./build is never touched:
#   1. copy the sources (node_modules is a symlink to this checkout's; prebuilds/ are left out)
#   2. cmake-js compile --directory <copy> --out <copy>/build-cmake, offline: with npm_config_nodedir
#      set (default /usr when /usr/include/node/node.h exists) cmake-js takes the headers from
#      <nodedir>/include/node instead of downloading them
#   3. the CMake output replaces the copy's build/Release/stallwatch.node (the path `bindings` finds);
#      the test addon is built with node-gyp as usual; dist/ with tsc
#   4. test/capture.test.js (or the given files) run once in the copy; a first check proves the
#      loaded addon is the CMake one
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
die() { echo "test-cmake: $*" >&2; exit 1; }
command -v cmake >/dev/null || die "cmake is not installed (apt-get install cmake)"
[ -d "$root/node_modules/cmake-js" ] || die "cmake-js is missing: npm ci (it is a devDependency)"

work=${STALLWATCH_CMAKE_DIR:-${TMPDIR:-/tmp}/stallwatch-cmake-$(id -u)-$(printf '%s' "$root" | cksum | cut -d' ' -f1)}
case "$work" in "$root"|"$root"/build*) die "STALLWATCH_CMAKE_DIR must not be the checkout or its build/" ;; esac
mkdir -p "$work"
echo "== copy $root -> $work"
find "$work" -mindepth 1 -maxdepth 1 ! -name build-cmake ! -name node_modules -exec rm -rf {} +
tar -C "$root" --exclude=./build --exclude=./build-cmake --exclude=./node_modules --exclude=./.git --exclude=./.matrix \
  --exclude=./prebuilds --exclude=./test/addon/build --exclude=./dist -cf - . | tar -C "$work" -xf -
ln -sfn "$root/node_modules" "$work/node_modules"

if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
[ -n "${npm_config_nodedir:-}" ] || echo "test-cmake: npm_config_nodedir is not set: cmake-js will download the headers" >&2
echo "== cmake-js compile (headers: ${npm_config_nodedir:-download})"
cd "$work"
node node_modules/cmake-js/bin/cmake-js compile --directory "$work" --out "$work/build-cmake" --config Release \
  >"$work/cmake.log" 2>&1 || { tail -60 "$work/cmake.log"; die "cmake-js compile failed (log: $work/cmake.log)"; }
grep -E 'stallwatch: ' "$work/cmake.log" || true
built=$(find "$work/build-cmake" -name stallwatch.node -type f | head -1)
[ -n "$built" ] || die "cmake-js produced no stallwatch.node (log: $work/cmake.log)"
mkdir -p build/Release
cp "$built" build/Release/stallwatch.node
echo "== CMake build: $built"

echo "== test addon (node-gyp) and dist/"
node node_modules/node-gyp/bin/node-gyp.js rebuild --directory=test/addon --loglevel=warn >"$work/test-addon.log" 2>&1 ||
  { tail -30 "$work/test-addon.log"; die "test addon build failed"; }
node node_modules/typescript/bin/tsc -p tsconfig.json
node scripts/write-esm-entry.js >/dev/null

echo "== the loaded addon is the CMake build"
node -e "
  const fs = require('fs'), path = require('path'), crypto = require('crypto');
  const sw = require('./');
  const caps = sw.capabilities();
  const loaded = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5]).find((p) => p && /stallwatch\.node$/.test(p));
  const hash = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  if (!loaded || hash(loaded) !== hash('$built')) { console.error('loaded', loaded, 'is not the CMake build'); process.exit(1); }
  console.log('loaded', loaded, '(same bytes as the CMake output); libunwind:', caps.libunwind);
"

echo "== tests"
if [ "$#" -gt 0 ]; then files=("$@"); else files=(test/capture.test.js); fi
node --test --test-concurrency=2 "${files[@]}"
