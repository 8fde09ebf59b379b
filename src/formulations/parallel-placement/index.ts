/**
 * The `parallel-placement` kind: pipeline stages made of tensor-parallel groups (a TP degree per
 * stage), data-parallel groups inside a stage for training, over heterogeneous servers; objectives
 * training iteration time, inference latency and throughput, and vLLM KV-cache capacity (issue 17).
 * A sibling of pipeline-placement: same model/server/link vocabulary (its schemas and parser are
 * imported), one server per stage there, TP × DP per stage here.
 */
import type { Formulation } from '../types.ts';
import { parallelBaselines } from './baselines.ts';
import { evaluateParallel } from './evaluate.ts';
import { exactNotApplicable, solveExact } from './exact.ts';
import { compileParallel } from './milp.ts';
import { describeParallel, explainParallelInfeasible } from './explain.ts';
import { decisionSchema, parallelInputSchema, parseParallel, type ParallelDecision, type ParallelProblem } from './schema.ts';

export type { ParallelDecision, ParallelProblem } from './schema.ts';
export type { ParallelBreakdown } from './evaluate.ts';

export function parallelObjectiveLabel(p: ParallelProblem): string {
  switch (p.mode.kind) {
    case 'training':
      return p.mode.iterations === 1 ? 'training iteration time (s)' : `total training time: ${p.mode.iterations} iterations (s)`;
    case 'inference-latency':
      return 'end-to-end inference latency (s)';
    case 'inference-throughput':
      return 'pipeline bottleneck: time per batch step (s)';
    case 'kv-capacity':
      return `KV-cache blocks of ${p.mode.blockTokens} tokens (the same count on every stage)`;
  }
}

export const parallelPlacementFormulation: Formulation<ParallelProblem, ParallelDecision> = {
  kind: 'parallel-placement',
  title: 'pipeline stages of tensor-parallel (and data-parallel) groups over heterogeneous servers',
  sense: 'min',
  senseOf: (p) => (p.mode.kind === 'kv-capacity' ? 'max' : 'min'),
  objectiveLabel: parallelObjectiveLabel,
  inputSchema: parallelInputSchema,
  parse: parseParallel,
  decisionSchema,
  warnings: (p) => p.inputWarnings,
  compile: compileParallel,
  exact: { notApplicable: exactNotApplicable, solve: solveExact },
  evaluate: evaluateParallel,
  baselines: parallelBaselines,
  explainInfeasible: explainParallelInfeasible,
  describe: (p, d) => describeParallel(p, evaluateParallel(p, d)),
};
