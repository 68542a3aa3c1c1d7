'use strict';
// How long a small process takes to exit, with and without stallwatch: spawns ROUNDS x 4 tiny
// node scripts, interleaved (order rotated every round):
//   plain / supervised (supervise({ thresholdMs: 250, log: 'stderr' }))  x  natural / process.exit
// Each script does 20 ms of nothing, writes its process.hrtime (monotonic, comparable across
// processes on Linux) and ends. Prints NOTE {step: 'sample', kind, end, spawnToExitMs,
// lastJsToExitMs} per child. argv: [rounds]
const { spawn } = require('node:child_process');
const common = require('../fixtures/_common');
const w = require('./_worker');

const ROUNDS = Number(process.argv[2]) || 10;

function script(kind, end) {
  return `
const fs = require('node:fs');
${kind === 'supervised' ? `require(${JSON.stringify(w.ROOT)}).supervise({ thresholdMs: 250, log: 'stderr' });` : ''}
setTimeout(() => {
  fs.writeSync(1, 'LAST ' + process.hrtime.bigint() + '\\n');
  ${end === 'exit' ? 'process.exit(0);' : ''}
}, 20);
`;
}

function runOne(kind, end) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-e', script(kind, end)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${kind}/${end}: no exit within 10 s`)); }, 10000);
    let t2 = null;
    child.on('exit', () => { t2 = process.hrtime.bigint(); });
    // 'close' comes after 'exit' and after stdout is drained.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const m = /LAST (\d+)/.exec(out);
      if (code !== 0 || !m || t2 === null) {
        reject(new Error(`${kind}/${end}: exit code ${code} signal ${signal}, stdout ${JSON.stringify(out)}`));
        return;
      }
      resolve({ kind, end, spawnToExitMs: Number(t2 - t0) / 1e6, lastJsToExitMs: Number(t2 - BigInt(m[1])) / 1e6 });
    });
  });
}

common.main(async () => {
  common.ready({ rounds: ROUNDS });
  const combos = [['plain', 'natural'], ['supervised', 'natural'], ['plain', 'exit'], ['supervised', 'exit']];
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < combos.length; k++) {
      const [kind, end] = combos[(k + round) % combos.length];
      common.say('NOTE', { step: 'sample', ...(await runOne(kind, end)) });
    }
  }
  common.say('DONE');
});
