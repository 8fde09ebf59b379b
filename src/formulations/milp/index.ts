/**
 * The `milp` kind: a raw MILP written in JSON. It lets any linear model go through the CLI to any
 * backend, be re-checked by an independent evaluate and be compared side by side.
 */
import type { Formulation } from '../types.ts';
import { milpBaselines } from './baselines.ts';
import { evaluateMilp, describeMilp } from './evaluate.ts';
import { explainMilpInfeasible } from './explain.ts';
import { compileMilp } from './milp.ts';
import { milpDecisionSchema, milpInputSchema, parseMilp, type MilpDecision, type MilpProblem } from './schema.ts';

export type { MilpDecision, MilpProblem } from './schema.ts';

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
  evaluate: (problem, decision) => evaluateMilp(problem, decision),
  baselines: milpBaselines,
  explainInfeasible: explainMilpInfeasible,
  describe: (problem, decision, evaluation) => describeMilp(problem, decision, evaluation),
};
