import type { z } from 'zod';
import type { Model, Sense } from '../milp/model.ts';
import type { MilpResult, MilpSolveOptions, Termination } from '../milp/result.ts';

/** One broken constraint, in domain words, with the amount by which it is broken. */
export interface Violation {
  /** Stable identifier, e.g. `server-memory` or `client[2].memory`. */
  readonly constraint: string;
  readonly message: string;
  /** How far past the limit, in the constraint's SI unit (bytes, seconds, …). */
  readonly excess?: number;
}

/** The independent re-check of a decision, computed from the decision alone. */
export interface Evaluation {
  readonly feasible: boolean;
  readonly objective: number;
  readonly violations: readonly Violation[];
  /** Domain breakdown of the objective (per stage, per user, per layer …); JSON-serialisable. */
  readonly breakdown: unknown;
}

/** Solves a MILP with whatever backend the API chose; handed to exact methods that need one. */
export type SolveMilp = (model: Model, options?: MilpSolveOptions) => Promise<MilpResult>;

export interface ExactContext {
  readonly timeLimitSeconds?: number;
  readonly mipGap: number;
  readonly solveMilp: SolveMilp;
}

export interface ExactResult<D> {
  readonly termination: Termination;
  readonly decision: D | null;
  /** Proven bound on the objective (equal to the objective when optimal). */
  readonly bound?: number;
  readonly message?: string;
  /** Method-specific facts worth reporting (iterations, options pruned, …); JSON-serialisable. */
  readonly details?: unknown;
}

/** A MILP compiled from a problem: the model, and how to read a decision back from its values. */
export interface Compiled<D> {
  readonly model: Model;
  decode(values: readonly number[]): D;
  /** A known-feasible column vector (from a baseline, say) offered as a warm start. */
  readonly warmStart?: readonly number[];
}

export interface Baseline<P, D> {
  /** Short id, e.g. `splitlora-fixed-cut`. */
  readonly name: string;
  /** Which peer it follows and how, one sentence. */
  readonly description: string;
  /** Returns null when the peer's own procedure finds no decision (e.g. its fixed cut does not fit). */
  run(problem: P): D | null;
  /** Optional: why `run` returns null on this problem, in domain words (shown by `compare`). */
  whyNoDecision?(problem: P): string;
}

/**
 * A problem family. Every family has the same shape so that the API, CLI and benchmark treat
 * them alike. `P` is the parsed problem (catalog references resolved, SI units), `D` the decision.
 */
export interface Formulation<P, D> {
  readonly kind: string;
  readonly title: string;
  readonly sense: Sense;
  /** For families whose objective choice flips the sense (hit ratio vs latency); overrides `sense`. */
  senseOf?(problem: P): Sense;
  /** What the objective measures, with its unit, e.g. `latency per token (s)`; shown next to the number. */
  objectiveLabel?(problem: P): string;
  /** zod schema of the input JSON; `parse` applies it and resolves catalog references. */
  readonly inputSchema: z.ZodType;
  /** Raw JSON → Problem; throws InputError naming the JSON path and the rule. */
  parse(raw: unknown): P;
  /** zod schema of a decision, so that `edgeplan check` can read one back from a file. */
  readonly decisionSchema: z.ZodType<D>;
  /** Compiles to a MILP. Absent when the family has only an exact method. */
  compile?(problem: P): Compiled<D>;
  /** Structure-exploiting exact method. */
  exact?: {
    /** Why it does not apply to this instance, or null when it does. */
    notApplicable(problem: P): string | null;
    solve(problem: P, context: ExactContext): Promise<ExactResult<D>>;
  };
  /** Recomputes feasibility and objective from the decision alone; never trusts a solver. */
  evaluate(problem: P, decision: D): Evaluation;
  readonly baselines: readonly Baseline<P, D>[];
  /** When no decision exists: which resource is short and by how much, in domain words. */
  explainInfeasible?(problem: P): string;
  /** Human-readable summary of a decision (a few lines), for the CLI's default output. */
  describe?(problem: P, decision: D, evaluation: Evaluation): string;
}

export type AnyFormulation = Formulation<unknown, unknown>;
