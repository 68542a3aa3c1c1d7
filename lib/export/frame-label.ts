/**
 * One-line names for frames, shared by the exporters.
 *
 * Label scheme (folded stacks; also the DevTools function name of native and V8 frames). It is
 * stable: it depends only on the frame's fields, never on the machine, the time or the order of
 * the stacks, so labels from two stalls can be compared or diffed.
 *
 *   JS frame      `<name> (<file>:<line>)`            the line executing (never a guess)
 *                 `<name> (<file>, defined at line <functionLine>)`  when only the function's
 *                                                     own line is known (log format wording)
 *                 `<name> (<file>)`, or `<name>`      with less known
 *   native frame  `<name> [<module>]`                 e.g. `uv__fs_read [node]`, `read [libc.so.6]`
 *                 `<name> [unknown module]`           when the module is not known
 *   V8 frame      `<name> [v8]`                       builtins, trampolines, stubs
 *
 * - An unknown name is `(anonymous)` for JS; for native and V8 frames it is the address
 *   (`0x7f3a1c0ffee0`), or `??` without one.
 * - `<file>` and `<module>` are shortened to their base name (after the last `/` or `\`) to keep
 *   flame graphs readable, except node's built-in modules (`node:…`, `internal/…`), which are
 *   kept whole (`node:internal/fs/utils`).
 * - Source-mapped JS frames are labelled by `file` and `line`, which then describe the original
 *   source; the generated position (`generatedFile`, …) is left out.
 * - Columns, and native source files, are left out: they would split one function's samples
 *   into many boxes of a flame graph. (pprof and .cpuprofile outputs keep them.)
 */
import type { Frame } from '../report';

/** Names the stack of a sample that captured no frame at all. */
export const NO_FRAMES_LABEL = '(no frames captured)';

/** The function name of a frame, without location: what pprof and DevTools call the function. */
export function functionName(frame: Frame): string {
  if (frame.name !== '') return frame.name;
  if (frame.kind === 'js') return '(anonymous)';
  return frame.address !== undefined && frame.address !== '' ? frame.address : '??';
}

/** The label of a frame, by the scheme above, not yet made safe for the folded format. */
export function frameLabel(frame: Frame): string {
  const name = functionName(frame);
  switch (frame.kind) {
    case 'js': {
      if (frame.file === undefined || frame.file === '') return name;
      const file = shortFile(frame.file);
      if (frame.line !== undefined) return `${name} (${file}:${frame.line})`;
      if (frame.functionLine !== undefined) return `${name} (${file}, defined at line ${frame.functionLine})`;
      return `${name} (${file})`;
    }
    case 'native': {
      const module = frame.module !== undefined && frame.module !== '' ? shortFile(frame.module) : 'unknown module';
      return `${name} [${module}]`;
    }
    case 'v8':
      return `${name} [v8]`;
  }
}

/**
 * The label made safe for folded stacks, where `;` separates frames, the last space separates
 * the count and a newline ends the stack: `;` becomes `,`, and line breaks and other control
 * characters (C0, DEL, U+2028, U+2029) become a space. Spaces are kept: tools split the count
 * off at the last space of the line.
 */
export function foldedLabel(frame: Frame): string {
  return sanitizeFoldedLabel(frameLabel(frame));
}

export function sanitizeFoldedLabel(label: string): string {
  return label.replace(/;/g, ',').replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');
}

/** Base name of a path or URL; node's built-in module ids are kept whole. */
export function shortFile(file: string): string {
  if (file.startsWith('node:') || file.startsWith('internal/')) return file;
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  return base === '' ? file : base;
}
