/** `sweep`: re-solve with one numeric field set to each value in turn (Pareto fronts), through the chain. */
import { InputError, UsageError, jsonPath } from '../errors.ts';
import type { Termination } from '../milp/result.ts';
import { solve } from './chain.ts';
import { normalizeOptions, type Method, type SolveOptions } from './options.ts';
import { isRecord, parseWith, toParsed } from './problem.ts';

export interface SweepRow {
  readonly value: number;
  readonly method: Method;
  readonly termination: Termination;
  readonly objective: number | null;
  readonly gap: number | null;
  /** The family's describe() text (its first line is the headline). */
  readonly summary: string | null;
  readonly decision: unknown;
  readonly explanation?: string;
  readonly timeSeconds: number;
}

export interface SweepReport {
  readonly kind: string;
  /** The swept field as a JSON path. */
  readonly path: string;
  readonly rows: readonly SweepRow[];
}

/** Splits `a.b[2].c` or `a.b.2.c` into keys; array indices become numbers. */
export function parseFieldPath(path: string): (string | number)[] {
  const trimmed = path.trim().replace(/^\$\.?/, '');
  if (trimmed === '') throw new UsageError(`sweep path "${path}" is empty`);
  const keys: (string | number)[] = [];
  for (const part of trimmed.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (match === null || (match[1] === '' && match[2] === ''))
      throw new UsageError(
        `sweep path "${path}" is not a dotted field path (e.g. accuracy.maxFreezingRatio or clients[0].memoryBytes)`,
      );
    if (match[1] !== '') keys.push(/^\d+$/.test(match[1]) ? Number(match[1]) : match[1]);
    for (const index of match[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(index[1]));
  }
  return keys;
}

/** A copy of `raw` with the numeric field at `keys` set to `value`; InputError when the field is not there or not numeric. */
export function withField(raw: unknown, keys: readonly (string | number)[], value: number): unknown {
  const copy: unknown = structuredClone(raw);
  let node: unknown = copy;
  const pathTo = (n: number): string => jsonPath(keys.slice(0, n));
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i];
    const next: unknown =
      Array.isArray(node) && typeof key === 'number'
        ? node[key]
        : isRecord(node) && typeof key === 'string' && Object.hasOwn(node, key)
          ? node[key]
          : undefined;
    if (typeof next !== 'object' || next === null)
      throw new InputError(pathTo(i + 1), 'the sweep path does not exist in the problem');
    node = next;
  }
  const leaf = keys[keys.length - 1];
  const where = pathTo(keys.length);
  if (Array.isArray(node) && typeof leaf === 'number') {
    if (leaf >= node.length)
      throw new InputError(
        where,
        `the sweep path does not exist in the problem (the array has ${node.length} entries)`,
      );
    if (typeof node[leaf] !== 'number')
      throw new InputError(where, `a sweep needs a numeric field, found ${JSON.stringify(node[leaf])}`);
    node[leaf] = value;
  } else if (isRecord(node) && typeof leaf === 'string') {
    const current = Object.hasOwn(node, leaf) ? node[leaf] : undefined;
    // An absent or null field may be set: that is how an optional limit gets swept.
    if (current !== undefined && current !== null && typeof current !== 'number')
      throw new InputError(where, `a sweep needs a numeric field, found ${JSON.stringify(current)}`);
    node[leaf] = value;
  } else {
    throw new InputError(where, 'the sweep path does not exist in the problem');
  }
  return copy;
}

/** `start:step:end` (end included, within rounding) or a comma-separated list, as numbers. */
export function sweepValues(spec: string): number[] {
  const fail = (why: string): never => {
    throw new UsageError(
      `sweep values "${spec}": ${why}; write start:step:end (e.g. 0:0.1:1) or a list (e.g. 0,0.5,1)`,
    );
  };
  const parseNumber = (s: string): number => {
    const v = s.trim() === '' ? NaN : Number(s);
    return Number.isFinite(v) ? v : fail(`"${s}" is not a finite number`);
  };
  if (spec.includes(':')) {
    const parts = spec.split(':');
    if (parts.length !== 3) fail('expected three parts');
    const [start, step, end] = parts.map(parseNumber);
    if (step === 0 || (end - start) / step < 0) fail('the step must be nonzero and lead from start to end');
    const count = Math.floor((end - start) / step + 1e-9) + 1;
    if (count > 10_000) fail(`${count} values is more than the 10000 a sweep allows`);
    // Multiplying (not accumulating) and rounding to 12 digits keeps 0.1-steps free of 0.30000000000000004.
    return Array.from({ length: count }, (_, i) => Number((start + i * step).toPrecision(12)));
  }
  return spec.split(',').map(parseNumber);
}

/**
 * Re-solves the problem with the numeric field at `path` (dotted, e.g. `accuracy.maxFreezingRatio`)
 * set to each value in turn. Every variant is parsed before anything is solved, so a bad value
 * fails fast with its JSON path.
 */
export async function sweep(
  problem: unknown,
  path: string,
  values: readonly number[],
  options: SolveOptions = {},
): Promise<SweepReport> {
  const base = toParsed(problem);
  const keys = parseFieldPath(path);
  if (values.length === 0) throw new UsageError('a sweep needs at least one value');
  for (const v of values)
    if (!Number.isFinite(v)) throw new UsageError(`sweep values must be finite numbers, got ${v}`);
  normalizeOptions(options);
  const variants = values.map((value) => {
    const raw = withField(base.raw, keys, value);
    try {
      return parseWith(base.formulation, raw);
    } catch (error) {
      if (error instanceof InputError)
        throw new InputError(error.path, `${error.rule} (with the swept value ${value})`);
      throw error;
    }
  });
  const rows: SweepRow[] = [];
  for (let i = 0; i < variants.length; i++) {
    const report = await solve(variants[i], options);
    rows.push({
      value: values[i],
      method: report.method,
      termination: report.termination,
      objective: report.solution?.objective ?? null,
      gap: report.solution?.gap ?? null,
      summary: report.summary ?? null,
      decision: report.solution?.decision ?? null,
      ...(report.explanation !== undefined ? { explanation: report.explanation } : {}),
      timeSeconds: report.timeSeconds,
    });
  }
  return { kind: base.kind, path: jsonPath(keys), rows };
}
