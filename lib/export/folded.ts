/**
 * Folded stacks ("collapsed" format), read by flamegraph.pl, inferno and speedscope:
 *
 *   main [node];uv_run [node];handler (server.js:12);spinFor (server.js:5) 60
 *
 * One line per distinct stack: frames root (outermost) first, joined by `;`, then a space and
 * the number of samples. Frames are labelled as described in frame-label.ts. Stacks whose labels
 * are equal (two addresses in one native function, for example) are merged into one line.
 * Lines are sorted (by UTF-16 code units, not locale) so that the output depends only on the
 * profile's content; each line ends with `\n`; a profile without samples gives `''`.
 */
import { foldedLabel, NO_FRAMES_LABEL } from './frame-label';
import { resolveProfile, sampledStacks, type ProfileSource } from './input';

/** Folded stacks of a StallProfile, or of the `profile` of an 'unblocked' event. */
export function toFolded(input: ProfileSource): string {
  const profile = resolveProfile(input, 'toFolded');
  const counts = new Map<string, number>();
  for (const { frames, count } of sampledStacks(profile)) {
    const labels = frames.length === 0 ? [NO_FRAMES_LABEL] : frames.map(foldedLabel).reverse();
    const stack = labels.join(';');
    counts.set(stack, (counts.get(stack) ?? 0) + count);
  }
  const stacks = [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return stacks.map((stack) => `${stack} ${counts.get(stack)}\n`).join('');
}
