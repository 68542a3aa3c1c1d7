'use strict';
// Instruction counts from valgrind's callgrind. These machines have no hardware counters for
// perf, and their timings swing by tens of percent between identical runs; the number of
// instructions a deterministic workload retires barely moves. A run costs about 50x its
// normal time, so only short workloads are measured this way.
const fs = require('fs');
const { spawnSync } = require('child_process');

function callgrindAvailable() {
  const r = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  const c = spawnSync('callgrind_control', ['-h'], { encoding: 'utf8' });
  return r.status === 0 && !c.error;
}

/** The command prefix that runs a process under callgrind, writing its counts to outFile. */
function callgrindWrapper(outFile, extra = []) {
  return ['valgrind', '--tool=callgrind', ...extra, `--callgrind-out-file=${outFile}`];
}

/** Instructions retired by all threads of the process that wrote outFile. */
function totalInstructions(outFile) {
  const text = fs.readFileSync(outFile, 'utf8');
  // "summary:" can be 0 when collection started late; "totals:" is the sum of all threads.
  const counts = [...text.matchAll(/^(?:totals|summary):\s+(\d+)/gm)].map((x) => Number(x[1]));
  if (!counts.length) throw new Error(`no totals in callgrind output ${outFile}`);
  return Math.max(...counts);
}

/**
 * Per-function instruction counts from callgrind_annotate, one line per function:
 * [{ count, fn }], fn being "file:function [object]". Self counts, or inclusive ones (the
 * function and everything it called) with inclusive = true.
 */
function functionCounts(outFile, { inclusive = false } = {}) {
  const r = spawnSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', outFile], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) return null;
  const rows = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!m || m[2].startsWith('PROGRAM TOTALS')) continue;
    rows.push({ count: Number(m[1].replace(/,/g, '')), fn: m[2] });
  }
  return rows;
}

module.exports = { callgrindAvailable, callgrindWrapper, totalInstructions, functionCounts };
