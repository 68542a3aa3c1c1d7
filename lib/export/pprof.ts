/**
 * pprof export (https://github.com/google/pprof/blob/main/proto/profile.proto), encoded by the
 * `pprof-format` package, which also keeps the string table.
 *
 * The bytes returned are the raw protobuf, not gzipped: `go tool pprof` and the pprof web UI read
 * both raw and gzipped files; gzip them (`zlib.gzipSync`) to get the usual `.pb.gz`.
 *
 *   sample types   samples/count and wall/nanoseconds (wall = count × intervalMs); wall is the
 *                  default sample type
 *   period         wall/nanoseconds, intervalMs × 1e6
 *   timeNanos      startedAt; durationNanos: endedAt − startedAt
 *   samples        one per distinct stack, location ids innermost first (pprof's order)
 *   locations      one per distinct frame (all its fields), with one Line: the function, the
 *                  executing line and column (0 when unknown: never the definition line), and the
 *                  frame's address
 *   functions      one per distinct (name, systemName, filename, startLine): name as in
 *                  frame-label.ts's functionName() (no `[module]` suffix, no escaping), filename
 *                  the JS script or native source file, startLine the JS definition line
 *   mappings       one per distinct native module (shared object or executable), referenced by
 *                  the locations of native and V8 frames that name it. Address ranges are not
 *                  known (0); hasFunctions is set, since every location carries its function,
 *                  so that pprof does not try to symbolize the addresses itself. Executables
 *                  come first (pprof shows the first mapping as the profile's "File").
 *
 * Checked with `go tool pprof -raw` and `-top` (Go 1.19).
 * A stack without frames is given one location, function `(no frames captured)`.
 */
import {
  Profile,
  StringTable,
  type FunctionInput,
  type LocationInput,
  type MappingInput,
  type SampleInput,
} from 'pprof-format';
import type { Frame } from '../report';
import { functionName, NO_FRAMES_LABEL } from './frame-label';
import { resolveProfile, sampledStacks, type ProfileSource } from './input';

/** A pprof profile of a StallProfile, or of the `profile` of an 'unblocked' event. */
export function toPprof(input: ProfileSource): Uint8Array {
  const profile = resolveProfile(input, 'toPprof');
  const strings = new StringTable(); // index 0 is '', as pprof requires
  const str = (s: string | undefined): number => (s === undefined || s === '' ? 0 : strings.dedup(s));

  const functions: FunctionInput[] = [];
  const functionIds = new Map<string, number>();
  const functionId = (name: string, filename: string | undefined, startLine: number): number => {
    const key = JSON.stringify([name, filename ?? '', startLine]);
    let id = functionIds.get(key);
    if (id === undefined) {
      id = functions.length + 1;
      functionIds.set(key, id);
      functions.push({ id, name: str(name), systemName: str(name), filename: str(filename), startLine });
    }
    return id;
  };

  const mappings: MappingInput[] = [];
  const mappingIds = new Map<string, number>();
  const mappingId = (frame: Frame): number => {
    if (frame.kind === 'js' || frame.module === undefined || frame.module === '') return 0;
    let id = mappingIds.get(frame.module);
    if (id === undefined) {
      id = mappings.length + 1;
      mappingIds.set(frame.module, id);
      mappings.push({ id, filename: str(frame.module), hasFunctions: true, hasFilenames: true, hasLineNumbers: true });
    }
    // The flags claim a kind of information for all of the mapping's locations.
    const mapping = mappings[id - 1];
    if (frame.file === undefined) mapping.hasFilenames = false;
    if (frame.line === undefined) mapping.hasLineNumbers = false;
    return id;
  };

  const locations: LocationInput[] = [];
  const locationIds = new Map<string, number>();
  const locationId = (frame: Frame): number => {
    const key = JSON.stringify([
      frame.kind, frame.name, frame.file, frame.line, frame.column, frame.functionLine, frame.module, frame.address,
      frame.generatedFile, frame.generatedLine, frame.generatedColumn,
    ]);
    let id = locationIds.get(key);
    if (id === undefined) {
      id = locations.length + 1;
      locationIds.set(key, id);
      locations.push({
        id,
        mappingId: mappingId(frame),
        address: parseAddress(frame.address),
        line: [
          {
            functionId: functionId(functionName(frame), frame.file, frame.functionLine ?? 0),
            line: frame.line ?? 0,
            column: frame.column ?? 0,
          },
        ],
      });
    }
    return id;
  };
  const noFramesLocationId = (): number => {
    const key = 'no frames';
    let id = locationIds.get(key);
    if (id === undefined) {
      id = locations.length + 1;
      locationIds.set(key, id);
      locations.push({ id, line: [{ functionId: functionId(NO_FRAMES_LABEL, undefined, 0) }] });
    }
    return id;
  };

  const period = msToNanos(profile.intervalMs);
  // Stacks that differ only in fields pprof does not keep would give equal samples: merge them.
  const samples = new Map<string, { locationId: number[]; count: number }>();
  for (const { frames, count } of sampledStacks(profile)) {
    const ids = frames.length === 0 ? [noFramesLocationId()] : frames.map(locationId);
    const key = ids.join(',');
    const sample = samples.get(key);
    if (sample) sample.count += count;
    else samples.set(key, { locationId: ids, count });
  }
  const sample: SampleInput[] = [...samples.values()].map(({ locationId, count }) => ({
    locationId,
    value: [count, BigInt(count) * period],
  }));

  // pprof names the profile after its first mapping ("File: node"): put executables before
  // shared libraries, as pprof's own heuristic for the main binary does, else keep the order.
  const ordered = [...mappingIds].sort(([a], [b]) => Number(isSharedLibrary(a)) - Number(isSharedLibrary(b)));
  const newMappingId = new Map(ordered.map(([, id], i) => [id, i + 1]));
  const mapping = ordered.map(([, id]) => ({ ...mappings[id - 1], id: newMappingId.get(id) }));
  for (const l of locations) if (l.mappingId) l.mappingId = newMappingId.get(Number(l.mappingId));

  const timeNanos = msToNanos(profile.startedAt);
  const durationNanos = msToNanos(profile.endedAt) - timeNanos;
  const wall = { type: str('wall'), unit: str('nanoseconds') };
  return new Profile({
    sampleType: [{ type: str('samples'), unit: str('count') }, wall],
    sample,
    mapping,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos,
    durationNanos: durationNanos > 0n ? durationNanos : 0n,
    periodType: wall,
    period,
    defaultSampleType: wall.type,
  }).encode();
}

/** pprof's test for a shared library (not the main binary), plus macOS's `.dylib`. */
function isSharedLibrary(file: string): boolean {
  return file.startsWith('[') || /\.so$|\.so[._][0-9]|\.dylib$/.test(file);
}

/** Milliseconds to integer nanoseconds, exactly for epoch times (beyond 2^53 ns). */
function msToNanos(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

/** `0x…` to a number; 0 (no address) when absent or not hex. */
function parseAddress(address: string | undefined): bigint {
  return address !== undefined && /^0x[0-9a-f]{1,16}$/i.test(address) ? BigInt(address) : 0n;
}
