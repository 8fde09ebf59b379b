/**
 * Independent re-check of a `milp` decision: every bound, every integrality requirement and every
 * row, each within FEASIBILITY_TOLERANCE scaled by max(1, |limit|) (a row's also by its largest
 * |a_j x_j|: cost.ts rowScaleAt, the backends' rule), and the objective recomputed from the values
 * alone. Nothing here looks at what a solver claimed. A variable the decision does not list is 0
 * (solution files list nonzeros only). The one-line summary and the explanation of infeasibility
 * live in explain.ts.
 */
import type { Evaluation, Violation } from '../types.ts';
import { FEASIBILITY_TOLERANCE, columnVector, objectiveAt, rowActivity, rowScaleAt } from './cost.ts';
import type { MilpDecision, MilpProblem } from './schema.ts';

export interface MilpRowReport {
  readonly name: string;
  readonly activity: number;
  /** null when the row has no such side (JSON has no Infinity). */
  readonly lower: number | null;
  readonly upper: number | null;
  /** Distance to the nearest finite side (negative when violated); null for a row with no finite side. */
  readonly slack: number | null;
}

export interface MilpBreakdown {
  readonly objectiveConstant: number;
  readonly nonzeroVariables: number;
  readonly rows: readonly MilpRowReport[];
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function evaluateMilp(
  problem: MilpProblem,
  decision: MilpDecision,
  tolerance = FEASIBILITY_TOLERANCE,
): Evaluation<MilpBreakdown> {
  const { x, unknown } = columnVector(problem, decision);
  const violations: Violation[] = [];
  for (const name of unknown) {
    violations.push({ constraint: `values.${name}`, message: `${name} is not a variable of this problem` });
  }
  problem.variables.forEach((v, i) => {
    const value = x[i];
    if (!Number.isFinite(value)) {
      violations.push({ constraint: `variables.${v.name}`, message: `${v.name} = ${value} is not a finite number` });
      return;
    }
    if (value < v.lower - tolerance * Math.max(1, Math.abs(v.lower))) {
      violations.push({
        constraint: `variables.${v.name}.lower`,
        message: `${v.name} = ${value} is below its lower bound ${v.lower}`,
        excess: v.lower - value,
      });
    }
    if (value > v.upper + tolerance * Math.max(1, Math.abs(v.upper))) {
      violations.push({
        constraint: `variables.${v.name}.upper`,
        message: `${v.name} = ${value} is above its upper bound ${v.upper}`,
        excess: value - v.upper,
      });
    }
    if (v.type !== 'continuous') {
      const off = Math.abs(value - Math.round(value));
      if (off > tolerance) {
        violations.push({
          constraint: `variables.${v.name}.integrality`,
          message: `${v.name} = ${value} is not integral (${v.type} variable)`,
          excess: off,
        });
      }
    }
  });
  const rows = problem.constraints.map((row): MilpRowReport => {
    const activity = rowActivity(row, x);
    const allowance = tolerance * rowScaleAt(row, x);
    if (activity < row.lower - allowance) {
      violations.push({
        constraint: `constraints.${row.name}`,
        message: `row ${row.name}: activity ${activity} is below its lower side ${row.lower}`,
        excess: row.lower - activity,
      });
    }
    if (activity > row.upper + allowance) {
      violations.push({
        constraint: `constraints.${row.name}`,
        message: `row ${row.name}: activity ${activity} exceeds its upper side ${row.upper}`,
        excess: activity - row.upper,
      });
    }
    const slacks = [activity - row.lower, row.upper - activity].filter(Number.isFinite);
    return {
      name: row.name,
      activity,
      lower: finiteOrNull(row.lower),
      upper: finiteOrNull(row.upper),
      slack: slacks.length > 0 ? Math.min(...slacks) : null,
    };
  });
  const breakdown: MilpBreakdown = {
    objectiveConstant: problem.objectiveConstant,
    nonzeroVariables: x.filter((v) => v !== 0).length,
    rows,
  };
  return { feasible: violations.length === 0, objective: objectiveAt(problem, x), violations, breakdown };
}
