/**
 * Maps the JS frames of a BlockReport through source maps, so that code compiled from TypeScript
 * or bundled points at the original file, line and function name.
 *
 * Where the maps come from, per script file (first hit wins, cached per file for the life of the
 * thread, including "no map"):
 *  1. Node's own source-map cache (`module.findSourceMap`). Node fills it only for scripts compiled
 *     while source maps are enabled: `--enable-source-maps` (also through NODE_OPTIONS), or
 *     `process.setSourceMapsEnabled(true)` called before the script was loaded (it does nothing for
 *     scripts already loaded), or NODE_V8_COVERAGE set. This is the only way to map code a loader
 *     transformed in memory (ts-node, tsx, ...): the file on disk is not what V8 ran.
 *  2. Otherwise, for scripts that are files (absolute paths or `file:` URLs), the script's last
 *     `//# sourceMappingURL=` comment, read from disk: a `file:` map next to it or an inline
 *     `data:application/json` map. Other URL schemes are not fetched.
 *
 * Cost: maps are read and parsed on the thread that receives the report, when it arrives (after the
 * stall), once per file. `module.SourceMap` parses about 3-5 MB of `mappings` text per second, so
 * maps loaded from disk are skipped when the script or map file is over 32 MiB or the `mappings`
 * over 512 KiB (at most ~200 ms; bigger bundles: use --enable-source-maps, where Node holds the map
 * and parses it once, as it does for Error.stack), and one report stops loading further maps after
 * LOAD_BUDGET_MS (those frames stay unmapped and are retried by the next report). Looking a
 * position up in a loaded map is cheap (a binary search).
 *
 * What changes in a mapped JS frame (every other frame, and every frame whose position the map
 * does not cover, is passed through as is):
 *  - `file`: the original source (a path when the script was named by a path, else the URL the
 *    map gives); `line`/`column`: the start of the map's segment for the executing position, as in
 *    Error.stack with --enable-source-maps.
 *  - `generatedFile`, `generatedLine`, `generatedColumn`: the values `file`, `line`, `column` had
 *    (the last two only when known). Their presence marks a mapped frame.
 *  - `functionLine`: the original line of the first mapping on the definition's generated line.
 *    Only the line of a definition is known (not its column), so it is dropped when that is not
 *    trustworthy: the mapping is in another source file, after the executing line, or (function
 *    and executing position on one generated line, as in minified code) on another original line.
 *  - `name`: the name the map records at the caller's call site (the next frame, when it is a JS
 *    frame in the same script and its position is exactly the start of a named segment), which is
 *    how Node restores minified names too. Maps without `names` (tsc) leave the name as is.
 */
import * as fs from 'fs';
import { findSourceMap, SourceMap } from 'module';
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import type { BlockReport, Frame } from './report';

const MAX_FILE_BYTES = 32 * 1024 * 1024;
const MAX_MAPPINGS_CHARS = 512 * 1024;
/** Wall time one report may spend loading maps not yet cached. */
const LOAD_BUDGET_MS = 100;
/** Distinct script files remembered; past that the cache starts over. */
const MAX_CACHED_FILES = 1000;

/** What SourceMap#findEntry returns (0-based); `{}` when no mapping precedes the position. */
interface MapEntry {
  generatedLine?: number;
  generatedColumn?: number;
  originalSource?: string;
  originalLine?: number;
  originalColumn?: number;
  name?: string;
}

interface MappedEntry extends MapEntry {
  originalSource: string;
  originalLine: number;
  originalColumn: number;
}

/** Per thread (each thread loads its own copy of this module). `null`: the file has no usable map. */
const cache = new Map<string, SourceMap | null>();

/**
 * Returns `report` with its JS frames mapped through source maps, or `report` itself when no
 * frame has a map. Never throws; never modifies `report` or its frames (mapped frames are copies).
 */
export function mapReport(report: BlockReport): BlockReport {
  try {
    const frames = mapFrames(report.frames);
    return frames === report.frames ? report : { ...report, frames };
  } catch {
    return report;
  }
}

/** The frames mapped as described above; `frames` itself when nothing changed. Never throws. */
export function mapFrames(frames: Frame[]): Frame[] {
  if (!Array.isArray(frames)) return frames;
  const deadline = Date.now() + LOAD_BUDGET_MS;
  let out: Frame[] | undefined;
  for (let i = 0; i < frames.length; i++) {
    let mapped: Frame | undefined;
    try {
      const frame = frames[i];
      if (frame?.kind !== 'js' || typeof frame.file !== 'string' || frame.file === '') continue;
      if (frame.generatedFile !== undefined) continue; // mapped already
      const map = mapFor(frame.file, deadline);
      if (map) mapped = mapFrame(frame, frames[i + 1], map);
    } catch {
      mapped = undefined; // this frame stays as it is
    }
    if (mapped) (out ??= frames.slice())[i] = mapped;
  }
  return out ?? frames;
}

function mapFrame(frame: Frame, caller: Frame | undefined, map: SourceMap): Frame | undefined {
  const file = frame.file as string;
  const line = positive(frame.line);
  const column = positive(frame.column);
  const functionLine = positive(frame.functionLine);

  let at: MappedEntry | undefined;
  if (line !== undefined) {
    at = mapped(column !== undefined ? entryAt(map, line - 1, column - 1) : firstOnLine(map, line - 1));
    if (!at) return undefined; // the map does not cover where it runs: keep the frame as V8 named it
  }
  let definition: MappedEntry | undefined;
  if (functionLine !== undefined) {
    definition = mapped(firstOnLine(map, functionLine - 1));
    if (definition && at) {
      const plausible =
        definition.originalSource === at.originalSource &&
        definition.originalLine <= at.originalLine &&
        (functionLine !== line || definition.originalLine === at.originalLine);
      if (!plausible) definition = undefined;
    }
  }
  const origin = at ?? definition;
  if (!origin) return undefined;

  const result: Frame = { ...frame, file: displayName(origin.originalSource, file) };
  if (at) {
    result.line = at.originalLine + 1;
    if (column !== undefined) result.column = at.originalColumn + 1;
  }
  if (definition) result.functionLine = definition.originalLine + 1;
  else delete result.functionLine;
  const name = callerName(map, file, caller);
  if (name !== undefined) result.name = name;
  result.generatedFile = file;
  if (frame.line !== undefined) result.generatedLine = frame.line;
  if (frame.column !== undefined) result.generatedColumn = frame.column;
  return result;
}

/** The name the map gives the callee at the caller's call site, when exactly there. */
function callerName(map: SourceMap, file: string, caller: Frame | undefined): string | undefined {
  if (!caller || caller.kind !== 'js' || caller.file !== file) return undefined;
  const line = positive(caller.line);
  const column = positive(caller.column);
  if (line === undefined || column === undefined) return undefined;
  const entry = entryAt(map, line - 1, column - 1);
  if (entry.generatedLine !== line - 1 || entry.generatedColumn !== column - 1) return undefined;
  return typeof entry.name === 'string' && entry.name !== '' ? entry.name : undefined;
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : undefined;
}

function entryAt(map: SourceMap, line: number, column: number): MapEntry {
  return map.findEntry(line, column) as MapEntry;
}

function mapped(entry: MapEntry | undefined): MappedEntry | undefined {
  if (!entry || typeof entry.originalSource !== 'string') return undefined;
  if (!Number.isInteger(entry.originalLine) || !Number.isInteger(entry.originalColumn)) return undefined;
  if ((entry.originalLine as number) < 0 || (entry.originalColumn as number) < 0) return undefined;
  return entry as MappedEntry;
}

/** The first mapping on generated line `line` (0-based), found by bisecting on the column. */
function firstOnLine(map: SourceMap, line: number): MapEntry | undefined {
  const last = entryAt(map, line, 0x3fffffff);
  if (last.generatedLine !== line || last.generatedColumn === undefined) return undefined;
  let low = 0;
  let high = last.generatedColumn;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entryAt(map, line, middle).generatedLine === line) high = middle;
    else low = middle + 1;
  }
  return entryAt(map, line, low);
}

/** A `file:` source as a path when V8 named the script by a path (CommonJS), else as given. */
function displayName(source: string, generatedFile: string): string {
  if (source.startsWith('file:') && !generatedFile.startsWith('file:')) {
    try {
      return fileURLToPath(source);
    } catch {
      return source;
    }
  }
  return source;
}

// ---- Loading -----------------------------------------------------------------------------

function mapFor(file: string, deadline: number): SourceMap | undefined {
  const known = cache.get(file);
  if (known !== undefined) return known ?? undefined;
  if (file.startsWith('node:')) return undefined; // Node's own modules: never mapped
  if (Date.now() >= deadline) return undefined; // over budget: the next report tries again
  let map: SourceMap | null = null;
  try {
    map = findSourceMap(file) ?? loadFromDisk(file);
  } catch {
    map = null;
  }
  if (cache.size >= MAX_CACHED_FILES) cache.clear();
  cache.set(file, map);
  return map ?? undefined;
}

interface RawMap {
  sources?: unknown;
  sourceRoot?: unknown;
  mappings?: unknown;
  sections?: unknown;
}

function loadFromDisk(file: string): SourceMap | null {
  let scriptPath: string;
  if (file.startsWith('file:')) scriptPath = fileURLToPath(file);
  else if (path.isAbsolute(file)) scriptPath = file;
  else return null;
  const scriptUrl = pathToFileURL(scriptPath).href;
  const script = readSmallFile(scriptPath);
  if (script === null) return null;
  const reference = sourceMappingUrl(script);
  if (reference === undefined) return null;

  let text: string | null;
  let mapUrl: string;
  if (reference.startsWith('data:')) {
    text = decodeDataUrl(reference);
    mapUrl = scriptUrl;
  } else {
    const url = new URL(reference, scriptUrl);
    if (url.protocol !== 'file:') return null;
    mapUrl = url.href;
    text = readSmallFile(fileURLToPath(url));
  }
  if (text === null) return null;
  const payload: unknown = JSON.parse(text);
  if (typeof payload !== 'object' || payload === null) return null;
  if (mappingsLength(payload as RawMap) > MAX_MAPPINGS_CHARS) return null;
  absoluteSources(payload as RawMap, mapUrl);
  return new SourceMap(payload as ConstructorParameters<typeof SourceMap>[0]);
}

/** A regular file's text, or null when it is not one or is over MAX_FILE_BYTES. */
function readSmallFile(file: string): string | null {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat || !stat.isFile() || stat.size > MAX_FILE_BYTES) return null;
  return fs.readFileSync(file, 'utf8');
}

const MAGIC = 'sourceMappingURL=';

/** The URL in the last `//# sourceMappingURL=` (or `/*#`, or legacy `//@`) comment. */
function sourceMappingUrl(script: string): string | undefined {
  let from = script.length;
  while (from >= 0) {
    const at = script.lastIndexOf(MAGIC, from);
    if (at < 0) return undefined;
    if (/\/[*/][#@][ \t]+$/.test(script.slice(Math.max(0, at - 16), at))) {
      const value = /[^\s]+/y;
      value.lastIndex = at + MAGIC.length;
      const match = value.exec(script);
      if (!match) return undefined;
      const url = match[0].endsWith('*/') ? match[0].slice(0, -2) : match[0];
      return url === '' ? undefined : url;
    }
    from = at - 1;
  }
  return undefined;
}

/** `data:application/json[;charset=...][;base64],...` → the JSON text; null for other types. */
function decodeDataUrl(url: string): string | null {
  const comma = url.indexOf(',');
  if (comma < 0) return null;
  const params = url.slice('data:'.length, comma).split(';');
  if (params[0].trim().toLowerCase() !== 'application/json') return null;
  const data = url.slice(comma + 1);
  if (data.length > MAX_FILE_BYTES) return null;
  return params[params.length - 1] === 'base64' ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
}

function mappingsLength(map: RawMap): number {
  let length = typeof map.mappings === 'string' ? map.mappings.length : 0;
  if (Array.isArray(map.sections)) {
    for (const section of map.sections as Array<{ map?: RawMap } | null>) {
      if (section && typeof section.map === 'object' && section.map !== null) length += mappingsLength(section.map);
    }
  }
  return length;
}

/** As Node does for the maps it caches: sources become absolute URLs (sourceRoot applied). */
function absoluteSources(map: RawMap, mapUrl: string): void {
  if (Array.isArray(map.sources)) {
    const root = typeof map.sourceRoot === 'string' ? map.sourceRoot : '';
    map.sources = map.sources.map((source: unknown) => {
      if (typeof source !== 'string') return source;
      const joined = root + source;
      return path.isAbsolute(joined) ? pathToFileURL(joined).href : new URL(joined, mapUrl).href;
    });
    map.sourceRoot = '';
  }
  if (Array.isArray(map.sections)) {
    for (const section of map.sections as Array<{ map?: RawMap } | null>) {
      if (section && typeof section.map === 'object' && section.map !== null) absoluteSources(section.map, mapUrl);
    }
  }
}
