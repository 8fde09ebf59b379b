/**
 * Scaling of a Model before any backend sees it (issue 13 item 4), in one place so that every
 * backend, present and future, solves the scaled model and hands back unscaled numbers.
 *
 * Why: families build their models in SI units, so one model holds µJ budgets (1e-6), byte-sized
 * storage rows (1e10) next to ±1 assignment rows, and µs objectives. Solvers test feasibility and
 * optimality with absolute tolerances around 1e-7–1e-9: a budget row in joules is then satisfied
 * "within tolerance" by any point, and an objective of 1.6e-6 s is "optimal" at any value within
 * 1e-7 of the best bound. Scaled so that every row's coefficients and the objective's are near 1,
 * those absolute tolerances become relative ones.
 *
 * Method (see docs/scaling.md):
 *  1. geometric-mean passes: each row, then each continuous column, is divided by the geometric
 *     mean √(min·max) of its absolute coefficients, until the spread max/min stops improving by
 *     10% (at most GEOMETRIC_PASSES);
 *     — a column keeps its factor only when it is at least 2^10 away from 1 (MIN_COLUMN_EXPONENT);
 *  2. equilibration: each row is divided by its largest absolute coefficient, so every row's
 *     largest coefficient is 1;
 *  3. objective: divided by its largest absolute coefficient (after column scaling), the
 *     objective constant with it.
 * Every factor is rounded to a power of two, so scaling and unscaling are exact in floating
 * point: an unscaled value is bit-for-bit what the solver's scaled value means.
 * Integer and binary columns are never column-scaled (x = c·x' with c ≠ 1 would move the
 * integrality lattice). A column scale also keeps every finite scaled bound within ±1e15.
 *
 * In the scaled model column j is x'_j = x_j / c_j, row i is r_i·(Σ a_ij x_j) within r_i·[l_i, u_i],
 * and the objective is σ·(Σ f_j x_j + K).
 */

import type { Constraint, Model, Term, Variable } from './model.ts';
import { isInteger, mergeTerms } from './model.ts';

/** Upper limit on geometric-mean passes; each pass is one sweep over the matrix. */
const GEOMETRIC_PASSES = 8;
/** A pass that does not shrink the coefficient spread by this factor ends the passes. */
const MIN_IMPROVEMENT = 0.9;
/** Largest finite bound a column scale may produce (the ±1e15 the milp schema allows). */
const MAX_SCALED_BOUND = 1e15;
/** Factors stay within 2^±MAX_EXPONENT (a coefficient of 1e-15 or 1e15 needs about 2^±50). */
const MAX_EXPONENT = 60;
/**
 * A column is scaled only when the geometric-mean passes put its unit off by at least 2^10 ≈ 1e3
 * (a time column in seconds whose values are µs). Smaller column factors gain little, and they
 * changed the geometry enough for javascript-lp-solver to call a well-scaled feasible moe-placement
 * model (coefficients 1e-5..8) infeasible; rows are always equilibrated.
 */
const MIN_COLUMN_EXPONENT = 10;

export interface ScaledModel {
  /** The model the backend solves. */
  readonly model: Model;
  /** r_i: scaled row i = r_i · original row i. */
  readonly rowScale: readonly number[];
  /** c_j: original column j = c_j · scaled column j (1 for integer columns). */
  readonly columnScale: readonly number[];
  /** σ: scaled objective = σ · original objective (constant included). */
  readonly objectiveScale: number;
  /** Original column values from the scaled model's. */
  unscaleValues(values: ArrayLike<number>): number[];
  /** Scaled column values (e.g. a warm start) from original ones. */
  scaleValues(values: ArrayLike<number>): number[];
  /** An objective value or bound of the scaled model in the original model's unit. */
  unscaleObjective(value: number): number;
}

/** Nearest power of two to a positive finite factor, within 2^±MAX_EXPONENT; 1 otherwise. */
export function powerOfTwo(factor: number): number {
  if (!(factor > 0) || !Number.isFinite(factor)) return 1;
  const exponent = Math.max(-MAX_EXPONENT, Math.min(MAX_EXPONENT, Math.round(Math.log2(factor))));
  return 2 ** exponent;
}

interface Entry {
  readonly row: number;
  readonly coefficient: number;
}

/** Spread max/min of |r_i a_ij c_j| over the matrix (1 for an empty matrix). */
function spread(rows: readonly (readonly Term[])[], r: readonly number[], c: readonly number[]): number {
  let lo = Infinity;
  let hi = 0;
  rows.forEach((terms, i) => {
    for (const t of terms) {
      const a = Math.abs(t.coefficient) * r[i] * c[t.variable];
      if (a < lo) lo = a;
      if (a > hi) hi = a;
    }
  });
  return hi > 0 ? hi / lo : 1;
}

/** The smallest column scale that keeps the column's finite bounds within ±MAX_SCALED_BOUND. */
function columnFloor(v: Variable): number {
  let largest = 0;
  if (Number.isFinite(v.lower)) largest = Math.max(largest, Math.abs(v.lower));
  if (Number.isFinite(v.upper)) largest = Math.max(largest, Math.abs(v.upper));
  return largest / MAX_SCALED_BOUND;
}

/** Row and column factors by geometric-mean passes then row equilibration (file comment). */
function factors(model: Model): { r: number[]; c: number[] } {
  const rows = model.constraints.map((row) => mergeTerms(row.terms));
  const columns: Entry[][] = model.variables.map(() => []);
  rows.forEach((terms, i) => {
    for (const t of terms) columns[t.variable].push({ row: i, coefficient: t.coefficient });
  });
  const r = rows.map(() => 1);
  const c = model.variables.map(() => 1);
  const scalable = model.variables.map((v) => !isInteger(v));
  const floors = model.variables.map(columnFloor);

  let previous = spread(rows, r, c);
  for (let pass = 0; pass < GEOMETRIC_PASSES && previous > 1; pass++) {
    rows.forEach((terms, i) => {
      let lo = Infinity;
      let hi = 0;
      for (const t of terms) {
        const a = Math.abs(t.coefficient) * c[t.variable];
        lo = Math.min(lo, a);
        hi = Math.max(hi, a);
      }
      if (hi > 0) r[i] = 1 / Math.sqrt(lo * hi);
    });
    columns.forEach((entries, j) => {
      if (!scalable[j] || entries.length === 0) return;
      let lo = Infinity;
      let hi = 0;
      for (const e of entries) {
        const a = Math.abs(e.coefficient) * r[e.row];
        lo = Math.min(lo, a);
        hi = Math.max(hi, a);
      }
      if (hi > 0) c[j] = Math.max(1 / Math.sqrt(lo * hi), floors[j]);
    });
    const now = spread(rows, r, c);
    if (now > MIN_IMPROVEMENT * previous) {
      previous = now;
      break;
    }
    previous = now;
  }
  // Columns first (rounded, so that equilibration sees the final column factors), then rows.
  for (let j = 0; j < c.length; j++) {
    let f = powerOfTwo(c[j]);
    if (Math.abs(Math.log2(f)) < MIN_COLUMN_EXPONENT) f = 1;
    while (f < floors[j]) f *= 2;
    c[j] = f;
  }
  rows.forEach((terms, i) => {
    let hi = 0;
    for (const t of terms) hi = Math.max(hi, Math.abs(t.coefficient) * c[t.variable]);
    r[i] = hi > 0 ? powerOfTwo(1 / hi) : 1;
  });
  return { r, c };
}

/** Objective factor: the largest |f_j c_j| becomes about 1; 1 for a constant objective. */
function objectiveFactor(objective: readonly Term[], c: readonly number[]): number {
  let hi = 0;
  for (const t of objective) hi = Math.max(hi, Math.abs(t.coefficient) * c[t.variable]);
  return hi > 0 ? powerOfTwo(1 / hi) : 1;
}

/** The model every backend solves, with the maps back to the original (pure: `model` is not touched). */
export function scaleModel(model: Model): ScaledModel {
  const { r, c } = factors(model);
  const objective = mergeTerms(model.objective);
  const sigma = objectiveFactor(objective, c);
  const variables: Variable[] = model.variables.map((v, j) =>
    c[j] === 1 ? v : { ...v, lower: v.lower / c[j], upper: v.upper / c[j] },
  );
  const constraints: Constraint[] = model.constraints.map((row, i) => ({
    name: row.name,
    terms: mergeTerms(row.terms).map((t) => ({
      variable: t.variable,
      coefficient: t.coefficient * r[i] * c[t.variable],
    })),
    lower: row.lower * r[i],
    upper: row.upper * r[i],
  }));
  const scaled: Model = {
    name: model.name,
    sense: model.sense,
    variables,
    constraints,
    objective: objective.map((t) => ({ variable: t.variable, coefficient: t.coefficient * c[t.variable] * sigma })),
    objectiveConstant: model.objectiveConstant * sigma,
  };
  return {
    model: scaled,
    rowScale: r,
    columnScale: c,
    objectiveScale: sigma,
    unscaleValues: (values) => Array.from(values, (x, j) => x * c[j]),
    scaleValues: (values) => Array.from(values, (x, j) => x / c[j]),
    unscaleObjective: (value) => value / sigma,
  };
}
