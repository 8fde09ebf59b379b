/**
 * Compiles a `milp` problem to the solver-independent Model, column for column in declaration
 * order, reads a decision back from a backend's column values, and writes a decision as a column
 * vector (for a warm start). Pure and cheap: no heuristic runs here (the greedy warm start is the
 * chain's own step, `milpFormulation.warmStart`).
 */
import { ModelBuilder } from '../../milp/model.ts';
import type { Compiled } from '../types.ts';
import { FEASIBILITY_TOLERANCE, columnVector, decisionOf } from './cost.ts';
import type { MilpDecision, MilpProblem } from './schema.ts';

export function compileMilp(problem: MilpProblem): Compiled<MilpDecision> {
  const builder = new ModelBuilder('milp', problem.sense);
  for (const v of problem.variables) builder.addVariable(v.name, { type: v.type, lower: v.lower, upper: v.upper });
  for (const row of problem.constraints) builder.addConstraint(row.name, row.terms, row.lower, row.upper);
  for (const t of problem.objective) builder.addObjective(t.variable, t.coefficient);
  builder.addObjectiveConstant(problem.objectiveConstant);
  const model = builder.build();
  return {
    model,
    decode: (values, solution) => {
      const decision = decisionOf(
        problem,
        values.map((v, i) => snapIntegral(v, problem.variables[i].type !== 'continuous')),
      );
      // An LP's duals and reduced costs (HiGHS, GLPK), by the user's row and variable names.
      const duals = solution?.duals;
      const reducedCosts = solution?.reducedCosts;
      if (duals === undefined || reducedCosts === undefined) return decision;
      if (duals.length !== problem.constraints.length || reducedCosts.length !== problem.variables.length) {
        return decision;
      }
      return {
        ...decision,
        duals: named(problem.constraints.map((row) => row.name), duals),
        reducedCosts: named(problem.variables.map((v) => v.name), reducedCosts),
      };
    },
    encode: (decision) => {
      // A decision naming variables this problem does not have is not a point of this model.
      const { x, unknown } = columnVector(problem, decision);
      return unknown.length === 0 && x.every(Number.isFinite) ? x : null;
    },
  };
}

/** A null-prototype record of values by name (user names may be `__proto__`, as in decisionOf). */
function named(names: readonly string[], values: readonly number[]): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  names.forEach((name, i) => {
    Object.defineProperty(out, name, { value: values[i], enumerable: true, writable: false, configurable: false });
  });
  return out;
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
