/**
 * Signal names accepted by the `signal` option, and their numbers on this system.
 *
 * The watchdog interrupts the stalled thread with this signal, so it must be one that Node does
 * not already use for something else and that has no default action users rely on.
 */
import { constants } from 'os';

import { describeValue } from './describe-value';

/** Signals that exist on every supported platform. SIGURG is ignored by default, so a stray
 *  delivery after close() cannot kill the process. */
export const FIXED_SIGNALS = ['SIGURG', 'SIGUSR2', 'SIGPROF'] as const;
export type FixedSignalName = (typeof FIXED_SIGNALS)[number];

/** What the running system allows; from native capabilities(), but only these fields. */
export interface SignalCapabilities {
  /** Lowest and highest real-time signal numbers; absent where there are none (non-Linux). */
  sigrtmin?: number;
  sigrtmax?: number;
}

// Canonical decimal only ("+07" or "+ 1" are more likely typos than intent).
const REALTIME_NAME = /^SIGRT(MIN|MAX)(?:([+-])(0|[1-9][0-9]{0,3}))?$/;

/**
 * Resolves a signal name to its number. Throws RangeError (naming the option and the allowed
 * names) when the name is not allowed here. The caller has already checked it is a string.
 */
export function resolveSignalNumber(name: string, capabilities: SignalCapabilities): number {
  if ((FIXED_SIGNALS as readonly string[]).includes(name)) {
    return constants.signals[name as FixedSignalName];
  }
  const match = REALTIME_NAME.exec(name);
  if (match === null) throw unknownSignal(name, capabilities);

  const [, base, sign, offsetText] = match;
  // Only SIGRTMIN+N and SIGRTMAX-N are meaningful; SIGRTMIN-N / SIGRTMAX+N are always outside.
  if (sign !== undefined && (base === 'MIN') !== (sign === '+')) throw unknownSignal(name, capabilities);

  const { sigrtmin, sigrtmax } = capabilities;
  if (sigrtmin === undefined || sigrtmax === undefined) {
    throw new RangeError(
      `stallwatch: option "signal" got ${describeValue(name)}, but real-time signals are Linux-only ` +
        `(this is ${process.platform}); use one of ${quoteList(FIXED_SIGNALS)}`,
    );
  }
  const offset = offsetText === undefined ? 0 : Number(offsetText);
  const signalNumber = base === 'MIN' ? sigrtmin + offset : sigrtmax - offset;
  if (signalNumber < sigrtmin || signalNumber > sigrtmax) {
    throw new RangeError(
      `stallwatch: option "signal" must be a real-time signal from SIGRTMIN to SIGRTMAX ` +
        `(${sigrtmin} to ${sigrtmax} here, so at most SIGRTMIN+${sigrtmax - sigrtmin}), got ${describeValue(name)}`,
    );
  }
  return signalNumber;
}

/** The allowed names, for error messages. Real-time forms are listed only where they exist. */
export function describeAllowedSignals(capabilities: SignalCapabilities): string {
  const fixed = quoteList(FIXED_SIGNALS);
  const { sigrtmin, sigrtmax } = capabilities;
  if (sigrtmin === undefined || sigrtmax === undefined) return fixed;
  return `${fixed}, "SIGRTMIN", "SIGRTMIN+N", "SIGRTMAX-N" or "SIGRTMAX" (signals ${sigrtmin} to ${sigrtmax})`;
}

function unknownSignal(name: string, capabilities: SignalCapabilities): RangeError {
  return new RangeError(
    `stallwatch: option "signal" must be one of ${describeAllowedSignals(capabilities)}, got ${describeValue(name)}`,
  );
}

function quoteList(names: readonly string[]): string {
  return names.map((n) => JSON.stringify(n)).join(', ');
}
