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
