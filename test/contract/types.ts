/**
 * The contract every registered formulation must honour, checked by test/contract/contract.test.ts
 * (in the manner of MathOptInterface's MOI.Test: one suite, every family, explicit exclusions).
 * Adding a family adds one generator file in test/contract/generators/ and one line in
 * test/contract/generators/index.ts — no new test file.
 */

/** A tiny instance's true optimum by exhaustive enumeration, independent of every solver. */
export type BruteForce = { readonly status: 'optimal'; readonly objective: number } | { readonly status: 'infeasible' };

/** A change to an instance that can never make its optimum worse (more memory, bandwidth, budget …). */
export interface Relaxation {
  readonly name: string;
  /** A modified copy of the raw problem JSON (never mutate the input). */
  apply(raw: unknown): unknown;
}

export interface ContractGenerator {
  readonly kind: string;
  /**
   * A small random instance as raw problem JSON (what a user would write), deterministic in
   * `seed`. Small enough for `bruteForce` to enumerate in well under a second, and for every
   * MILP backend to prove optimality in a second or two.
   */
  tiny(seed: number): unknown;
  /** Exhaustive enumeration over every decision of a `tiny` instance, using the family's cost functions or evaluate. */
  bruteForce(raw: unknown): BruteForce;
  /** Changes that never make the optimum worse. */
  readonly relaxations: readonly Relaxation[];
  /** How many seeds the suite runs (default 12); keep the family's share of the suite under ~20 s. */
  readonly seeds?: number;
  /** Methods (`exact`, `highs`, `glpk`, `jslp`) left out for this family, each with the reason. */
  readonly exclusions?: Readonly<Partial<Record<'exact' | 'highs' | 'glpk' | 'jslp', string>>>;
}
