/**
 * GLPK 5 through glpk.js (GPL-3.0). The package is imported lazily, on the first solve, so
 * that nothing GPL is loaded unless this backend is asked for; `glpk.js/node` is the
 * synchronous Node build (the package's default export needs a Web Worker).
 *
 * Traps absorbed here (each has a test in test/backends/traps.test.ts):
 * - Columns default to lower bound 0: every column gets an explicit bound type (free,
 *   lower, upper, double, fixed). Integer columns go in `generals`, never `binaries`,
 *   because GLPK resets a binary's bounds to [0, 1] and a binary may be fixed by the model.
 * - Names are generated (`x0…`, `r0…`); the user's names never reach GLPK.
 * - Status 1 (undefined) is ambiguous: with presolve on, GLPK returns it for infeasible and
 *   for unbounded LPs, and for a MIP it also means "time limit before any incumbent". LPs
 *   are re-solved without presolve, which gives a definite status. For a MIP, the time
 *   spent decides "time limit"; otherwise the LP relaxation is solved without presolve:
 *   infeasible → infeasible; unbounded → the feasibility MIP (objective 0) decides between
 *   infeasible and unbounded; bounded → `error` (GLPK reports a MIP it proved infeasible
 *   as status 4, so status 1 with a solvable relaxation is a failure we cannot read).
 * - glp_intopt rejects integer columns with fractional bounds (status 1 again): integer
 *   bounds are rounded inward first.
 * - Status 2 (feasible) after a MIP means either "gap reached" or "time limit"; GLPK says
 *   not which. If the solve used (nearly) all of its time limit it is `time_limit`,
 *   otherwise the relative gap criterion stopped it and it is `optimal` within `mipGap`.
 * - glpk.js exposes no best bound. For a time-limited MIP with an incumbent, the bound
 *   reported is the LP relaxation optimum (solved afterwards): valid, but weaker than GLPK's
 *   internal bound, so the reported gap over-states the true one; the message says so.
 * - glpk.js has no objective constant, and GLPK's relative MIP gap is measured against the
 *   objective value it knows: without the constant a model whose terms sum to 12 s and whose
 *   constant is −12 s would stop "within 1e-6" of 12 s, not of the true ≈0.01 s. The constant
 *   goes in as one extra column fixed at 1 (`k`) whose cost is the constant; presolve folds it
 *   into GLPK's own objective constant c0, which the gap test includes.
 * - After MIP presolve GLPK may return a point that misses a row by ~1e-6 (`serve ≤ x` with
 *   x = 0, serve = 1.3e-6): such a point is polished — integers fixed, the continuous columns
 *   re-solved as an LP without presolve — before the guard checks it.
 * - The model arrives scaled (src/milp/scale.ts, applied by guardedSolve).
 * - No node limit and no warm start in glpk.js: those options are ignored, with a message.
 */

import type { GLPK, LP, Options as GlpkOptions, Result as GlpkResult } from 'glpk.js/node';
import type { Model } from '../milp/model.ts';
import { checkMilpSolution } from '../milp/check.ts';
import { hasIntegers, isInteger, mergeTerms } from '../milp/model.ts';
import type { MilpSolveOptions } from '../milp/result.ts';
import {
  effectiveBounds,
  guardedSolve,
  lazyRuntime,
  raiseWasmTieringBudget,
  secondsSince,
  type NormalizedOptions,
  type Outcome,
} from './support.ts';
import type { Backend } from './types.ts';


async function loadGlpk(): Promise<GLPK> {
  raiseWasmTieringBudget();
  const module = await import('glpk.js/node');
  return module.default();
}

const glpkRuntime = lazyRuntime(loadGlpk);

/** The shared GLPK runtime, loaded on first use. */
export const loadGlpkRuntime = (): Promise<GLPK> => glpkRuntime.get();
const dropRuntime = (): void => glpkRuntime.drop();

const columnName = (j: number): string => `x${j}`;
const rowName = (i: number): string => `r${i}`;
/** The extra column fixed at 1 that carries the objective constant (see the file comment). */
const CONSTANT_COLUMN = 'k';

const STATUS_NAMES: Readonly<Record<number, string>> = {
  1: 'GLP_UNDEF',
  2: 'GLP_FEAS',
  3: 'GLP_INFEAS',
  4: 'GLP_NOFEAS',
  5: 'GLP_OPT',
  6: 'GLP_UNBND',
};

/** GLPK's own status word and objective for a result, kept as the raw claim. */
function claimOf(result: GlpkResult): { status: string; objective?: number } {
  const status = `GLPK: ${STATUS_NAMES[result.result.status] ?? `status ${result.result.status}`}`;
  return Number.isFinite(result.result.z) ? { status, objective: result.result.z } : { status };
}

interface BoundSpec {
  readonly type: number;
  readonly lb: number;
  readonly ub: number;
}

/** GLPK's bound type for `lower ≤ · ≤ upper`, with the unused side set to 0. */
function boundSpec(glpk: GLPK, lower: number, upper: number): BoundSpec {
  const hasLower = Number.isFinite(lower);
  const hasUpper = Number.isFinite(upper);
  if (!hasLower && !hasUpper) return { type: glpk.GLP_FR, lb: 0, ub: 0 };
  if (!hasUpper) return { type: glpk.GLP_LO, lb: lower, ub: 0 };
  if (!hasLower) return { type: glpk.GLP_UP, lb: 0, ub: upper };
  if (lower === upper) return { type: glpk.GLP_FX, lb: lower, ub: upper };
  return { type: glpk.GLP_DB, lb: lower, ub: upper };
}

interface LpVariant {
  /** Solve the continuous relaxation (integrality dropped). */
  readonly relax?: boolean;
  /** Replace the objective by 0 (feasibility problem). */
  readonly zeroObjective?: boolean;
}

/** The model in glpk.js's JSON form, with generated names and every column bounded explicitly. */
export function toGlpkLp(glpk: GLPK, model: Model, variant: LpVariant = {}): LP {
  const cost = new Float64Array(model.variables.length);
  if (!variant.zeroObjective) for (const t of mergeTerms(model.objective)) cost[t.variable] = t.coefficient;
  const constant = variant.zeroObjective ? 0 : model.objectiveConstant;
  const lp: LP = {
    name: 'edgeplan',
    objective: {
      direction: model.sense === 'max' ? glpk.GLP_MAX : glpk.GLP_MIN,
      name: 'objective',
      // Every column is listed here, in order, so GLPK's column j is our column j.
      vars: [
        ...model.variables.map((_, j) => ({ name: columnName(j), coef: cost[j] })),
        ...(constant !== 0 ? [{ name: CONSTANT_COLUMN, coef: constant }] : []),
      ],
    },
    subjectTo: model.constraints.map((row, i) => ({
      name: rowName(i),
      vars: mergeTerms(row.terms).map((t) => ({ name: columnName(t.variable), coef: t.coefficient })),
      bnds: boundSpec(glpk, row.lower, row.upper),
    })),
    bounds: [
      ...model.variables.map((v, j) => {
        const { lower, upper } = effectiveBounds(v);
        return { name: columnName(j), ...boundSpec(glpk, lower, upper) };
      }),
      ...(constant !== 0 ? [{ name: CONSTANT_COLUMN, type: glpk.GLP_FX, lb: 1, ub: 1 }] : []),
    ],
  };
  if (!variant.relax) {
    const generals = model.variables.flatMap((v, j) => (v.type === 'continuous' ? [] : [columnName(j)]));
    if (generals.length > 0) lp.generals = generals;
  }
  return lp;
}

function valuesOf(model: Model, result: GlpkResult): number[] {
  return model.variables.map((_, j) => {
    const x = result.result.vars[columnName(j)];
    if (x === undefined) throw new Error(`glpk.js returned no value for column ${j}`);
    return x;
  });
}

interface Budget {
  readonly options: NormalizedOptions;
  readonly startMs: number;
}

function remainingSeconds(budget: Budget): number {
  return budget.options.timeLimitSeconds - secondsSince(budget.startMs);
}

/** True when a solve that stopped early has used its time limit (GLPK checks the clock in ms). */
function usedTimeLimit(budget: Budget): boolean {
  const limit = budget.options.timeLimitSeconds;
  if (!Number.isFinite(limit)) return false;
  return secondsSince(budget.startMs) >= limit - Math.min(0.05, 0.05 * limit);
}

function run(glpk: GLPK, lp: LP, presolve: boolean, mipGap: number, timeLimitSeconds: number): GlpkResult {
  const options: GlpkOptions = { msglev: glpk.GLP_MSG_OFF, presol: presolve, mipgap: mipGap };
  if (Number.isFinite(timeLimitSeconds)) options.tmlim = Math.max(timeLimitSeconds, 1e-3);
  return glpk.solve(lp, options);
}

/**
 * The row duals of an optimal LP (glpk.js reports them for simplex solves, by row name), in our convention ∂z/∂b_i
 * (MilpSolution.duals): GLPK's row dual already is that derivative for both senses (test/backends/duals.test.ts).
 * Null when glpk.js gave none or not one per row.
 */
function dualsOf(model: Model, result: GlpkResult): number[] | null {
  const dual = result.result.dual;
  if (dual === undefined) return null;
  const duals = model.constraints.map((_, i) => dual[rowName(i)]);
  return duals.every((y) => typeof y === 'number' && Number.isFinite(y)) ? duals : null;
}

function mapLpStatus(glpk: GLPK, model: Model, result: GlpkResult): Outcome | null {
  const status = result.result.status;
  const claim = claimOf(result);
  if (status === glpk.GLP_OPT) {
    return { termination: 'optimal', values: valuesOf(model, result), claim, duals: dualsOf(model, result) };
  }
  if (status === glpk.GLP_NOFEAS) return { termination: 'infeasible', claim };
  if (status === glpk.GLP_UNBND) return { termination: 'unbounded', claim };
  // Simplex stops with a feasible or infeasible basis only at its time (or iteration) limit.
  if (status === glpk.GLP_FEAS) return { termination: 'time_limit', values: valuesOf(model, result), claim };
  if (status === glpk.GLP_INFEAS) return { termination: 'time_limit', claim };
  return null;
}

function solveLp(glpk: GLPK, model: Model, budget: Budget): Outcome {
  const lp = toGlpkLp(glpk, model);
  const first = run(glpk, lp, true, 0, remainingSeconds(budget));
  const mapped = mapLpStatus(glpk, model, first);
  if (mapped !== null) return mapped;
  // Status 1 under presolve: infeasible, unbounded, or out of time. Without presolve the
  // simplex method itself reports which.
  if (remainingSeconds(budget) <= 0) return { termination: 'time_limit' };
  const second = run(glpk, lp, false, 0, remainingSeconds(budget));
  const settled = mapLpStatus(glpk, model, second);
  if (settled !== null) return settled;
  if (usedTimeLimit(budget)) return { termination: 'time_limit' };
  return { termination: 'error', message: `GLPK: LP status ${second.result.status} even without presolve` };
}

/** The LP relaxation optimum (the constant column included): a valid bound, or undefined. */
function relaxationBound(glpk: GLPK, model: Model, seconds: number): number | undefined {
  const relaxed = run(glpk, toGlpkLp(glpk, model, { relax: true }), false, 0, seconds);
  if (relaxed.result.status !== glpk.GLP_OPT) return undefined;
  return relaxed.result.z;
}

/** MIP status 1 when time is not the reason (see the file comment). */
function settleUndefinedMip(glpk: GLPK, model: Model, budget: Budget): Outcome {
  const relaxed = run(glpk, toGlpkLp(glpk, model, { relax: true }), false, 0, remainingSeconds(budget));
  const status = relaxed.result.status;
  if (status === glpk.GLP_NOFEAS) return { termination: 'infeasible' };
  if (status === glpk.GLP_UNBND) {
    const feasibility = run(glpk, toGlpkLp(glpk, model, { zeroObjective: true }), true, 0, remainingSeconds(budget));
    const f = feasibility.result.status;
    if (f === glpk.GLP_OPT || f === glpk.GLP_FEAS) {
      return { termination: 'unbounded', message: 'GLPK: relaxation unbounded and a feasible point exists' };
    }
    if (f === glpk.GLP_NOFEAS) return { termination: 'infeasible' };
  }
  if (usedTimeLimit(budget)) return { termination: 'time_limit' };
  return { termination: 'error', message: `GLPK: MIP status undefined, relaxation status ${status}` };
}

/**
 * GLPK's MIP point with its integer columns fixed and the continuous ones re-solved as an LP
 * (no presolve), when its own point misses a row by more than the check's tolerance — it returned
 * `serve ≤ x` rows over by 1.3e-6 after MIP presolve on 9 of 150 tiny model-caching instances.
 * The LP's vertex meets the rows to the simplex's tolerance; the integers are GLPK's. Null when the
 * point already passes or the LP does not solve to optimality (the guard then reports the point).
 */
function polished(glpk: GLPK, model: Model, values: readonly number[], budget: Budget): number[] | null {
  if (checkMilpSolution(model, values).ok) return null;
  const fixed: Model = {
    ...model,
    variables: model.variables.map((v, j) => {
      if (!isInteger(v)) return v;
      const x = Math.round(values[j]);
      return { ...v, lower: x, upper: x };
    }),
  };
  const seconds = Math.max(remainingSeconds(budget), 1e-3);
  const lp = run(glpk, toGlpkLp(glpk, fixed, { relax: true }), false, 0, seconds);
  return lp.result.status === glpk.GLP_OPT ? valuesOf(model, lp) : null;
}

function solveMip(glpk: GLPK, model: Model, budget: Budget): Outcome {
  const { mipGap } = budget.options;
  const result = run(glpk, toGlpkLp(glpk, model), true, mipGap, budget.options.timeLimitSeconds);
  const status = result.result.status;
  const claim = claimOf(result);
  const pointOf = (): number[] => {
    const raw = valuesOf(model, result);
    return polished(glpk, model, raw, budget) ?? raw;
  };
  if (status === glpk.GLP_OPT) return { termination: 'optimal', values: pointOf(), claim };
  if (status === glpk.GLP_NOFEAS) return { termination: 'infeasible', claim };
  if (status === glpk.GLP_FEAS) {
    const values = pointOf();
    if (!usedTimeLimit(budget)) {
      return { termination: 'optimal', values, claim, message: `GLPK: stopped at relative gap ≤ ${mipGap}` };
    }
    // Time ran out: report the incumbent with the LP relaxation bound (GLPK keeps its own).
    const bound = relaxationBound(glpk, model, Math.max(1, 0.1 * budget.options.timeLimitSeconds));
    return {
      termination: 'time_limit',
      values,
      bound,
      claim,
      message: bound === undefined
        ? 'GLPK: no bound (glpk.js does not report GLPK\'s own, and the LP relaxation was not solved in time)'
        : 'GLPK: the bound and gap are the LP relaxation\'s (glpk.js does not report GLPK\'s own bound), ' +
          'so the gap over-states the true one',
    };
  }
  if (status === glpk.GLP_UNDEF) {
    if (usedTimeLimit(budget)) {
      return { termination: 'time_limit', claim, message: 'GLPK: time limit before any incumbent' };
    }
    return { ...settleUndefinedMip(glpk, model, budget), claim };
  }
  return { termination: 'error', claim, message: `GLPK: MIP status ${status}` };
}

function ignoredOptions(options: NormalizedOptions): string | undefined {
  const ignored: string[] = [];
  if (options.nodeLimit !== undefined) ignored.push('nodeLimit');
  if (options.warmStart !== undefined) ignored.push('warmStart');
  return ignored.length > 0 ? `glpk ignores ${ignored.join(' and ')}` : undefined;
}

function withNote(outcome: Outcome, note: string | undefined): Outcome {
  if (note === undefined) return outcome;
  return { ...outcome, message: outcome.message === undefined ? note : `${outcome.message}; ${note}` };
}

export const glpkBackend: Backend = {
  name: 'glpk',
  capabilities: {
    integers: true,
    freeVariables: true,
    timeLimit: true,
    mipGap: true,
    nodeLimit: false,
    reportsBound: true,
    warmStart: false,
    trustedInfeasibility: true,
    license: 'GPL-3.0',
  },
  solve(model: Model, options?: MilpSolveOptions) {
    return guardedSolve(
      'glpk',
      model,
      options,
      loadGlpkRuntime,
      (glpk, scaled, normalized, startMs) => {
        const budget = { options: normalized, startMs };
        const outcome = hasIntegers(scaled) ? solveMip(glpk, scaled, budget) : solveLp(glpk, scaled, budget);
        return withNote(outcome, ignoredOptions(normalized));
      },
      dropRuntime,
    );
  },
};
