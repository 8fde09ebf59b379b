/**
 * The light half of edgeplan's public API, for fast start (issue 18): parse, solve, check, compare, sweep, schema,
 * model files and the kind registry, without the pictures (vega), the batch pool (piscina), the bench, the catalog
 * tools or any problem family loaded up front. Everything here is also exported, unchanged, by src/api.ts (the
 * package entry; test/api/registry.test.ts checks it).
 *
 * The difference that matters: importing this module loads no family. Call `loadKindOf(raw)` (or
 * `loadFormulation(kind)`) before `parseProblem(raw)`, or use `readProblem(raw)`, which does both. src/api.ts loads
 * every family before it resolves, so there the synchronous calls work at once.
 *
 * The CLI's commands import from here, and from src/api.ts only when they need more (then they pay for it): a
 * `dynamic import('../api.ts')` for pictures, a static one for commands whose speed does not matter.
 */
import { loadKindOf } from './formulations/registry.ts';
import { parseProblem, type ParsedProblem } from './solve/problem.ts';

export type { AnyFormulation, Formulation, InputWarning } from './formulations/types.ts';
export type { BackendName } from './backends/types.ts';
export { BACKEND_NAMES } from './backends/types.ts';
export * from './api-kinds.ts';
export { ParsedProblem, parseProblem, parseWith } from './solve/problem.ts';
export { BACKEND_CHOICES, backendOrder, normalizeOptions } from './solve/options.ts';
export type { BackendChoice, ChainHooks, Method, SolveOptions } from './solve/options.ts';
export type { SolveReport } from './solve/report.ts';
export { SolveSession, plan, solve } from './solve/chain.ts';
export { check, evaluate, parseDecision } from './solve/check.ts';
export type { CheckReport } from './solve/check.ts';
export { compare } from './solve/compare.ts';
export type { CompareReport } from './solve/compare.ts';
export { parseFieldPath, sweep, sweepGrid, sweepValues, withField } from './solve/sweep.ts';
export type { SweepReport } from './solve/sweep.ts';
export { schema } from './solve/schema.ts';
export { combineHooks, silentProgress, startProgress } from './viz/progress.ts';
export type { ProgressReporter } from './viz/progress.ts';
export { modelFileFormat, readModelFile, writeModelText } from './milp/model-file.ts';
export type { ModelFileFormat } from './milp/model-file.ts';
export { expandHuggingFace } from './catalog/hf.ts';

/** parseProblem after loading the family that `raw.kind` names (the one asynchronous step of a lazy start). */
export async function readProblem(raw: unknown): Promise<ParsedProblem> {
  await loadKindOf(raw);
  return parseProblem(raw);
}
