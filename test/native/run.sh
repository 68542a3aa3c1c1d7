#!/usr/bin/env bash
# Builds and runs the pure C++ unit tests (no Node, no V8): each test/native/*_test.cc is linked
# with the native sources it names in its first line, `// sources: a.cc b.cc`.
# SANITIZE=thread|address adds the sanitizer flags.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/native-tests"
mkdir -p "$out"
flags=(-std=c++20 -O1 -g -Wall -Wextra -pthread -I"$root/native")
case "${SANITIZE:-}" in
  thread) flags+=(-fsanitize=thread) ;;
  address) flags+=(-fsanitize=address,undefined -fno-omit-frame-pointer) ;;
  "") ;;
  *) echo "unknown SANITIZE=${SANITIZE}" >&2; exit 2 ;;
esac
status=0
for test in "$here"/*_test.cc; do
  name=$(basename "$test" .cc)
  sources=$(sed -n '1s|^// sources:||p' "$test")
  srcs=()
  for s in $sources; do srcs+=("$root/native/$s"); done
  g++ "${flags[@]}" "$test" "${srcs[@]}" -o "$out/$name" -ldl
  if "$out/$name"; then echo "ok $name"; else echo "FAILED $name"; status=1; fi
done
exit $status
