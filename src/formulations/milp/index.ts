/**
 * The `milp` kind: a raw MILP written in JSON. It lets any linear model go through the CLI to any
 * backend, be re-checked by an independent evaluate and be compared side by side.
 */
import type { Formulation } from '../types.ts';
import { greedyRepair, milpBaselines } from './baselines.ts';
import { decisionOf } from './cost.ts';
import { evaluateMilp } from './evaluate.ts';
import { vetMilpCertificates } from './duals.ts';
import { describeMilp, explainMilpInfeasible } from './explain.ts';
import { compileMilp } from './milp.ts';
import { milpDecisionSchema, milpInputSchema, parseMilp, type MilpDecision, type MilpProblem } from './schema.ts';

export type { MilpDecision, MilpProblem } from './schema.ts';
export type { MilpBreakdown } from './evaluate.ts';

export const milpFormulation: Formulation<MilpProblem, MilpDecision> = {
  kind: 'milp',
  title: 'raw mixed-integer linear program',
  // A raw MILP carries its own sense; this is the default reported for the family as a whole.
  sense: 'min',
  senseOf: (problem) => problem.sense,
  objectiveLabel: (problem) => `objective (${problem.sense === 'min' ? 'minimised' : 'maximised'})`,
  inputSchema: milpInputSchema,
  parse: parseMilp,
  decisionSchema: milpDecisionSchema,
  compile: compileMilp,
  // The greedy repair heuristic, abandoned at the chain's deadline (it can take far longer than a solve).
  warmStart: (problem, deadlineMs) => {
    const outcome = greedyRepair(problem, deadlineMs);
    return outcome.ok ? decisionOf(problem, outcome.x) : null;
  },
  evaluate: (problem, decision) => evaluateMilp(problem, decision),
  // LP duals and reduced costs: only beside a certified optimum, and only when our own duality check passes them.
  vetCertificates: vetMilpCertificates,
  baselines: milpBaselines,
  explainInfeasible: explainMilpInfeasible,
  describe: (problem, decision, evaluation) => describeMilp(problem, decision, evaluation),
  // No input warnings: a raw MILP's numbers have no physical unit to be implausible in.
};
