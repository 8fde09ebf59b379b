/**
 * `edgeplan grid`: batch input from base problems and sweeps — the cartesian product of every
 * `--sweep PATH=VALUES` (the sweep syntax of `edgeplan solve --sweep`), applied to every base.
 * Each line is `{ id, params, problem }`; the id is made of the base's name and the parameter
 * values, so it is stable and readable, and `params` travels to the output lines for plotting.
 */
import { InputError, UsageError } from '../errors.ts';
import { parseProblem } from '../solve/problem.ts';
import { parseFieldPath, sweepValues, withField } from '../solve/sweep.ts';

/** A grid larger than this is almost surely a typo in a step; split it into several grids. */
export const MAX_GRID_LINES = 1_000_000;

export interface GridSweep {
  /** The path as the user wrote it (it names the parameter in ids and `params`). */
  readonly path: string;
  readonly keys: readonly (string | number)[];
  readonly values: readonly number[];
}

export interface GridBase {
  readonly name: string;
  readonly problem: unknown;
}

export interface GridLine {
  readonly id: string;
  readonly params: Readonly<Record<string, number>>;
  readonly problem: unknown;
}

/** `PATH=SPEC` → a sweep; SPEC is `start:step:end` or `v1,v2,…`. */
export function parseGridSweep(spec: string): GridSweep {
  const at = spec.indexOf('=');
  if (at <= 0 || at === spec.length - 1) {
    throw new UsageError(`--sweep: expected PATH=start:step:end or PATH=v1,v2,…, got "${spec}"`);
  }
  const path = spec.slice(0, at).trim();
  return { path, keys: parseFieldPath(path), values: sweepValues(spec.slice(at + 1)) };
}

export function gridSize(bases: readonly GridBase[], sweeps: readonly GridSweep[]): number {
  return sweeps.reduce((n, s) => n * s.values.length, bases.length);
}

/**
 * Every combination, first sweep outermost, each variant parsed by its family before it is
 * emitted, so that a value the schema refuses fails the grid at once with its JSON path.
 */
export function* gridLines(bases: readonly GridBase[], sweeps: readonly GridSweep[]): Generator<GridLine> {
  const paths = new Set<string>();
  for (const s of sweeps) {
    if (paths.has(s.path)) throw new UsageError(`--sweep ${s.path} is given twice`);
    paths.add(s.path);
  }
  const size = gridSize(bases, sweeps);
  if (size > MAX_GRID_LINES) throw new UsageError(`the grid has ${size} lines, more than ${MAX_GRID_LINES}; split it`);
  const names = new Set<string>();
  for (const b of bases) {
    if (names.has(b.name)) throw new UsageError(`two bases are named ${b.name}; give them distinct names`);
    names.add(b.name);
  }
  for (const base of bases) {
    const index = sweeps.map(() => 0);
    for (let n = 0; n < size / bases.length; n++) {
      let problem = base.problem;
      const params: Record<string, number> = {};
      for (let k = 0; k < sweeps.length; k++) {
        const value = sweeps[k].values[index[k]];
        params[sweeps[k].path] = value;
        try {
          problem = withField(problem, sweeps[k].keys, value);
        } catch (error) {
          if (error instanceof InputError) throw new InputError(error.path, `${error.rule} (in base ${base.name})`);
          throw error;
        }
      }
      const label = Object.entries(params)
        .map(([p, v]) => `${p}=${v}`)
        .join(',');
      try {
        parseProblem(problem);
      } catch (error) {
        if (error instanceof InputError)
          throw new InputError(error.path, `${error.rule} (base ${base.name}, ${label})`);
        throw error;
      }
      yield { id: sweeps.length === 0 ? base.name : `${base.name}:${label}`, params, problem };
      // Odometer: the last sweep turns fastest.
      for (let k = sweeps.length - 1; k >= 0; k--) {
        index[k]++;
        if (index[k] < sweeps[k].values.length) break;
        index[k] = 0;
      }
    }
  }
}

/** Names for base files: the file name without `.json`, with its folder when two would clash. */
export function baseNames(files: readonly string[]): string[] {
  const stem = (f: string): string => (f.split(/[\\/]/).pop() ?? f).replace(/\.json$/i, '');
  const withDir = (f: string): string => {
    const parts = f
      .replace(/\.json$/i, '')
      .split(/[\\/]/)
      .filter((p) => p !== '' && p !== '.');
    return parts.slice(-2).join('/');
  };
  const stems = files.map(stem);
  return files.map((f, i) => (stems.filter((s) => s === stems[i]).length > 1 ? withDir(f) : stems[i]));
}
