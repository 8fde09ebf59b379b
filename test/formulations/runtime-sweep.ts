/**
 * The metamorphic check every family's runtime test uses (issue 15 item 2): the same problem solved
 * under runtimes with more and more fixed overhead. More overhead never gives a better optimum, and
 * somewhere along the sweep memory binds (the optimum gets worse or the problem infeasible).
 */
import { expect } from 'vitest';
import { solve } from '../../src/api.ts';
import { OBJECTIVE_RTOL } from '../../src/formulations/tolerance.ts';

/** Optimum of `raw`; infeasible is the worst value of the sense (±Infinity). */
export async function optimumOf(raw: unknown, sense: 'min' | 'max' = 'min', timeLimitSeconds = 30): Promise<number> {
  const report = await solve(raw, { timeLimitSeconds });
  if (report.termination === 'infeasible') return sense === 'min' ? Infinity : -Infinity;
  expect(report.termination).toBe('optimal');
  return report.solution!.objective;
}

/** A runtime object: `base` (a runtimes.json id) with its fixed overhead replaced. */
export function runtimeWithOverhead(base: string, overheadBytes: number): Record<string, unknown> {
  return { id: base, gpuOverheadBytes: overheadBytes, unifiedOverheadBytes: overheadBytes };
}

/**
 * Solves `withOverhead(o)` for each overhead (increasing); asserts the optima never improve and that
 * the last is worse than the first (memory bound earlier). Returns the optima for the caller's own checks.
 */
export async function expectOverheadNeverHelps(
  withOverhead: (overheadBytes: number) => unknown,
  overheads: readonly number[],
  sense: 'min' | 'max' = 'min',
): Promise<number[]> {
  const optima: number[] = [];
  for (const o of overheads) optima.push(await optimumOf(withOverhead(o), sense));
  const worse = (a: number, b: number): boolean =>
    sense === 'min' ? a > b * (1 + OBJECTIVE_RTOL) + 1e-12 : a < b * (1 - OBJECTIVE_RTOL) - 1e-12;
  for (let i = 1; i < optima.length; i++)
    expect(worse(optima[i - 1], optima[i]), `optima ${optima.join(', ')}`).toBe(false);
  expect(worse(optima[optima.length - 1], optima[0]), `memory never bound: ${optima.join(', ')}`).toBe(true);
  return optima;
}
