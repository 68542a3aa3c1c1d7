'use strict';
// Order statistics for small, noisy samples. Everything quoted in the tables is a median with
// its spread; ratios are computed per interleaved round (B_i / A_i) and then summarized, so a
// slow phase of the machine that hits both A_i and B_i cancels out.

function sorted(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
}

/** Percentile with linear interpolation between closest ranks (p in [0, 100]). */
function percentile(values, p) {
  const s = sorted(values);
  if (s.length === 0) return NaN;
  if (s.length === 1) return s[0];
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

const median = (values) => percentile(values, 50);

/** Median, quartiles, min, max and count: the shape of a sample in one object. */
function summary(values) {
  const s = sorted(values);
  return {
    n: s.length,
    median: percentile(s, 50),
    p25: percentile(s, 25),
    p75: percentile(s, 75),
    min: s.length ? s[0] : NaN,
    max: s.length ? s[s.length - 1] : NaN,
  };
}

/** Tail summary for latency-like samples (many values). */
function tail(values) {
  const s = sorted(values);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1] : NaN,
    min: s.length ? s[0] : NaN,
  };
}

/**
 * Paired ratios of two interleaved series (same round index): median ratio and its range.
 * Rounds where either side is missing are skipped.
 */
function pairedRatio(a, b) {
  const ratios = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i]) && a[i] !== 0) ratios.push(b[i] / a[i]);
  }
  const s = summary(ratios);
  return { ...s, ratios };
}

/** Paired differences (B_i - A_i). */
function pairedDiff(a, b) {
  const diffs = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i])) diffs.push(b[i] - a[i]);
  }
  return { ...summary(diffs), diffs };
}

module.exports = { percentile, median, summary, tail, pairedRatio, pairedDiff, sorted };
