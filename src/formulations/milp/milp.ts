/**
 * Compiles a `milp` problem to the solver-independent Model, column for column in declaration
 * order, and reads a decision back from a backend's column values.
 */
import { ModelBuilder } from '../../milp/model.ts';
import type { Compiled } from '../types.ts';
import { greedyRepair } from './baselines.ts';
import { FEASIBILITY_TOLERANCE, decisionOf } from './cost.ts';
import type { MilpDecision, MilpProblem } from './schema.ts';

export function compileMilp(problem: MilpProblem): Compiled<MilpDecision> {
  const builder = new ModelBuilder('milp', problem.sense);
  for (const v of problem.variables) builder.addVariable(v.name, { type: v.type, lower: v.lower, upper: v.upper });
  for (const row of problem.constraints) builder.addConstraint(row.name, row.terms, row.lower, row.upper);
  for (const t of problem.objective) builder.addObjective(t.variable, t.coefficient);
  builder.addObjectiveConstant(problem.objectiveConstant);
  const model = builder.build();
  // The greedy's point, when it finds one, is a feasible incumbent for backends that take a start.
  const greedy = greedyRepair(problem);
  return {
    model,
    decode: (values) => decisionOf(problem, values.map((v, i) => snapIntegral(v, problem.variables[i].type !== 'continuous'))),
    ...(greedy.ok ? { warmStart: greedy.x } : {}),
  };
}

/**
 * Backends return integer columns as e.g. 0.9999999997; snapping those within tolerance gives the
 * user clean integers. A genuinely fractional value is left alone so that evaluate rejects it.
 */
function snapIntegral(value: number, integral: boolean): number {
  if (!integral) return value;
  const rounded = Math.round(value);
  const snapped = Math.abs(value - rounded) <= FEASIBILITY_TOLERANCE ? rounded : value;
  return Object.is(snapped, -0) ? 0 : snapped;
}
