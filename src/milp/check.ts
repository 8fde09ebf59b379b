/**
 * Independent feasibility check of a column vector against a Model: bounds, integrality and
 * every row. Used by every backend on its own answer (a solver bug becomes an `error`, never a
 * wrong answer), by the conformance tests, and by the API.
 */

import { FEASIBILITY_RTOL } from '../formulations/tolerance.ts';
import type { Model, Term } from './model.ts';
import { evaluateTerms, isInteger } from './model.ts';

export interface MilpViolation {
  readonly kind: 'length' | 'not-finite' | 'lower-bound' | 'upper-bound' | 'integrality' | 'row-lower' | 'row-upper';
  /** The user's variable or constraint name (for messages only). */
  readonly name: string;
  /**
   * How far outside, relative: bounds scaled by max(1, |limit|), rows by max(1, |limit|, the row's largest
   * |a_ij x_j| at this point) — see `rowMagnitude`.
   */
  readonly amount: number;
}

export interface MilpCheck {
  readonly ok: boolean;
  readonly violations: readonly MilpViolation[];
  /** Largest scaled violation, 0 when feasible. */
  readonly maxViolation: number;
}

/**
 * Default tolerance: scaled violations up to this are accepted. It is the project's one relative
 * feasibility tolerance (src/formulations/tolerance.ts), not a second constant of the same size.
 */
export const DEFAULT_FEASIBILITY_TOLERANCE = FEASIBILITY_RTOL;

/**
 * The largest |a_ij x_j| of a row at a point: the size of the numbers the row's activity is made
 * of. A row's miss is judged against it because a solver's feasibility tolerance acts on rows of
 * that size: a flow balance Σ in − Σ out = 0 over terms of 1e4 tokens/s comes back from HiGHS off
 * by ~1e-6 (a relative 1e-10), which an absolute 1e-6 at rhs 0 rejected. The largest term, not
 * the sum of terms, so that a long row gets no looser than its biggest term; and at this point,
 * not the coefficients alone, so that a big-M term at 0 does not excuse a small term's miss.
 */
export function rowMagnitude(terms: readonly Term[], values: ArrayLike<number>): number {
  let largest = 0;
  for (const t of terms) largest = Math.max(largest, Math.abs(t.coefficient * values[t.variable]));
  return largest;
}

/**
 * Violation of `lower ≤ value ≤ upper`, relative to max(1, |limit|, magnitude): bounds pass
 * magnitude 0, rows their `rowMagnitude`. The floor 1 keeps the test absolute for rows and bounds
 * in small units (µJ); the backends add a check on the scaled model for those (docs/scaling.md).
 */
function excess(value: number, limit: number, side: 'lower' | 'upper', magnitude = 0): number {
  if (!Number.isFinite(limit)) return 0;
  const raw = side === 'lower' ? limit - value : value - limit;
  return raw > 0 ? raw / Math.max(1, Math.abs(limit), magnitude) : 0;
}

/**
 * Checks `values` (one per column, in column order) against every bound, integrality
 * requirement and row of `model`. A bound is violated when it is off by more than
 * `tolerance · max(1, |limit|)`; a row when its activity is off by more than
 * `tolerance · max(1, |limit|, max_j |a_ij x_j|)` (`rowMagnitude`); an integer column when it is
 * more than `tolerance` from the nearest integer.
 */
export function checkMilpSolution(
  model: Model,
  values: ArrayLike<number>,
  tolerance: number = DEFAULT_FEASIBILITY_TOLERANCE,
): MilpCheck {
  const violations: MilpViolation[] = [];
  if (values.length !== model.variables.length) {
    const amount = Math.abs(values.length - model.variables.length);
    return { ok: false, violations: [{ kind: 'length', name: model.name, amount }], maxViolation: Infinity };
  }
  for (let j = 0; j < model.variables.length; j++) {
    const v = model.variables[j];
    const x = values[j];
    if (!Number.isFinite(x)) {
      violations.push({ kind: 'not-finite', name: v.name, amount: Infinity });
      continue;
    }
    const below = excess(x, v.lower, 'lower');
    if (below > tolerance) violations.push({ kind: 'lower-bound', name: v.name, amount: below });
    const above = excess(x, v.upper, 'upper');
    if (above > tolerance) violations.push({ kind: 'upper-bound', name: v.name, amount: above });
    if (isInteger(v)) {
      const off = Math.abs(x - Math.round(x));
      if (off > tolerance) violations.push({ kind: 'integrality', name: v.name, amount: off });
    }
  }
  // Rows are only meaningful once every value is finite.
  if (!violations.some((v) => v.kind === 'not-finite')) {
    for (const row of model.constraints) {
      const activity = evaluateTerms(row.terms, values);
      const magnitude = rowMagnitude(row.terms, values);
      const below = excess(activity, row.lower, 'lower', magnitude);
      if (below > tolerance) violations.push({ kind: 'row-lower', name: row.name, amount: below });
      const above = excess(activity, row.upper, 'upper', magnitude);
      if (above > tolerance) violations.push({ kind: 'row-upper', name: row.name, amount: above });
    }
  }
  const maxViolation = violations.reduce((m, v) => Math.max(m, v.amount), 0);
  return { ok: violations.length === 0, violations, maxViolation };
}

/** One line naming the first few violations, for error messages. */
export function describeViolations(check: MilpCheck, limit = 3): string {
  if (check.ok) return 'feasible';
  const shown = check.violations
    .slice(0, limit)
    .map((v) => `${v.kind} of ${JSON.stringify(v.name)} by ${v.amount.toExponential(2)}`);
  const more = check.violations.length > limit ? ` and ${check.violations.length - limit} more` : '';
  return shown.join(', ') + more;
}
