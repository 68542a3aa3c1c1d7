'use strict';
// Runs every variant once per round, rounds one after the other (A B C A B C ...), so that
// drift of a noisy machine (other tenants, thermal, page cache) spreads over all variants
// instead of biasing the one that happened to run last. The starting variant rotates from
// round to round so no variant always runs first after a pause (or right after a given other).

/**
 * @param {string[]} variants
 * @param {number} rounds
 * @param {(variant: string, round: number) => Promise<object|undefined>} runOne
 * @param {{label?: string, log?: (msg: string) => void}} [opts]
 * @returns {Promise<Record<string, Array<object|undefined>>>} results[variant][round]
 */
async function interleave(variants, rounds, runOne, opts = {}) {
  const log = opts.log || (() => {});
  const results = Object.fromEntries(variants.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const variant of order) {
      let result;
      try {
        result = await runOne(variant, round);
      } catch (error) {
        log(`  ${opts.label || ''} ${variant} round ${round + 1}: failed: ${error && error.message ? error.message : error}`);
        result = { error: String(error && error.message ? error.message : error) };
      }
      results[variant][round] = result;
    }
  }
  return results;
}

/** Picks one numeric field of every round of a variant (NaN where the round failed). */
function field(results, variant, name) {
  return (results[variant] || []).map((r) => (r && typeof r[name] === 'number' ? r[name] : NaN));
}

module.exports = { interleave, field };
