/**
 * The `split-finetune` kind: cut layer, frozen prefix and uplink subchannels for split federated
 * LoRA fine-tuning (seed §V-A, SplitLoRA / SFL). See docs/formulations/split-finetune.md.
 */
import type { Formulation } from '../types.ts';
import { splitFinetuneBaselines } from './baselines.ts';
import { describeSplitFinetune, evaluateSplitFinetune, explainSplitFinetuneInfeasible } from './evaluate.ts';
import { solveExact } from './exact.ts';
import { compileSplitFinetune } from './milp.ts';
import {
  parseSplitFinetune,
  splitFinetuneDecisionSchema,
  splitFinetuneInputSchema,
  type SplitFinetuneDecision,
  type SplitFinetuneProblem,
} from './schema.ts';
import { splitFinetuneWarnings } from './warnings.ts';

export type { SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';
export type { SplitFinetuneBreakdown } from './evaluate.ts';
export { freezingFront, ratioGrid, type FrontPoint } from './front.ts';

const LABELS = {
  'round-time': 'training time per round, barrier waits included (s)',
  'total-time': 'total training time (s)',
  'device-energy': 'total client device energy (J)',
  weighted: 'weighted time and energy',
} as const;

export const splitFinetuneFormulation: Formulation<SplitFinetuneProblem, SplitFinetuneDecision> = {
  objectiveLabel: (p) => LABELS[p.objective],
  kind: 'split-finetune',
  title: 'Split federated LoRA fine-tuning: cut layer, freezing ratio and uplink split (SplitLoRA setting)',
  sense: 'min',
  inputSchema: splitFinetuneInputSchema,
  parse: parseSplitFinetune,
  decisionSchema: splitFinetuneDecisionSchema,
  compile: (problem, hints) => compileSplitFinetune(problem, hints),
  warnings: splitFinetuneWarnings,
  exact: {
    notApplicable: () => null,
    async solve(problem, context) {
      const r = solveExact(problem, {
        ...(context.timeLimitSeconds !== undefined
          ? { deadlineMs: performance.now() + context.timeLimitSeconds * 1e3 }
          : {}),
        ...(context.incumbent !== undefined ? { incumbent: context.incumbent } : {}),
        ...(context.progress !== undefined ? { progress: context.progress } : {}),
      });
      if (r.timedOut) {
        return {
          termination: 'time_limit',
          decision: r.decision,
          ...(Number.isFinite(r.bound) ? { bound: r.bound } : {}),
          message: 'stopped at the time limit; the bound is the per-period lower bound',
          details: r.details,
        };
      }
      if (r.decision === null) {
        return {
          termination: 'infeasible',
          decision: null,
          message: explainSplitFinetuneInfeasible(problem),
          details: r.details,
        };
      }
      return { termination: 'optimal', decision: r.decision, bound: r.objective, details: r.details };
    },
  },
  evaluate: evaluateSplitFinetune,
  baselines: splitFinetuneBaselines,
  explainInfeasible: explainSplitFinetuneInfeasible,
  // The summary re-derives its typed breakdown from the decision (the chain's evaluation is untyped here).
  describe: (problem, decision) => describeSplitFinetune(problem, decision),
};
