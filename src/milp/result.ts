/**
 * The common result of any solve. Termination (why the solver stopped) and solution (what we
 * hold) are two separate facts, as in MathOptInterface: a time-limited solve may still hold a
 * feasible solution with a gap.
 */

export const TERMINATIONS = [
  'optimal',
  'infeasible',
  'unbounded',
  'infeasible_or_unbounded',
  'time_limit',
  'node_limit',
  'memory_limit',
  'invalid_model',
  'numerical_error',
  'error',
] as const;
export type Termination = (typeof TERMINATIONS)[number];

export interface MilpSolution {
  /** One value per model column, in column order. */
  readonly values: number[];
  /** Objective including the model's constant. */
  readonly objective: number;
  /** Best proven bound on the objective, when the backend reports one. */
  readonly bound?: number;
  /** Relative gap |objective − bound| / max(1e-10, |objective|), when a bound is known. */
  readonly gap?: number;
  /**
   * LPs only (no integer column), from backends that give them (HiGHS, GLPK), at an optimal basis: one dual per
   * row, in row order, in the original model's units. Convention (the same for min and max): the dual of a row is
   * the rate of change of the optimal objective z per unit increase of the row's active bound, ∂z/∂b_i. So for a
   * min problem a binding ≤ row has dual ≤ 0 and a binding ≥ row dual ≥ 0; for a max problem the other way
   * round; a row that is not binding has dual 0. See docs/formulations/milp.md.
   */
  readonly duals?: readonly number[];
  /**
   * LPs only, with `duals`: one reduced cost per column, d_j = f_j − Σ_i y_i a_ij (f the objective, y the duals),
   * which is ∂z/∂(the column's active bound) for a column at a bound and 0 for a basic column.
   */
  readonly reducedCosts?: readonly number[];
}

export interface MilpResult {
  readonly backend: string;
  readonly termination: Termination;
  readonly solution: MilpSolution | null;
  /** Human-readable reason for errors and notable outcomes. */
  readonly message?: string;
  readonly timeSeconds: number;
  /**
   * The solver's own word before the adapter judged it (e.g. `HiGHS: Optimal, objective 999`), kept
   * when the adapter overruled it (an infeasibility claim contradicted by a point, a point that
   * fails the row check), so that the report can show what the solver claimed beside our verdict.
   */
  readonly rawClaim?: { readonly status: string; readonly objective?: number };
}

export interface MilpSolveOptions {
  readonly timeLimitSeconds?: number;
  /** Relative MIP gap at which the search stops; default 1e-6. */
  readonly mipGap?: number;
  readonly nodeLimit?: number;
  /** A full column vector believed feasible, offered to backends that accept a start. */
  readonly warmStart?: readonly number[];
  /**
   * Called synchronously from inside the solve, where the backend exposes progress (HiGHS: its
   * MIP logging and simplex callbacks); objective values in the model's own units.
   */
  readonly onProgress?: (progress: MilpProgress) => void;
}

/** What a backend can say while it runs; every field optional (each backend gives what it has). */
export interface MilpProgress {
  readonly incumbent?: number;
  readonly bound?: number;
  readonly gap?: number;
  readonly nodes?: number;
  readonly iterations?: number;
}

export const DEFAULT_MIP_GAP = 1e-6;

export function relativeGap(objective: number, bound: number): number {
  if (!Number.isFinite(objective) || !Number.isFinite(bound)) return Infinity;
  return Math.abs(objective - bound) / Math.max(1e-10, Math.abs(objective));
}
