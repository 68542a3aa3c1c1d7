#!/usr/bin/env bash
# Builds a position-independent static libunwind for the prebuilt binaries (scripts/prebuild.js
# links it into stallwatch.node, so a prebuild needs no libunwind8 at run time).
#
#   bash scripts/build-static-libunwind.sh [--source DIR] [--out DIR]
#
#   --source DIR  an unpacked libunwind source tree (a release tarball: configure is generated;
#                 also $LIBUNWIND_SOURCE_DIR, so scripts/prebuild.js can use it);
#                 default: Debian's source package, fetched with `apt-get source` (see below)
#   --out DIR     install prefix; gets include/libunwind*.h and lib/libunwind.a
#                 default: <package root>/.prebuild-deps/libunwind
#
# Why not Debian's libunwind-dev libunwind.a: it is not position-independent code (R_X86_64_32
# and local-exec TLS relocations in .text), so it cannot go into a shared object.
#
# The source: Debian's source package libunwind ($LIBUNWIND_DEB_VERSION, default 1.6.2-3, the
# version of bookworm's libunwind8, so the prebuild unwinds with the same code as the dlopen
# path on the build machine), fetched by apt-get with a private sources list (deb-src of the
# suite in /etc/os-release) into a private state directory: the system's apt configuration is
# not touched and no root is needed. apt-get checks the files against the signed Release file,
# and dpkg-source applies Debian's patches.
#
# Configure options, and why (Debian's own build: --enable-cxx-exceptions on amd64,
# --disable-zlibdebuginfo, everything else default):
#   --with-pic --disable-shared          the point: objects that can go into stallwatch.node
#   --disable-cxx-exceptions             no _Unwind_* implementation in the archive: stallwatch's
#                                        own references to the C++ exception ABI must resolve to
#                                        libgcc_s, whatever the link order
#   --disable-weak-backtrace             no weak `backtrace` that could capture glibc's
#   --disable-minidebuginfo              no liblzma dependency; it only serves unw_get_proc_name
#                                        (.gnu_debugdata symbols), which stallwatch does not call
#   --disable-zlibdebuginfo              as Debian
#   --disable-coredump/ptrace/setjmp     remote-unwinding libraries, not used
#   per-thread cache, signal blocking, debug-frame: left at their defaults, as Debian builds them,
#   so caching behaves exactly as with libunwind.so.8 on the build machine. (In 1.6.2 that means:
#   unw_set_caching_policy turns UNW_CACHE_PER_THREAD into UNW_CACHE_GLOBAL, because its
#   HAVE___THREAD is never defined by configure; lookups take the global cache's lock with
#   signals blocked.)
# CFLAGS -O2 as Debian (its hardening flags are off for libunwind, -format aside).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source_dir="${LIBUNWIND_SOURCE_DIR:-}"   # or --source; e.g. on a machine without apt-get
out="$root/.prebuild-deps/libunwind"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --source) source_dir=$(cd "$2" && pwd); shift 2 ;;
    --source=*) source_dir=$(cd "${1#*=}" && pwd); shift ;;
    --out) out=$2; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build-static-libunwind: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/stallwatch-libunwind-XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -z "$source_dir" ]; then
  version=${LIBUNWIND_DEB_VERSION:-1.6.2-3}
  command -v apt-get >/dev/null && command -v dpkg-source >/dev/null || {
    echo "build-static-libunwind: no apt-get/dpkg-source here: pass --source DIR (an unpacked libunwind release)" >&2
    exit 1
  }
  # shellcheck disable=SC1091
  suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$suite" ] || { echo "build-static-libunwind: no VERSION_CODENAME in /etc/os-release: pass --source DIR" >&2; exit 1; }
  apt_dir="$work/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$work/src"
  echo "deb-src ${LIBUNWIND_DEB_MIRROR:-http://deb.debian.org/debian} $suite main" >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=$(id -un)")  # the private directories belong to us, not to _apt
  echo "build-static-libunwind: fetching Debian's source package libunwind=$version ($suite)"
  apt-get "${apt_opts[@]}" -qq update
  (cd "$work/src" && apt-get "${apt_opts[@]}" -qq source "libunwind=$version" >/dev/null)
  source_dir=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'libunwind-*' | head -1)
  [ -n "$source_dir" ] || { echo "build-static-libunwind: apt-get source gave no source tree" >&2; exit 1; }
  origin="Debian source package libunwind $version"
else
  origin="source tree $source_dir"
fi
[ -x "$source_dir/configure" ] || { echo "build-static-libunwind: $source_dir/configure is missing (need a release tree)" >&2; exit 1; }

echo "build-static-libunwind: building from $origin"
mkdir -p "$work/build"
cd "$work/build"
"$source_dir/configure" --prefix="$out" --disable-shared --enable-static --with-pic \
  --disable-cxx-exceptions --disable-weak-backtrace --disable-minidebuginfo --disable-zlibdebuginfo \
  --disable-coredump --disable-ptrace --disable-setjmp --disable-tests --disable-documentation \
  --disable-unwind-header CFLAGS="-O2" >"$work/configure.log" 2>&1 ||
  { tail -30 "$work/configure.log" >&2; exit 1; }
make -j"$(nproc 2>/dev/null || echo 2)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; exit 1; }
rm -rf "$out/include" "$out/lib"
make install >"$work/install.log" 2>&1 || { tail -30 "$work/install.log" >&2; exit 1; }

# Position-independent or not: absolute 32-bit and local-exec TLS relocations outside debug
# sections cannot be resolved in a shared object.
if command -v readelf >/dev/null; then
  bad=$(readelf -r "$out/lib/libunwind.a" 2>/dev/null |
    awk '/^Relocation section/ { sec = $3 } /R_X86_64_(32|32S|TPOFF32) / && sec !~ /debug/ { n++ } END { print n + 0 }')
  [ "$bad" = 0 ] || { echo "build-static-libunwind: $out/lib/libunwind.a has $bad non-PIC relocations" >&2; exit 1; }
fi
printf '%s\n' "$origin" >"$out/SOURCE"
echo "build-static-libunwind: installed $out/lib/libunwind.a and $out/include"
