/**
 * The `split-finetune` kind: cut layer, frozen prefix and uplink subchannels for split federated
 * LoRA fine-tuning (seed §V-A, SplitLoRA / SFL). See docs/formulations/split-finetune.md.
 */
import type { Formulation } from '../types.ts';
import { bestBaselineDecision, splitFinetuneBaselines } from './baselines.ts';
import { describeSplitFinetune, evaluateSplitFinetune, explainSplitFinetuneInfeasible } from './evaluate.ts';
import { solveExact } from './exact.ts';
import { compileSplitFinetune } from './milp.ts';
import { parseSplitFinetune, splitFinetuneDecisionSchema, splitFinetuneInputSchema, type SplitFinetuneDecision, type SplitFinetuneProblem } from './schema.ts';

export type { SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';
export { freezingFront, ratioGrid, type FrontPoint } from './front.ts';

export const splitFinetuneFormulation: Formulation<SplitFinetuneProblem, SplitFinetuneDecision> = {
  objectiveLabel: (p) =>
    p.objective === 'round-time' ? 'time per training round, slowest client (s)' : p.objective === 'total-time' ? 'total training time (s)' : p.objective === 'device-energy' ? 'total client device energy (J)' : 'weighted time and energy',
  kind: 'split-finetune',
  title: 'Split federated LoRA fine-tuning: cut layer, freezing ratio and uplink split (SplitLoRA setting)',
  sense: 'min',
  inputSchema: splitFinetuneInputSchema,
  parse: parseSplitFinetune,
  decisionSchema: splitFinetuneDecisionSchema,
  compile: (problem) => compileSplitFinetune(problem, bestBaselineDecision(problem)),
  exact: {
    notApplicable: () => null,
    async solve(problem) {
      const r = solveExact(problem);
      if (r.decision === null) return { termination: 'infeasible', decision: null, message: explainSplitFinetuneInfeasible(problem), details: r.details };
      return { termination: 'optimal', decision: r.decision, bound: r.objective, details: r.details };
    },
  },
  evaluate: evaluateSplitFinetune,
  baselines: splitFinetuneBaselines,
  explainInfeasible: explainSplitFinetuneInfeasible,
  describe: describeSplitFinetune,
};
