/**
 * The `speculative-threshold` family: per channel state, the draft length γ and confidence
 * threshold τ of device-draft / edge-verify speculative decoding that minimise the expected time
 * (or energy, or a weighted sum) per generated token.
 */
import type { Formulation } from '../types.ts';
import { baselines, bestFixedChoice } from './baselines.ts';
import { leastBudgetUse } from './cost.ts';
import { decisionFromPicks } from './decision.ts';
import { evaluate } from './evaluate.ts';
import { solveExact } from './exact.ts';
import { describe, explainInfeasible } from './explain.ts';
import { compile } from './milp.ts';
import {
  decisionSchema,
  inputSchema,
  KIND,
  parse,
  type SpeculativeDecision,
  type SpeculativeProblem,
} from './schema.ts';
import { warnings } from './warnings.ts';

/**
 * The chain's warm start: the best single (γ, τ) within the budget (one pass over the option
 * table), else the least budget-using per-state policy when it meets the budget; null otherwise.
 * Far cheaper than running every peer (the Hugging Face peer simulates 200 000 rounds).
 */
function warmStart(p: SpeculativeProblem): SpeculativeDecision | null {
  const fixed = bestFixedChoice(p);
  if (fixed !== null)
    return decisionFromPicks(
      p,
      p.states.map(() => fixed),
    );
  const least = leastBudgetUse(p);
  return least.feasible ? decisionFromPicks(p, least.picks) : null;
}

function objectiveLabel(p: SpeculativeProblem): string {
  if (p.objective.name === 'time') return 'expected time per generated token (s)';
  if (p.objective.name === 'energy') return 'expected device energy per generated token (J)';
  return 'weighted cost per generated token (s·w + J·w)';
}

export const speculativeThresholdFormulation: Formulation<SpeculativeProblem, SpeculativeDecision> = {
  objectiveLabel,
  kind: KIND,
  title: 'Channel-adaptive draft length and threshold for device-draft / edge-verify speculative decoding',
  sense: 'min',
  inputSchema,
  parse,
  decisionSchema,
  compile: (p) => compile(p),
  warmStart,
  warnings,
  exact: {
    notApplicable: () => null,
    solve: solveExact,
  },
  evaluate,
  baselines,
  explainInfeasible,
  describe,
};
