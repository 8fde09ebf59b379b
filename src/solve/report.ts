/**
 * The status model of every answer (MathOptInterface and OR-Tools MathOpt as anchors): why a
 * method stopped (`termination`), what point we hold (`primalStatus`), the objective bounds,
 * and the solver's own claim kept beside our verdict. Separate facts, never merged into one flag.
 */
import type { Evaluation, InputWarning } from '../formulations/types.ts';
import type { Sense } from '../milp/model.ts';
import type { Termination } from '../milp/result.ts';
import type { BackendChoice, Method } from './options.ts';

/** A feasible point, none, or a point that evaluate rejected (with its violations in `evaluation`). */
export type PrimalStatus = 'feasible' | 'none' | 'rejected';

/** What a method said about its own answer, before certification. */
export interface Claim {
  /** The method's termination as it reported it (the adapter's mapping of the solver's status). */
  readonly termination: Termination;
  /** The solver's own status word, when the adapter overruled it. */
  readonly rawStatus?: string;
  /** Its objective value (MILP backends), before evaluate recomputed it. */
  readonly objective?: number;
  /** Its proven bound on the objective, when it reported one. */
  readonly bound?: number;
}

/** One method tried during a solve, with its certified verdict. */
export interface Attempt {
  readonly method: Method;
  /** Our verdict: the claim after certification (a failed certificate downgrades it). */
  readonly termination: Termination;
  readonly primalStatus: PrimalStatus;
  /** What the method itself claimed. */
  readonly claim: Claim;
  /** For `infeasible`/`unbounded`: whether a trusted method confirmed it (absent when the method is trusted). */
  readonly verified?: boolean;
  /** Solve step only (compile and warm start are timed once per session, in `steps`). */
  readonly timeSeconds: number;
  readonly message?: string;
  /** What certification found: downgrades, a dropped bound, an accepted better objective … */
  readonly notes: readonly string[];
}

export interface SolutionReport<D = unknown> {
  readonly decision: D;
  /** evaluate's objective, never the solver's. */
  readonly objective: number;
  /** A proven bound that passed the side check; absent when none is known. */
  readonly bound?: number;
  /** Our relative gap |objective − bound| / |objective|; absent when no bound is known. */
  readonly gap?: number;
  readonly evaluation: Evaluation;
}

/** Primal (best feasible objective) and dual (proven bound) of the reported outcome; ±∞ when unknown. */
export interface ObjectiveBounds {
  readonly primal: number;
  readonly dual: number;
}

export interface WarmStartReport {
  /** Who supplied it: a peer's name, or `formulation` for the family's own heuristic. */
  readonly source: string | null;
  /** evaluate's objective of the warm-start decision; null when none was found. */
  readonly objective: number | null;
  readonly seconds: number;
  /** Why it was skipped or abandoned, when it was. */
  readonly note?: string;
}

export interface StepTimes {
  readonly warmStartSeconds: number | null;
  readonly compileSeconds: number | null;
}

export interface SolveReport<D = unknown> {
  readonly kind: string;
  /** What the objective measures and its unit, e.g. `end-to-end inference latency (s)`. */
  readonly objectiveLabel: string;
  readonly sense: Sense;
  /** The method whose outcome is reported. */
  readonly method: Method;
  /** Our verdict on why the reported method stopped ("optimal" only with a certified gap ≤ mipGap). */
  readonly termination: Termination;
  readonly primalStatus: PrimalStatus;
  readonly solution: SolutionReport<D> | null;
  readonly bounds: ObjectiveBounds;
  /** The reported method's own claim (status, objective, bound) beside our verdict. */
  readonly claim: Claim | null;
  readonly attempts: readonly Attempt[];
  /** The options the solve ran with ("optimal" means within `mipGap`). */
  readonly options: {
    readonly backend: BackendChoice;
    readonly mipGap: number;
    readonly timeLimitSeconds?: number;
    readonly nodeLimit?: number;
  };
  readonly warmStart: WarmStartReport | null;
  readonly steps: StepTimes;
  readonly timeSeconds: number;
  /** Values that look like unit mistakes (never refused). */
  readonly warnings: readonly InputWarning[];
  /** Why there is no solution, in the family's domain words. */
  readonly explanation?: string;
  /** The family's short human-readable summary of the decision. */
  readonly summary?: string;
  /** Method-specific facts from an exact method (iterations, options pruned, …). */
  readonly details?: unknown;
}
