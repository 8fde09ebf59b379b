/**
 * What every backend adapter shares: option normalisation, model validation, trivial
 * infeasibility, scaling (src/milp/scale.ts: every backend solves the scaled model and the guard
 * unscales), turning raw column values into a checked MilpSolution, and the guard that turns any
 * thrown exception into a result (a WASM abort or out-of-memory is `memory_limit`, anything else
 * `error`), keeping the solver's own claim whenever the guard overrules it.
 *
 * Keeping this in one place makes the three adapters behave identically on everything that
 * is not the solver itself, which is what the conformance catalogue relies on.
 */

import { setFlagsFromString } from 'node:v8';
import { checkMilpSolution, describeViolations, DEFAULT_FEASIBILITY_TOLERANCE } from '../milp/check.ts';
import type { Model, Variable } from '../milp/model.ts';
import { hasIntegers, isInteger, objectiveValue } from '../milp/model.ts';
import type { MilpResult, MilpSolution, MilpSolveOptions, Termination } from '../milp/result.ts';
import { DEFAULT_MIP_GAP, relativeGap } from '../milp/result.ts';
import { sameObjective } from '../formulations/tolerance.ts';
import { scaleModel, type ScaledModel } from '../milp/scale.ts';
import type { BackendName } from './types.ts';

/** Options with defaults filled in; `timeLimitSeconds` is Infinity when unlimited. */
export interface NormalizedOptions {
  readonly timeLimitSeconds: number;
  readonly mipGap: number;
  readonly nodeLimit?: number;
  readonly warmStart?: readonly number[];
  readonly onProgress?: MilpSolveOptions['onProgress'];
}

/** What an adapter reports back to the guard; the guard builds the MilpResult. */
export interface Outcome {
  readonly termination: Termination;
  /** Raw column values in column order, when the solver holds a primal solution. */
  readonly values?: ArrayLike<number> | null;
  /** Best proven objective bound (including the objective constant), MIPs only. */
  readonly bound?: number;
  readonly message?: string;
  /**
   * The solver's own status word (e.g. `HiGHS: Optimal`) and objective, in the units of the model
   * the adapter was given; the guard records them as `rawClaim` when it overrules the solver.
   */
  readonly claim?: { readonly status: string; readonly objective?: number };
  /**
   * Row duals of an optimal LP in the scaled model's units, one per row, with the convention of MilpSolution.duals
   * (∂z/∂b_i, whatever the sense); the guard unscales them and derives the reduced costs.
   */
  readonly duals?: ArrayLike<number> | null;
}

/** Returns the normalised options, or a message saying which option is invalid. */
export function normalizeOptions(model: Model, options: MilpSolveOptions = {}): NormalizedOptions | string {
  const timeLimitSeconds = options.timeLimitSeconds ?? Infinity;
  if (!(timeLimitSeconds > 0)) return `timeLimitSeconds must be positive, got ${options.timeLimitSeconds}`;
  const mipGap = options.mipGap ?? DEFAULT_MIP_GAP;
  if (!(mipGap >= 0) || !Number.isFinite(mipGap)) return `mipGap must be a finite number ≥ 0, got ${options.mipGap}`;
  const nodeLimit = options.nodeLimit;
  if (nodeLimit !== undefined && !(Number.isInteger(nodeLimit) && nodeLimit >= 1 && nodeLimit <= 2 ** 31 - 1)) {
    return `nodeLimit must be an integer in 1..2^31-1, got ${nodeLimit}`;
  }
  const warmStart = options.warmStart;
  if (warmStart !== undefined) {
    if (warmStart.length !== model.variables.length) {
      return `warmStart has ${warmStart.length} values, the model has ${model.variables.length} columns`;
    }
    if (!warmStart.every(Number.isFinite)) return 'warmStart values must all be finite';
  }
  return { timeLimitSeconds, mipGap, nodeLimit, warmStart, onProgress: options.onProgress };
}

/** Structural problems that make a model meaningless (not merely infeasible). */
export function invalidModelReason(model: Model): string | null {
  const n = model.variables.length;
  const badTerm = (terms: Model['objective'], where: string): string | null => {
    for (const t of terms) {
      if (!Number.isInteger(t.variable) || t.variable < 0 || t.variable >= n) {
        return `${where} refers to column ${t.variable}, the model has ${n}`;
      }
      if (!Number.isFinite(t.coefficient)) return `${where} has coefficient ${t.coefficient}`;
    }
    return null;
  };
  for (const v of model.variables) {
    if (Number.isNaN(v.lower) || Number.isNaN(v.upper) || v.lower === Infinity || v.upper === -Infinity) {
      return `variable ${JSON.stringify(v.name)} has bounds [${v.lower}, ${v.upper}]`;
    }
  }
  for (const r of model.constraints) {
    if (Number.isNaN(r.lower) || Number.isNaN(r.upper) || r.lower === Infinity || r.upper === -Infinity) {
      return `constraint ${JSON.stringify(r.name)} has bounds [${r.lower}, ${r.upper}]`;
    }
    const t = badTerm(r.terms, `constraint ${JSON.stringify(r.name)}`);
    if (t) return t;
  }
  if (!Number.isFinite(model.objectiveConstant)) return `objective constant is ${model.objectiveConstant}`;
  return badTerm(model.objective, 'objective');
}

/** A column's bounds, rounded inward to integers for integer columns (1e-9 slack for noise). */
export function effectiveBounds(v: Variable): { lower: number; upper: number } {
  if (!isInteger(v)) return { lower: v.lower, upper: v.upper };
  return { lower: Math.ceil(v.lower - 1e-9), upper: Math.floor(v.upper + 1e-9) };
}

/**
 * Infeasibility visible without a solver: crossed bounds (after rounding for integers),
 * crossed row bounds, and rows without terms whose range excludes 0. Backends disagree on
 * how they report such models (some reject them as invalid), so they never reach a solver.
 */
export function trivialInfeasibility(model: Model): string | null {
  for (const v of model.variables) {
    const { lower, upper } = effectiveBounds(v);
    if (lower > upper) return `variable ${JSON.stringify(v.name)} has an empty domain [${v.lower}, ${v.upper}]`;
  }
  for (const r of model.constraints) {
    if (r.lower > r.upper) return `constraint ${JSON.stringify(r.name)} has crossed bounds [${r.lower}, ${r.upper}]`;
    if (r.terms.length === 0 && (r.lower > 0 || r.upper < 0)) {
      return `constraint ${JSON.stringify(r.name)} has no terms and excludes 0`;
    }
  }
  return null;
}

/** Distance within which an integer column is snapped to its integer. */
const INTEGER_SNAP = 1e-5;

/** Integer columns snapped to integers and every column clamped into its bounds when just outside. */
function cleaned(model: Model, raw: ArrayLike<number>): number[] {
  const values: number[] = [];
  for (let j = 0; j < model.variables.length; j++) {
    const v = model.variables[j];
    let x = raw[j];
    if (isInteger(v)) {
      const r = Math.round(x);
      if (Math.abs(x - r) <= INTEGER_SNAP) x = r;
    }
    if (x < v.lower && v.lower - x <= DEFAULT_FEASIBILITY_TOLERANCE * Math.max(1, Math.abs(v.lower))) x = v.lower;
    if (x > v.upper && x - v.upper <= DEFAULT_FEASIBILITY_TOLERANCE * Math.max(1, Math.abs(v.upper))) x = v.upper;
    values.push(x === 0 ? 0 : x); // also turns -0 into 0
  }
  return values;
}

/**
 * Builds the checked solution from a solver's raw values (in the original model's columns). The
 * snapped vector is preferred (decoders get clean integers); if snapping pushes a big-M row out of
 * tolerance, the raw vector is returned instead. A candidate must pass `checkMilpSolution` on the
 * original model and, when `scaled` is given, on the scaled model the solver actually solved
 * (where a row in µJ or µs is no longer "within 1e-6" of anything). If none passes, the solver
 * returned a wrong answer and the caller reports an error.
 */
export function buildSolution(
  model: Model,
  raw: ArrayLike<number>,
  bound?: number,
  scaled?: ScaledModel,
): { solution: MilpSolution } | { error: string } {
  if (raw.length !== model.variables.length) {
    return { error: `solver returned ${raw.length} values for ${model.variables.length} columns` };
  }
  const plain = Array.from(raw, (x) => (x === 0 ? 0 : x));
  let firstFailure: string | null = null;
  let values: number[] | null = null;
  for (const candidate of [cleaned(model, raw), plain]) {
    const check = checkMilpSolution(model, candidate);
    const scaledCheck =
      check.ok && scaled !== undefined ? checkMilpSolution(scaled.model, scaled.scaleValues(candidate)) : check;
    if (check.ok && scaledCheck.ok) {
      values = candidate;
      break;
    }
    firstFailure ??= check.ok
      ? `on the scaled model: ${describeViolations(scaledCheck)}`
      : describeViolations(check);
  }
  if (values === null) return { error: `solver returned an infeasible point: ${firstFailure}` };
  const objective = objectiveValue(model, values);
  if (bound === undefined || !hasIntegers(model) || !Number.isFinite(bound)) return { solution: { values, objective } };
  return { solution: { values, objective, bound, gap: relativeGap(objective, bound) } };
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Whether an exception from inside a solver runtime means it ran out of memory or aborted: a
 * WebAssembly trap or Emscripten `Aborted(…)` (an allocation failure at the 2 GiB cap ends this
 * way), or V8's own allocation failures. Reported as `memory_limit`, the backend named.
 */
export function isMemoryFailure(error: unknown): boolean {
  if (typeof WebAssembly !== 'undefined' && error instanceof WebAssembly.RuntimeError) return true;
  const text = errorMessage(error);
  return /Aborted\(|out of memory|\bOOM\b|allocation failed|Cannot enlarge memory/i.test(text);
}

/** Seconds elapsed since `startMs` (a `performance.now()` reading). */
export function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}

/**
 * Runs one backend solve so that it never throws and always returns a consistent MilpResult:
 * options and model are validated first (`invalid_model` when not), trivial infeasibility is
 * answered without a solver, `load` brings the solver runtime in (not timed: it is a one-off cost),
 * the model is scaled (src/milp/scale.ts) and `run` solves the scaled model with a scaled warm
 * start; whatever it returns is unscaled and checked on the original model. An exception from
 * `load` or `run` becomes `memory_limit` (an abort or out-of-memory) or `error`.
 */
export async function guardedSolve<Runtime>(
  backend: BackendName,
  model: Model,
  options: MilpSolveOptions | undefined,
  load: () => Promise<Runtime>,
  run: (
    runtime: Runtime,
    scaledModel: Model,
    options: NormalizedOptions,
    startMs: number,
  ) => Outcome | Promise<Outcome>,
  onFailure?: (error: unknown) => void,
): Promise<MilpResult> {
  let startMs = performance.now();
  const stop = (termination: Termination, message: string): MilpResult => ({
    backend,
    termination,
    solution: null,
    message,
    timeSeconds: secondsSince(startMs),
  });
  try {
    const normalized = normalizeOptions(model, options);
    if (typeof normalized === 'string') return stop('invalid_model', `${backend}: invalid options: ${normalized}`);
    const invalid = invalidModelReason(model);
    if (invalid !== null) return stop('invalid_model', `${backend}: invalid model: ${invalid}`);
    const trivial = trivialInfeasibility(model);
    if (trivial !== null) return stop('infeasible', trivial);
    if (model.variables.length === 0) {
      // Nothing to decide (rows were checked above); HiGHS throws on a 0-column model.
      return finish(backend, model, null, { termination: 'optimal', values: [] }, secondsSince(startMs));
    }
    const runtime = await load();
    startMs = performance.now();
    const scaled = scaleModel(model);
    const report = normalized.onProgress;
    const scaledOptions: NormalizedOptions = {
      ...normalized,
      ...(normalized.warmStart !== undefined ? { warmStart: scaled.scaleValues(normalized.warmStart) } : {}),
      // Progress leaves the adapter in the scaled model's units; the caller reads the original's.
      ...(report !== undefined
        ? {
            onProgress: (p) =>
              report({
                ...p,
                ...(p.incumbent !== undefined ? { incumbent: scaled.unscaleObjective(p.incumbent) } : {}),
                ...(p.bound !== undefined ? { bound: scaled.unscaleObjective(p.bound) } : {}),
              }),
          }
        : {}),
    };
    const outcome = await run(runtime, scaled.model, scaledOptions, startMs);
    return finish(backend, model, scaled, outcome, secondsSince(startMs));
  } catch (error) {
    onFailure?.(error);
    if (isMemoryFailure(error)) {
      const what = `${backend}: the solver runtime aborted (out of memory or a WASM trap)`;
      return stop('memory_limit', `${what}: ${errorMessage(error)}`);
    }
    return stop('error', `${backend}: ${errorMessage(error)}`);
  }
}

/**
 * The point with every variable at its bound nearest zero, when it is feasible. An infeasibility
 * claim contradicted by it is a solver fault (javascript-lp-solver made one on badly scaled rows),
 * and checking it costs one pass over the rows.
 */
export function obviousPoint(model: Model): number[] | null {
  const point = model.variables.map((v) => {
    const { lower, upper } = effectiveBounds(v);
    return lower > 0 ? lower : upper < 0 ? upper : 0;
  });
  return checkMilpSolution(model, point).ok ? point : null;
}

/** The solver's claim in the original model's units (its objective unscaled). */
function rawClaimOf(
  outcome: Outcome,
  scaled: ScaledModel | null,
): { readonly status: string; readonly objective?: number } {
  const status = outcome.claim?.status ?? outcome.termination;
  const objective = outcome.claim?.objective;
  if (objective === undefined || !Number.isFinite(objective)) return { status };
  return { status, objective: scaled === null ? objective : scaled.unscaleObjective(objective) };
}

/**
 * Whether a bound lies on the wrong side of the objective (min: above it; max: below) beyond the
 * one objective tolerance of src/formulations/tolerance.ts (`sameObjective`: 1e-6 relative, with
 * its floor, so a bound of 2.2e-16 beside an objective of exactly 0 is rounding noise) — the same
 * rule the chain's certify applies.
 */
export function boundOnWrongSide(sense: Model['sense'], objective: number, bound: number): boolean {
  if (sameObjective(objective, bound)) return false;
  return sense === 'min' ? bound > objective : bound < objective;
}

/**
 * Enforces the status model on an outcome for the scaled model (`scaled` null: the model was
 * not scaled): which terminations carry a solution, that it is feasible on the original model,
 * that a bound lies on the right side of the objective; and keeps the solver's raw claim
 * whenever the verdict differs from it.
 */
function finish(
  backend: BackendName,
  model: Model,
  scaled: ScaledModel | null,
  outcome: Outcome,
  timeSeconds: number,
): MilpResult {
  const base = { backend, timeSeconds, ...(outcome.message !== undefined ? { message: outcome.message } : {}) };
  const { termination } = outcome;
  const overruled = (message: string): MilpResult => ({
    ...base,
    termination: 'error',
    solution: null,
    message,
    rawClaim: rawClaimOf(outcome, scaled),
  });
  if (termination === 'infeasible') {
    const witness = obviousPoint(model);
    if (witness !== null) {
      return overruled(
        `${backend} claimed infeasible, but the point with every variable at its bound nearest zero ` +
          'satisfies every row',
      );
    }
  }
  if (outcome.values === undefined || outcome.values === null || NO_SOLUTION.has(termination)) {
    if (termination === 'optimal') return overruled(`${backend} reported optimal without a solution`);
    return { ...base, termination, solution: null };
  }
  const values = scaled === null ? Array.from(outcome.values) : scaled.unscaleValues(outcome.values);
  const bound = outcome.bound === undefined || scaled === null ? outcome.bound : scaled.unscaleObjective(outcome.bound);
  const built = buildSolution(model, values, bound, scaled ?? undefined);
  if ('error' in built) return overruled(`${backend}: ${built.error}`);
  const solution = built.solution;
  if (solution.bound !== undefined && boundOnWrongSide(model.sense, solution.objective, solution.bound)) {
    const side = model.sense === 'min' ? 'above' : 'below';
    const note =
      `${backend}'s bound ${solution.bound} lies ${side} the objective ${solution.objective} ` +
      '(impossible for a valid bound) and was dropped';
    const { bound: _dropped, gap: _gap, ...kept } = solution;
    return {
      ...base,
      termination,
      solution: kept,
      message: base.message === undefined ? note : `${base.message}; ${note}`,
      rawClaim: rawClaimOf(outcome, scaled),
    };
  }
  return { ...base, termination, solution: withDuals(model, scaled, outcome, solution) };
}

/**
 * The solution with the LP's row duals (unscaled) and reduced costs, when the model has no integer column, the
 * outcome is optimal and the adapter passed duals. Scaled row i is r_i times row i and the scaled objective σ times
 * the objective, so ∂z/∂b_i = (∂z'/∂b'_i) · r_i / σ. Reduced costs are computed here from those duals on the
 * original model (d = f − Aᵀy), so that every backend's are the same function of its duals.
 */
function withDuals(model: Model, scaled: ScaledModel | null, outcome: Outcome, solution: MilpSolution): MilpSolution {
  const raw = outcome.duals;
  if (raw === undefined || raw === null || outcome.termination !== 'optimal' || hasIntegers(model)) return solution;
  if (raw.length !== model.constraints.length || !Array.from(raw).every(Number.isFinite)) return solution;
  const duals = Array.from(raw, (y, i) => {
    const value = scaled === null ? y : (y * scaled.rowScale[i]) / scaled.objectiveScale;
    return value === 0 ? 0 : value; // no -0 in the output
  });
  const reducedCosts = model.variables.map(() => 0);
  // Σ of the magnitudes summed into each d_j: a d_j within rounding of them (1e-12 relative) is a basic column's 0.
  const magnitude = model.variables.map(() => 0);
  for (const t of model.objective) {
    reducedCosts[t.variable] += t.coefficient;
    magnitude[t.variable] += Math.abs(t.coefficient);
  }
  model.constraints.forEach((row, i) => {
    if (duals[i] === 0) return;
    for (const t of row.terms) {
      reducedCosts[t.variable] -= duals[i] * t.coefficient;
      magnitude[t.variable] += Math.abs(duals[i] * t.coefficient);
    }
  });
  const cleaned = reducedCosts.map((d, j) => (Math.abs(d) <= 1e-12 * magnitude[j] ? 0 : d));
  return { ...solution, duals, reducedCosts: cleaned };
}

/** Terminations that never carry a point, whatever values an adapter passes along. */
const NO_SOLUTION: ReadonlySet<Termination> = new Set<Termination>([
  'error',
  'infeasible',
  'unbounded',
  'infeasible_or_unbounded',
  'invalid_model',
  'memory_limit',
]);

/** V8's default budget (≈ bytes of wasm executed) before a function is recompiled by TurboFan (Node 20, V8 11.3). */
const DEFAULT_WASM_TIERING_BUDGET = 1_800_000;
let tieringSet = false;

/**
 * Raises V8's wasm tier-up budget tenfold before a solver's WebAssembly is compiled (HiGHS, GLPK). With the default,
 * a first small solve sends hundreds of HiGHS functions to TurboFan, and the process then spends about 0.5 s of CPU
 * (2 s of wall time on a loaded 2-core machine) compiling them, mostly after the answer is printed: measured on the
 * 12-item knapsack, 0.99 s → 0.50 s of CPU for the whole `edgeplan solve`. Functions that stay hot still tier up,
 * a few milliseconds later: solves of 10–15 s were not slower (docs/cli.md, "Start-up"). A budget given on the
 * command line (`node --wasm-tiering-budget=…`) is left alone; so is any V8 that does not know the flag.
 */
export function raiseWasmTieringBudget(): void {
  if (tieringSet) return;
  tieringSet = true;
  if (process.execArgv.some((a) => a.startsWith('--wasm-tiering-budget'))) return;
  try {
    setFlagsFromString(`--wasm-tiering-budget=${10 * DEFAULT_WASM_TIERING_BUDGET}`);
  } catch {
    // An engine without the flag: nothing to tune.
  }
}

/**
 * A solver runtime loaded once, on first use, and shared. A failed load is not cached (the next
 * solve tries again), and `drop` forgets a runtime whose state is unknown after an exception
 * inside it (a WASM abort poisons it for good).
 */
export function lazyRuntime<T>(load: () => Promise<T>): { get(): Promise<T>; drop(): void } {
  let runtime: Promise<T> | null = null;
  return {
    get() {
      if (runtime === null) {
        const loading = load();
        runtime = loading;
        loading.catch(() => {
          if (runtime === loading) runtime = null;
        });
      }
      return runtime;
    },
    drop() {
      runtime = null;
    },
  };
}

/**
 * The default export of a CommonJS-typed package, whichever way the runtime hands it over.
 * highs and javascript-lp-solver publish ESM builds but CommonJS type declarations, so
 * TypeScript sees `namespace.default.default` where Node gives `namespace.default`.
 */
export function defaultExport(namespace: unknown, isTarget: (candidate: unknown) => boolean): unknown {
  let candidate: unknown = namespace;
  for (let depth = 0; depth < 3; depth++) {
    if (isTarget(candidate)) return candidate;
    if (candidate === null || (typeof candidate !== 'object' && typeof candidate !== 'function')) break;
    candidate = (candidate as { default?: unknown }).default;
  }
  throw new Error('module does not have the expected default export');
}
