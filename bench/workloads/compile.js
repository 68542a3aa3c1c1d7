'use strict';
// Compile-heavy start-up with a detector attached from the start: require the TypeScript
// compiler (about 9 MB of JS, thousands of functions compiled lazily as they first run), parse
// its bundled lib.*.d.ts files and transpile a generated module with it (fixed inputs).
//   node compile.js --detector=... [--threshold=500] [--libs=1] [--classes=300]
// Reports the time since the process's time origin at the end, and the parts. --libs=0 skips
// the lib.*.d.ts parse, and --classes sets the generated module's size: the short form that
// runs under callgrind (instruction counts) is require('typescript') and a small transpile.
const fs = require('fs');
const path = require('path');
const { attach, parseArgs, emit, REPO } = require('../lib/detectors');

const args = parseArgs();
const detector = args.detector || 'none';
const attached = attach(detector, { thresholdMs: Number(args.threshold || 500) });

const t0 = performance.now();
const ts = require(require.resolve('typescript', { paths: [REPO] }));
const requireMs = performance.now() - t0;

// Fixed inputs (the repository's own lib/ changes under our feet): parse the TypeScript
// package's bundled lib.*.d.ts files, and transpile a generated TypeScript module.
const t1 = performance.now();
const tsLib = path.dirname(require.resolve('typescript', { paths: [REPO] }));
let outChars = 0;
const dts = args.libs === '0' ? [] : fs.readdirSync(tsLib).filter((f) => /^lib\.(es5|es2015\..*|dom)\.d\.ts$/.test(f)).sort();
for (const name of dts) {
  const sf = ts.createSourceFile(name, fs.readFileSync(path.join(tsLib, name), 'utf8'), ts.ScriptTarget.ES2022, true);
  outChars += sf.statements.length;
}
const parts = [];
const classes = Number(args.classes || 300);
for (let i = 0; i < classes; i++) {
  parts.push(`export interface Shape${i} { id: number; name: string; tags?: readonly string[] }
export class Box${i}<T extends Shape${i}> {
  private items: T[] = [];
  constructor(private readonly limit: number = ${i + 1}) {}
  add(item: T): this { if (this.items.length < this.limit) this.items.push(item); return this; }
  find(pred: (t: T) => boolean): T | undefined { return this.items.find(pred); }
  get size(): number { return this.items.length; }
}
export const make${i} = (n: number): Box${i}<Shape${i}> => new Box${i}<Shape${i}>(n).add({ id: n, name: \`s\${n}\` });
`);
}
const out = ts.transpileModule(parts.join('\n'), {
  compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, sourceMap: true },
  fileName: 'generated.ts',
});
outChars += out.outputText.length;
const transpileMs = performance.now() - t1;
const totalMs = performance.now();
// CPU: the whole process (all threads), and the main thread alone (the start-up's critical
// path; on a machine shared with other work, a steadier measure than wall time).
const cpu = process.cpuUsage();
let mainThreadCpuMs = NaN;
try {
  mainThreadCpuMs = Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
} catch {}

const s = attached.stats();
emit({
  result: {
    detector,
    attachMs: attached.attachMs,
    requireMs,
    transpileMs,
    totalMs,
    processCpuMs: (cpu.user + cpu.system) / 1000,
    mainThreadCpuMs,
    outChars,
    captures: s && typeof s.samples === 'number' ? s.samples : undefined,
  },
});
attached.close();
process.exit(0);
