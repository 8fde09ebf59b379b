/**
 * What a formulation contributes to the benchmark: named instances (raw problem JSON, exactly
 * what a user would put in a file) and scaling series (the same problem grown along one size
 * parameter). Adding a family to `edgeplan bench` is one suite file in src/bench/suites/.
 */
import type { BackendName } from '../backends/types.ts';

export type BenchMethod = 'exact' | BackendName;

export interface BenchInstance {
  readonly name: string;
  readonly description: string;
  /** Raw problem JSON including `kind`. */
  readonly problem: unknown;
  /** Methods to time; default: exact (when the family has one) and every backend. */
  readonly methods?: readonly BenchMethod[];
  readonly timeLimitSeconds?: number;
}

export interface ScalingSeries {
  /** The size parameter on the x axis, e.g. `clients`, `layers`, `experts`, `users`, `states`. */
  readonly parameter: string;
  readonly points: readonly { readonly size: number; readonly problem: unknown }[];
  readonly methods?: readonly BenchMethod[];
  readonly timeLimitSeconds?: number;
}

export interface BenchSuite {
  readonly kind: string;
  instances(): BenchInstance[];
  scaling(): ScalingSeries[];
}
