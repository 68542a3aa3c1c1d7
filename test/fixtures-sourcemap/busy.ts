// Source of the source-map fixture (test/source-maps.test.js). The compiled busy.js and
// busy.js.map next to it are committed, so the tests need no compile step. After editing, rebuild
// them from the repository root with:
//   npx tsc --sourceMap --strict --target es2022 --module commonjs --types node test/fixtures-sourcemap/busy.ts
// argv: timer|http. Supervises with thresholdMs 200 and prints REPORT/UNBLOCKED/NOTE lines
// (test/fixtures/_common.js), plus NOTE {sourceMapCached} (whether Node's own cache has this
// file's map: only with --enable-source-maps).
import { findSourceMap } from 'module';

// Types only: these lines vanish from busy.js, so original and generated lines differ.
interface StallPlan {
  readonly ms: number;
  readonly label: string;
}

type Trigger = 'timer' | 'http';

const common = require('../fixtures/_common');

const plan: StallPlan = { ms: 1000, label: 'source-map fixture' };

function crunchNumbers(ms: number): number {
  const end: number = Date.now() + ms;
  let acc: number = 0;
  // LOOP-START
  for (let i = 0; ; i++) {
    acc += Math.sqrt(i);
    if ((i & 0xffff) === 0 && Date.now() >= end) return acc;
  }
  // LOOP-END
}

function handleWork(): number {
  return crunchNumbers(plan.ms); // CALL-SITE
}

common.main(async () => {
  const sv = common.watch({ thresholdMs: 200 });
  common.say('NOTE', { sourceMapCached: findSourceMap(__filename) !== undefined });
  common.ready({ stallMs: plan.ms, label: plan.label });
  const mode: Trigger = process.argv[2] === 'http' ? 'http' : 'timer';
  await common.trigger(mode, handleWork);
  await common.waitForUnblocked(1);
  common.done(sv);
});
