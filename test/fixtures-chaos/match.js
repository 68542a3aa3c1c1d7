'use strict';
// Matches the reports of a chaos run (test/chaos.test.js) to its ground truth, the stalls the
// fixture injected (NOTE:stall records of run.js). Pure: no I/O, no addon.
//
// Terms:
//   stall    one injected blocking call on one thread: [start, end] wall clock (epoch ms). An
//            `interrupted` one was cut short by worker.terminate(): it lasted at least `minMs`, and
//            `end` is only an upper bound (the worker's 'exit'); reports after start + minMs are
//            at its edge (the worker may be tearing down) and do not count as duplicates.
//   episode  stalls of one thread less than MERGE_GAP_MS apart. stallwatch sees loop progress
//            only when the loop turns, and two callbacks of one loop iteration (a timer, then an
//            HTTP handler) run back to back: to the watchdog they are one stall.
//   must     a stall of at least twice the threshold: its episode must be reported.
// A report belongs to the stall (of its own threadId) whose [start, end] holds its capturedAt,
// the time the kept sample was taken; within EDGE_MS of either end is "at the edge" (capturedAt
// and Date.now() are whole milliseconds, and the watchdog may have sampled the code just before
// or after the stall function), where the culprit is not checked. A report that names
// no culprit and says why in `partial` is `unnamed`, not wrong: the partial ratio bounds those.

const MERGE_GAP_MS = 15;
const EDGE_MS = 5;

/** The culprit's name from formatReport() text: the `-->` line's function, or null (no culprit). */
function culpritName(text) {
  const line = text.split('\n').find((l) => l.startsWith('--> at '));
  if (!line) return null;
  const m = /^--> at (.+?)(?: \(.*\)| \[v8\])?$/.exec(line);
  return m ? m[1] : null;
}

/**
 * A loop waiting for work: the thread was interrupted in the kernel poll call of its event loop
 * (innermost frame), with no JS on its stack. (uv__io_poll lower down is no sign of idleness:
 * every I/O callback runs inside it.)
 */
function looksIdle(report) {
  const f = report.frames;
  return !f.some((x) => x.kind === 'js') && f.length > 1 &&
    /^(epoll_wait|epoll_pwait|epoll_pwait2|kevent)$/.test(f[0].name) && f[1].name === 'uv__io_poll';
}

/**
 * Until when the stall surely ran. An interrupted stall ran at least until terminate() was called;
 * after that its thread may already be tearing down (which can stall on its own, and be reported).
 */
function certainEnd(s) {
  return s.interrupted ? s.start + s.minMs : s.end;
}

function episodesOf(stalls) {
  const byThread = new Map();
  for (const s of stalls) {
    if (!byThread.has(s.threadId)) byThread.set(s.threadId, []);
    byThread.get(s.threadId).push(s);
  }
  const episodes = [];
  for (const list of byThread.values()) {
    list.sort((a, b) => a.start - b.start);
    let cur = null;
    for (const s of list) {
      if (cur && s.start - cur.end <= MERGE_GAP_MS) {
        cur.stalls.push(s);
        cur.end = Math.max(cur.end, s.end);
      } else {
        cur = { threadId: s.threadId, start: s.start, end: s.end, stalls: [s], reports: [] };
        episodes.push(cur);
      }
    }
  }
  return episodes;
}

/**
 * stalls: ground-truth records; reports: JSON-log 'blocked' entries, each with `culprit` (the name
 * culpritName() found, or null); thresholdMs. Returns the findings; every list but `matchedReports`,
 * `other`, `edge` and `unnamed` is a failure when not empty.
 */
function match(stalls, reports, thresholdMs) {
  const must = (s) => (s.interrupted ? s.minMs : s.ms) >= 2 * thresholdMs;
  const culprits = new Set(stalls.map((s) => s.culprit));
  const episodes = episodesOf(stalls);
  for (const s of stalls) s.reports = [];
  const found = { matchedReports: [], edge: [], unnamed: [], wrongCulprit: [], stray: [], idle: [], other: [], duplicate: [], missed: [] };

  for (const r of reports) {
    const t = r.capturedAt;
    const ep = episodes.find((e) => e.threadId === r.threadId && t >= e.start - EDGE_MS && t <= e.end + EDGE_MS);
    const s = ep && ep.stalls.find((x) => t >= x.start - EDGE_MS && t <= x.end + EDGE_MS);
    if (ep) ep.reports.push(r);
    if (s) {
      s.reports.push(r);
      if (t < s.start + EDGE_MS || t > certainEnd(s) - EDGE_MS) found.edge.push({ report: r, stall: s });
      else if (r.culprit === null && r.partial !== undefined) found.unnamed.push({ report: r, stall: s });
      else if (r.culprit !== s.culprit) found.wrongCulprit.push({ report: r, stall: s });
      else found.matchedReports.push({ report: r, stall: s });
    } else if (ep) {
      found.other.push({ report: r, why: 'between two stalls of one episode' });
    } else if (looksIdle(r)) {
      found.idle.push({ report: r });
    } else if (culprits.has(r.culprit)) {
      found.stray.push({ report: r, why: 'a stall function, but no stall of this thread at that time' });
    } else {
      found.other.push({ report: r, why: 'not an injected stall (e.g. a worker starting up)' });
    }
  }
  for (const s of stalls) {
    const sure = s.reports.filter((r) => r.capturedAt <= certainEnd(s) + EDGE_MS);
    if (sure.length > 1) found.duplicate.push({ stall: s, reports: sure });
  }
  for (const e of episodes) {
    if (e.reports.length === 0 && e.stalls.some(must)) found.missed.push({ episode: e, stall: e.stalls.find(must) });
  }
  const mustCount = stalls.filter(must).length;
  return { ...found, matched: found.matchedReports.length, episodes: episodes.length, mustCount };
}

module.exports = { match, culpritName, looksIdle, MERGE_GAP_MS, EDGE_MS };
