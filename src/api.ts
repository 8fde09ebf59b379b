/**
 * edgeplan's public library entry. Everything the CLI does goes through here:
 *
 *   parseProblem(raw)            JSON value → ParsedProblem (InputError naming the JSON path on bad input)
 *   solve(problem, options)      exact method or MILP backend, with fallback; every decision re-checked
 *   evaluate(problem, decision)  the family's independent re-check of one decision
 *   check(problem, solution)     reads a decision (or a whole `solve --json` report) back and re-checks it
 *   compare(problem, options)    every backend, the exact method and every baseline side by side
 *   sweep(problem, path, values) re-solve with one numeric field set to each value (Pareto fronts)
 *   schema(kind?)                JSON Schema of a kind's input, from its zod schema
 *   replayCaching(problem, …)    online cache policies and the static optimum replayed on a request trace
 *
 * No solver's word is taken on trust: a decision that fails the family's `evaluate`, or whose
 * objective differs from evaluate's, is recorded as that method's error and never returned.
 */
import { z } from 'zod';
import { getBackend } from './backends/registry.ts';
import { BACKEND_NAMES, type Backend, type BackendName } from './backends/types.ts';
import { InputError, UsageError, inputErrorFromZod, jsonPath } from './errors.ts';
import { FORMULATIONS, getFormulation, listKinds } from './formulations/registry.ts';
import type { AnyFormulation, Compiled, Evaluation, ExactContext, Formulation, SolveMilp } from './formulations/types.ts';
import type { Sense } from './milp/model.ts';
import { generateTrace, replay, type ReplayResult } from './formulations/model-caching/replay.ts';
import { parseTrace } from './formulations/model-caching/trace.ts';
import type { Decision as CachingDecision, Problem as CachingProblem } from './formulations/model-caching/schema.ts';
import { DEFAULT_MIP_GAP, relativeGap, type MilpResult, type MilpSolveOptions, type Termination } from './milp/result.ts';

export type {
  AnyFormulation,
  Baseline,
  Compiled,
  Evaluation,
  ExactContext,
  ExactResult,
  Formulation,
  SolveMilp,
  Violation,
} from './formulations/types.ts';
export type { Constraint, Model, Sense, Term, Variable, VariableType } from './milp/model.ts';
export type { MilpResult, MilpSolution, MilpSolveOptions, Termination } from './milp/result.ts';
export type { Backend, BackendCapabilities, BackendName } from './backends/types.ts';
export { BACKEND_NAMES } from './backends/types.ts';
export { TERMINATIONS, DEFAULT_MIP_GAP } from './milp/result.ts';
export { ModelBuilder } from './milp/model.ts';
export { InputError, UsageError } from './errors.ts';
export { getFormulation, listKinds } from './formulations/registry.ts';
export type { ReplayResult } from './formulations/model-caching/replay.ts';

/** A solving method: the family's exact algorithm or one MILP backend. */
export type Method = 'exact' | BackendName;
/** `auto`: the exact method when it applies, else highs, falling back on error (exact → highs → glpk → jslp). */
export type BackendChoice = 'auto' | Method;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'exact', ...BACKEND_NAMES];

/** Relative tolerance of the solver-objective vs evaluate-objective cross-check. */
export const OBJECTIVE_TOLERANCE = 1e-6;

export interface SolveOptions {
  /** Default `auto`. A forced method that fails is reported as an error, with no fallback. */
  readonly backend?: BackendChoice;
  /** Per attempt: each method in a fallback chain gets the full limit. */
  readonly timeLimitSeconds?: number;
  /** Relative MIP gap at which a search may stop and call the result optimal; default 1e-6. */
  readonly mipGap?: number;
  readonly nodeLimit?: number;
  /** Replaces registered backends by name (tests, custom solver builds). */
  readonly backends?: Partial<Record<BackendName, Backend>>;
}

/** One method tried during a solve. */
export interface Attempt {
  readonly method: Method;
  readonly termination: Termination;
  readonly timeSeconds: number;
  readonly message?: string;
}

export interface SolutionReport<D = unknown> {
  readonly decision: D;
  /** evaluate's objective, never the solver's. */
  readonly objective: number;
  /** Best proven bound on the objective, when the method reports one. */
  readonly bound?: number;
  /** Relative gap between objective and bound. */
  readonly gap?: number;
  readonly evaluation: Evaluation;
}

export interface SolveReport<D = unknown> {
  readonly kind: string;
  /** What the objective measures and its unit, e.g. `end-to-end inference latency (s)`. */
  readonly objectiveLabel: string;
  /** The method whose outcome is reported (the last one tried when all failed). */
  readonly method: Method;
  /** Why the reported method stopped; separate from whether a solution is held. */
  readonly termination: Termination;
  readonly solution: SolutionReport<D> | null;
  readonly attempts: readonly Attempt[];
  /** The options the solve ran with ("optimal" means within `mipGap`). */
  readonly options: { readonly backend: BackendChoice; readonly mipGap: number; readonly timeLimitSeconds?: number; readonly nodeLimit?: number };
  readonly timeSeconds: number;
  /** Why there is no solution, in the family's domain words. */
  readonly explanation?: string;
  /** The family's short human-readable summary of the decision. */
  readonly summary?: string;
  /** Method-specific facts from an exact method (iterations, options pruned, …). */
  readonly details?: unknown;
}

/** A problem that passed its family's schema. Keeps the raw JSON for `sweep`. */
export class ParsedProblem<P = unknown, D = unknown> {
  constructor(
    readonly formulation: Formulation<P, D>,
    readonly problem: P,
    /** The JSON value it was parsed from (not copied; treat as read-only). */
    readonly raw: unknown,
  ) {}

  get kind(): string {
    return this.formulation.kind;
  }

  get objectiveLabel(): string {
    return this.formulation.objectiveLabel?.(this.problem) ?? 'objective';
  }

  /** The problem's own sense when the family lets the problem choose it (raw MILP, hit ratio vs latency). */
  get sense(): Sense {
    return this.formulation.senseOf?.(this.problem) ?? this.formulation.sense;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads `kind` and applies that family's schema; InputError (JSON path + rule) on bad input. */
export function parseProblem(raw: unknown): ParsedProblem {
  if (!isRecord(raw)) throw new InputError('$', `a problem must be a JSON object with a "kind" field (known kinds: ${listKinds().join(', ')})`);
  if (!('kind' in raw) || raw.kind === undefined) throw new InputError('$.kind', `required field is missing (one of: ${listKinds().join(', ')})`);
  if (typeof raw.kind !== 'string') throw new InputError('$.kind', `must be a string (one of: ${listKinds().join(', ')})`);
  return parseWith(getFormulation(raw.kind), raw);
}

/** Parses `raw` with a given family (also one not in the registry, e.g. your own). */
export function parseWith<P, D>(formulation: Formulation<P, D>, raw: unknown): ParsedProblem<P, D> {
  try {
    return new ParsedProblem(formulation, formulation.parse(raw), raw);
  } catch (error) {
    // A family should throw InputError itself; a stray ZodError still gets a path and a rule.
    if (error instanceof z.ZodError) throw inputErrorFromZod(error);
    throw error;
  }
}

function toParsed(problem: unknown): ParsedProblem {
  return problem instanceof ParsedProblem ? problem : parseProblem(problem);
}

interface Normalized {
  readonly backend: BackendChoice;
  readonly mipGap: number;
  readonly timeLimitSeconds?: number;
  readonly nodeLimit?: number;
  readonly backends: Partial<Record<BackendName, Backend>>;
}

function normalizeOptions(options: SolveOptions): Normalized {
  const backend = options.backend ?? 'auto';
  if (!BACKEND_CHOICES.includes(backend)) throw new UsageError(`backend must be one of ${BACKEND_CHOICES.join(', ')}, got "${String(backend)}"`);
  const { timeLimitSeconds, nodeLimit } = options;
  const mipGap = options.mipGap ?? DEFAULT_MIP_GAP;
  if (timeLimitSeconds !== undefined && !(Number.isFinite(timeLimitSeconds) && timeLimitSeconds > 0)) {
    throw new UsageError(`timeLimitSeconds must be a positive number of seconds, got ${timeLimitSeconds}`);
  }
  if (!(Number.isFinite(mipGap) && mipGap >= 0)) throw new UsageError(`mipGap must be a finite number ≥ 0, got ${mipGap}`);
  if (nodeLimit !== undefined && !(Number.isInteger(nodeLimit) && nodeLimit >= 1)) throw new UsageError(`nodeLimit must be a positive integer, got ${nodeLimit}`);
  return {
    backend,
    mipGap,
    ...(timeLimitSeconds !== undefined ? { timeLimitSeconds } : {}),
    ...(nodeLimit !== undefined ? { nodeLimit } : {}),
    backends: options.backends ?? {},
  };
}

function backendFor(name: BackendName, options: Normalized): Backend {
  return options.backends[name] ?? getBackend(name);
}

function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ');
}

/** Solves MILPs for exact methods: highs, falling back to glpk when highs errors. */
function makeSolveMilp(options: Normalized): SolveMilp {
  return async (model, milpOptions: MilpSolveOptions = {}) => {
    const merged: MilpSolveOptions = { mipGap: options.mipGap, ...milpOptions };
    const results: MilpResult[] = [];
    for (const name of ['highs', 'glpk'] as const) {
      let result: MilpResult;
      try {
        result = await backendFor(name, options).solve(model, merged);
      } catch (error) {
        result = { backend: name, termination: 'error', solution: null, message: errorText(error), timeSeconds: 0 };
      }
      if (result.termination !== 'error') return result;
      results.push(result);
    }
    const last = results[results.length - 1];
    return { ...last, message: results.map((r) => `${r.backend}: ${r.message ?? 'error'}`).join('; ') };
  };
}

/** What one method produced: the attempt record, and the checked solution when it is accepted. */
interface Outcome {
  readonly attempt: Attempt;
  readonly solution: SolutionReport | null;
  /** evaluate's verdict on a returned decision, also when it was rejected (compare shows it). */
  readonly evaluation?: Evaluation;
  readonly details?: unknown;
}

/** Compiles at most once per call, however many backends use the model. */
class Session {
  private compiled: Compiled<unknown> | undefined;

  constructor(
    readonly parsed: ParsedProblem,
    readonly options: Normalized,
    /**
     * solve: when a backend stops at a limit with no incumbent of its own, hold the formulation's
     * warm start (a feasible point it supplied) instead. compare keeps each backend's own result.
     */
    readonly holdWarmStart = false,
  ) {}

  get formulation(): AnyFormulation {
    return this.parsed.formulation;
  }

  compile(): Compiled<unknown> {
    const compile = this.formulation.compile;
    if (compile === undefined) throw new UsageError(`kind ${this.parsed.kind} has no MILP compilation; use backend exact or auto`);
    this.compiled ??= compile.call(this.formulation, this.parsed.problem);
    return this.compiled;
  }

  exactApplicability(): string | null {
    const exact = this.formulation.exact;
    if (exact === undefined) return `kind ${this.parsed.kind} has no exact method`;
    return exact.notApplicable(this.parsed.problem);
  }

  async run(method: Method): Promise<Outcome> {
    const start = performance.now();
    try {
      return method === 'exact' ? await this.runExact(start) : await this.runBackend(method, start);
    } catch (error) {
      if (error instanceof InputError || error instanceof UsageError) throw error;
      return { attempt: { method, termination: 'error', timeSeconds: secondsSince(start), message: errorText(error) }, solution: null };
    }
  }

  private async runBackend(name: BackendName, start: number): Promise<Outcome> {
    const compiled = this.compile();
    const { mipGap, timeLimitSeconds, nodeLimit } = this.options;
    const backend = backendFor(name, this.options);
    const result = await backend.solve(compiled.model, {
      mipGap,
      ...(timeLimitSeconds !== undefined ? { timeLimitSeconds } : {}),
      ...(nodeLimit !== undefined ? { nodeLimit } : {}),
      // Only offered where it is used: the others would just note that they ignored it.
      ...(compiled.warmStart !== undefined && backend.capabilities.warmStart ? { warmStart: compiled.warmStart } : {}),
    });
    const base = { method: name, timeSeconds: result.timeSeconds };
    if (result.solution === null && (result.termination === 'time_limit' || result.termination === 'node_limit') && this.holdWarmStart && compiled.warmStart !== undefined) {
      const note = `no incumbent of its own; holding the formulation's warm start`;
      const message = result.message !== undefined ? `${result.message}; ${note}` : note;
      return this.accept({ ...base, termination: result.termination, message }, compiled.decode(compiled.warmStart), undefined, undefined);
    }
    if (result.solution === null) {
      if (result.termination === 'optimal') {
        return { attempt: { ...base, termination: 'error', message: 'reported optimal without a solution' }, solution: null };
      }
      return { attempt: { ...base, termination: result.termination, ...(result.message !== undefined ? { message: result.message } : {}) }, solution: null };
    }
    if (result.termination === 'error' || result.termination === 'infeasible' || result.termination === 'unbounded') {
      return { attempt: { ...base, termination: 'error', message: `reported ${result.termination} together with a solution` }, solution: null };
    }
    const decision = compiled.decode(result.solution.values);
    return this.accept({ ...base, termination: result.termination, ...(result.message !== undefined ? { message: result.message } : {}) }, decision, result.solution.objective, result.solution.bound);
  }

  private async runExact(start: number): Promise<Outcome> {
    const exact = this.formulation.exact;
    const reason = this.exactApplicability();
    if (exact === undefined || reason !== null) throw new UsageError(`backend exact: ${reason ?? 'not available'}`);
    const { mipGap, timeLimitSeconds } = this.options;
    const context: ExactContext = { mipGap, solveMilp: makeSolveMilp(this.options), ...(timeLimitSeconds !== undefined ? { timeLimitSeconds } : {}) };
    const result = await exact.solve.call(exact, this.parsed.problem, context);
    const base = { method: 'exact' as const, timeSeconds: secondsSince(start), ...(result.message !== undefined ? { message: result.message } : {}) };
    const details = result.details !== undefined ? { details: result.details } : {};
    if (result.decision === null || result.termination === 'error' || result.termination === 'infeasible' || result.termination === 'unbounded') {
      if (result.termination === 'optimal') return { attempt: { ...base, termination: 'error', message: 'reported optimal without a decision' }, solution: null, ...details };
      return { attempt: { ...base, termination: result.termination }, solution: null, ...details };
    }
    return { ...this.accept({ ...base, termination: result.termination }, result.decision, undefined, result.bound), ...details };
  }

  /** Re-checks a returned decision; a failure turns the attempt into an error. */
  private accept(attempt: Attempt, decision: unknown, solverObjective: number | undefined, bound: number | undefined): Outcome {
    const evaluation = this.formulation.evaluate(this.parsed.problem, decision);
    if (!evaluation.feasible) {
      const shown = evaluation.violations.slice(0, 3).map((v) => v.message);
      const more = evaluation.violations.length > 3 ? `; and ${evaluation.violations.length - 3} more` : '';
      return { attempt: { ...attempt, termination: 'error', message: `returned a decision that fails evaluate: ${shown.join('; ')}${more}` }, solution: null, evaluation };
    }
    const objective = evaluation.objective;
    if (solverObjective !== undefined && !(Math.abs(solverObjective - objective) <= OBJECTIVE_TOLERANCE * Math.max(1, Math.abs(objective)))) {
      return { attempt: { ...attempt, termination: 'error', message: `objective mismatch: the solver reports ${solverObjective}, evaluate computes ${objective}` }, solution: null, evaluation };
    }
    const gapInfo = bound !== undefined && Number.isFinite(bound) ? { bound, gap: relativeGap(objective, bound) } : {};
    return { attempt, solution: { decision, objective, ...gapInfo, evaluation }, evaluation };
  }
}

/** The methods a choice tries, in order. */
function plan(session: Session, choice: BackendChoice): Method[] {
  const milp = session.formulation.compile !== undefined;
  if (choice === 'exact') {
    const reason = session.exactApplicability();
    if (reason !== null) throw new UsageError(`backend exact: ${reason}`);
    return ['exact'];
  }
  if (choice !== 'auto') {
    if (!milp) throw new UsageError(`backend ${choice}: kind ${session.parsed.kind} has no MILP compilation; use backend exact or auto`);
    return [choice];
  }
  const methods: Method[] = session.exactApplicability() === null ? ['exact'] : [];
  if (milp) methods.push(...BACKEND_NAMES);
  if (methods.length === 0) throw new UsageError(`kind ${session.parsed.kind}: the exact method does not apply (${session.exactApplicability()}) and there is no MILP compilation`);
  return methods;
}

function summarize(parsed: ParsedProblem, solution: SolutionReport): string | undefined {
  const describe = parsed.formulation.describe;
  if (describe === undefined) return undefined;
  try {
    return describe.call(parsed.formulation, parsed.problem, solution.decision, solution.evaluation);
  } catch (error) {
    return `(describe failed: ${errorText(error)})`;
  }
}

function explain(parsed: ParsedProblem, termination: Termination): string | undefined {
  if (termination === 'unbounded') return 'the objective improves without limit: the constraints leave some direction of improvement open';
  // At a limit nothing is proven: say so before any hint about what may be short.
  const limit = termination === 'time_limit' ? 'no solution was found within the time limit' : termination === 'node_limit' ? 'no solution was found within the node limit' : undefined;
  const explainer = parsed.formulation.explainInfeasible;
  let reason: string | undefined;
  try {
    reason = explainer?.call(parsed.formulation, parsed.problem);
  } catch (error) {
    reason = `(explainInfeasible failed: ${errorText(error)})`;
  }
  if (limit === undefined) return reason;
  return reason !== undefined ? `${limit}; ${reason}` : limit;
}

/**
 * Solves a problem (raw JSON or a ParsedProblem). Resolves to a report in every solver outcome —
 * infeasible, time-limited, every backend failing — and rejects only on bad input or options
 * (InputError / UsageError).
 */
export async function solve(problem: unknown, options: SolveOptions = {}): Promise<SolveReport> {
  const start = performance.now();
  const parsed = toParsed(problem);
  const normalized = normalizeOptions(options);
  const session = new Session(parsed, normalized, true);
  const methods = plan(session, normalized.backend);
  const attempts: Attempt[] = [];
  let final: Outcome | undefined;
  for (const method of methods) {
    const outcome = await session.run(method);
    attempts.push(outcome.attempt);
    final = outcome;
    if (outcome.attempt.termination !== 'error') break;
  }
  const last = final as Outcome;
  const { termination } = last.attempt;
  const solution = last.solution;
  const explanation = solution === null && termination !== 'error' ? explain(parsed, termination) : undefined;
  const summary = solution !== null ? summarize(parsed, solution) : undefined;
  return {
    kind: parsed.kind,
    objectiveLabel: parsed.objectiveLabel,
    method: last.attempt.method,
    termination,
    solution,
    attempts,
    options: {
      backend: normalized.backend,
      mipGap: normalized.mipGap,
      ...(normalized.timeLimitSeconds !== undefined ? { timeLimitSeconds: normalized.timeLimitSeconds } : {}),
      ...(normalized.nodeLimit !== undefined ? { nodeLimit: normalized.nodeLimit } : {}),
    },
    timeSeconds: secondsSince(start),
    ...(explanation !== undefined ? { explanation } : {}),
    ...(summary !== undefined ? { summary } : {}),
    ...(last.details !== undefined ? { details: last.details } : {}),
  };
}

/** Reads a decision through the family's decision schema; InputError (path under `prefix`) when malformed. */
export function parseDecision(problem: unknown, raw: unknown, prefix = '$'): unknown {
  const parsed = toParsed(problem);
  const result = parsed.formulation.decisionSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw inputErrorFromZod(result.error, prefix);
  return result.data;
}

/** The family's independent re-check of one decision (validated against its decision schema first). */
export function evaluate(problem: unknown, decision: unknown): Evaluation {
  const parsed = toParsed(problem);
  return parsed.formulation.evaluate(parsed.problem, parseDecision(parsed, decision));
}

export interface CheckReport {
  readonly kind: string;
  readonly feasible: boolean;
  /** evaluate's objective. */
  readonly objective: number;
  readonly evaluation: Evaluation;
  /** What the solution file claimed, when it was a full `solve --json` report. */
  readonly claimed?: { readonly method: string; readonly termination: string; readonly objective: number };
  /** Whether the claimed objective equals evaluate's (relative 1e-6); absent for a bare decision. */
  readonly objectiveMatches?: boolean;
  /** True when the decision is feasible and any claimed objective matches. */
  readonly ok: boolean;
  readonly summary?: string;
}

/**
 * Re-checks a solution file against its problem. `solution` is either what `solve --json` wrote
 * (the full report; its `solution.decision` is checked) or a bare decision.
 */
export function check(problem: unknown, solution: unknown): CheckReport {
  const parsed = toParsed(problem);
  let decisionRaw: unknown = solution;
  let prefix = '$';
  let claimed: CheckReport['claimed'];
  if (isRecord(solution) && 'termination' in solution && 'solution' in solution) {
    if (typeof solution.kind === 'string' && solution.kind !== parsed.kind) {
      throw new InputError('$.kind', `the solution is for kind "${solution.kind}" but the problem is kind "${parsed.kind}"`);
    }
    const held = solution.solution;
    if (held === null) throw new InputError('$.solution', `the report holds no solution (termination: ${String(solution.termination)})`);
    if (!isRecord(held) || !('decision' in held)) throw new InputError('$.solution.decision', 'required field is missing');
    decisionRaw = held.decision;
    prefix = '$.solution.decision';
    if (typeof held.objective === 'number') {
      claimed = { method: String(solution.method), termination: String(solution.termination), objective: held.objective };
    }
  }
  const decision = parseDecision(parsed, decisionRaw, prefix);
  const evaluation = parsed.formulation.evaluate(parsed.problem, decision);
  const objectiveMatches = claimed === undefined ? undefined : Math.abs(claimed.objective - evaluation.objective) <= OBJECTIVE_TOLERANCE * Math.max(1, Math.abs(evaluation.objective));
  const summary = summarize(parsed, { decision, objective: evaluation.objective, evaluation });
  return {
    kind: parsed.kind,
    feasible: evaluation.feasible,
    objective: evaluation.objective,
    evaluation,
    ...(claimed !== undefined ? { claimed, objectiveMatches } : {}),
    ok: evaluation.feasible && objectiveMatches !== false,
    ...(summary !== undefined ? { summary } : {}),
  };
}

export interface CompareOptions extends Omit<SolveOptions, 'backend'> {
  /** Which backends to run; default all. */
  readonly only?: readonly BackendName[];
}

export interface CompareRow {
  /** Backend name, `exact`, or the baseline's name. */
  readonly method: string;
  readonly kind: 'backend' | 'exact' | 'baseline';
  /** Why the method stopped; null for a baseline (it has no termination, only a decision or none). */
  readonly termination: Termination | null;
  /** evaluate's objective of the returned decision, null when there is none. */
  readonly objective: number | null;
  readonly bound: number | null;
  readonly gap: number | null;
  readonly timeSeconds: number;
  /** evaluate's verdict; null when there is no decision. */
  readonly feasible: boolean | null;
  readonly message?: string;
}

export interface CompareReport {
  readonly kind: string;
  readonly sense: Sense;
  readonly objectiveLabel: string;
  readonly rows: readonly CompareRow[];
  /** The best feasible row. */
  readonly best: { readonly method: string; readonly objective: number } | null;
  /** Whether every row that claims `optimal` (with a feasible decision) has the same objective. */
  readonly agreement: { readonly methods: readonly string[]; readonly agree: boolean; readonly spread: number };
  /** Methods left out and why (e.g. an exact method that does not apply). */
  readonly notes: readonly string[];
  readonly options: { readonly mipGap: number; readonly timeLimitSeconds?: number; readonly nodeLimit?: number };
  readonly timeSeconds: number;
}

function rowFromOutcome(outcome: Outcome, kind: 'backend' | 'exact'): CompareRow {
  const { attempt, solution, evaluation } = outcome;
  return {
    method: attempt.method,
    kind,
    termination: attempt.termination,
    objective: solution?.objective ?? evaluation?.objective ?? null,
    bound: solution?.bound ?? null,
    gap: solution?.gap ?? null,
    timeSeconds: attempt.timeSeconds,
    feasible: evaluation?.feasible ?? null,
    ...(attempt.message !== undefined ? { message: attempt.message } : {}),
  };
}

/** Every backend, the exact method (where it applies) and every baseline, run one after another. */
export async function compare(problem: unknown, options: CompareOptions = {}): Promise<CompareReport> {
  const start = performance.now();
  const parsed = toParsed(problem);
  const normalized = normalizeOptions({ ...options, backend: 'auto' });
  const session = new Session(parsed, normalized);
  const rows: CompareRow[] = [];
  const notes: string[] = [];
  const exactReason = session.exactApplicability();
  if (exactReason === null) rows.push(rowFromOutcome(await session.run('exact'), 'exact'));
  else if (parsed.formulation.exact !== undefined) notes.push(`exact: not applicable: ${exactReason}`);
  if (parsed.formulation.compile !== undefined) {
    for (const name of BACKEND_NAMES) {
      if (options.only !== undefined && !options.only.includes(name)) continue;
      rows.push(rowFromOutcome(await session.run(name), 'backend'));
    }
  } else notes.push(`backends: kind ${parsed.kind} has no MILP compilation`);
  for (const baseline of parsed.formulation.baselines) {
    const t0 = performance.now();
    try {
      const decision = baseline.run(parsed.problem);
      const timeSeconds = secondsSince(t0);
      if (decision === null) {
        let reason = 'its procedure found none';
        try {
          reason = baseline.whyNoDecision?.(parsed.problem) ?? reason;
        } catch (error) {
          reason = `whyNoDecision failed: ${errorText(error)}`;
        }
        rows.push({ method: baseline.name, kind: 'baseline', termination: null, objective: null, bound: null, gap: null, timeSeconds, feasible: null, message: `no decision: ${reason}` });
        continue;
      }
      const evaluation = parsed.formulation.evaluate(parsed.problem, decision);
      rows.push({
        method: baseline.name,
        kind: 'baseline',
        termination: null,
        objective: evaluation.objective,
        bound: null,
        gap: null,
        timeSeconds,
        feasible: evaluation.feasible,
        ...(evaluation.feasible ? {} : { message: `fails evaluate: ${evaluation.violations.slice(0, 3).map((v) => v.message).join('; ')}` }),
      });
    } catch (error) {
      rows.push({ method: baseline.name, kind: 'baseline', termination: 'error', objective: null, bound: null, gap: null, timeSeconds: secondsSince(t0), feasible: null, message: errorText(error) });
    }
  }
  const sense = parsed.sense;
  const feasible = rows.filter((r): r is CompareRow & { objective: number } => r.feasible === true && r.objective !== null && r.termination !== 'error');
  const best = feasible.reduce<CompareRow & { objective: number } | null>((b, r) => (b === null || (sense === 'min' ? r.objective < b.objective : r.objective > b.objective) ? r : b), null);
  const optimal = feasible.filter((r) => r.termination === 'optimal');
  const objectives = optimal.map((r) => r.objective);
  const spread = objectives.length > 0 ? Math.max(...objectives) - Math.min(...objectives) : 0;
  const scale = Math.max(1, ...objectives.map(Math.abs));
  return {
    kind: parsed.kind,
    sense,
    objectiveLabel: parsed.objectiveLabel,
    rows,
    best: best === null ? null : { method: best.method, objective: best.objective },
    agreement: { methods: optimal.map((r) => r.method), agree: spread <= Math.max(OBJECTIVE_TOLERANCE, normalized.mipGap) * scale, spread },
    notes,
    options: {
      mipGap: normalized.mipGap,
      ...(normalized.timeLimitSeconds !== undefined ? { timeLimitSeconds: normalized.timeLimitSeconds } : {}),
      ...(normalized.nodeLimit !== undefined ? { nodeLimit: normalized.nodeLimit } : {}),
    },
    timeSeconds: secondsSince(start),
  };
}

export interface SweepRow {
  readonly value: number;
  readonly method: Method;
  readonly termination: Termination;
  readonly objective: number | null;
  readonly gap: number | null;
  /** The family's describe() text (its first line is the headline). */
  readonly summary: string | null;
  readonly decision: unknown;
  readonly explanation?: string;
  readonly timeSeconds: number;
}

export interface SweepReport {
  readonly kind: string;
  /** The swept field as a JSON path. */
  readonly path: string;
  readonly rows: readonly SweepRow[];
}

/** Splits `a.b[2].c` or `a.b.2.c` into keys; array indices become numbers. */
export function parseFieldPath(path: string): (string | number)[] {
  const trimmed = path.trim().replace(/^\$\.?/, '');
  if (trimmed === '') throw new UsageError(`sweep path "${path}" is empty`);
  const keys: (string | number)[] = [];
  for (const part of trimmed.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (match === null || (match[1] === '' && match[2] === '')) throw new UsageError(`sweep path "${path}" is not a dotted field path (e.g. accuracy.maxFreezingRatio or clients[0].memoryBytes)`);
    if (match[1] !== '') keys.push(/^\d+$/.test(match[1]) ? Number(match[1]) : match[1]);
    for (const index of match[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(index[1]));
  }
  return keys;
}

/** A copy of `raw` with the numeric field at `keys` set to `value`; InputError when the field is not there or not numeric. */
export function withField(raw: unknown, keys: readonly (string | number)[], value: number): unknown {
  const copy: unknown = structuredClone(raw);
  let node: unknown = copy;
  const pathTo = (n: number): string => jsonPath(keys.slice(0, n));
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i];
    const next: unknown = Array.isArray(node) && typeof key === 'number' ? node[key] : isRecord(node) && typeof key === 'string' && Object.hasOwn(node, key) ? node[key] : undefined;
    if (typeof next !== 'object' || next === null) throw new InputError(pathTo(i + 1), 'the sweep path does not exist in the problem');
    node = next;
  }
  const leaf = keys[keys.length - 1];
  const where = pathTo(keys.length);
  if (Array.isArray(node) && typeof leaf === 'number') {
    if (leaf >= node.length) throw new InputError(where, `the sweep path does not exist in the problem (the array has ${node.length} entries)`);
    if (typeof node[leaf] !== 'number') throw new InputError(where, `a sweep needs a numeric field, found ${JSON.stringify(node[leaf])}`);
    node[leaf] = value;
  } else if (isRecord(node) && typeof leaf === 'string') {
    const current = Object.hasOwn(node, leaf) ? node[leaf] : undefined;
    // An absent or null field may be set: that is how an optional limit gets swept.
    if (current !== undefined && current !== null && typeof current !== 'number') throw new InputError(where, `a sweep needs a numeric field, found ${JSON.stringify(current)}`);
    node[leaf] = value;
  } else {
    throw new InputError(where, 'the sweep path does not exist in the problem');
  }
  return copy;
}

/** `start:step:end` (end included, within rounding) or a comma-separated list, as numbers. */
export function sweepValues(spec: string): number[] {
  const fail = (why: string): never => {
    throw new UsageError(`sweep values "${spec}": ${why}; write start:step:end (e.g. 0:0.1:1) or a list (e.g. 0,0.5,1)`);
  };
  const parseNumber = (s: string): number => {
    const v = s.trim() === '' ? NaN : Number(s);
    return Number.isFinite(v) ? v : fail(`"${s}" is not a finite number`);
  };
  if (spec.includes(':')) {
    const parts = spec.split(':');
    if (parts.length !== 3) fail('expected three parts');
    const [start, step, end] = parts.map(parseNumber);
    if (step === 0 || (end - start) / step < 0) fail('the step must be nonzero and lead from start to end');
    const count = Math.floor((end - start) / step + 1e-9) + 1;
    if (count > 10_000) fail(`${count} values is more than the 10000 a sweep allows`);
    // Multiplying (not accumulating) and rounding to 12 digits keeps 0.1-steps free of 0.30000000000000004.
    return Array.from({ length: count }, (_, i) => Number((start + i * step).toPrecision(12)));
  }
  return spec.split(',').map(parseNumber);
}

/**
 * Re-solves the problem with the numeric field at `path` (dotted, e.g. `accuracy.maxFreezingRatio`)
 * set to each value in turn. Every variant is parsed before anything is solved, so a bad value
 * fails fast with its JSON path.
 */
export async function sweep(problem: unknown, path: string, values: readonly number[], options: SolveOptions = {}): Promise<SweepReport> {
  const base = toParsed(problem);
  const keys = parseFieldPath(path);
  if (values.length === 0) throw new UsageError('a sweep needs at least one value');
  for (const v of values) if (!Number.isFinite(v)) throw new UsageError(`sweep values must be finite numbers, got ${v}`);
  normalizeOptions(options);
  const variants = values.map((value) => {
    const raw = withField(base.raw, keys, value);
    try {
      return parseWith(base.formulation, raw);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(error.path, `${error.rule} (with the swept value ${value})`);
      throw error;
    }
  });
  const rows: SweepRow[] = [];
  for (let i = 0; i < variants.length; i++) {
    const report = await solve(variants[i], options);
    rows.push({
      value: values[i],
      method: report.method,
      termination: report.termination,
      objective: report.solution?.objective ?? null,
      gap: report.solution?.gap ?? null,
      summary: report.summary ?? null,
      decision: report.solution?.decision ?? null,
      ...(report.explanation !== undefined ? { explanation: report.explanation } : {}),
      timeSeconds: report.timeSeconds,
    });
  }
  return { kind: base.kind, path: jsonPath(keys), rows };
}

/** JSON Schema of a kind's input (all kinds as a `oneOf` when no kind is given). */
export function schema(kind?: string): Record<string, unknown> {
  const one = (f: AnyFormulation): Record<string, unknown> => {
    const { $schema: _drop, ...body } = z.toJSONSchema(f.inputSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    return { title: `edgeplan ${f.kind} problem`, description: f.title, ...body };
  };
  const dialect = 'https://json-schema.org/draft/2020-12/schema';
  if (kind !== undefined) {
    let formulation: AnyFormulation;
    try {
      formulation = getFormulation(kind);
    } catch (error) {
      // Here the kind is a command argument, not a field of a JSON document.
      throw error instanceof InputError ? new UsageError(error.rule) : error;
    }
    return { $schema: dialect, ...one(formulation) };
  }
  return { $schema: dialect, title: 'edgeplan problem', description: 'any edgeplan problem; `kind` selects the family', oneOf: listKinds().map((k) => one(FORMULATIONS[k])) };
}

// ---------------------------------------------------------------------------------------------
// Online replay of a model-caching problem (the seed's online view of parameter-sharing caching).

export type ReplayPolicyName = 'lru' | 'laoc' | 'optimal';
export const REPLAY_POLICIES: readonly ReplayPolicyName[] = ['lru', 'laoc', 'optimal'];

export interface ReplayOptions {
  /** A trace as JSON (`[{ user, model }]`); when absent one is drawn from the problem with `seed`. */
  readonly trace?: unknown;
  readonly requests?: number;
  readonly seed?: number;
  readonly policies?: readonly ReplayPolicyName[];
  /** δ of least-age-of-context (per request). */
  readonly decay?: number;
  readonly windowSize?: number;
  /** How the offline optimum (the static cache) is solved. */
  readonly solve?: SolveOptions;
}

export interface ReplayReport {
  readonly kind: 'model-caching';
  readonly requests: number;
  readonly seed: number | null;
  /** Expected hit ratio of the static optimum under the problem's request model. */
  readonly optimumExpectedHitRatio: number | null;
  readonly optimumTermination: Termination | null;
  readonly results: readonly ReplayResult[];
}

/** Replays a request trace against online policies and the offline optimum held as a static cache. */
export async function replayCaching(problem: unknown, options: ReplayOptions = {}): Promise<ReplayReport> {
  const parsed = problem instanceof ParsedProblem ? problem : parseProblem(problem);
  if (parsed.kind !== 'model-caching') throw new InputError('$.kind', `replay applies to model-caching problems, not ${parsed.kind}`);
  const p = parsed.problem as CachingProblem;
  const seed = options.trace === undefined ? (options.seed ?? 1) : null;
  const trace = options.trace !== undefined ? parseTrace(p, options.trace) : generateTrace(p, options.requests ?? 10_000, seed ?? 1);
  const windowSize = options.windowSize ?? Math.max(1, Math.round(trace.length / 20));
  const results: ReplayResult[] = [];
  let optimumExpectedHitRatio: number | null = null;
  let optimumTermination: Termination | null = null;
  for (const policy of options.policies ?? REPLAY_POLICIES) {
    if (policy === 'lru') results.push(replay(p, trace, { kind: 'lru' }, windowSize));
    else if (policy === 'laoc') results.push(replay(p, trace, { kind: 'laoc', decay: options.decay ?? 0.99 }, windowSize));
    else {
      const report = await solve(parsed, options.solve ?? {});
      optimumTermination = report.termination;
      if (report.solution) {
        const decision = report.solution.decision as CachingDecision;
        optimumExpectedHitRatio = (report.solution.evaluation.breakdown as { hitRatio: number }).hitRatio;
        results.push(replay(p, trace, { kind: 'static', name: `static ${report.method} optimum`, decision }, windowSize));
      }
    }
  }
  return { kind: 'model-caching', requests: trace.length, seed, optimumExpectedHitRatio, optimumTermination, results };
}
