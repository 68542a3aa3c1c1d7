// Renders values for error messages (options.ts, signals.ts, index.ts): short whatever the
// value, so a message stays readable when a caller passes a megabyte string.

/** True for `{}`-style objects (their prototype is Object.prototype or null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** A short, unambiguous rendering of a bad value for error messages. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
    case 'bigint':
      return `${value}n (bigint)`;
    case 'function':
      return 'a function';
    case 'symbol':
      return value.toString();
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return 'an array';
      return isPlainObject(value) ? 'an object' : `an instance of ${value.constructor?.name || 'a class'}`;
    default:
      // number, boolean, undefined. -0 matters little but Object.is keeps it honest.
      return Object.is(value, -0) ? '-0' : String(value);
  }
}
