/**
 * The `pipeline-placement` kind: which edge servers, in which order, hold which contiguous layer
 * ranges of a model, for training with micro-batches, inference latency or inference throughput
 * (the seed's §V-B, Fig. 4–5; FORMULATIONS.md family 2).
 */
import { bestFeasibleBaseline } from '../best-baseline.ts';
import type { Formulation } from '../types.ts';
import { pipelineBaselines } from './baselines.ts';
import { evaluatePipeline, describePipeline } from './evaluate.ts';
import { exactNotApplicable, solveExact } from './exact.ts';
import { explainPipelineInfeasible } from './explain.ts';
import { compilePipeline } from './milp.ts';
import { decisionSchema, parsePipeline, pipelineInputSchema, type PipelineDecision, type PipelineProblem } from './schema.ts';

export type { PipelineDecision, PipelineProblem } from './schema.ts';
export { trainingTimeVsServers } from './sweep.ts';

/** The best feasible baseline decision by our evaluate, or null. */
export function bestBaseline(problem: PipelineProblem): { name: string; decision: PipelineDecision; objective: number } | null {
  return bestFeasibleBaseline(problem, pipelineBaselines, evaluatePipeline);
}

export const pipelinePlacementFormulation: Formulation<PipelineProblem, PipelineDecision> = {
  objectiveLabel: (p) =>
    p.mode.kind === 'training' ? 'training iteration time (s)' : p.mode.kind === 'inference-latency' ? 'end-to-end inference latency (s)' : 'pipeline bottleneck: time per batch step (s)',
  kind: 'pipeline-placement',
  title: 'heterogeneous pipeline stages: which servers, in which order, which layers',
  sense: 'min',
  inputSchema: pipelineInputSchema,
  parse: parsePipeline,
  decisionSchema,
  compile: (problem) => compilePipeline(problem, { warmStart: bestBaseline(problem)?.decision ?? null }),
  exact: {
    notApplicable: exactNotApplicable,
    solve: solveExact,
  },
  evaluate: evaluatePipeline,
  baselines: pipelineBaselines,
  explainInfeasible: explainPipelineInfeasible,
  describe: (_problem, _decision, evaluation) => describePipeline(evaluation),
};
