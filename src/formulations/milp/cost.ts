/**
 * The `milp` family's cost model: for a raw MILP the "physics" is just linear algebra — the
 * activity of each row and the objective value at a given point. evaluate.ts and baselines.ts
 * both read values through here, so the arithmetic lives in one place.
 */
import { rowMagnitude } from '../../milp/check.ts';
import type { Term } from '../../milp/model.ts';
import { FEASIBILITY_RTOL } from '../tolerance.ts';
import type { MilpDecision, MilpProblem, MilpRow } from './schema.ts';

/** Tolerance for bounds, integrality and rows (see rowScale): the project's one FEASIBILITY_RTOL. */
export const FEASIBILITY_TOLERANCE = FEASIBILITY_RTOL;

export function linearValue(terms: readonly Term[], x: ArrayLike<number>): number {
  let sum = 0;
  for (const t of terms) sum += t.coefficient * x[t.variable];
  return sum;
}

export function rowActivity(row: MilpRow, x: ArrayLike<number>): number {
  return linearValue(row.terms, x);
}

export function objectiveAt(problem: MilpProblem, x: ArrayLike<number>): number {
  return linearValue(problem.objective, x) + problem.objectiveConstant;
}

/** Scale of a row's tolerance: the largest finite side, at least 1. */
export function rowScale(row: MilpRow): number {
  let scale = 1;
  if (Number.isFinite(row.lower)) scale = Math.max(scale, Math.abs(row.lower));
  if (Number.isFinite(row.upper)) scale = Math.max(scale, Math.abs(row.upper));
  return scale;
}

/**
 * Scale of a row's tolerance at a point `x`: rowScale, and the row's largest |a_j x_j| — the backends'
 * row check (src/milp/check.ts `rowMagnitude`), so that a flow balance with rhs 0 over terms of 1e4
 * is judged relative to 1e4 and solve and check agree on it.
 */
export function rowScaleAt(row: MilpRow, x: ArrayLike<number>): number {
  return Math.max(rowScale(row), rowMagnitude(row.terms, x));
}

/** How far the activity lies outside [lower, upper] (0 inside). */
export function rowExcess(row: MilpRow, activity: number): number {
  return Math.max(0, row.lower - activity, activity - row.upper);
}

export interface ColumnVector {
  /** One value per declared variable; 0 where the decision lists none (solution files list nonzeros only). */
  readonly x: number[];
  /** Names in the decision that the problem does not declare. */
  readonly unknown: string[];
}

/** Reads a decision's values into column order; a variable the decision does not list is 0. */
export function columnVector(problem: MilpProblem, decision: MilpDecision): ColumnVector {
  const x = new Array<number>(problem.variables.length).fill(0);
  const byName = new Map(problem.variables.map((v, i) => [v.name, i]));
  problem.variables.forEach((v, i) => {
    // Object.hasOwn: a variable named e.g. "constructor" must not read Object.prototype.
    if (Object.hasOwn(decision.values, v.name)) x[i] = decision.values[v.name];
  });
  const unknown = Object.keys(decision.values).filter((k) => !byName.has(k));
  return { x, unknown };
}

/** The decision of a column vector, keyed by name in a null-prototype record (`__proto__` is a legal name). */
export function decisionOf(problem: MilpProblem, x: ArrayLike<number>): MilpDecision {
  const values: Record<string, number> = Object.create(null) as Record<string, number>;
  problem.variables.forEach((v, i) => {
    Object.defineProperty(values, v.name, { value: x[i], enumerable: true, writable: false, configurable: false });
  });
  return { values };
}
