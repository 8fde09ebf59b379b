/**
 * HiGHS (MIT, https://highs.dev) through the `highs` npm package's WebAssembly build.
 *
 * The model goes in as numeric arrays through the persistent model API, never as LP text:
 * the LP reader misreads names starting with `inf`/`nan`, reads `a-b` as a subtraction and
 * stops at keywords, and none of that can happen with arrays and no names at all.
 *
 * Choices worth knowing:
 * - `mip_rel_gap` is always set (HiGHS's own default is 1e-4, ours 1e-6) and `mip_abs_gap`
 *   is 0, so "optimal" means what `mipGap` says even for objectives below 1 in size.
 * - "infeasible or unbounded" (HiGHS returns it for MIPs with an unbounded relaxation and
 *   after presolve) is settled by re-solving the feasibility problem (objective 0) in the
 *   remaining time: infeasible stays infeasible; feasible means unbounded (for rational
 *   data, a feasible MILP whose relaxation is unbounded is itself unbounded). When that cannot
 *   be settled (no time left, or the feasibility solve fails) the answer stays
 *   `infeasible_or_unbounded`.
 * - HiGHS's model/load errors are `invalid_model`; presolve, solve and postsolve errors are
 *   the solver's own numerical trouble, `numerical_error`.
 * - An iteration limit (never set by us, HiGHS's defaults are huge) maps to `time_limit`:
 *   both are "stopped by a work budget", and the status model has no separate value.
 * - The WASM runtime is loaded once, lazily, and reused. A WASM abort or out-of-memory at the
 *   2 GiB cap is a `memory_limit` result (any other exception `error`), and the runtime is
 *   dropped so that the next solve starts from a fresh instance.
 * - The model arrives scaled (src/milp/scale.ts, applied by guardedSolve); this file never
 *   sees the family's units.
 */

import type {
  Highs,
  HighsCallbackMap,
  Model as HighsModel,
  ModelData,
  RunResult,
  VariableType as HighsVariableType,
} from 'highs';
import type { Model } from '../milp/model.ts';
import { hasIntegers, isInteger, mergeTerms } from '../milp/model.ts';
import type { MilpSolveOptions } from '../milp/result.ts';
import {
  defaultExport,
  guardedSolve,
  lazyRuntime,
  raiseWasmTieringBudget,
  secondsSince,
  type NormalizedOptions,
  type Outcome,
} from './support.ts';
import type { Backend } from './types.ts';

/** Produces a ready HiGHS runtime; replaceable only through `setHighsLoaderForTesting`. */
export type HighsLoader = () => Promise<Highs>;

async function loadPackagedHighs(): Promise<Highs> {
  raiseWasmTieringBudget();
  const namespace: unknown = await import('highs');
  const loader = defaultExport(namespace, (c) => typeof c === 'function') as () => Promise<Highs>;
  return loader();
}

let loader: HighsLoader = loadPackagedHighs;
const highsRuntime = lazyRuntime(() => loader());

/** The shared HiGHS runtime, loaded on first use. */
export const loadHighsRuntime = (): Promise<Highs> => highsRuntime.get();
/** After any exception inside the runtime its state is unknown (an abort poisons it for good). */
const dropRuntime = (): void => highsRuntime.drop();

/**
 * Test seam: replace the runtime loader (e.g. with one whose runtime aborts) and forget the
 * cached runtime. Pass `null` to restore the packaged loader.
 */
export function setHighsLoaderForTesting(replacement: HighsLoader | null): void {
  loader = replacement ?? loadPackagedHighs;
  highsRuntime.drop();
}

/** The model as HiGHS arrays (rows in CSR form), optionally with the objective zeroed. */
export function toHighsModelData(highs: Highs, model: Model, zeroObjective = false): ModelData {
  const numCols = model.variables.length;
  const numRows = model.constraints.length;
  const colCost = new Float64Array(numCols);
  if (!zeroObjective) for (const t of mergeTerms(model.objective)) colCost[t.variable] = t.coefficient;
  const starts = new Int32Array(numRows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  model.constraints.forEach((row, i) => {
    // mergeTerms: HiGHS rejects a row that repeats a column; a hand-built Model may.
    for (const t of mergeTerms(row.terms)) {
      indices.push(t.variable);
      values.push(t.coefficient);
    }
    starts[i + 1] = indices.length;
  });
  const { variableType, objectiveSense } = highs.constants;
  const integrality: HighsVariableType[] = model.variables.map((v) =>
    isInteger(v) ? variableType.integer : variableType.continuous,
  );
  return {
    numCols,
    numRows,
    sense: model.sense === 'max' ? objectiveSense.maximize : objectiveSense.minimize,
    offset: zeroObjective ? 0 : model.objectiveConstant,
    colCost,
    colLower: Float64Array.from(model.variables, (v) => v.lower),
    colUpper: Float64Array.from(model.variables, (v) => v.upper),
    rowLower: Float64Array.from(model.constraints, (r) => r.lower),
    rowUpper: Float64Array.from(model.constraints, (r) => r.upper),
    matrix: {
      format: 'csr',
      numRows,
      numCols,
      starts,
      indices: Int32Array.from(indices),
      values: Float64Array.from(values),
    },
    ...(hasIntegers(model) ? { integrality } : {}),
  };
}

function configure(hm: HighsModel, options: NormalizedOptions, timeLimitSeconds: number): void {
  hm.options.set({
    output_flag: false,
    log_to_console: false,
    mip_rel_gap: options.mipGap,
    mip_abs_gap: 0,
  });
  if (Number.isFinite(timeLimitSeconds)) hm.options.set('time_limit', Math.max(timeLimitSeconds, 1e-3));
  if (options.nodeLimit !== undefined) hm.options.set('mip_max_nodes', options.nodeLimit);
}

/**
 * HiGHS's own progress, passed on while it runs (the run is synchronous, so nothing else could
 * observe it): incumbent, dual bound, gap and nodes from its MIP checkpoint callback, the simplex
 * iteration count for LPs. Observation only — nothing here interrupts or steers the solve.
 */
function progressCallbacks(highs: Highs, options: NormalizedOptions): HighsCallbackMap | undefined {
  const report = options.onProgress;
  if (report === undefined) return undefined;
  const finite = (v: number | undefined): number | undefined => (v !== undefined && Number.isFinite(v) ? v : undefined);
  const { callbackType } = highs.constants;
  return {
    // mipInterrupt, not mipLogging: HiGHS calls the logging channel only when it prints its log
    // (output_flag, which we keep off); the interrupt checkpoint fires either way. We never interrupt.
    [callbackType.mipInterrupt]: (event) => {
      const d = event.data;
      const incumbent = finite(d.mip_primal_bound);
      const bound = finite(d.mip_dual_bound);
      const gap = finite(d.mip_gap);
      report({
        ...(incumbent !== undefined ? { incumbent } : {}),
        ...(bound !== undefined ? { bound } : {}),
        ...(gap !== undefined ? { gap } : {}),
        ...(d.mip_node_count !== undefined ? { nodes: Number(d.mip_node_count) } : {}),
      });
      return undefined;
    },
    [callbackType.simplexInterrupt]: (event) => {
      const iterations = event.data.simplex_iteration_count;
      if (iterations !== undefined) report({ iterations });
      return undefined;
    },
  };
}

/** HiGHS's name for a model status code (its own word, kept as the raw claim). */
function statusName(highs: Highs, code: number): string {
  const entry = Object.entries(highs.constants.modelStatus).find(([, value]) => value === code);
  return `HiGHS: ${entry === undefined ? `model status ${code}` : entry[0]}`;
}

function hasPrimal(highs: Highs, hm: HighsModel): boolean {
  return hm.info.get('primal_solution_status') === highs.constants.solutionStatus.feasible;
}

/** Decides "infeasible or unbounded" by solving the feasibility problem in the time left. */
function settleInfeasibleOrUnbounded(
  highs: Highs,
  model: Model,
  options: NormalizedOptions,
  startMs: number,
): Outcome {
  const remaining = options.timeLimitSeconds - secondsSince(startMs);
  if (remaining <= 0) {
    return {
      termination: 'infeasible_or_unbounded',
      message: 'HiGHS: infeasible or unbounded; no time left to decide which',
    };
  }
  return highs.withModel(toHighsModelData(highs, model, true), (hm): Outcome => {
    configure(hm, options, remaining);
    const status = hm.run().modelStatus;
    const codes = highs.constants.modelStatus;
    if (status === codes.optimal) {
      return {
        termination: 'unbounded',
        message: 'HiGHS: infeasible or unbounded; a feasible point exists, so unbounded',
      };
    }
    if (status === codes.infeasible) return { termination: 'infeasible' };
    if (status === codes.timeLimit) {
      return {
        termination: 'infeasible_or_unbounded',
        message: 'HiGHS: infeasible or unbounded; time ran out deciding which',
      };
    }
    return {
      termination: 'infeasible_or_unbounded',
      message: `HiGHS: infeasible or unbounded; the feasibility solve ended with ${statusName(highs, status)}`,
    };
  });
}

/**
 * The row duals of an optimal LP when HiGHS holds a feasible dual solution, in our convention ∂z/∂b_i (see
 * MilpSolution.duals). HiGHS's rowDual already is that derivative for both senses (checked by finite differences in
 * test/backends/duals.test.ts).
 */
function lpDuals(highs: Highs, hm: HighsModel, solution: { readonly rowDual: Float64Array } | null): number[] | null {
  if (solution === null) return null;
  if (hm.info.get('dual_solution_status') !== highs.constants.solutionStatus.feasible) return null;
  return Array.from(solution.rowDual);
}

function solveOnce(highs: Highs, model: Model, options: NormalizedOptions, startMs: number): Outcome {
  const mip = hasIntegers(model);
  const codes = highs.constants.modelStatus;
  const outcome = highs.withModel(toHighsModelData(highs, model), (hm): Outcome | 'settle' => {
    configure(hm, options, options.timeLimitSeconds);
    if (options.warmStart !== undefined && mip) hm.setSolution({ colValue: options.warmStart });
    const run: RunResult = hm.run(progressCallbacks(highs, options));
    const status = run.modelStatus;
    const solution = hasPrimal(highs, hm) ? hm.getSolution() : null;
    const values = solution?.colValue ?? null;
    const bound = mip && values !== null ? Number(hm.info.get('mip_dual_bound')) : undefined;
    const objective = values !== null ? Number(hm.info.get('objective_function_value')) : undefined;
    const claim = { status: statusName(highs, status), ...(objective !== undefined ? { objective } : {}) };
    switch (status) {
      case codes.optimal:
        return { termination: 'optimal', values, bound, claim, duals: mip ? null : lpDuals(highs, hm, solution) };
      case codes.infeasible:
        return { termination: 'infeasible', claim };
      case codes.unbounded:
        // For a MIP this only says the relaxation has a ray; feasibility decides.
        return mip ? 'settle' : { termination: 'unbounded', claim };
      case codes.unboundedOrInfeasible:
        return 'settle';
      case codes.timeLimit:
        return { termination: 'time_limit', values, bound, claim };
      case codes.iterationLimit:
        return { termination: 'time_limit', values, bound, claim, message: 'HiGHS: iteration limit reached' };
      case codes.solutionLimit:
        // We set no solution or leaf limit, so this is mip_max_nodes.
        return { termination: 'node_limit', values, bound, claim };
      case codes.loadError:
      case codes.modelError:
        return { termination: 'invalid_model', claim, message: `${claim.status}: HiGHS refused the model` };
      case codes.presolveError:
      case codes.solveError:
      case codes.postsolveError:
        return { termination: 'numerical_error', claim, message: `${claim.status}: HiGHS reported numerical trouble` };
      default:
        return { termination: 'error', claim, message: claim.status };
    }
  });
  return outcome === 'settle' ? settleInfeasibleOrUnbounded(highs, model, options, startMs) : outcome;
}

export const highsBackend: Backend = {
  name: 'highs',
  capabilities: {
    integers: true,
    freeVariables: true,
    timeLimit: true,
    mipGap: true,
    nodeLimit: true,
    reportsBound: true,
    warmStart: true,
    trustedInfeasibility: true,
    license: 'MIT',
  },
  solve(model: Model, options?: MilpSolveOptions) {
    return guardedSolve('highs', model, options, loadHighsRuntime, (highs, scaled, normalized, startMs) =>
      solveOnce(highs, scaled, normalized, startMs), dropRuntime);
  },
};
