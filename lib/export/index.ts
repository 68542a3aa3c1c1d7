/** Exporters of a StallProfile (the `profile` of an 'unblocked' event) to profiler formats. */
export { toFolded } from './folded';
export { toPprof } from './pprof';
export { toCpuProfile, type CpuProfile, type CpuProfileCallFrame, type CpuProfileNode } from './cpuprofile';
export type { ProfileSource } from './input';
