/**
 * The STALLWATCH_* environment variables read by `stallwatch/register` (and set by
 * `stallwatch run`), parsed into supervise() options. Pure: no addon, no I/O, no process state
 * besides what is passed in, so every rule is unit-tested (test/register.test.js).
 *
 * Rules:
 *   - an unset or empty variable means "use the default";
 *   - numbers are plain decimal integers (surrounding spaces allowed), ranges as in options.ts;
 *   - any invalid variable makes the whole configuration invalid: the caller runs the program
 *     without supervision and prints `message`, ONE line naming every bad variable;
 *   - an unknown STALLWATCH_* name close to a known one (a likely typo) gives a warning line,
 *     but the configuration stays valid; other STALLWATCH_* names are ignored.
 */
import { resolveOptions, type SuperviseOptions } from './options';
import type { SignalCapabilities } from './signals';

export interface EnvVariable {
  /** Environment variable name. */
  readonly name: string;
  /** The matching `stallwatch run` option. */
  readonly flag: string;
  /** Placeholder for the value in help texts. */
  readonly value: string;
  readonly description: string;
}

/** Every variable, in the order help texts list them. */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  {
    name: 'STALLWATCH_THRESHOLD_MS',
    flag: '--threshold-ms',
    value: 'N',
    description: 'report a stall after N ms without event-loop progress (10 to 3600000; default 500)',
  },
  {
    name: 'STALLWATCH_LOG',
    flag: '--log',
    value: 'TARGET',
    description: '"stderr" (default), "off", or a file path (relative to the working directory)',
  },
  { name: 'STALLWATCH_LOG_FORMAT', flag: '--log-format', value: 'FORMAT', description: '"text" (default) or "json" (JSON lines)' },
  {
    name: 'STALLWATCH_SIGNAL',
    flag: '--signal',
    value: 'NAME',
    description: 'capture signal: SIGURG (default), SIGUSR2, SIGPROF, or on Linux SIGRTMIN+N / SIGRTMAX-N',
  },
  { name: 'STALLWATCH_MAX_FRAMES', flag: '--max-frames', value: 'N', description: 'frames kept per report (1 to 1024; default 128)' },
  {
    name: 'STALLWATCH_MAX_REPORTS_PER_MINUTE',
    flag: '--max-reports-per-minute',
    value: 'N',
    description: 'reports per minute per thread; further stalls are counted, not reported (1 to 10000; default 10)',
  },
  {
    name: 'STALLWATCH_WORKERS',
    flag: '--workers',
    value: '',
    description: 'also supervise every worker thread the program starts',
  },
];

const KNOWN_NAMES: ReadonlySet<string> = new Set(ENV_VARIABLES.map((v) => v.name));

export interface EnvConfig {
  /** supervise() options from the variables that are set; absent keys take supervise()'s defaults. */
  readonly options: SuperviseOptions;
}

/** `warnings`: one line each (no newline), for stderr, valid configuration or not.
 *  `message`: one line (no newline) naming every invalid variable. */
export type EnvConfigResult =
  | { readonly ok: true; readonly config: EnvConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly message: string; readonly warnings: readonly string[] };

export interface EnvContext {
  /** The system's real-time signal range (native capabilities()). Without it, real-time signal
   *  names are accepted unchecked (the addon checks them when supervise() runs). */
  readonly capabilities?: SignalCapabilities;
  /** Base for a relative STALLWATCH_LOG path. */
  readonly cwd?: string;
}

type OptionKey = keyof SuperviseOptions;

/** Words that are almost certainly not meant as a log file name. */
const LOG_WORDS = /^(stdout|stderr|off|false|true|none|no|yes|on|null|0|1|-)$/i;

/** Parses the STALLWATCH_* variables of `env`. */
export function parseEnvConfig(env: Readonly<Record<string, string | undefined>>, context: EnvContext = {}): EnvConfigResult {
  const cwd = context.cwd ?? process.cwd();
  const options: Partial<Record<OptionKey, unknown>> = {};
  const problems: string[] = [];

  const read = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw;
  };
  const fail = (name: string, raw: string, rule: string): void => {
    problems.push(`${name}=${quote(raw)} is invalid: ${rule}`);
  };
  /** Lets options.ts decide (range, allowed names) for one option; reports its rule on failure. */
  const check = (name: string, raw: string, key: OptionKey, value: unknown): void => {
    try {
      resolveOptions({ [key]: value }, context.capabilities ?? {}, cwd);
      options[key] = value;
    } catch (error) {
      fail(name, raw, ruleOf(error, key));
    }
  };

  for (const [name, key] of [
    ['STALLWATCH_THRESHOLD_MS', 'thresholdMs'],
    ['STALLWATCH_MAX_FRAMES', 'maxFrames'],
    ['STALLWATCH_MAX_REPORTS_PER_MINUTE', 'maxReportsPerMinute'],
  ] as const) {
    const raw = read(name);
    if (raw === undefined) continue;
    const text = raw.trim();
    // Plain decimal only: "1e3", "0x10", "200ms" are rejected rather than half-understood.
    check(name, raw, key, /^[0-9]{1,9}$/.test(text) ? Number(text) : Number.NaN);
  }

  const log = read('STALLWATCH_LOG');
  if (log !== undefined) {
    if (log === 'stderr') options.log = 'stderr';
    else if (log === 'off') options.log = false;
    else if (LOG_WORDS.test(log.trim())) {
      fail('STALLWATCH_LOG', log, `must be "stderr", "off" or a file path (for a file with that name, write ./${log.trim()})`);
    } else check('STALLWATCH_LOG', log, 'log', { path: log });
  }

  const format = read('STALLWATCH_LOG_FORMAT');
  if (format !== undefined) check('STALLWATCH_LOG_FORMAT', format, 'logFormat', format.trim());

  const signal = read('STALLWATCH_SIGNAL');
  if (signal !== undefined) {
    const name = signal.trim();
    if (context.capabilities === undefined && /^SIGRT(MIN|MAX)/.test(name)) options.signal = name;
    else check('STALLWATCH_SIGNAL', signal, 'signal', name);
  }

  const workersText = read('STALLWATCH_WORKERS');
  if (workersText !== undefined) {
    const text = workersText.trim().toLowerCase();
    if (text === '1' || text === 'true') check('STALLWATCH_WORKERS', workersText, 'workers', true);
    else if (text !== '0' && text !== 'false') fail('STALLWATCH_WORKERS', workersText, 'must be 1 or 0');
  }

  const warnings = typoWarnings(env);
  if (problems.length > 0) {
    return {
      ok: false,
      message: `stallwatch: ${problems.join('; ')}. The program continues without stallwatch.`,
      warnings,
    };
  }
  return { ok: true, config: { options: options as SuperviseOptions }, warnings };
}

/** The rule an option violated, from options.ts's message, without the option name or the
 *  "got ..." part (the caller shows the variable's text instead). */
function ruleOf(error: unknown, key: OptionKey): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /^stallwatch: option "[\w.]+" (must .*?)(?:, got .*)?$/s.exec(message);
  if (match) return match[1];
  // Other wordings (e.g. real-time signals on a system without them): keep them whole.
  return `${message.replace(/^stallwatch: /, '').replace(/\s+/g, ' ')} (option ${key})`;
}

function quote(raw: string): string {
  // JSON quoting keeps the line one line whatever the variable holds.
  return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
}

function typoWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith('STALLWATCH_') || KNOWN_NAMES.has(name)) continue;
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const known of KNOWN_NAMES) {
      const d = editDistance(name, known);
      if (d < bestDistance) [best, bestDistance] = [known, d];
    }
    // Close enough to be a typo (STALLWATCH_THRESHOLD, STALLWATCH_LOGFORMAT, ...), not some
    // other tool's variable that happens to share the prefix.
    if (best !== undefined && bestDistance <= 3) {
      warnings.push(`stallwatch: ignoring unknown variable ${name} (did you mean ${best}?)`);
    }
  }
  return warnings;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
