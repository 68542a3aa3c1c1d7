'use strict';
// Listens on the supervisor exported by stallwatch/register, loads the register module a second
// time from a fresh module cache entry (as a second copy of the package would), then blocks.
// Prints, one line each:
//   STATE {"supervised":bool,"sameSupervisor":bool,"error":string|null}
//   BLOCKED <culprit function name>      for each 'blocked' event
//   UNBLOCKED                            for each 'unblocked' event
//   DONE
if (process.env.NODE_TEST_CONTEXT && !process.env.STALLWATCH_FIXTURE) process.exit(0);
const fs = require('node:fs');

const first = require('stallwatch/register');
delete require.cache[require.resolve('stallwatch/register')];
const second = require('stallwatch/register');
const say = (line) => fs.writeSync(1, `${line}\n`);
say(`STATE ${JSON.stringify({
  supervised: first.supervisor !== undefined,
  sameSupervisor: first !== second && first.supervisor === second.supervisor,
  error: first.error ?? null,
})}`);

if (first.supervisor) {
  first.supervisor.on('blocked', (report) => {
    const own = report.frames.find((f) => f.kind === 'js' && f.name === 'spinInNamedFunction');
    say(`BLOCKED ${own ? own.name : '(not found)'}`);
  });
  first.supervisor.on('unblocked', () => say('UNBLOCKED'));
}

function spinInNamedFunction(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

setTimeout(() => {
  spinInNamedFunction(800);
  setTimeout(() => say('DONE'), 200);
}, 50);
