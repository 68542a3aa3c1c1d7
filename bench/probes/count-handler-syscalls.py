#!/usr/bin/env python3
"""Syscalls made by the stalled (main) thread inside stallwatch's capture signal handler.

  strace -f -qq -o /tmp/st.txt node bench/workloads/stall.js --detector=stallwatch \\
      --timer=6 --http=0 --threshold=50 --stall=120 --gap=60 --depth=0   # or --depth=120
  python3 bench/probes/count-handler-syscalls.py /tmp/st.txt

Prints, per capture, the syscalls between `--- SIGURG` and `rt_sigreturn` on the main thread.
(Finding 1 in bench/RESULTS.md.) Not part of npm run bench.
"""
import collections
import re
import sys

lines = open(sys.argv[1]).read().split('\n')
main = lines[0].split()[0]
inside = False
current = collections.Counter()
for line in lines:
    parts = line.split(None, 1)
    if len(parts) < 2 or parts[0] != main:
        continue
    rest = parts[1]
    if rest.startswith('--- SIGURG'):
        inside, current = True, collections.Counter()
        continue
    if inside:
        m = re.match(r'(?:<\.\.\. )?(\w+)', rest)
        if not m:
            continue
        if m.group(1) == 'rt_sigreturn':
            print(sum(current.values()), dict(current))
            inside = False
        else:
            current[m.group(1)] += 1
