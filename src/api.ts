/**
 * edgeplan's public library entry. Everything the CLI does goes through here; the work lives in
 * src/solve/, one file per topic:
 *
 *   parseProblem(raw)            JSON value → ParsedProblem (InputError naming the JSON path on bad input)   problem.ts
 *   solve(problem, options)      the one chain: warm start → compile → solve → certify, with fallback       chain.ts
 *   SolveSession                 the chain's steps one at a time (compare, bench and tests use it)          chain.ts
 *   certify(...)                 a method's claim → our verdict (evaluate, objective, bound side, gap)       certify.ts
 *   evaluate / check             the family's independent re-check of one decision                          check.ts
 *   compare(problem, options)    every backend, the exact method and every peer, contradictions flagged     compare.ts
 *   sweep(problem, path, values) re-solve with one numeric field set to each value                          sweep.ts
 *   schema(kind?)                JSON Schema of a kind's input                                               schema.ts
 *   replayCaching(problem, …)    online cache policies and the optimum replayed on a request trace           replay.ts
 *
 * No solver's word is taken on trust: a decision that fails the family's `evaluate`, or whose
 * objective is worse than evaluate's, is that method's error and never returned; "optimal" is
 * printed only when our own gap from evaluate's objective and a valid bound is within mipGap.
 */
export type {
  AnyFormulation,
  Baseline,
  CompileHints,
  Compiled,
  Evaluation,
  ExactContext,
  ExactResult,
  Formulation,
  InputWarning,
  SolveMilp,
  Violation,
} from './formulations/types.ts';
export type { Constraint, Model, Sense, Term, Variable, VariableType } from './milp/model.ts';
export type { MilpResult, MilpSolution, MilpSolveOptions, Termination } from './milp/result.ts';
export type { Backend, BackendCapabilities, BackendName } from './backends/types.ts';
export { BACKEND_NAMES } from './backends/types.ts';
export { TERMINATIONS, DEFAULT_MIP_GAP } from './milp/result.ts';
export { FEASIBILITY_RTOL, OBJECTIVE_RTOL } from './formulations/tolerance.ts';
export { ModelBuilder } from './milp/model.ts';
export * from './api-kinds.ts';
export { readProblem } from './api-core.ts';

export { ParsedProblem, parseProblem, parseWith } from './solve/problem.ts';
export { BACKEND_CHOICES, backendOrder, normalizeOptions } from './solve/options.ts';
export type { BackendChoice, ChainHooks, ChainStep, Method, SolveOptions } from './solve/options.ts';
export type {
  Attempt,
  Claim,
  ObjectiveBounds,
  PrimalStatus,
  SolutionReport,
  SolveReport,
  StepTimes,
  WarmStartReport,
} from './solve/report.ts';
export { certify, boundOnCorrectSide, strictlyBetter } from './solve/certify.ts';
export type { Certified, RawOutcome } from './solve/certify.ts';
export { SolveSession, plan, solve, WARM_START_SHARE } from './solve/chain.ts';
export type { PeerOutcome } from './solve/chain.ts';
export { check, evaluate, parseDecision } from './solve/check.ts';
export type { CheckReport } from './solve/check.ts';
export { compare, findContradictions } from './solve/compare.ts';
export type { CompareOptions, CompareReport, CompareRow } from './solve/compare.ts';
export { parseFieldPath, sweep, sweepValues, withField } from './solve/sweep.ts';
export type { SweepReport, SweepRow } from './solve/sweep.ts';
export { schema } from './solve/schema.ts';
export { replayCaching, REPLAY_POLICIES } from './solve/replay.ts';
export type { ReplayOptions, ReplayPolicyName, ReplayReport } from './solve/replay.ts';
export type { ReplayResult } from './formulations/model-caching/replay.ts';
export * from './solve/tools.ts';
export { importHelix, importHelixLp, isLpInput } from './formulations/fleet-serving/import.ts';
export * from './batch/index.ts';
export * from './milp/model-file.ts';
export { EVERY_ELEMENT, MAX_SWEEP_POINTS, sweepGrid, sweepPathText } from './solve/sweep.ts';
export type { SweepAxis, SweepOptions, SweepPeerResult } from './solve/sweep.ts';
export * from './viz/index.ts';
export * from './export/index.ts';
export * from './catalog/memory-estimate.ts';
export { expandHuggingFace, hfParameterCount, modelFromHfConfig, HF_MODEL_TYPES } from './catalog/hf.ts';
export { vllmBenchDoc, type VllmRunSettings } from './cost/vllm-bench.ts';
export { measurementsOf, readMeasurementFile, type MeasurementFile } from './cost/calibrate.ts';

// Families load lazily (src/formulations/registry.ts); the library entry resolves only once every one is loaded, so
// that parseProblem, getFormulation and schema stay synchronous for library users. The CLI's fast commands import
// src/api-core.ts instead and load only the kind their problem names.
import { loadFormulations } from './formulations/registry.ts';

await loadFormulations();
