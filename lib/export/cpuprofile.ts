/**
 * Chrome DevTools `.cpuprofile` export: the JSON that `node --cpu-prof` writes and DevTools
 * (Performance panel), VS Code and speedscope open. Save it with
 * `fs.writeFileSync('stall.cpuprofile', JSON.stringify(toCpuProfile(event)))`.
 *
 * It follows what V8's profiler emits (CDP `Profiler.Profile`):
 * - `nodes[0]` is the root, `(root)`, id 1. Below it, the stacks, outermost frame first, merged
 *   into a tree: a frame becomes the child of the node above it with an identical `callFrame`.
 * - A JS frame's `callFrame` is its function, as in V8: name (`''` when anonymous, which
 *   DevTools shows as "(anonymous)"), the script as `url` (an absolute path becomes a `file://`
 *   URL, as V8 gives CommonJS scripts) with a `scriptId` per script ("1", "2", … in node
 *   order), and the function's definition line (`functionLine`) 0-based. `columnNumber` is -1,
 *   the definition column not being known; -1 is also V8's value for an unknown line. So samples
 *   at two lines of one function share a node, and the executing line goes to the leaf's
 *   `positionTicks` (1-based lines, as in CDP), which DevTools shows as line-level times in its
 *   Sources panel.
 * - Native and V8 frames, which V8's profiler does not show, get a node named by their label
 *   (frame-label.ts: `uv__fs_read [node]`, `Builtins_JSEntry [v8]`), scriptId "0", no url.
 *   A stack without frames is a node `(no frames captured)`.
 * - `hitCount` of a node: the samples whose innermost frame it is. `samples` lists, per stack,
 *   that leaf's id `count` times; stacks hottest first (ties in a fixed order), since the
 *   profile keeps no sample order.
 * - Times are microseconds: `startTime` is startedAt; `timeDeltas` (one per sample) are 0, then
 *   intervalMs each, so the samples fall at startedAt, startedAt + interval, …; `endTime` is
 *   one interval after the last sample. Each sample thus stands for one interval, and DevTools'
 *   self times ((endTime − startTime) / samples per sample) are count × intervalMs, as in pprof.
 */
import { pathToFileURL } from 'url';
import type { Frame } from '../report';
import { frameLabel, NO_FRAMES_LABEL } from './frame-label';
import { resolveProfile, sampledStacks, type ProfileSource } from './input';

export interface CpuProfileCallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  /** 0-based; -1 when unknown. */
  lineNumber: number;
  /** 0-based; -1 when unknown. */
  columnNumber: number;
}

export interface CpuProfileNode {
  id: number;
  callFrame: CpuProfileCallFrame;
  hitCount: number;
  children: number[];
  /** Samples of this node by executing line (1-based), when lines are known. */
  positionTicks?: Array<{ line: number; ticks: number }>;
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** Microseconds. */
  startTime: number;
  /** Microseconds. */
  endTime: number;
  /** Node id of each sample's innermost frame. */
  samples: number[];
  /** Microseconds from the previous sample (from startTime for the first), one per sample. */
  timeDeltas: number[];
}

const UNKNOWN = -1;

function syntheticFrame(functionName: string): CpuProfileCallFrame {
  return { functionName, scriptId: '0', url: '', lineNumber: UNKNOWN, columnNumber: UNKNOWN };
}

/** A DevTools .cpuprofile of a StallProfile, or of the `profile` of an 'unblocked' event. */
export function toCpuProfile(input: ProfileSource): CpuProfile {
  const profile = resolveProfile(input, 'toCpuProfile');

  // scriptId is left '' here and set when the node is made: ids then follow the order of the
  // nodes, which does not depend on the order of the stacks in the profile.
  const callFrameOf = (frame: Frame): CpuProfileCallFrame => {
    if (frame.kind !== 'js') return syntheticFrame(frameLabel(frame));
    const lineNumber = frame.functionLine !== undefined ? frame.functionLine - 1 : UNKNOWN;
    // V8 names an anonymous function '' (DevTools shows "(anonymous)").
    return { functionName: frame.name, scriptId: '', url: scriptUrl(frame.file), lineNumber, columnNumber: UNKNOWN };
  };

  // Each stack as root-first call frames, hottest stack first.
  const stacks = sampledStacks(profile).map(({ frames, count }) => {
    const path =
      frames.length === 0
        ? [{ callFrame: syntheticFrame(NO_FRAMES_LABEL), line: undefined }]
        : frames.map((frame) => ({ callFrame: callFrameOf(frame), line: frame.kind === 'js' ? frame.line : undefined })).reverse();
    return { path, count, key: JSON.stringify(path) };
  });
  stacks.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const scriptIds = new Map<string, string>();
  const scriptIdOf = (url: string): string => {
    if (url === '') return '0';
    let id = scriptIds.get(url);
    if (id === undefined) scriptIds.set(url, (id = String(scriptIds.size + 1)));
    return id;
  };

  const root: CpuProfileNode = { id: 1, callFrame: syntheticFrame('(root)'), hitCount: 0, children: [] };
  const nodes: CpuProfileNode[] = [root];
  const childrenByKey = new Map<CpuProfileNode, Map<string, CpuProfileNode>>();
  const ticksByLine = new Map<CpuProfileNode, Map<number, number>>();
  const samples: number[] = [];

  for (const { path, count } of stacks) {
    let node = root;
    for (const { callFrame } of path) {
      let children = childrenByKey.get(node);
      if (!children) childrenByKey.set(node, (children = new Map()));
      const key = JSON.stringify([callFrame.functionName, callFrame.url, callFrame.lineNumber, callFrame.columnNumber]);
      let child = children.get(key);
      if (!child) {
        const scriptId = callFrame.scriptId === '' ? scriptIdOf(callFrame.url) : callFrame.scriptId;
        child = { id: nodes.length + 1, callFrame: { ...callFrame, scriptId }, hitCount: 0, children: [] };
        nodes.push(child);
        children.set(key, child);
        node.children.push(child.id);
      }
      node = child;
    }
    node.hitCount += count;
    const line = path[path.length - 1].line;
    if (line !== undefined) {
      let ticks = ticksByLine.get(node);
      if (!ticks) ticksByLine.set(node, (ticks = new Map()));
      ticks.set(line, (ticks.get(line) ?? 0) + count);
    }
    for (let i = 0; i < count; i++) samples.push(node.id);
  }
  for (const [node, ticks] of ticksByLine) {
    node.positionTicks = [...ticks].sort(([a], [b]) => a - b).map(([line, n]) => ({ line, ticks: n }));
  }

  const startTime = Math.round(profile.startedAt * 1000);
  const intervalUs = Math.max(1, Math.round(profile.intervalMs * 1000));
  return {
    nodes,
    startTime,
    endTime: startTime + samples.length * intervalUs,
    samples,
    timeDeltas: samples.map((_, i) => (i === 0 ? 0 : intervalUs)),
  };
}

/** Scripts as V8's profiler names them: absolute paths (CommonJS) as `file://` URLs; URLs (ES
 *  modules) and node's built-in ids (`node:fs`) as they are. */
function scriptUrl(file: string | undefined): string {
  if (file === undefined) return '';
  return file.startsWith('/') ? pathToFileURL(file).href : file;
}
