'use strict';
// What a prebuilt ELF binary needs from the dynamic loader, and whether libunwind's symbols leak
// out of it: shared by scripts/prebuild.js (after each build) and scripts/check-prebuilds.js
// (before publishing). Needs readelf and nm (binutils).
const { spawnSync } = require('child_process');

function tool(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.error ? result.error.message : result.stderr.trim()}`);
  }
  return result.stdout;
}

/** The DT_NEEDED entries (readelf -d) and the defined dynamic symbols of libunwind's API (nm -D). */
function linkageOf(file) {
  const needed = [...tool('readelf', ['-dW', file]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const exported = tool('nm', ['-D', '--defined-only', file])
    .split('\n')
    .map((line) => line.trim().split(/\s+/).pop())
    .filter((symbol) => /^(unw_|_U[A-Za-z0-9]*_|_Unwind_|__libunwind|backtrace$)/.test(symbol ?? ''));
  return { needed, exported };
}

/** Throws when a binary meant to carry its own libunwind needs one or exports its symbols;
 *  returns the libraries it needs. */
function checkStaticLinkage(file) {
  const { needed, exported } = linkageOf(file);
  const unwindLibs = needed.filter((lib) => /unwind|lzma/.test(lib));
  if (unwindLibs.length > 0) throw new Error(`${file} needs ${unwindLibs.join(', ')}: libunwind was not linked in`);
  if (exported.length > 0) throw new Error(`${file} exports libunwind symbols (${exported.slice(0, 5).join(', ')}): they must stay local`);
  return needed;
}

module.exports = { linkageOf, checkStaticLinkage };
