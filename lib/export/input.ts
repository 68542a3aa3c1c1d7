/**
 * The input every exporter accepts: a StallProfile, or an object carrying one in a `profile`
 * field (an 'unblocked' event). The profile is checked before use, so that a hand-made or
 * deserialized profile with a wrong field fails with a message naming the field, rather than
 * producing a corrupt file.
 *
 * Convention (as in options.ts): a value of the wrong type is a TypeError; a value of the right
 * type out of range is a RangeError. `samples` is not checked: exporters count from `stacks`.
 */
import { describeValue } from '../options';
import type { Frame, StallProfile } from '../report';

/** What the exporters accept: a profile, or an object carrying one, such as an UnblockedEvent. */
export type ProfileSource = StallProfile | { readonly profile?: StallProfile };

const FRAME_KINDS: ReadonlySet<string> = new Set(['js', 'native', 'v8']);

/** Returns the profile `input` is or carries, after checking it; throws otherwise. */
export function resolveProfile(input: unknown, caller: string): StallProfile {
  const prefix = `stallwatch: ${caller}()`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(
      `${prefix} expects a StallProfile or an event with a "profile" field (such as 'unblocked'), got ${describeValue(input)}`,
    );
  }
  let profile: unknown = input;
  if (!('stacks' in input)) {
    if (!('profile' in input) || (input as { profile?: unknown }).profile === undefined) {
      const got = 'profile' in input ? 'an object whose "profile" is undefined' : 'an object without "stacks" or "profile"';
      throw new TypeError(
        `${prefix} expects a StallProfile or an event with a "profile" field, got ${got} ` +
          `(only 'unblocked' events of stalls sampled with sampleIntervalMs carry a profile)`,
      );
    }
    profile = (input as { profile: unknown }).profile;
    if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
      throw new TypeError(`${prefix}: "profile" must be a StallProfile object, got ${describeValue(profile)}`);
    }
  }
  checkProfile(profile as Record<string, unknown>, prefix);
  return profile as StallProfile;
}

function checkProfile(p: Record<string, unknown>, prefix: string): void {
  const intervalMs = finiteNumber(p.intervalMs, 'profile.intervalMs', prefix);
  if (!(intervalMs > 0)) throw new RangeError(`${prefix}: profile.intervalMs must be greater than 0, got ${intervalMs}`);
  finiteNumber(p.startedAt, 'profile.startedAt', prefix);
  finiteNumber(p.endedAt, 'profile.endedAt', prefix);
  if (!Array.isArray(p.stacks)) {
    throw new TypeError(`${prefix}: profile.stacks must be an array, got ${describeValue(p.stacks)}`);
  }
  p.stacks.forEach((stack: unknown, i: number) => {
    const where = `profile.stacks[${i}]`;
    if (typeof stack !== 'object' || stack === null) {
      throw new TypeError(`${prefix}: ${where} must be an object, got ${describeValue(stack)}`);
    }
    const { frames, count } = stack as { frames?: unknown; count?: unknown };
    const n = finiteNumber(count, `${where}.count`, prefix);
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`${prefix}: ${where}.count must be an integer >= 0, got ${n}`);
    }
    if (!Array.isArray(frames)) {
      throw new TypeError(`${prefix}: ${where}.frames must be an array, got ${describeValue(frames)}`);
    }
    frames.forEach((frame: unknown, j: number) => checkFrame(frame, `${where}.frames[${j}]`, prefix));
  });
}

function checkFrame(frame: unknown, where: string, prefix: string): void {
  if (typeof frame !== 'object' || frame === null) {
    throw new TypeError(`${prefix}: ${where} must be a Frame object, got ${describeValue(frame)}`);
  }
  const f = frame as Record<keyof Frame, unknown>;
  if (typeof f.kind !== 'string' || !FRAME_KINDS.has(f.kind)) {
    throw new TypeError(`${prefix}: ${where}.kind must be 'js', 'native' or 'v8', got ${describeValue(f.kind)}`);
  }
  if (typeof f.name !== 'string') {
    throw new TypeError(`${prefix}: ${where}.name must be a string, got ${describeValue(f.name)}`);
  }
  for (const key of ['file', 'module', 'address', 'generatedFile'] as const) {
    if (f[key] !== undefined && typeof f[key] !== 'string') {
      throw new TypeError(`${prefix}: ${where}.${key} must be a string or absent, got ${describeValue(f[key])}`);
    }
  }
  for (const key of ['line', 'column', 'functionLine', 'generatedLine', 'generatedColumn'] as const) {
    if (f[key] === undefined) continue;
    const v = finiteNumber(f[key], `${where}.${key}`, prefix);
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${prefix}: ${where}.${key} must be an integer >= 1 (1-based) or absent, got ${v}`);
    }
  }
}

function finiteNumber(value: unknown, where: string, prefix: string): number {
  if (typeof value !== 'number') throw new TypeError(`${prefix}: ${where} must be a number, got ${describeValue(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`${prefix}: ${where} must be finite, got ${value}`);
  return value;
}

/** The stacks that hold samples (count > 0): zero-count stacks add nothing to any output. */
export function sampledStacks(profile: StallProfile): StallProfile['stacks'] {
  return profile.stacks.filter((stack) => stack.count > 0);
}
