#!/usr/bin/env bash
# Builds and runs the pure C++ unit tests (no Node, no V8): each test/native/*_test.cc is linked
# with the native sources it names in its first line, `// sources: a.cc b.cc`.
# SANITIZE=thread|address adds the sanitizer flags (npm run test:tsan is SANITIZE=thread).
# Arguments, if any, name the tests to run (e.g. `bash test/native/run.sh slot_table_test`).
#
# Outputs: build/native-tests for the plain build; sanitizer builds go to their own directory
# outside build/ ($NATIVE_TEST_OUT, default $TMPDIR/stallwatch-native-tests-<sanitizer>-<uid>), so
# they never mix with, or race against, a node-gyp rebuild of build/.
# Sanitizer reports fail the test (TSan exits 66, ASan aborts); suppressions live next to this
# script (tsan.supp, each entry justified there; only for code outside stallwatch).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
flags=(-std=c++20 -O1 -g -Wall -Wextra -pthread -I"$root/native")
case "${SANITIZE:-}" in
  thread)
    flags+=(-fsanitize=thread)
    export TSAN_OPTIONS="suppressions=$here/tsan.supp:halt_on_error=0:second_deadlock_stack=1:history_size=4${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
    ;;
  address)
    flags+=(-fsanitize=address,undefined -fno-omit-frame-pointer)
    export ASAN_OPTIONS="detect_stack_use_after_return=1:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    ;;
  "") ;;
  *) echo "unknown SANITIZE=${SANITIZE}" >&2; exit 2 ;;
esac
if [ -n "${SANITIZE:-}" ]; then
  out=${NATIVE_TEST_OUT:-${TMPDIR:-/tmp}/stallwatch-native-tests-$SANITIZE-$(id -u)}
else
  out=${NATIVE_TEST_OUT:-$root/build/native-tests}
fi
mkdir -p "$out"
status=0
for test in "$here"/*_test.cc; do
  name=$(basename "$test" .cc)
  if [ "$#" -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  sources=$(sed -n '1s|^// sources:||p' "$test")
  srcs=()
  for s in $sources; do srcs+=("$root/native/$s"); done
  if ! g++ "${flags[@]}" "$test" "${srcs[@]}" -o "$out/$name" -ldl; then
    echo "FAILED $name (does not compile)"; status=1; continue
  fi
  # A hung test fails instead of blocking the run.
  if timeout 600 "$out/$name"; then echo "ok $name"; else echo "FAILED $name"; status=1; fi
done
exit $status
