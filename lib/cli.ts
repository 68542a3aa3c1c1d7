/**
 * The `stallwatch` command (bin/stallwatch.js):
 *
 *   stallwatch run [options] -- <command> [args...]   run a program with stallwatch attached
 *   stallwatch demo                                   the demo of a blocked HTTP server
 *   stallwatch format <reports.jsonl | ->             JSON-lines log -> readable text
 *
 * `run` attaches through NODE_OPTIONS (-r <this package>/dist/lib/register.js, appended to any
 * NODE_OPTIONS already set), so every Node process the command starts is supervised, and
 * passes the options as STALLWATCH_* variables (lib/env-config.ts). It forwards SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the command and ends the way the command
 * ended: same exit code, or killed by the same signal.
 *
 * Exit codes of the CLI itself: 2 for a usage error, 1 for other failures, 127 when the
 * command is not found, 126 when it cannot be executed.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { ENV_VARIABLES, parseEnvConfig, type EnvContext } from './env-config';
import { loadNative, packageRoot } from './load-native';
import { resolveOptions, type SuperviseOptions } from './options';
import type { BlockReport, StarvationReport, UnblockedEvent } from './report';

/** How the CLI wants to end: an exit code, or the signal that killed the command. */
export type Outcome = { code: number } | { signal: NodeJS.Signals };

/** Signals passed on to the command (Ctrl-C at a terminal reaches it directly as well). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string | undefined,
  ) {
    super(message);
  }
}

const TOP_HELP = `Usage: stallwatch <command> [options]

Tells you where a Node.js event loop is stuck: when a thread makes no progress for
thresholdMs, stallwatch logs its native and JavaScript stacks, while it is still stuck.

Commands:
  run [options] -- <command...>   run a Node program with stallwatch attached
  demo                            run the demo: an HTTP server whose handler blocks
  format <reports.jsonl | ->      print a JSON-lines report log as readable text

Options:
  -h, --help      show this help (stallwatch <command> --help for a command's)
  -v, --version   print stallwatch's version

Without the CLI:  node -r stallwatch/register app.js   (configured by STALLWATCH_* variables)
`;

function runHelp(): string {
  const optionLines = ENV_VARIABLES.map(
    (v) => `  ${`${v.flag} ${v.value}`.trimEnd()}   (${v.name}${v.value === '' ? '=1' : ''})\n      ${v.description}`,
  );
  return `Usage: stallwatch run [options] -- <command> [args...]

Runs <command> with stallwatch attached to every Node.js process it starts: adds
-r ${registerPath()} to NODE_OPTIONS and passes the options below as environment
variables. Without "--", the first argument that is not an option starts the command.
A command that is a .js, .cjs or .mjs file is run with this Node.

Options (unset: the environment variable if set, else the default):
${optionLines.join('\n')}
  --quiet
      do not print the "stallwatch: watching ..." line
  -h, --help
      show this help

Signals SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the command;
stallwatch exits with the command's exit code, or is killed by the same signal.

Examples:
  stallwatch run -- node server.js
  stallwatch run --threshold-ms 200 --log stalls.jsonl --log-format json -- npm start
`;
}

const DEMO_HELP = `Usage: stallwatch demo

Starts a small HTTP server (demo/server.js) supervised with a 300 ms threshold, calls a fast
and a slow endpoint, and explains the report stallwatch printed about the slow one.
Same as \`npm run demo\` in a clone of the repository. In an installed package the demo runs
from a temporary copy of demo/, so that its server counts as application code.
`;

const FORMAT_HELP = `Usage: stallwatch format <reports.jsonl | ->

Prints a JSON-lines log (logFormat: 'json', STALLWATCH_LOG_FORMAT=json) in the text format,
with formatReport(): culprit marked, runtime internals folded. "-" reads standard input.
"unblocked" and "starvation" entries are printed in their text forms; lines that are not
stallwatch entries are skipped and counted on stderr.

Options:
  -h, --help   show this help
`;

/** Absolute path of the module `run` preloads. */
function registerPath(): string {
  return path.join(__dirname, 'register.js');
}

function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Runs the CLI; resolves with how the process should end. Writes to stdout/stderr. */
export async function main(argv: readonly string[]): Promise<Outcome> {
  try {
    return await dispatch(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command === undefined ? 'stallwatch --help' : `stallwatch ${error.command} --help`;
      process.stderr.write(`${error.message}\nRun '${help}' for usage.\n`);
      return { code: 2 };
    }
    throw error;
  }
}

async function dispatch(argv: readonly string[]): Promise<Outcome> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      process.stderr.write(TOP_HELP);
      return { code: 2 };
    case '-h':
    case '--help':
      process.stdout.write(TOP_HELP);
      return { code: 0 };
    case 'help':
      if (rest.length === 0) {
        process.stdout.write(TOP_HELP);
        return { code: 0 };
      }
      return dispatch([rest[0], '--help']);
    case '-v':
    case '--version':
      process.stdout.write(`${version()}\n`);
      return { code: 0 };
    case 'run':
      return run(rest);
    case 'demo':
      return demo(rest);
    case 'format':
      return format(rest);
    default:
      if (command.startsWith('-')) throw new UsageError(`stallwatch: unknown option ${command}`, undefined);
      throw new UsageError(`stallwatch: unknown command ${JSON.stringify(command)} (commands: run, demo, format)`, undefined);
  }
}

// --- run -------------------------------------------------------------------------------------

interface RunArguments {
  /** STALLWATCH_* variables from options. */
  variables: Map<string, { flag: string; value: string }>;
  quiet: boolean;
  help: boolean;
  command: string[];
}

const FLAG_TO_VARIABLE = new Map(ENV_VARIABLES.map((v) => [v.flag, v]));

function parseRunArguments(args: readonly string[]): RunArguments {
  const parsed: RunArguments = { variables: new Map(), quiet: false, help: false, command: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      parsed.command = args.slice(i + 1);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      parsed.command = args.slice(i);
      break;
    }
    if (arg === '-h' || arg === '--help') {
      parsed.help = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (flag === '--quiet' && eq < 0) {
      parsed.quiet = true;
      continue;
    }
    const variable = FLAG_TO_VARIABLE.get(flag);
    if (variable === undefined) throw new UsageError(`stallwatch run: unknown option ${flag}`, 'run');
    if (variable.value === '') {
      // A switch (--workers).
      if (eq > 0) throw new UsageError(`stallwatch run: ${flag} takes no value`, 'run');
      parsed.variables.set(variable.name, { flag, value: '1' });
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined || next === '--') throw new UsageError(`stallwatch run: ${flag} needs a value (${flag} ${variable.value})`, 'run');
      value = next;
      i++;
    }
    parsed.variables.set(variable.name, { flag, value });
  }
  return parsed;
}

/** Quotes a path for NODE_OPTIONS, which splits on spaces and honours "..." with \ escapes. */
export function quoteForNodeOptions(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function nativeCapabilities(): EnvContext['capabilities'] {
  try {
    return loadNative().capabilities();
  } catch {
    // The command's own stallwatch/register will say why it cannot supervise; the CLI still
    // runs the command, as the register module would.
    return undefined;
  }
}

async function run(args: readonly string[]): Promise<Outcome> {
  const parsed = parseRunArguments(args);
  if (parsed.help) {
    process.stdout.write(runHelp());
    return { code: 0 };
  }
  if (parsed.command.length === 0) {
    throw new UsageError('stallwatch run: missing the command to run (stallwatch run [options] -- <command...>)', 'run');
  }

  const env: Record<string, string | undefined> = { ...process.env };
  for (const [name, { value }] of parsed.variables) env[name] = value;

  // Check what the command's register module will see, so a mistake fails here, loudly,
  // rather than as one line in the command's stderr.
  const capabilities = nativeCapabilities();
  const checked = parseEnvConfig(env, { capabilities, cwd: process.cwd() });
  for (const warning of checked.warnings) process.stderr.write(`${warning}\n`);
  if (!checked.ok) {
    let message = checked.message.replace(/ The program continues without stallwatch\.$/, '');
    for (const [name, { flag }] of parsed.variables) message = message.split(`${name}=`).join(`${flag} `);
    throw new UsageError(message, 'run');
  }

  env.NODE_OPTIONS = [env.NODE_OPTIONS?.trim(), `-r ${quoteForNodeOptions(registerPath())}`].filter(Boolean).join(' ');

  let [file, ...fileArgs] = parsed.command;
  if (/\.[cm]?js$/.test(file)) {
    fileArgs = [file, ...fileArgs];
    file = process.execPath;
  }
  if (!parsed.quiet) {
    process.stderr.write(`stallwatch: watching ${parsed.command.join(' ')} (${describeSettings(checked.config.options, capabilities)})\n`);
  }
  return spawnForwarding(file, fileArgs, env, parsed.command[0]);
}

function describeSettings(options: SuperviseOptions, capabilities: EnvContext['capabilities']): string {
  try {
    const resolved = resolveOptions(options, capabilities ?? {});
    const log = resolved.log === false ? 'no log' : resolved.log === 'stderr' ? 'log to stderr' : `log to ${resolved.log.path}`;
    return `threshold ${resolved.thresholdMs} ms, ${log}${resolved.logFormat === 'json' ? ' as JSON lines' : ''}, signal ${resolved.signal}`;
  } catch {
    return 'options from STALLWATCH_* variables';
  }
}

function spawnForwarding(
  file: string,
  args: string[],
  env: Record<string, string | undefined>,
  shownName: string,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'inherit', env });
    const forwarders = new Map<NodeJS.Signals, () => void>();
    const cleanUp = (): void => {
      for (const [signal, forward] of forwarders) process.removeListener(signal, forward);
      forwarders.clear();
    };
    for (const signal of FORWARDED_SIGNALS) {
      const forward = (): void => {
        if (child.exitCode === null && child.signalCode === null) {
          try {
            child.kill(signal);
          } catch {
            // already gone
          }
        }
      };
      forwarders.set(signal, forward);
      process.on(signal, forward);
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      cleanUp();
      if (error.code === 'ENOENT') {
        process.stderr.write(`stallwatch run: command not found: ${shownName}\n`);
        resolve({ code: 127 });
      } else {
        process.stderr.write(`stallwatch run: cannot run ${shownName}: ${error.message}\n`);
        resolve({ code: error.code === 'EACCES' ? 126 : 1 });
      }
    });
    child.on('exit', (code, signal) => {
      cleanUp();
      resolve(signal !== null ? { signal } : { code: code ?? 1 });
    });
  });
}

// --- demo ------------------------------------------------------------------------------------

async function demo(args: readonly string[]): Promise<Outcome> {
  for (const arg of args) {
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(DEMO_HELP);
      return { code: 0 };
    }
    throw new UsageError(arg.startsWith('-') ? `stallwatch demo: unknown option ${arg}` : `stallwatch demo: unexpected argument ${JSON.stringify(arg)}`, 'demo');
  }
  const root = packageRoot();
  const demoDir = path.join(root, 'demo');
  if (!fs.existsSync(path.join(demoDir, 'run-demo.js'))) {
    process.stderr.write(`stallwatch demo: ${demoDir} is missing from this installation\n`);
    return { code: 1 };
  }
  if (!root.split(path.sep).includes('node_modules')) {
    return spawnForwarding(process.execPath, [path.join(demoDir, 'run-demo.js')], process.env, 'demo/run-demo.js');
  }
  // Installed under node_modules/stallwatch/, the demo server would count as stallwatch's own
  // code (docs/log-format.md, "The culprit"), and its report would mark no culprit. Run a copy
  // of demo/ from a temporary directory instead, with a node_modules/stallwatch link back here.
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'stallwatch-demo-'));
  try {
    for (const name of fs.readdirSync(demoDir)) fs.copyFileSync(path.join(demoDir, name), path.join(copy, name));
    fs.mkdirSync(path.join(copy, 'node_modules'));
    fs.symlinkSync(root, path.join(copy, 'node_modules', 'stallwatch'), 'dir');
    return await spawnForwarding(process.execPath, [path.join(copy, 'run-demo.js')], process.env, 'demo/run-demo.js');
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

// --- format ----------------------------------------------------------------------------------

async function format(args: readonly string[]): Promise<Outcome> {
  let file: string | undefined;
  for (const arg of args) {
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(FORMAT_HELP);
      return { code: 0 };
    }
    if (arg.startsWith('-') && arg !== '-') throw new UsageError(`stallwatch format: unknown option ${arg}`, 'format');
    if (file !== undefined) throw new UsageError('stallwatch format: expected one file', 'format');
    file = arg;
  }
  if (file === undefined) throw new UsageError('stallwatch format: missing the file to format (- for standard input)', 'format');

  let input: NodeJS.ReadableStream;
  if (file === '-') input = process.stdin;
  else {
    try {
      if (fs.statSync(file).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      input = fs.createReadStream(file);
    } catch (error) {
      process.stderr.write(`stallwatch format: cannot read ${file}: ${(error as Error).message}\n`);
      return { code: 1 };
    }
  }

  let formatReport: (report: BlockReport) => string;
  let formatUnblocked: (event: UnblockedEvent) => string;
  let formatStarvation: (report: StarvationReport) => string;
  try {
    const binding = loadNative();
    formatReport = (report) => binding.formatReport(report);
    formatUnblocked = (event) => binding.formatLogEntry('unblocked', event);
    formatStarvation = (report) => binding.formatLogEntry('starvation', report);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return { code: 1 };
  }

  let reports = 0;
  let unblocked = 0;
  let starved = 0;
  const skipped: number[] = [];
  const out: string[] = [];
  const flush = (): void => {
    if (out.length > 0) process.stdout.write(out.splice(0).join(''));
  };
  const take = (line: string, lineNumber: number): void => {
    if (line.trim() === '') return;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      skipped.push(lineNumber);
      return;
    }
    const kind = entryKind(entry);
    if (kind === 'blocked') {
      try {
        out.push(formatReport(entry as BlockReport));
        reports++;
      } catch {
        skipped.push(lineNumber);
      }
    } else if (kind === 'unblocked') {
      out.push(formatUnblocked(entry as UnblockedEvent));
      unblocked++;
    } else if (kind === 'starvation') {
      out.push(formatStarvation(entry as StarvationReport));
      starved++;
    } else skipped.push(lineNumber);
    if (out.length >= 64) flush();
  };
  try {
    let lineNumber = 0;
    for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) take(line, ++lineNumber);
  } catch (error) {
    flush();
    process.stderr.write(`stallwatch format: cannot read ${file}: ${(error as Error).message}\n`);
    return { code: 1 };
  }
  flush();

  const counts =
    `${plural(reports, 'report')}, ${plural(unblocked, 'unblocked event')}` +
    (starved > 0 ? `, ${plural(starved, 'starvation report')}` : '');
  const skippedText =
    skipped.length === 0
      ? ''
      : skipped.length === 1
        ? `; skipped 1 line that is not a stallwatch JSON entry (line ${skipped[0]})`
        : `; skipped ${skipped.length} lines that are not stallwatch JSON entries (lines ${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? ', ...' : ''})`;
  process.stderr.write(`stallwatch format: ${counts}${skippedText}\n`);
  if (reports + unblocked + starved === 0 && skipped.length > 0) {
    process.stderr.write(
      'stallwatch format: no JSON entries found; a text log (the default log format) is already readable as it is\n',
    );
    return { code: 1 };
  }
  return { code: 0 };
}

function entryKind(entry: unknown): 'blocked' | 'unblocked' | 'starvation' | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const { event, frames, blockedMs, waitingMs } = entry as {
    event?: unknown;
    frames?: unknown;
    blockedMs?: unknown;
    waitingMs?: unknown;
  };
  if (event === 'blocked' || (event === undefined && Array.isArray(frames))) return Array.isArray(frames) ? 'blocked' : undefined;
  if (event === 'unblocked' && typeof blockedMs === 'number') return 'unblocked';
  if (event === 'starvation' && typeof waitingMs === 'number') return 'starvation';
  return undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const CORE_SIGNALS: ReadonlySet<string> = new Set(['SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGSYS', 'SIGXCPU', 'SIGXFSZ']);

/** bin/stallwatch.js: runs main() and ends the process the way it says. */
export function cli(argv: readonly string[] = process.argv.slice(2)): void {
  main(argv).then(
    (outcome) => {
      if ('code' in outcome) {
        process.exitCode = outcome.code;
        return;
      }
      // The command was killed by a signal: end the same way, so whoever started stallwatch
      // sees it (a shell prints "Terminated" and stops a script on SIGINT). Our forwarding
      // listeners are gone, so the signal's default action applies. Signals whose default
      // action dumps core (SIGSEGV, SIGABRT, ...) are not raised again: the command's core
      // dump is the useful one; for those, and for a signal that turns out to be ignored,
      // the exit code is the shell's 128 + N.
      const number = (os.constants.signals as Record<string, number>)[outcome.signal] ?? 0;
      process.exitCode = 128 + number;
      if (CORE_SIGNALS.has(outcome.signal)) {
        process.stderr.write(`stallwatch run: the command was killed by ${outcome.signal}\n`);
        return;
      }
      process.kill(process.pid, outcome.signal);
      setTimeout(() => process.exit(), 200).unref();
    },
    (error: unknown) => {
      process.stderr.write(`stallwatch: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
