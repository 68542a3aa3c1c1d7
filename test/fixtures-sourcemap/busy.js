"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
// Source of the source-map fixture (test/source-maps.test.js). The compiled busy.js and
// busy.js.map next to it are committed, so the tests need no compile step. After editing, rebuild
// them from the repository root with:
//   npx tsc --sourceMap --strict --target es2022 --module commonjs --types node test/fixtures-sourcemap/busy.ts
// argv: timer|http. Supervises with thresholdMs 200 and prints REPORT/UNBLOCKED/NOTE lines
// (test/fixtures/_common.js), plus NOTE {sourceMapCached} (whether Node's own cache has this
// file's map: only with --enable-source-maps).
const module_1 = require("module");
const common = require('../fixtures/_common');
const plan = { ms: 1000, label: 'source-map fixture' };
function crunchNumbers(ms) {
    const end = Date.now() + ms;
    let acc = 0;
    // LOOP-START
    for (let i = 0;; i++) {
        acc += Math.sqrt(i);
        if ((i & 0xffff) === 0 && Date.now() >= end)
            return acc;
    }
    // LOOP-END
}
function handleWork() {
    return crunchNumbers(plan.ms); // CALL-SITE
}
common.main(async () => {
    const sv = common.watch({ thresholdMs: 200 });
    common.say('NOTE', { sourceMapCached: (0, module_1.findSourceMap)(__filename) !== undefined });
    common.ready({ stallMs: plan.ms, label: plan.label });
    const mode = process.argv[2] === 'http' ? 'http' : 'timer';
    await common.trigger(mode, handleWork);
    await common.waitForUnblocked(1);
    common.done(sv);
});
//# sourceMappingURL=busy.js.map