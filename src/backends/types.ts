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
  /** SPDX id of the solver's licence (glpk.js is GPL-3.0 and therefore optional). */
  readonly license: string;
}

export interface Backend {
  readonly name: BackendName;
  readonly capabilities: BackendCapabilities;
  /** Never throws: every failure, including a WASM abort, is `termination: 'error'`. */
  solve(model: Model, options?: MilpSolveOptions): Promise<MilpResult>;
}
