/**
 * The `pipeline-placement` kind: which edge servers, in which order, hold which contiguous layer
 * ranges of a model, for training with micro-batches, inference latency or inference throughput
 * (the seed's §V-B, Fig. 4–5; FORMULATIONS.md family 2).
 */
import type { Formulation } from '../types.ts';
import { pipelineBaselines } from './baselines.ts';
import { evaluatePipeline } from './evaluate.ts';
import { exactNotApplicable, solveExact } from './exact.ts';
import { describePipeline, explainPipelineInfeasible } from './explain.ts';
import { compilePipeline } from './milp.ts';
import {
  decisionSchema,
  parsePipeline,
  pipelineInputSchema,
  type PipelineDecision,
  type PipelineProblem,
} from './schema.ts';

export type { PipelineDecision, PipelineProblem } from './schema.ts';
export type { PipelineBreakdown } from './evaluate.ts';
export { trainingTimeVsServers } from './sweep.ts';

/** What the objective measures: with several iterations, the total, not one iteration. */
export function pipelineObjectiveLabel(p: PipelineProblem): string {
  switch (p.mode.kind) {
    case 'training':
      return p.mode.iterations === 1
        ? 'training iteration time (s)'
        : `total training time: ${p.mode.iterations} iterations × iteration time (s)`;
    case 'inference-latency':
      return 'end-to-end inference latency (s)';
    case 'inference-throughput':
      return 'pipeline bottleneck: time per batch step (s)';
  }
}

export const pipelinePlacementFormulation: Formulation<PipelineProblem, PipelineDecision> = {
  objectiveLabel: pipelineObjectiveLabel,
  kind: 'pipeline-placement',
  title: 'heterogeneous pipeline stages: which servers, in which order, which layers',
  sense: 'min',
  inputSchema: pipelineInputSchema,
  parse: parsePipeline,
  decisionSchema,
  // Pure: the warm start is the chain's step and arrives as hints.incumbent.
  compile: (problem, hints) => compilePipeline(problem, hints),
  warnings: (problem) => problem.inputWarnings,
  exact: {
    notApplicable: exactNotApplicable,
    solve: solveExact,
  },
  evaluate: evaluatePipeline,
  baselines: pipelineBaselines,
  explainInfeasible: explainPipelineInfeasible,
  // The typed breakdown comes from evaluating the decision again (cheap), not from a cast.
  describe: (problem, decision) => describePipeline(problem, evaluatePipeline(problem, decision)),
};
