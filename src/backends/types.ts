import type { Model } from '../milp/model.ts';
import type { MilpResult, MilpSolveOptions } from '../milp/result.ts';

export const BACKEND_NAMES = ['highs', 'glpk', 'jslp'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendCapabilities {
  readonly integers: boolean;
  readonly freeVariables: boolean;
  readonly timeLimit: boolean;
  readonly mipGap: boolean;
  readonly nodeLimit: boolean;
  readonly reportsBound: boolean;
  readonly warmStart: boolean;
  /**
   * Whether an `infeasible` or `unbounded` claim of this backend may be reported as fact. False
   * for javascript-lp-solver, which called the feasible netlib LPs e226 and stair infeasible: the
   * chain must confirm such a claim with another method or report it as unverified.
   */
  readonly trustedInfeasibility: boolean;
  /** SPDX id of the solver's licence (glpk.js is GPL-3.0 and therefore optional). */
  readonly license: string;
}

export interface Backend {
  readonly name: BackendName;
  readonly capabilities: BackendCapabilities;
  /**
   * Never throws: every failure is a termination (`memory_limit` for a WASM abort or
   * out-of-memory, `invalid_model` for a model or option the adapter rejects, `error` otherwise).
   */
  solve(model: Model, options?: MilpSolveOptions): Promise<MilpResult>;
}
