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
  /** invalid_union: each branch's issues. */
  readonly errors?: readonly (readonly ZodIssueLike[])[];
}

const RECEIVED = /, received (\w+)$/;

/**
 * A union none of whose branches matched. When a branch got past the value's own type (its first
 * issue lies deeper), that branch is what the user meant and its issue is reported; otherwise the
 * value has the wrong type for every branch, and the rule lists the types a branch would take.
 */
function unionError(issue: ZodIssueLike, path: string): InputError {
  const branches = (issue.errors ?? []).filter((b) => b.length > 0);
  // The branch the user meant: one that fails on a value they wrote rather than on a field they
  // left out, then the one that got deepest, then the one with the fewest complaints.
  // An unknown field lies one level below the object that has it (and fewer of them is closer).
  const unknown = (i: ZodIssueLike): number => (i.code === 'unrecognized_keys' ? (i.keys?.length ?? 1) : 0);
  const score = (b: readonly ZodIssueLike[]): [number, number, number] => [
    RECEIVED.exec(b[0].message)?.[1] === 'undefined' ? 0 : 1,
    b[0].path.length + (unknown(b[0]) > 0 ? 1 : 0),
    -b.length - b.reduce((n, i) => n + unknown(i), 0),
  ];
  const better = (a: readonly ZodIssueLike[], b: readonly ZodIssueLike[]): boolean => {
    const [x, y] = [score(a), score(b)];
    return x[0] !== y[0] ? x[0] > y[0] : x[1] !== y[1] ? x[1] > y[1] : x[2] > y[2];
  };
  const meant = branches.reduce<readonly ZodIssueLike[] | undefined>(
    (best, b) => (best === undefined || better(b, best) ? b : best),
    undefined,
  );
  if (meant !== undefined && (meant[0].path.length > 0 || unknown(meant[0]) > 0))
    return inputErrorFromZod({ issues: [meant[0]] }, path);
  const expected = [
    ...new Set(
      branches.flatMap((b) =>
        b.filter((i) => i.code === 'invalid_type' && i.path.length === 0).map((i) => String(i.expected)),
      ),
    ),
  ];
  const received = branches.flatMap((b) => b.map((i) => RECEIVED.exec(i.message)?.[1])).find((r) => r !== undefined);
  const wanted = expected.length > 0 ? expected.join(' or ') : 'a value of another form';
  if (received === 'undefined' || ('input' in issue && issue.input === undefined))
    return new InputError(path, `required field is missing (expected ${wanted})`);
  return new InputError(path, `expected ${wanted}${received !== undefined ? `, got ${received}` : ''}`);
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
  if (issue.code === 'invalid_union' && issue.errors !== undefined && issue.errors.length > 0)
    return unionError(issue, path);
  const missing = ('input' in issue && issue.input === undefined) || /received undefined$/.test(issue.message);
  if (missing && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) {
    const expected =
      issue.values !== undefined
        ? `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
        : String(issue.expected);
    return new InputError(path, `required field is missing (expected ${expected})`);
  }
  if (issue.code === 'invalid_type') {
    const received = issue.received !== undefined ? String(issue.received) : RECEIVED.exec(issue.message)?.[1];
    if (received === 'NaN' || received === 'Infinity' || received === '-Infinity')
      return new InputError(path, `must be a finite number, got ${received}`);
    if (received !== undefined) return new InputError(path, `expected ${String(issue.expected)}, got ${received}`);
  }
  return new InputError(path, issue.message);
}
