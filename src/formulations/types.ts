import type { z } from 'zod';
import type { Model, Sense } from '../milp/model.ts';
import type { MilpResult, MilpSolution, MilpSolveOptions, Termination } from '../milp/result.ts';

/** One broken constraint, in domain words, with the amount by which it is broken. */
export interface Violation {
  /** Stable identifier, e.g. `server-memory` or `client[2].memory`. */
  readonly constraint: string;
  readonly message: string;
  /** How far past the limit, in the constraint's SI unit (bytes, seconds, …). */
  readonly excess?: number;
}

/** The independent re-check of a decision, computed from the decision alone. */
export interface Evaluation<B = unknown> {
  readonly feasible: boolean;
  readonly objective: number;
  readonly violations: readonly Violation[];
  /** Domain breakdown of the objective (per stage, per user, per layer …); JSON-serialisable, typed per family. */
  readonly breakdown: B;
}

/**
 * A plausibility remark on the input: a value that is legal but off by orders of magnitude from
 * anything real (an uplink of 50 bit/s, 48 bytes of memory) — almost surely a unit mistake.
 * Reported in every report's `warnings`, never a refusal.
 */
export interface InputWarning {
  /** JSON path of the value, e.g. `$.servers[2].memoryBytes`. */
  readonly path: string;
  readonly message: string;
}

/** Solves a MILP with whatever backend the API chose; handed to exact methods that need one. */
export type SolveMilp = (model: Model, options?: MilpSolveOptions) => Promise<MilpResult>;

export interface ExactContext<D = unknown> {
  /** The user's limit for the whole run, less what earlier steps used; absent = no limit. */
  readonly timeLimitSeconds?: number;
  readonly mipGap: number;
  readonly solveMilp: SolveMilp;
  /**
   * A feasible decision from the chain's warm-start step (the best peer), when there is one. The
   * method may use it as an incumbent (cut-offs, pruning), valuing it with the family's cost
   * functions — never with evaluate, which must stay an independent re-check.
   */
  readonly incumbent?: D;
  /**
   * Reports the method's own progress while it runs (e.g. `layer 12 of 58`, with a bound or gap
   * when it has one); shown on stderr by the CLI. Optional to call, cheap, never throws.
   */
  readonly progress?: (phase: string, facts?: { incumbent?: number; bound?: number; gap?: number }) => void;
}

export interface ExactResult<D> {
  readonly termination: Termination;
  readonly decision: D | null;
  /**
   * Proven bound on the objective (equal to the objective when optimal). Required with `optimal`: certify
   * downgrades an optimal claim without one, as it does a backend's. Never a sub-solver's objective taken as a
   * bound because that solver said optimal — only a bound it reported, or one the method proved itself.
   */
  readonly bound?: number;
  readonly message?: string;
  /** Method-specific facts worth reporting (iterations, options pruned, …); JSON-serialisable. */
  readonly details?: unknown;
}

/** A MILP compiled from a problem: the model, and how to read a decision back from its values. */
export interface Compiled<D> {
  readonly model: Model;
  /**
   * The decision of a backend's column values. `solution`, when given, is the backend's whole solution (for an LP
   * its duals and reduced costs, which the `milp` kind reports).
   */
  decode(values: readonly number[], solution?: MilpSolution): D;
  /**
   * The column vector of a decision (for a warm start), or null when the decision has no
   * representation in this model (e.g. it violates a pruning cut-off). Absent: no warm starts.
   */
  encode?(decision: D): readonly number[] | null;
  /** @deprecated being replaced by the chain's warm-start step + `encode`; removed once every family moved. */
  readonly warmStart?: readonly number[];
}

/** What the chain hands to `compile` besides the problem. */
export interface CompileHints<D> {
  /**
   * A feasible decision found by the warm-start step. compile may derive cut-offs from it with the
   * family's cost functions (never with evaluate).
   */
  readonly incumbent?: D;
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
  /**
   * Compiles to a MILP: problem → model only. Never runs peers, the exact method or evaluate
   * (the warm start is the chain's separate step and arrives in `hints`).
   */
  compile?(problem: P, hints?: CompileHints<D>): Compiled<D>;
  /**
   * The warm-start step: a decision believed feasible, found quickly (e.g. a constructive
   * heuristic). Optional; when absent the chain runs the family's baselines and keeps the best
   * one that evaluate accepts. `deadlineMs` (a performance.now() reading) is when it must give up.
   */
  warmStart?(problem: P, deadlineMs: number): D | null;
  /** Plausibility remarks on the parsed input (values off by orders of magnitude). */
  warnings?(problem: P): readonly InputWarning[];
  /** Structure-exploiting exact method. */
  exact?: {
    /** Why it does not apply to this instance, or null when it does. */
    notApplicable(problem: P): string | null;
    solve(problem: P, context: ExactContext<D>): Promise<ExactResult<D>>;
  };
  /** Recomputes feasibility and objective from the decision alone; never trusts a solver. */
  evaluate(problem: P, decision: D): Evaluation;
  /**
   * Certificates a decision carries beside its values (the `milp` kind's LP duals), judged after certification:
   * certify reports the decision returned here, so they appear only beside a certified optimum and only when they
   * pass the family's own check; `dropped` says why they were removed (one line). Absent: decisions carry none.
   */
  vetCertificates?(
    problem: P,
    decision: D,
    verdict: { readonly optimal: boolean; readonly termination: Termination },
  ): { readonly decision: D; readonly dropped?: string };
  readonly baselines: readonly Baseline<P, D>[];
  /** When no decision exists: which resource is short and by how much, in domain words. */
  explainInfeasible?(problem: P): string;
  /** Human-readable summary of a decision (a few lines), for the CLI's default output. */
  describe?(problem: P, decision: D, evaluation: Evaluation): string;
}

export type AnyFormulation = Formulation<unknown, unknown>;
