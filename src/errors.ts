/**
 * Errors that carry their own exit code. The CLI prints `message` alone (no stack) and exits
 * with `exitCode`; everything else that escapes is an internal error (exit 3).
 */

export class InputError extends Error {
  readonly exitCode = 2;
  constructor(
    /** JSON path of the offending value, e.g. `$.clients[3].uplinkBitsPerSecond`. */
    readonly path: string,
    /** The rule broken, in words. */
    readonly rule: string,
  ) {
    super(`${path}: ${rule}`);
    this.name = 'InputError';
  }
}

export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Formats a path array from zod (`['clients', 3, 'device']`) as `$.clients[3].device`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

/** The parts of a zod issue that `inputErrorFromZod` reads (kept structural so errors.ts imports nothing). */
interface ZodIssueLike {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly keys?: readonly string[];
  readonly expected?: unknown;
  readonly received?: unknown;
  /** invalid_value: the allowed values. */
  readonly values?: readonly unknown[];
  /** Present when parsed with `{ reportInput: true }`. */
  readonly input?: unknown;
}

/**
 * The first zod issue as an InputError, worded for a person editing JSON: a missing field, an
 * unknown field (strict objects) and a non-finite number each get their own plain rule.
 * `prefix` is the JSON path of the value that was validated (default the document root).
 * Parse with `{ reportInput: true }` so that a missing enum or literal is recognised as missing.
 */
export function inputErrorFromZod(error: { readonly issues: readonly ZodIssueLike[] }, prefix = '$'): InputError {
  const issue = error.issues[0];
  if (issue === undefined) return new InputError(prefix, 'invalid value');
  const path = prefix + jsonPath(issue.path).slice(1);
  if (issue.code === 'unrecognized_keys' && issue.keys !== undefined && issue.keys.length > 0) {
    const more = issue.keys.length > 1 ? ` (also unknown: ${issue.keys.slice(1).join(', ')})` : '';
    return new InputError(path + jsonPath([issue.keys[0]]).slice(1), `unknown field${more}`);
  }
  const missing = ('input' in issue && issue.input === undefined) || /received undefined$/.test(issue.message);
  if (missing && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) {
    const expected = issue.values !== undefined ? `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` : String(issue.expected);
    return new InputError(path, `required field is missing (expected ${expected})`);
  }
  if (issue.code === 'invalid_type') {
    if (issue.received === 'NaN' || issue.received === 'Infinity' || issue.received === '-Infinity') {
      return new InputError(path, `must be a finite number, got ${String(issue.received)}`);
    }
  }
  return new InputError(path, issue.message);
}
