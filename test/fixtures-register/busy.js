'use strict';
// Blocks the main thread's event loop for 800 ms in a named function, then exits 0.
// Run by test/register.test.js and test/cli.test.js with stallwatch attached from outside
// (-r / --import / NODE_OPTIONS / stallwatch run) and STALLWATCH_THRESHOLD_MS=200.
// `node --test test/` runs every .js under test/: launched that way, exit at once.
if (process.env.NODE_TEST_CONTEXT && !process.env.STALLWATCH_FIXTURE) process.exit(0);

function spinInNamedFunction(ms) {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}

setTimeout(() => {
  spinInNamedFunction(800);
  // The 'unblocked' log entry is written by stallwatch's writer thread after the loop moves
  // again; exiting right away can beat it (seen at 100 ms under load), so stay a little.
  setTimeout(() => console.log('DONE'), 400);
}, 50);
