/**
 * Independent feasibility check of a column vector against a Model: bounds, integrality and
 * every row. Used by every backend on its own answer (a solver bug becomes an `error`, never a
 * wrong answer), by the conformance tests, and by the API.
 */

import type { Model } from './model.ts';
import { evaluateTerms, isInteger } from './model.ts';

export interface MilpViolation {
  readonly kind: 'length' | 'not-finite' | 'lower-bound' | 'upper-bound' | 'integrality' | 'row-lower' | 'row-upper';
  /** The user's variable or constraint name (for messages only). */
  readonly name: string;
  /** How far outside, scaled by max(1, |limit|) for bounds and rows. */
  readonly amount: number;
}

export interface MilpCheck {
  readonly ok: boolean;
  readonly violations: readonly MilpViolation[];
  /** Largest scaled violation, 0 when feasible. */
  readonly maxViolation: number;
}

/** Default tolerance: scaled violations up to 1e-6 are accepted. */
export const DEFAULT_FEASIBILITY_TOLERANCE = 1e-6;

/** Violation of `lower ≤ value ≤ upper`, scaled so that large right-hand sides get a relative test. */
function excess(value: number, limit: number, side: 'lower' | 'upper'): number {
  if (!Number.isFinite(limit)) return 0;
  const raw = side === 'lower' ? limit - value : value - limit;
  return raw > 0 ? raw / Math.max(1, Math.abs(limit)) : 0;
}

/**
 * Checks `values` (one per column, in column order) against every bound, integrality
 * requirement and row of `model`. A row or bound is violated when it is off by more than
 * `tolerance · max(1, |limit|)`; an integer column when it is more than `tolerance` from the
 * nearest integer.
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
      const below = excess(activity, row.lower, 'lower');
      if (below > tolerance) violations.push({ kind: 'row-lower', name: row.name, amount: below });
      const above = excess(activity, row.upper, 'upper');
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
