/**
 * javascript-lp-solver 1.0.3 (MIT): a pure-JavaScript simplex with branch-and-cut. Slow on
 * anything large, but dependency-free and handy as an independent third opinion.
 *
 * Traps absorbed here (each has a test in test/backends/traps.test.ts):
 * - Its result object mixes status fields (`feasible`, `result`, `bounded`, `isIntegral`)
 *   with variable values keyed by name, so a variable called `feasible` overwrites the
 *   status. Every name is generated (`v0…`, `r0…`, `b0…`); user names never reach it.
 * - Zero values are left out of the result: absent means 0.
 * - A time-limited MIP can come back `feasible: true` with fractional integers (the last
 *   node's relaxation). `isIntegral !== true` on a MIP therefore means "no solution".
 * - It knows only x ≥ 0 and "unrestricted". Each column is rewritten as x = shift + sign·y
 *   with y ≥ 0 (shift = lower bound, or sign −1 from the upper bound when only that is
 *   finite) or y unrestricted when x is free; a finite width becomes a row y ≤ upper − lower.
 * - An unbounded relaxation of a MIP does not prove the MIP unbounded: the feasibility
 *   problem (objective 0) decides between infeasible and unbounded.
 * - It reports no bound, and a timed-out search that holds an integral incumbent looks just
 *   like a finished one: the clock decides (`time_limit` when the timeout was used up).
 * - No node limit and no warm start: those options are ignored, with a message.
 * - No objective constant, and the relative gap (`tolerance`) is measured against the objective
 *   it knows: the constant (plus what the column shifts above move into it) goes in as a column
 *   `k` held at 1 by an equality row, so the gap is measured against the true objective.
 * - Its simplex uses fixed absolute tolerances; the model arrives scaled (src/milp/scale.ts,
 *   applied by guardedSolve: every row's largest coefficient about 1), which is what kept it
 *   from calling a byte-scaled caching MILP infeasible. Its infeasibility claims are still not
 *   trusted (`trustedInfeasibility: false`): it called the feasible netlib LPs e226 and stair
 *   infeasible.
 */

import { createRequire } from 'node:module';
import { totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Model as JslpModel, SolveResult, SolverAPI } from 'javascript-lp-solver';
import type { Model } from '../milp/model.ts';
import { hasIntegers, isInteger, mergeTerms } from '../milp/model.ts';
import type { MilpSolveOptions } from '../milp/result.ts';
import {
  defaultExport,
  effectiveBounds,
  guardedSolve,
  lazyRuntime,
  secondsSince,
  type NormalizedOptions,
  type Outcome,
} from './support.ts';
import type { Backend } from './types.ts';


async function loadSolver(): Promise<SolverAPI> {
  const namespace: unknown = await import('javascript-lp-solver');
  return defaultExport(
    namespace,
    (c) => typeof c === 'object' && c !== null && typeof (c as { Solve?: unknown }).Solve === 'function',
  ) as SolverAPI;
}

/** The jslp solver object, loaded on first use. */
const jslpRuntime = lazyRuntime(loadSolver);
export const loadJslpSolver = (): Promise<SolverAPI> => jslpRuntime.get();

const variableName = (j: number): string => `v${j}`;
const rowName = (i: number): string => `r${i}`;
const boundRowName = (j: number): string => `b${j}`;
const OBJECTIVE = 'objective';
/** The column held at 1 that carries the objective constant, and its row. */
const CONSTANT_COLUMN = 'k';
const CONSTANT_ROW = 'kr';

/** Column j of the model is shift + sign · y_j, where y_j is jslp's variable. */
export interface Substitution {
  readonly shift: number;
  readonly sign: 1 | -1;
  readonly free: boolean;
  /** Upper bound on y_j, Infinity when none. */
  readonly width: number;
}

function substitution(model: Model, j: number): Substitution {
  // Integer columns get integral bounds, so that an integral y means an integral x.
  const { lower, upper } = effectiveBounds(model.variables[j]);
  if (Number.isFinite(lower)) return { shift: lower, sign: 1, free: false, width: upper - lower };
  if (Number.isFinite(upper)) return { shift: upper, sign: -1, free: false, width: Infinity };
  return { shift: 0, sign: 1, free: true, width: Infinity };
}

export interface JslpTranslation {
  readonly model: JslpModel;
  readonly substitutions: readonly Substitution[];
}

/** The model in jslp's JSON form, with generated names and the column substitution above. */
export function toJslpModel(
  model: Model,
  options: { zeroObjective?: boolean; timeoutMs?: number; tolerance?: number } = {},
): JslpTranslation {
  const substitutions = model.variables.map((_, j) => substitution(model, j));
  const columns: Record<string, number>[] = model.variables.map(() => ({}));
  const constraints: JslpModel['constraints'] = {};
  let constant = 0;
  if (!options.zeroObjective) {
    constant = model.objectiveConstant;
    for (const t of mergeTerms(model.objective)) {
      const s = substitutions[t.variable];
      columns[t.variable][OBJECTIVE] = t.coefficient * s.sign;
      constant += t.coefficient * s.shift;
    }
  }
  model.constraints.forEach((row, i) => {
    const terms = mergeTerms(row.terms);
    // Rows without terms were already checked against 0; free rows constrain nothing.
    if (terms.length === 0 || (row.lower === -Infinity && row.upper === Infinity)) return;
    let offset = 0;
    for (const t of terms) {
      const s = substitutions[t.variable];
      offset += t.coefficient * s.shift;
      columns[t.variable][rowName(i)] = t.coefficient * s.sign;
    }
    const lower = row.lower - offset;
    const upper = row.upper - offset;
    if (row.lower === row.upper) constraints[rowName(i)] = { equal: lower };
    else if (row.lower === -Infinity) constraints[rowName(i)] = { max: upper };
    else if (row.upper === Infinity) constraints[rowName(i)] = { min: lower };
    else constraints[rowName(i)] = { min: lower, max: upper };
  });
  substitutions.forEach((s, j) => {
    if (Number.isFinite(s.width)) {
      constraints[boundRowName(j)] = { max: s.width };
      columns[j][boundRowName(j)] = 1;
    }
  });
  const variables: JslpModel['variables'] = {};
  const ints: Record<string, 1> = {};
  const unrestricted: Record<string, 1> = {};
  model.variables.forEach((v, j) => {
    variables[variableName(j)] = columns[j];
    if (isInteger(v)) ints[variableName(j)] = 1;
    if (substitutions[j].free) unrestricted[variableName(j)] = 1;
  });
  if (constant !== 0) {
    variables[CONSTANT_COLUMN] = { [OBJECTIVE]: constant, [CONSTANT_ROW]: 1 };
    constraints[CONSTANT_ROW] = { equal: 1 };
  }
  const jslpOptions: NonNullable<JslpModel['options']> = {};
  if (options.timeoutMs !== undefined) jslpOptions.timeout = options.timeoutMs;
  if (options.tolerance !== undefined && options.tolerance > 0) jslpOptions.tolerance = options.tolerance;
  return {
    model: {
      name: 'edgeplan',
      optimize: OBJECTIVE,
      opType: model.sense,
      constraints,
      variables,
      ints,
      unrestricted,
      options: jslpOptions,
    },
    substitutions,
  };
}

function isSolveResult(value: unknown): value is SolveResult {
  return typeof value === 'object' && value !== null && typeof (value as { feasible?: unknown }).feasible === 'boolean';
}

/** Column values from jslp's result: absent names are zeros, then the substitution is undone. */
function columnValues(result: SolveResult, substitutions: readonly Substitution[]): number[] {
  return substitutions.map((s, j) => {
    const y = result[variableName(j)];
    const value = typeof y === 'number' ? y : 0;
    return s.shift + s.sign * value;
  });
}

function timeoutMs(seconds: number): number | undefined {
  // jslp treats a timeout of 0 as "none"; a finite limit is at least 1 ms.
  return Number.isFinite(seconds) ? Math.max(1, Math.round(seconds * 1000)) : undefined;
}

// jslp checks its own timeout only between branch-and-bound nodes, so one long simplex (or a
// long node) can overrun the limit without bound. With a finite limit the solve runs in a worker
// thread that is stopped shortly after the limit; the solver is pure JavaScript, so a CommonJS
// snippet that requires it is all the worker needs.
const WORKER_SOURCE = `const { parentPort, workerData } = require('node:worker_threads');
const solver = require(workerData.solverPath);
parentPort.postMessage(solver.Solve(workerData.model));`;
const require = createRequire(import.meta.url);

/** Grace after the time limit before the worker is stopped: enough for jslp to return its own time_limit answer. */
function hardLimitMs(timeoutMs: number): number {
  return timeoutMs + Math.max(500, 0.1 * timeoutMs);
}

function checked(raw: unknown): SolveResult {
  if (!isSolveResult(raw)) throw new Error('javascript-lp-solver returned an unexpected result');
  return raw;
}

/**
 * Resident memory at which a worker's solve is stopped: jslp's tableau lives in typed arrays
 * outside the V8 heap, so a worker heap limit does not hold it, and on a 24-node fleet model it
 * grew by ~270 MB/s until the kernel killed the process (inside `compare`, at 23.7 GB). A quarter
 * of the machine's memory, at least 1 GB.
 */
function jslpMemoryBudgetBytes(): number {
  // EDGEPLAN_JSLP_MEMORY_BYTES overrides it (docs/backends.md), e.g. on a machine shared with other jobs.
  const set = Number(process.env.EDGEPLAN_JSLP_MEMORY_BYTES);
  return Number.isFinite(set) && set > 0 ? set : Math.max(1024 ** 3, totalmem() / 4);
}

/** Columns above which a solve without a time limit also runs in a worker (under the memory guard). */
const INLINE_COLUMNS = 2_000;

async function solveOnce(
  solver: SolverAPI,
  translation: JslpTranslation,
  timeout: number | undefined,
  columns: number,
): Promise<SolveResult | 'stopped' | 'memory'> {
  if (timeout === undefined && columns <= INLINE_COLUMNS) return checked(solver.Solve(translation.model));
  const workerData = { solverPath: require.resolve('javascript-lp-solver'), model: translation.model };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
  const budget = jslpMemoryBudgetBytes();
  const base = process.memoryUsage.rss();
  let timer: NodeJS.Timeout | undefined;
  let watch: NodeJS.Timeout | undefined;
  try {
    return await new Promise<SolveResult | 'stopped' | 'memory'>((resolve, reject) => {
      if (timeout !== undefined) timer = setTimeout(() => resolve('stopped'), hardLimitMs(timeout));
      watch = setInterval(() => {
        if (process.memoryUsage.rss() - base > budget) resolve('memory');
      }, 100);
      worker.once('message', (message: unknown) => {
        try {
          resolve(checked(message));
        } catch (error) {
          reject(error);
        }
      });
      worker.once('error', (error) => reject(error));
    });
  } finally {
    clearTimeout(timer);
    clearInterval(watch);
    await worker.terminate();
  }
}

function memoryStop(): Outcome {
  const gb = (jslpMemoryBudgetBytes() / 1024 ** 3).toFixed(1);
  return { termination: 'memory_limit', message: `jslp: stopped after using more than ${gb} GB of memory` };
}

const STOPPED: Outcome = {
  termination: 'time_limit',
  message: 'jslp: no answer by the time limit; the solver was stopped',
};

function usedTimeout(options: NormalizedOptions, startMs: number): boolean {
  const limit = options.timeLimitSeconds;
  return Number.isFinite(limit) && secondsSince(startMs) >= limit - Math.min(0.005, 0.05 * limit);
}

/** A MIP whose relaxation is unbounded: unbounded as soon as one integral point exists. */
async function settleUnboundedMip(
  solver: SolverAPI,
  model: Model,
  options: NormalizedOptions,
  startMs: number,
): Promise<Outcome> {
  const undecided: Outcome = {
    termination: 'time_limit',
    message: 'jslp: relaxation unbounded; feasibility undecided',
  };
  const left = options.timeLimitSeconds - secondsSince(startMs);
  if (left <= 0) {
    return { termination: 'time_limit', message: 'jslp: relaxation unbounded; no time left to check feasibility' };
  }
  const limit = timeoutMs(left);
  const feasibility = await solveOnce(
    solver,
    toJslpModel(model, { zeroObjective: true, timeoutMs: limit }),
    limit,
    model.variables.length,
  );
  if (feasibility === 'stopped') return undecided;
  if (feasibility === 'memory') return memoryStop();
  if (feasibility.feasible && feasibility.isIntegral === true) return { termination: 'unbounded' };
  if (usedTimeout(options, startMs)) return undecided;
  return { termination: 'infeasible' };
}

/**
 * What a jslp result means (pure, so the traps can be tested on hand-made results).
 * 'settle' asks for the feasibility check of a MIP whose relaxation is unbounded.
 */
export function interpretJslpResult(
  result: SolveResult,
  substitutions: readonly Substitution[],
  mip: boolean,
  timedOut: boolean,
): Outcome | 'settle' {
  if (result.bounded === false) {
    if (mip) return 'settle';
    return result.feasible ? { termination: 'unbounded' } : { termination: 'infeasible' };
  }
  if (!mip) {
    if (result.feasible) return { termination: 'optimal', values: columnValues(result, substitutions) };
    return { termination: 'infeasible' };
  }
  if (result.isIntegral !== true || !result.feasible) {
    // No integral incumbent: a fractional `feasible: true` is the last node, not an answer.
    if (timedOut) return { termination: 'time_limit', message: 'jslp: timeout before an integral solution' };
    return { termination: 'infeasible' };
  }
  const values = columnValues(result, substitutions);
  return timedOut ? { termination: 'time_limit', values } : { termination: 'optimal', values };
}

/** jslp's own words for a result (its flags and objective), kept as the raw claim. */
function claimOf(result: SolveResult): { status: string; objective?: number } {
  const flags = `feasible ${result.feasible}, bounded ${String(result.bounded)}, integral ${String(result.isIntegral)}`;
  const objective = typeof result.result === 'number' && Number.isFinite(result.result) ? result.result : undefined;
  return { status: `jslp: ${flags}`, ...(objective !== undefined ? { objective } : {}) };
}

async function solveModel(
  solver: SolverAPI,
  model: Model,
  options: NormalizedOptions,
  startMs: number,
): Promise<Outcome> {
  const mip = hasIntegers(model);
  const limit = timeoutMs(options.timeLimitSeconds);
  const translation = toJslpModel(model, { timeoutMs: limit, tolerance: mip ? options.mipGap : undefined });
  const result = await solveOnce(solver, translation, limit, model.variables.length);
  if (result === 'stopped') return STOPPED;
  if (result === 'memory') return memoryStop();
  const outcome = interpretJslpResult(result, translation.substitutions, mip, usedTimeout(options, startMs));
  const claim = claimOf(result);
  if (outcome === 'settle') return { ...(await settleUnboundedMip(solver, model, options, startMs)), claim };
  return { ...outcome, claim };
}

function ignoredOptions(options: NormalizedOptions): string | undefined {
  const ignored: string[] = [];
  if (options.nodeLimit !== undefined) ignored.push('nodeLimit');
  if (options.warmStart !== undefined) ignored.push('warmStart');
  return ignored.length > 0 ? `jslp ignores ${ignored.join(' and ')}` : undefined;
}

export const jslpBackend: Backend = {
  name: 'jslp',
  capabilities: {
    integers: true,
    freeVariables: true,
    timeLimit: true,
    mipGap: true,
    nodeLimit: false,
    reportsBound: false,
    warmStart: false,
    trustedInfeasibility: false,
    license: 'MIT',
  },
  solve(model: Model, options?: MilpSolveOptions) {
    return guardedSolve('jslp', model, options, loadJslpSolver, async (solver, scaled, normalized, startMs) => {
      const outcome = await solveModel(solver, scaled, normalized, startMs);
      const note = ignoredOptions(normalized);
      if (note === undefined) return outcome;
      return { ...outcome, message: outcome.message === undefined ? note : `${outcome.message}; ${note}` };
    });
  },
};
