/**
 * fleet-serving: LLM serving placement over a whole heterogeneous fleet (Helix-class): every node
 * holds one contiguous range of layers or nothing, requests are routed as a flow from the source
 * through adjacent ranges to the sink, and the objective is the total tokens/s.
 */
import type { Formulation } from '../types.ts';
import { fleetBaselines } from './baselines.ts';
import { deviceTable } from './cost.ts';
import { evaluateFleet } from './evaluate.ts';
import { fleetExactNotApplicable, solveFleetExact } from './exact.ts';
import { describeFleet, explainFleetInfeasible } from './explain.ts';
import { compileFleet } from './milp.ts';
import {
  fleetDecisionSchema,
  fleetInputSchema,
  parseFleetWith,
  type FleetDecision,
  type FleetProblem,
} from './schema.ts';

export type { FleetDecision, FleetProblem } from './schema.ts';
export type { FleetBreakdown } from './evaluate.ts';

export function parseFleet(raw: unknown): FleetProblem {
  return parseFleetWith(raw, deviceTable);
}

export const fleetServingFormulation: Formulation<FleetProblem, FleetDecision> = {
  kind: 'fleet-serving',
  title: 'LLM serving placement over a heterogeneous fleet: layer ranges per node and routed flow (Helix-class)',
  sense: 'max',
  // The minimum-cost variant (a target throughput) minimises the rent of the nodes in use.
  senseOf: (problem) => (problem.targetTokensPerSecond !== undefined ? 'min' : 'max'),
  objectiveLabel: (problem) =>
    problem.targetTokensPerSecond !== undefined ? 'rent of the nodes in use (per hour)' : 'total throughput (tokens/s)',
  inputSchema: fleetInputSchema,
  parse: parseFleet,
  decisionSchema: fleetDecisionSchema,
  compile: compileFleet,
  exact: { notApplicable: fleetExactNotApplicable, solve: solveFleetExact },
  evaluate: evaluateFleet,
  baselines: fleetBaselines,
  explainInfeasible: explainFleetInfeasible,
  describe: (problem, decision) => describeFleet(problem, decision, evaluateFleet(problem, decision)),
};
