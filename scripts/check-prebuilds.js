#!/usr/bin/env node
// `npm run prebuilds:check`, run by prepublishOnly: refuses to publish a package without the
// prebuilt binaries it promises (the README's install section), or with stale ones.
//
// Required: prebuilds/linux-x64/node.abi<N>.node for Node 18, 20, 22 and 24 (the release step
// `npm run prebuilds:release` makes them); any other <platform>-<arch> directory present (built
// elsewhere by the same script) must hold the same ABIs. Every binary must be newer than every
// native source and binding.gyp, and on Linux carry its own libunwind (nothing libunwind in
// DT_NEEDED, no libunwind symbol exported).
'use strict';

const fs = require('fs');
const path = require('path');
const { checkStaticLinkage } = require('./prebuild-linkage');

const ROOT = path.resolve(__dirname, '..');
// NODE_MODULE_VERSION of each supported Node major.
const ABIS = { 18: 108, 20: 115, 22: 127, 24: 137 };
const REQUIRED_TARGETS = ['linux-x64'];

function newestSource() {
  let newest = 0;
  const visit = (p) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  visit(path.join(ROOT, 'native'));
  visit(path.join(ROOT, 'binding.gyp'));
  return newest;
}

function main() {
  const dir = path.join(ROOT, 'prebuilds');
  const present = fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => fs.statSync(path.join(dir, name)).isDirectory()) : [];
  const targets = [...new Set([...REQUIRED_TARGETS, ...present])];
  const sources = newestSource();
  const problems = [];
  for (const target of targets) {
    for (const [major, abi] of Object.entries(ABIS)) {
      // glibc builds; a musl target directory would name its files node.abi<N>.musl.node.
      const file = path.join(dir, target, `node.abi${abi}.node`);
      const shown = path.relative(ROOT, file);
      if (!fs.existsSync(file)) {
        problems.push(`${shown} (Node ${major}) is missing`);
        continue;
      }
      if (fs.statSync(file).mtimeMs < sources) problems.push(`${shown} is older than native/ or binding.gyp: rebuild it`);
      if (target.startsWith('linux-')) {
        try {
          checkStaticLinkage(file);
        } catch (error) {
          problems.push(error.message);
        }
      }
    }
  }
  if (problems.length > 0) {
    console.error(`prebuilds:check: not ready to publish:\n  ${problems.join('\n  ')}\nRun \`npm run prebuilds:release\` (see scripts/prebuild-release.sh).`);
    process.exit(1);
  }
  console.log(`prebuilds:check: ${targets.join(', ')}: Node ${Object.keys(ABIS).join(', ')} present, fresh and self-contained`);
}

main();
