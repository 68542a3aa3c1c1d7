'use strict';
// A seeded pseudo-random source (mulberry32), so that a chaos run can be replayed from its seed.

function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: (list) => list[Math.floor(next() * list.length)],
    /** A stall length: one in four below twice the threshold (may or may not be reported), the
     *  rest from 2.5x to 6x the threshold (must be reported). */
    duration: (thresholdMs) => (next() < 0.25
      ? int(Math.round(thresholdMs * 0.3), Math.round(thresholdMs * 1.6))
      : int(Math.round(thresholdMs * 2.5), thresholdMs * 6)),
  };
}

module.exports = { random };
