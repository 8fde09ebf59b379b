/**
 * `sweep`: re-solve with numeric fields set to each value in turn (Pareto fronts, paper figures),
 * through the chain. A path may name every element of an array (`users[*].uplinkBitsPerSecond`);
 * two or more axes make a grid (every combination); `withPeers` also runs every peer at each point.
 */
import { InputError, UsageError, jsonPath } from '../errors.ts';
import type { Termination } from '../milp/result.ts';
import { solveSession, SolveSession } from './chain.ts';
import { normalizeOptions, type Method, type SolveOptions } from './options.ts';
import { isRecord, parseWith, toParsed } from './problem.ts';

/** A peer's result at one sweep point (evaluate's verdict on its decision). */
export interface SweepPeerResult {
  readonly name: string;
  /** evaluate's objective when the decision is feasible, else null. */
  readonly objective: number | null;
  readonly feasible: boolean | null;
  readonly timeSeconds: number;
  readonly message?: string;
}

export interface SweepRow {
  /** The first axis's value. */
  readonly value: number;
  /** Every axis's value, in axis order (grids; also present for one axis). */
  readonly values?: readonly number[];
  readonly method: Method;
  readonly termination: Termination;
  readonly objective: number | null;
  readonly gap: number | null;
  /** The family's describe() text (its first line is the headline). */
  readonly summary: string | null;
  readonly decision: unknown;
  readonly explanation?: string;
  readonly timeSeconds: number;
  /** With `withPeers`: every peer at this point. */
  readonly peers?: readonly SweepPeerResult[];
}

export interface SweepReport {
  readonly kind: string;
  /** The swept field as a JSON path (the first axis's, for a grid). */
  readonly path: string;
  /** Every axis's path, in order (grids; also present for one axis). */
  readonly paths?: readonly string[];
  readonly objectiveLabel?: string;
  readonly sense?: 'min' | 'max';
  readonly rows: readonly SweepRow[];
}

/** The key that stands for every element of an array in a sweep path (`users[*].memoryBytes`). */
export const EVERY_ELEMENT = '*';

/** A sweep path as people write it: `$.users[*].uplinkBitsPerSecond`. */
export function sweepPathText(keys: readonly (string | number)[]): string {
  return jsonPath(keys).replace(/\["\*"\]/g, '[*]');
}

/** Splits `a.b[2].c`, `a.b.2.c` or `a.b[*].c` into keys; array indices become numbers, `[*]` EVERY_ELEMENT. */
export function parseFieldPath(path: string): (string | number)[] {
  const trimmed = path.trim().replace(/^\$\.?/, '');
  if (trimmed === '') throw new UsageError(`sweep path "${path}" is empty`);
  const keys: (string | number)[] = [];
  for (const part of trimmed.split('.')) {
    const match = /^([^[\]]*)((?:\[(?:\d+|\*)\])*)$/.exec(part);
    if (match === null || (match[1] === '' && match[2] === ''))
      throw new UsageError(
        `sweep path "${path}" is not a dotted field path (e.g. accuracy.maxFreezingRatio, clients[0].memoryBytes ` +
          'or users[*].uplinkBitsPerSecond)',
      );
    if (match[1] !== '') keys.push(/^\d+$/.test(match[1]) ? Number(match[1]) : match[1]);
    for (const index of match[2].matchAll(/\[(\d+|\*)\]/g))
      keys.push(index[1] === EVERY_ELEMENT ? EVERY_ELEMENT : Number(index[1]));
  }
  return keys;
}

/**
 * A copy of `raw` with the numeric field at `keys` set to `value`; InputError when the field is not there or not
 * numeric.
 */
export function withField(raw: unknown, keys: readonly (string | number)[], value: number): unknown {
  const copy: unknown = structuredClone(raw);
  setField(copy, keys, value);
  return copy;
}

/**
 * Sets the field at `keys` inside `root` in place. EVERY_ELEMENT on an array sets the rest of the
 * path in each element (an empty array is an error: nothing would change).
 */
function setField(root: unknown, keys: readonly (string | number)[], value: number): void {
  let node: unknown = root;
  const wildcard = keys.indexOf(EVERY_ELEMENT);
  if (wildcard >= 0) {
    for (let i = 0; i < wildcard; i++) node = stepInto(node, keys, i);
    if (!Array.isArray(node))
      throw new InputError(sweepPathText(keys.slice(0, wildcard)), '[*] in a sweep path needs an array here');
    if (node.length === 0)
      throw new InputError(sweepPathText(keys.slice(0, wildcard)), '[*] in a sweep path found an empty array');
    const elements: unknown[] = node;
    for (let e = 0; e < elements.length; e++) {
      const concrete = [...keys.slice(0, wildcard), e, ...keys.slice(wildcard + 1)];
      setField(root, concrete, value);
    }
    return;
  }
  setLeaf(root, keys, value);
}

function stepInto(node: unknown, keys: readonly (string | number)[], i: number): unknown {
  const key = keys[i];
  const next: unknown =
    Array.isArray(node) && typeof key === 'number'
      ? node[key]
      : isRecord(node) && typeof key === 'string' && Object.hasOwn(node, key)
        ? node[key]
        : undefined;
  if (typeof next !== 'object' || next === null)
    throw new InputError(jsonPath(keys.slice(0, i + 1)), 'the sweep path does not exist in the problem');
  return next;
}

function setLeaf(copy: unknown, keys: readonly (string | number)[], value: number): void {
  let node: unknown = copy;
  const pathTo = (n: number): string => jsonPath(keys.slice(0, n));
  for (let i = 0; i < keys.length - 1; i++) node = stepInto(node, keys, i);
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

export interface SweepAxis {
  /** Dotted path, e.g. `accuracy.maxFreezingRatio`, `servers[2].memoryBytes`, `users[*].uplinkBitsPerSecond`. */
  readonly path: string;
  readonly values: readonly number[];
}

export interface SweepOptions extends SolveOptions {
  /** Also run every peer at each point (each judged by evaluate), for "ours vs theirs" figures. */
  readonly withPeers?: boolean;
  /** Called before each point is solved (progress bars): points done, total, and the point's values. */
  readonly onPoint?: (done: number, total: number, values: readonly number[]) => void;
}

/** Grids above this many points are refused (a typo in a step should not start a week of solving). */
export const MAX_SWEEP_POINTS = 10_000;

/**
 * Re-solves the problem with the numeric field at `path` (dotted, e.g. `accuracy.maxFreezingRatio`)
 * set to each value in turn. Every variant is parsed before anything is solved, so a bad value
 * fails fast with its JSON path.
 */
export async function sweep(
  problem: unknown,
  path: string,
  values: readonly number[],
  options: SweepOptions = {},
): Promise<SweepReport> {
  return sweepGrid(problem, [{ path, values }], options);
}

/**
 * Re-solves the problem at every combination of the axes' values (the first axis varies slowest).
 * Every variant is parsed before anything is solved, so a bad value fails fast with its JSON path.
 */
export async function sweepGrid(
  problem: unknown,
  axes: readonly SweepAxis[],
  options: SweepOptions = {},
): Promise<SweepReport> {
  const base = toParsed(problem);
  if (axes.length === 0) throw new UsageError('a sweep needs at least one path');
  const keys = axes.map((a) => parseFieldPath(a.path));
  for (const axis of axes) {
    if (axis.values.length === 0) throw new UsageError('a sweep needs at least one value');
    for (const v of axis.values)
      if (!Number.isFinite(v)) throw new UsageError(`sweep values must be finite numbers, got ${v}`);
  }
  const total = axes.reduce((n, a) => n * a.values.length, 1);
  if (total > MAX_SWEEP_POINTS)
    throw new UsageError(`the sweep has ${total} points, more than the ${MAX_SWEEP_POINTS} allowed`);
  const { withPeers = false, onPoint, ...solveOptions } = options;
  normalizeOptions(solveOptions);
  const points: number[][] = [[]];
  for (const axis of axes) {
    const grown: number[][] = [];
    for (const p of points) for (const v of axis.values) grown.push([...p, v]);
    points.splice(0, points.length, ...grown);
  }
  const variants = points.map((point) => {
    let raw = base.raw;
    point.forEach((value, a) => {
      raw = withField(raw, keys[a], value);
    });
    try {
      return parseWith(base.formulation, raw);
    } catch (error) {
      if (error instanceof InputError) {
        const at =
          point.length === 1
            ? `value ${point[0]}`
            : `values ${point.map((v, a) => `${sweepPathText(keys[a])} = ${v}`).join(', ')}`;
        throw new InputError(error.path, `${error.rule} (with the swept ${at})`);
      }
      throw error;
    }
  });
  const rows: SweepRow[] = [];
  for (let i = 0; i < variants.length; i++) {
    onPoint?.(i, variants.length, points[i]);
    const session = new SolveSession(variants[i], solveOptions);
    const report = await solveSession(session);
    // The same session: the peers its warm start ran are not run again.
    const peers = withPeers ? peerResults(session) : undefined;
    rows.push({
      value: points[i][0],
      values: points[i],
      method: report.method,
      termination: report.termination,
      objective: report.solution?.objective ?? null,
      gap: report.solution?.gap ?? null,
      summary: report.summary ?? null,
      decision: report.solution?.decision ?? null,
      ...(report.explanation !== undefined ? { explanation: report.explanation } : {}),
      timeSeconds: report.timeSeconds,
      ...(peers !== undefined ? { peers } : {}),
    });
  }
  onPoint?.(variants.length, variants.length, points[points.length - 1]);
  return {
    kind: base.kind,
    path: sweepPathText(keys[0]),
    paths: keys.map(sweepPathText),
    objectiveLabel: base.objectiveLabel,
    sense: base.sense,
    rows,
  };
}

function peerResults(session: SolveSession): SweepPeerResult[] {
  return session.runPeers().map((peer) => {
    const feasible = peer.evaluation?.feasible ?? null;
    return {
      name: peer.name,
      objective: feasible === true ? (peer.evaluation?.objective ?? null) : null,
      feasible,
      timeSeconds: peer.timeSeconds,
      ...(peer.message !== undefined ? { message: peer.message } : {}),
    };
  });
}
