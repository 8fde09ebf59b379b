/**
 * The one solve chain (CVXPY's solving-chain idea, in our words):
 *
 *   parse → warm start → compile → solve → decode → certify → report
 *
 * `SolveSession` holds one parsed problem and runs the steps at most once each (the warm start,
 * the compilation, the peers), however many methods use them; `solve`, `compare`, `sweep`,
 * `replay`, the bench and the tests all go through it, so they cannot drift apart.
 *
 * The time limit covers the whole run: the warm start may use a fifth of it (and is abandoned when
 * it runs over), compile and each method get what is left, and a method that starts with no time
 * left is reported as `time_limit` without being run.
 */
import type { Backend } from '../backends/types.ts';
import { UsageError, InputError } from '../errors.ts';
import type { AnyFormulation, Compiled, Evaluation, ExactContext, SolveMilp } from '../formulations/types.ts';
import { checkMilpSolution } from '../milp/check.ts';
import { hasIntegers } from '../milp/model.ts';
import type { MilpResult, MilpSolveOptions, Termination } from '../milp/result.ts';
import { certify, strictlyBetter, type Certified, type RawOutcome } from './certify.ts';
import { OBJECTIVE_RTOL } from '../formulations/tolerance.ts';
import {
  backendFor,
  backendOrder,
  canSolve,
  normalizeOptions,
  trustsInfeasibility,
  type BackendChoice,
  type Method,
  type NormalizedOptions,
  type SolveOptions,
} from './options.ts';
import { errorText, toParsed, type ParsedProblem } from './problem.ts';
import type { SolveReport, WarmStartReport } from './report.ts';

/** Share of the time limit the warm-start step may use. */
export const WARM_START_SHARE = 0.2;

/** Terminations after which `auto` tries the next method. */
const FALL_THROUGH: readonly Termination[] = ['error', 'numerical_error', 'memory_limit', 'invalid_model'];

const CLAIMS_NO_POINT: readonly Termination[] = ['infeasible', 'unbounded', 'infeasible_or_unbounded'];

export function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}

/** A peer's decision and evaluate's verdict on it. */
export interface PeerOutcome {
  readonly name: string;
  readonly decision: unknown;
  readonly evaluation: Evaluation | null;
  readonly timeSeconds: number;
  /** Why there is no (feasible) decision, or what went wrong. */
  readonly message?: string;
  /** The peer threw. */
  readonly failed?: boolean;
}

interface WarmStart {
  readonly decision: unknown;
  readonly report: WarmStartReport;
}

export class SolveSession {
  readonly options: NormalizedOptions;
  readonly startMs = performance.now();
  /** Where the time limit counts from: the session's start, or a restart (compare, bench: one limit per method). */
  private clockMs = this.startMs;
  private compiled: Compiled<unknown> | undefined;
  private compileSecondsValue: number | null = null;
  private warm: WarmStart | null | undefined;
  private readonly peers = new Map<string, PeerOutcome>();

  constructor(
    readonly parsed: ParsedProblem,
    options: SolveOptions = {},
  ) {
    this.options = normalizeOptions(options);
  }

  get formulation(): AnyFormulation {
    return this.parsed.formulation;
  }

  get deadlineMs(): number {
    const limit = this.options.timeLimitSeconds;
    return limit === undefined ? Infinity : this.clockMs + limit * 1000;
  }

  /** Gives the next method a full time limit of its own (compare and bench time methods side by side). */
  restartClock(): void {
    this.clockMs = performance.now();
  }

  /** Seconds left of the run's time limit; undefined without a limit. */
  remainingSeconds(): number | undefined {
    if (this.options.timeLimitSeconds === undefined) return undefined;
    return (this.deadlineMs - performance.now()) / 1000;
  }

  get compileSeconds(): number | null {
    return this.compileSecondsValue;
  }

  get warmStartReport(): WarmStartReport | null {
    return this.warm?.report ?? null;
  }

  exactApplicability(): string | null {
    const exact = this.formulation.exact;
    if (exact === undefined) return `kind ${this.parsed.kind} has no exact method`;
    return exact.notApplicable(this.parsed.problem);
  }

  /** Runs one peer (once per session) and has evaluate judge its decision. Never throws. */
  runPeer(name: string): PeerOutcome {
    const cached = this.peers.get(name);
    if (cached !== undefined) return cached;
    const baseline = this.formulation.baselines.find((b) => b.name === name);
    if (baseline === undefined) throw new UsageError(`kind ${this.parsed.kind} has no peer named ${name}`);
    const problem = this.parsed.problem;
    const t0 = performance.now();
    let outcome: PeerOutcome;
    try {
      const decision = baseline.run(problem);
      const timeSeconds = secondsSince(t0);
      if (decision === null) {
        let reason = 'its procedure found none';
        try {
          reason = baseline.whyNoDecision?.(problem) ?? reason;
        } catch (error) {
          reason = `whyNoDecision failed: ${errorText(error)}`;
        }
        outcome = { name, decision: null, evaluation: null, timeSeconds, message: `no decision: ${reason}` };
      } else {
        const evaluation = this.formulation.evaluate(problem, decision);
        const why = evaluation.violations
          .slice(0, 3)
          .map((v) => v.message)
          .join('; ');
        outcome = {
          name,
          decision,
          evaluation,
          timeSeconds,
          ...(evaluation.feasible ? {} : { message: `fails evaluate: ${why}` }),
        };
      }
    } catch (error) {
      outcome = {
        name,
        decision: null,
        evaluation: null,
        timeSeconds: secondsSince(t0),
        message: errorText(error),
        failed: true,
      };
    }
    this.peers.set(name, outcome);
    return outcome;
  }

  /** Every peer, in the family's order (each run at most once per session). */
  runPeers(): PeerOutcome[] {
    return this.formulation.baselines.map((b) => this.runPeer(b.name));
  }

  /**
   * The warm-start step: the family's own heuristic when it has one, else the best peer that
   * evaluate accepts. Bounded by WARM_START_SHARE of the time limit; peers are not interrupted
   * mid-run, but none starts after the deadline.
   */
  warmStart(): WarmStartReport | null {
    if (this.warm !== undefined) return this.warm?.report ?? null;
    this.options.hooks.onStepStart?.('warmStart');
    const t0 = performance.now();
    const limit = this.options.timeLimitSeconds;
    const deadline = limit === undefined ? Infinity : t0 + limit * WARM_START_SHARE * 1000;
    const { formulation } = this;
    const problem = this.parsed.problem;
    const sign = this.parsed.sense === 'min' ? 1 : -1;
    let best: { decision: unknown; source: string; objective: number } | null = null;
    let note: string | undefined;
    try {
      if (formulation.warmStart !== undefined) {
        const decision = formulation.warmStart(problem, deadline);
        if (decision !== null) {
          const evaluation = formulation.evaluate(problem, decision);
          if (evaluation.feasible) best = { decision, source: 'formulation', objective: evaluation.objective };
          else note = "the family's warm-start heuristic returned a decision evaluate rejects; not used";
        }
      } else {
        for (const baseline of formulation.baselines) {
          if (performance.now() > deadline) {
            note = 'abandoned at its share of the time limit';
            break;
          }
          const peer = this.runPeer(baseline.name);
          if (
            peer.evaluation?.feasible === true &&
            (best === null || sign * peer.evaluation.objective < sign * best.objective)
          ) {
            best = { decision: peer.decision, source: peer.name, objective: peer.evaluation.objective };
          }
        }
      }
    } catch (error) {
      note = `warm start failed: ${errorText(error)}`;
    }
    const seconds = secondsSince(t0);
    this.options.hooks.onStep?.('warmStart', seconds);
    const report: WarmStartReport = {
      source: best?.source ?? null,
      objective: best?.objective ?? null,
      seconds,
      ...(note !== undefined ? { note } : {}),
    };
    this.warm = best === null ? { decision: null, report } : { decision: best.decision, report };
    return report;
  }

  /** Marks the warm start as skipped (no method in the plan could use it). */
  skipWarmStart(reason: string): void {
    if (this.warm === undefined)
      this.warm = { decision: null, report: { source: null, objective: null, seconds: 0, note: `skipped: ${reason}` } };
  }

  private get incumbent(): unknown {
    return this.warm?.decision ?? null;
  }

  /** problem → model, once per session (with the warm start as a hint when there is one). */
  compile(): Compiled<unknown> {
    const compile = this.formulation.compile;
    if (compile === undefined)
      throw new UsageError(`kind ${this.parsed.kind} has no MILP compilation; use backend exact or auto`);
    if (this.compiled === undefined) {
      this.options.hooks.onStepStart?.('compile');
      const t0 = performance.now();
      const incumbent = this.incumbent;
      this.compiled = compile.call(this.formulation, this.parsed.problem, incumbent !== null ? { incumbent } : {});
      this.compileSecondsValue = secondsSince(t0);
      this.options.hooks.onStep?.('compile', this.compileSecondsValue);
    }
    return this.compiled;
  }

  /** The MILP solver handed to exact methods: trusted backends in capability order, falling back on failure. */
  private solveMilp(): SolveMilp {
    const onProgress = this.options.hooks.onProgress;
    return async (model, milpOptions: MilpSolveOptions = {}) => {
      const merged: MilpSolveOptions = {
        mipGap: this.options.mipGap,
        ...(onProgress !== undefined ? { onProgress: (p) => onProgress({ method: 'exact', phase: 'MILP', ...p }) } : {}),
        ...milpOptions,
      };
      const failures: MilpResult[] = [];
      for (const name of backendOrder(this.options)) {
        const backend = backendFor(name, this.options);
        if (!trustsInfeasibility(backend) || !canSolve(backend, model)) continue;
        const result = await backend.solve(model, merged);
        if (!FALL_THROUGH.includes(result.termination)) return result;
        failures.push(result);
      }
      const last = failures[failures.length - 1];
      if (last === undefined)
        return {
          backend: 'none',
          termination: 'error',
          solution: null,
          message: 'no trusted MILP backend can solve this model',
          timeSeconds: 0,
        };
      return { ...last, message: failures.map((r) => `${r.backend}: ${r.message ?? r.termination}`).join('; ') };
    };
  }

  private timeLeftOutcome(method: Method): RawOutcome | null {
    const remaining = this.remainingSeconds();
    if (remaining === undefined || remaining > 0) return null;
    return {
      method,
      claim: { termination: 'time_limit' },
      decision: null,
      timeSeconds: 0,
      message: 'not run: the time limit was used up by earlier steps',
    };
  }

  /** Runs one method and certifies its answer. Throws only InputError/UsageError. */
  async run(method: Method, { holdWarmStart = false }: { holdWarmStart?: boolean } = {}): Promise<Certified> {
    this.options.hooks.onStepStart?.('solve', method);
    const t0 = performance.now();
    let raw: RawOutcome;
    try {
      raw =
        this.timeLeftOutcome(method) ??
        (method === 'exact' ? await this.runExact(holdWarmStart) : await this.runBackend(method, holdWarmStart));
    } catch (error) {
      if (error instanceof InputError || error instanceof UsageError) throw error;
      raw = {
        method,
        claim: { termination: 'error' },
        decision: null,
        timeSeconds: secondsSince(t0),
        message: errorText(error),
      };
    }
    this.options.hooks.onStep?.('solve', raw.timeSeconds, method);
    const c0 = performance.now();
    const certified = certify(
      {
        formulation: this.formulation,
        problem: this.parsed.problem,
        sense: this.parsed.sense,
        mipGap: this.options.mipGap,
      },
      raw,
    );
    this.options.hooks.onStep?.('certify', secondsSince(c0), method);
    return certified;
  }

  private async runExact(holdWarmStart: boolean): Promise<RawOutcome> {
    const exact = this.formulation.exact;
    const reason = this.exactApplicability();
    if (exact === undefined || reason !== null) throw new UsageError(`backend exact: ${reason ?? 'not available'}`);
    const remaining = this.remainingSeconds();
    const incumbent = this.incumbent;
    const onProgress = this.options.hooks.onProgress;
    const context: ExactContext = {
      mipGap: this.options.mipGap,
      solveMilp: this.solveMilp(),
      ...(onProgress !== undefined ? { progress: (phase, facts) => onProgress({ method: 'exact', phase, ...facts }) } : {}),
      ...(remaining !== undefined ? { timeLimitSeconds: remaining } : {}),
      ...(incumbent !== null ? { incumbent } : {}),
    };
    const t0 = performance.now();
    const result = await exact.solve.call(exact, this.parsed.problem, context);
    // As for the backends (solve only, not compare): a method stopped by a limit with no point of its
    // own holds the warm start.
    const atLimit = result.termination === 'time_limit' || result.termination === 'node_limit';
    const held = holdWarmStart && atLimit && result.decision === null && incumbent !== null;
    return {
      method: 'exact',
      claim: { termination: result.termination, ...(result.bound !== undefined ? { bound: result.bound } : {}) },
      decision: held ? incumbent : result.decision,
      ...(held ? { notes: [`exact found no incumbent of its own; holding the warm start (${this.warm?.report.source ?? 'warm start'})`] } : {}),
      timeSeconds: secondsSince(t0),
      ...(result.message !== undefined ? { message: result.message } : {}),
      ...(result.details !== undefined ? { details: result.details } : {}),
    };
  }

  private async runBackend(name: Exclude<Method, 'exact'>, holdWarmStart: boolean): Promise<RawOutcome> {
    const compiled = this.compile();
    const backend = backendFor(name, this.options);
    const model = compiled.model;
    if (!canSolve(backend, model)) {
      return {
        method: name,
        claim: { termination: 'invalid_model' },
        decision: null,
        timeSeconds: 0,
        message: `${name} cannot solve this model (integer or free columns it does not support)`,
      };
    }
    const remaining = this.remainingSeconds();
    const incumbent = this.incumbent;
    const start =
      incumbent !== null && backend.capabilities.warmStart && compiled.encode !== undefined
        ? compiled.encode(incumbent)
        : null;
    const onProgress = this.options.hooks.onProgress;
    const result = await backend.solve(model, {
      mipGap: this.options.mipGap,
      ...(remaining !== undefined ? { timeLimitSeconds: Math.max(remaining, 1e-3) } : {}),
      ...(this.options.nodeLimit !== undefined ? { nodeLimit: this.options.nodeLimit } : {}),
      ...(start !== null ? { warmStart: start } : {}),
      ...(onProgress !== undefined ? { onProgress: (p) => onProgress({ method: name, ...p }) } : {}),
    });
    const claim = {
      termination: result.termination,
      ...(result.rawClaim !== undefined ? { rawStatus: result.rawClaim.status } : {}),
      ...(result.solution !== null
        ? { objective: result.solution.objective }
        : result.rawClaim?.objective !== undefined
          ? { objective: result.rawClaim.objective }
          : {}),
      ...(result.solution?.bound !== undefined ? { bound: result.solution.bound } : {}),
    };
    const common = {
      method: name,
      claim,
      timeSeconds: result.timeSeconds,
      continuous: !hasIntegers(model),
      ...(result.message !== undefined ? { message: result.message } : {}),
    };
    if (result.solution !== null) {
      const solution = result.solution;
      const unproven =
        result.termination === 'optimal' &&
        hasIntegers(model) &&
        !(solution.bound !== undefined && Number.isFinite(solution.bound));
      if (!unproven) return { ...common, decision: compiled.decode(solution.values, solution) };
      const probe = await this.probeBound(backend, solution.objective);
      if (probe.better !== undefined) {
        return {
          ...common,
          claim: { ...claim, termination: 'optimal' },
          decision: compiled.decode(probe.better.values),
          notes: [probe.note],
        };
      }
      return {
        ...common,
        claim: { ...claim, ...(probe.bound !== undefined ? { bound: probe.bound } : {}) },
        decision: compiled.decode(solution.values),
        notes: [probe.note],
      };
    }
    const atLimit = result.termination === 'time_limit' || result.termination === 'node_limit';
    if (atLimit && holdWarmStart && incumbent !== null) {
      const source = this.warm?.report.source ?? 'warm start';
      return {
        ...common,
        decision: incumbent,
        notes: [`${name} found no incumbent of its own; holding the warm start (${source})`],
      };
    }
    if (CLAIMS_NO_POINT.includes(result.termination) && !trustsInfeasibility(backend))
      return { ...common, decision: null, ...(await this.verifyClaim(backend, result)) };
    return { ...common, decision: null };
  }

  /**
   * A MIP "optimal" whose backend exposes no dual bound (glpk.js hides GLPK's, javascript-lp-solver
   * has none) is not certified on the backend's word; the bound is earned (the bound probe): first
   * another trusted backend re-solves the model and lends its dual bound; else the model with the
   * objective cut off just beyond the claim (0.99 × max(mipGap, OBJECTIVE_RTOL), relative) must be
   * proven infeasible. A strictly better point found on the way refutes the claim and is returned
   * instead (with a note); anything else leaves the claim without a bound, so it is not certified.
   */
  private async probeBound(
    claimant: Backend,
    claimed: number,
  ): Promise<{ bound?: number; better?: { values: number[] }; note: string }> {
    const model = this.compile().model;
    const trusted = backendOrder(this.options)
      .map((n) => backendFor(n, this.options))
      .filter((b) => trustsInfeasibility(b) && canSolve(b, model));
    const others = trusted.filter((b) => b.name !== claimant.name);
    const tried: string[] = [];
    const budget = (): number | undefined | null => {
      const remaining = this.remainingSeconds();
      return remaining !== undefined && remaining <= 0 ? null : remaining;
    };
    // First a trusted backend that exposes its own dual bound re-solves the model: its bound is valid
    // for the same model, and a strictly better point refutes the claim.
    for (const judge of others) {
      const remaining = budget();
      if (remaining === null) break;
      const t0 = performance.now();
      const result = await judge.solve(model, {
        mipGap: this.options.mipGap,
        ...(remaining !== undefined ? { timeLimitSeconds: Math.max(remaining, 1e-3) } : {}),
      });
      const took = `${secondsSince(t0).toFixed(3)} s`;
      // A judge's point refutes the claim only if it satisfies the model's rows (an adapter's own check may be
      // missing).
      const point =
        result.solution !== null && checkMilpSolution(model, result.solution.values).ok ? result.solution : null;
      if (point !== null && strictlyBetter(model.sense, point.objective, claimed)) {
        return {
          better: { values: point.values },
          note: `${claimant.name} claimed optimal at ${claimed}, but ${judge.name} found a point at ${point.objective} (${took})`,
        };
      }
      if (point !== null && point.bound !== undefined && Number.isFinite(point.bound)) {
        return {
          bound: point.bound,
          note: `${claimant.name} exposes no bound; ${judge.name}'s dual bound ${point.bound} on the same model certifies it (${took})`,
        };
      }
      tried.push(`${judge.name} ended with ${result.termination}${point !== null ? ' and no bound' : ''}`);
    }
    // Else the objective is cut off just beyond the claim and a trusted backend asked for a point:
    // infeasible proves the cut-off a bound. Solver tolerances (~1e-7 of a row) limit how small a
    // step can be proven, so this is the second resort.
    const cutter = trusted.find((b) => b.name === claimant.name) ?? others[0];
    const remaining = budget();
    if (cutter !== undefined && remaining !== null) {
      const step = 0.99 * Math.max(this.options.mipGap, OBJECTIVE_RTOL) * Math.abs(claimed);
      const cutoff = model.sense === 'min' ? claimed - step : claimed + step;
      const rhs = cutoff - model.objectiveConstant;
      const row = {
        name: 'edgeplan-bound-probe',
        terms: model.objective,
        lower: model.sense === 'min' ? -Infinity : rhs,
        upper: model.sense === 'min' ? rhs : Infinity,
      };
      const probe = { ...model, constraints: [...model.constraints, row] };
      const t0 = performance.now();
      const result = await cutter.solve(probe, {
        mipGap: this.options.mipGap,
        ...(remaining !== undefined ? { timeLimitSeconds: Math.max(remaining, 1e-3) } : {}),
      });
      const took = `${secondsSince(t0).toFixed(3)} s`;
      if (result.termination === 'infeasible' && step > 0) {
        return {
          bound: cutoff,
          note: `${claimant.name} exposes no bound; ${cutter.name} proved no point beats ${cutoff} (cut-off probe, ${took})`,
        };
      }
      const point =
        result.solution !== null && checkMilpSolution(model, result.solution.values).ok ? result.solution : null;
      if (point !== null && strictlyBetter(model.sense, point.objective, claimed)) {
        return {
          better: { values: point.values },
          note: `${claimant.name} claimed optimal at ${claimed}, but ${cutter.name} found a point at ${point.objective} (cut-off probe, ${took})`,
        };
      }
      tried.push(`the cut-off probe by ${cutter.name} ended with ${result.termination}`);
    }
    if (remaining === null) tried.push('no time left');
    return {
      note: `${claimant.name} exposes no bound, and none could be earned (${tried.join('; ') || 'no trusted backend'})`,
    };
  }

  /**
   * An "infeasible"/"unbounded" from a backend not trusted for it is confirmed by the first trusted
   * backend in the time left: confirmed, contradicted (the claim becomes that backend's error), or
   * left unverified.
   */
  private async verifyClaim(claimant: Backend, result: MilpResult): Promise<Partial<RawOutcome>> {
    const model = this.compile().model;
    const judge = backendOrder(this.options)
      .map((n) => backendFor(n, this.options))
      .find((b) => b.name !== claimant.name && trustsInfeasibility(b) && canSolve(b, model));
    if (judge === undefined)
      return {
        verified: false,
        notes: [
          `${claimant.name}'s ${result.termination} claim is unverified: no trusted backend can solve this model`,
        ],
      };
    const remaining = this.remainingSeconds();
    if (remaining !== undefined && remaining <= 0)
      return {
        verified: false,
        notes: [`${claimant.name}'s ${result.termination} claim is unverified: no time left to confirm it`],
      };
    const second = await judge.solve(model, {
      mipGap: this.options.mipGap,
      ...(remaining !== undefined ? { timeLimitSeconds: remaining } : {}),
    });
    if (second.termination === result.termination) return { verified: true, notes: [`confirmed by ${judge.name}`] };
    if (second.solution !== null) {
      return {
        claim: { termination: 'error', rawStatus: result.termination },
        message: `claimed ${result.termination}, but ${judge.name} found a feasible point (objective ${second.solution.objective})`,
        verified: false,
      };
    }
    if (
      result.termination === 'infeasible_or_unbounded' &&
      (second.termination === 'infeasible' || second.termination === 'unbounded')
    ) {
      return { verified: true, notes: [`${judge.name} settles it: ${second.termination}`] };
    }
    return {
      verified: false,
      notes: [
        `${claimant.name}'s ${result.termination} claim is unverified: ${judge.name} ended with ${second.termination}`,
      ],
    };
  }
}

/** The methods a choice tries, in order. */
export function plan(session: SolveSession, choice: BackendChoice): Method[] {
  const milp = session.formulation.compile !== undefined;
  if (choice === 'exact') {
    const reason = session.exactApplicability();
    if (reason !== null) throw new UsageError(`backend exact: ${reason}`);
    return ['exact'];
  }
  if (choice !== 'auto') {
    if (!milp)
      throw new UsageError(
        `backend ${choice}: kind ${session.parsed.kind} has no MILP compilation; use backend exact or auto`,
      );
    return [choice];
  }
  const methods: Method[] = session.exactApplicability() === null ? ['exact'] : [];
  if (milp) methods.push(...backendOrder(session.options));
  if (methods.length === 0) {
    throw new UsageError(
      `kind ${session.parsed.kind}: the exact method does not apply (${session.exactApplicability()}) and there is no MILP compilation`,
    );
  }
  return methods;
}

/** Whether a warm start can help any method of the plan; the reason to skip it otherwise. */
function warmStartUse(session: SolveSession, methods: readonly Method[]): string | null {
  if (methods.includes('exact')) return null;
  if (methods.some((m) => m !== 'exact' && backendFor(m, session.options).capabilities.warmStart)) return null;
  // Not run merely to be held at a limit: under a time limit it would take time from a backend that cannot use it
  // (GLPK on gap-100x10 at 2 s found no incumbent once the greedy repair had used its share).
  return 'no method in the plan takes a warm start';
}

function summarize(parsed: ParsedProblem, certified: Certified): string | undefined {
  const describe = parsed.formulation.describe;
  if (describe === undefined || certified.solution === null) return undefined;
  try {
    return describe.call(
      parsed.formulation,
      parsed.problem,
      certified.solution.decision,
      certified.solution.evaluation,
    );
  } catch (error) {
    return `(describe failed: ${errorText(error)})`;
  }
}

function explain(parsed: ParsedProblem, certified: Certified): string | undefined {
  const { termination, verified, method } = certified.attempt;
  if (FALL_THROUGH.includes(termination)) return undefined;
  if (termination === 'unbounded')
    return 'the objective improves without limit: the constraints leave some direction of improvement open';
  const limit =
    termination === 'time_limit'
      ? 'no solution was found within the time limit'
      : termination === 'node_limit'
        ? 'no solution was found within the node limit'
        : undefined;
  let reason: string | undefined;
  try {
    reason = parsed.formulation.explainInfeasible?.call(parsed.formulation, parsed.problem);
  } catch (error) {
    reason = `(explainInfeasible failed: ${errorText(error)})`;
  }
  const unverified = verified === false ? `${method} claims infeasible, and no trusted method confirmed it` : undefined;
  // At a limit nothing is proven: the family's reason is what would bind if it were infeasible.
  if (limit !== undefined && reason !== undefined) reason = `infeasibility is not proven; if it is infeasible: ${reason}`;
  return [limit, unverified, reason].filter((s) => s !== undefined).join('; ') || undefined;
}

/** Picks the outcome to report: the first that need not fall through; else the best held decision; else the last. */
function choose(outcomes: readonly Certified[], sense: ParsedProblem['sense']): Certified {
  const settled = outcomes.find((o) => !FALL_THROUGH.includes(o.attempt.termination));
  if (settled !== undefined) return settled;
  let best: Certified | undefined;
  for (const o of outcomes) {
    if (o.solution === null) continue;
    if (
      best === undefined ||
      strictlyBetter(sense, o.solution.objective, (best.solution as { objective: number }).objective)
    )
      best = o;
  }
  return best ?? outcomes[outcomes.length - 1];
}

/**
 * Solves a problem (raw JSON or a ParsedProblem). Resolves to a report in every solver outcome —
 * infeasible, time-limited, every backend failing — and rejects only on bad input or options
 * (InputError / UsageError).
 */
export async function solve(problem: unknown, options: SolveOptions = {}): Promise<SolveReport> {
  return solveSession(new SolveSession(toParsed(problem), options));
}

/** solve on a session the caller holds (sweep --with-peers then reads the peers the warm start already ran). */
export async function solveSession(session: SolveSession): Promise<SolveReport> {
  const parsed = session.parsed;
  const normalized = session.options;
  const methods = plan(session, normalized.backend);
  const skip = warmStartUse(session, methods);
  if (skip === null) session.warmStart();
  else session.skipWarmStart(skip);
  const outcomes: Certified[] = [];
  for (const method of methods) {
    const outcome = await session.run(method, { holdWarmStart: true });
    outcomes.push(outcome);
    if (!FALL_THROUGH.includes(outcome.attempt.termination)) break;
  }
  const final = choose(outcomes, parsed.sense);
  const { attempt, solution } = final;
  const explanation = solution === null ? explain(parsed, final) : undefined;
  const summary = summarize(parsed, final);
  const sense = parsed.sense;
  return {
    kind: parsed.kind,
    objectiveLabel: parsed.objectiveLabel,
    sense,
    method: attempt.method,
    termination: attempt.termination,
    primalStatus: attempt.primalStatus,
    solution,
    bounds: { primal: solution?.objective ?? (sense === 'min' ? Infinity : -Infinity), dual: final.dual },
    claim: attempt.claim,
    attempts: outcomes.map((o) => o.attempt),
    options: {
      backend: normalized.backend,
      mipGap: normalized.mipGap,
      ...(normalized.timeLimitSeconds !== undefined ? { timeLimitSeconds: normalized.timeLimitSeconds } : {}),
      ...(normalized.nodeLimit !== undefined ? { nodeLimit: normalized.nodeLimit } : {}),
    },
    warmStart: session.warmStartReport,
    steps: { warmStartSeconds: session.warmStartReport?.seconds ?? null, compileSeconds: session.compileSeconds },
    timeSeconds: secondsSince(session.startMs),
    warnings: parsed.warnings,
    ...(explanation !== undefined ? { explanation } : {}),
    ...(summary !== undefined ? { summary } : {}),
    ...(final.details !== undefined ? { details: final.details } : {}),
  };
}
