/**
 * The conformance catalogue: small LP/MILP models with known answers, run against every
 * backend (in the manner of MathOptInterface's MOI.Test). Answers are worked out by hand in
 * the comments, or computed by brute-force enumeration here, never by a solver.
 */

import { checkMilpSolution } from '../../src/milp/check.ts';
import {
  assignmentColumn,
  generalizedAssignmentData,
  generalizedAssignmentModel,
  type GeneralizedAssignmentData,
} from '../../src/milp/generators.ts';
import { ModelBuilder, objectiveValue, term, type Model } from '../../src/milp/model.ts';
import type { Termination } from '../../src/milp/result.ts';

export type Expected =
  | {
      readonly termination: 'optimal';
      readonly objective: number;
      /** The unique optimal point, when it is unique; omitted for ties. */
      readonly values?: readonly number[];
    }
  | { readonly termination: Extract<Termination, 'infeasible' | 'unbounded'> };

export interface CatalogueEntry {
  readonly id: string;
  readonly what: string;
  readonly model: Model;
  readonly expected: Expected;
}

const INF = Infinity;

function lpOptimal(): CatalogueEntry {
  // max 3x + 2y, x + y ≤ 4, x + 3y ≤ 6, x ≤ 3 → vertex (3, 1), objective 11.
  const b = new ModelBuilder('lp-optimal', 'max');
  const x = b.addVariable('x', { upper: 3 });
  const y = b.addVariable('y');
  b.addObjective(x, 3);
  b.addObjective(y, 2);
  b.lessEqual('c1', [term(x), term(y)], 4);
  b.lessEqual('c2', [term(x), term(y, 3)], 6);
  return { id: 'lp-optimal', what: 'optimal LP', model: b.build(), expected: { termination: 'optimal', objective: 11, values: [3, 1] } };
}

function lpInfeasible(): CatalogueEntry {
  const b = new ModelBuilder('lp-infeasible', 'min');
  const x = b.addVariable('x');
  const y = b.addVariable('y');
  b.addObjective(x, 1);
  b.lessEqual('atMost1', [term(x), term(y)], 1);
  b.greaterEqual('atLeast2', [term(x), term(y)], 2);
  return { id: 'lp-infeasible', what: 'infeasible LP', model: b.build(), expected: { termination: 'infeasible' } };
}

function lpInfeasibleWithRay(): CatalogueEntry {
  // Infeasible, and the objective direction is unbounded too (z free to grow): a solver must
  // not answer "unbounded" here.
  const b = new ModelBuilder('lp-infeasible-ray', 'max');
  const x = b.addVariable('x');
  const y = b.addVariable('y');
  const z = b.addVariable('z');
  b.addObjective(z, 1);
  b.lessEqual('atMost1', [term(x), term(y)], 1);
  b.greaterEqual('atLeast2', [term(x), term(y)], 2);
  return {
    id: 'lp-infeasible-ray',
    what: 'infeasible LP with an unbounded objective direction',
    model: b.build(),
    expected: { termination: 'infeasible' },
  };
}

function lpUnbounded(): CatalogueEntry {
  // max x, x − y ≤ 1: x = 1 + y grows without limit.
  const b = new ModelBuilder('lp-unbounded', 'max');
  const x = b.addVariable('x');
  const y = b.addVariable('y');
  b.addObjective(x, 1);
  b.lessEqual('c', [term(x), term(y, -1)], 1);
  return { id: 'lp-unbounded', what: 'unbounded LP', model: b.build(), expected: { termination: 'unbounded' } };
}

function mipInfeasible(): CatalogueEntry {
  // 2x + 2y = 3 has real solutions but no integer ones.
  const b = new ModelBuilder('mip-infeasible', 'min');
  const x = b.addVariable('x', { type: 'integer', upper: 5 });
  const y = b.addVariable('y', { type: 'integer', upper: 5 });
  b.addObjective(x, 1);
  b.addObjective(y, 1);
  b.equal('odd', [term(x, 2), term(y, 2)], 3);
  return { id: 'mip-infeasible', what: 'MIP with a feasible relaxation but no integer point', model: b.build(), expected: { termination: 'infeasible' } };
}

function mipUnbounded(): CatalogueEntry {
  // max x + y, x − y ≤ 0.5, integers: (k, k) is feasible for every k.
  const b = new ModelBuilder('mip-unbounded', 'max');
  const x = b.addVariable('x', { type: 'integer' });
  const y = b.addVariable('y', { type: 'integer' });
  b.addObjective(x, 1);
  b.addObjective(y, 1);
  b.lessEqual('c', [term(x), term(y, -1)], 0.5);
  return { id: 'mip-unbounded', what: 'unbounded MIP', model: b.build(), expected: { termination: 'unbounded' } };
}

function lpDegenerate(): CatalogueEntry {
  // Beale's (1955) cycling example: rows with right-hand side 0 make the optimal vertex
  // degenerate. Optimum −5/4 at x4 = 1, x6 = 1, x5 = x7 = 0.
  const b = new ModelBuilder('lp-degenerate', 'min');
  const x4 = b.addVariable('x4');
  const x5 = b.addVariable('x5');
  const x6 = b.addVariable('x6');
  const x7 = b.addVariable('x7');
  [
    [x4, -0.75],
    [x5, 20],
    [x6, -0.5],
    [x7, 6],
  ].forEach(([v, c]) => b.addObjective(v, c));
  b.lessEqual('r1', [term(x4, 0.25), term(x5, -8), term(x6, -1), term(x7, 9)], 0);
  b.lessEqual('r2', [term(x4, 0.5), term(x5, -12), term(x6, -0.5), term(x7, 3)], 0);
  b.lessEqual('r3', [term(x6)], 1);
  return {
    id: 'lp-degenerate',
    what: "degenerate LP (Beale's cycling example)",
    model: b.build(),
    expected: { termination: 'optimal', objective: -1.25, values: [1, 0, 1, 0] },
  };
}

function lpEquality(): CatalogueEntry {
  // min x + 2y + 3z, x + y + z = 6, x − y = 1 → x = y + 1, z = 5 − 2y, objective 16 − 3y,
  // largest y with z ≥ 0 is 2.5: (3.5, 2.5, 0), objective 8.5.
  const b = new ModelBuilder('lp-equality', 'min');
  const x = b.addVariable('x');
  const y = b.addVariable('y');
  const z = b.addVariable('z');
  b.addObjective(x, 1);
  b.addObjective(y, 2);
  b.addObjective(z, 3);
  b.equal('sum', [term(x), term(y), term(z)], 6);
  b.equal('diff', [term(x), term(y, -1)], 1);
  return { id: 'lp-equality', what: 'equality rows', model: b.build(), expected: { termination: 'optimal', objective: 8.5, values: [3.5, 2.5, 0] } };
}

function rangeRows(sense: 'min' | 'max'): CatalogueEntry {
  // 1 ≤ x − y ≤ 2 and 2 ≤ x + 2y ≤ 8. max x + y: upper sides meet at (4, 2) → 6.
  // min x + y: lower sides meet at (4/3, 1/3) → 5/3.
  const b = new ModelBuilder(`lp-range-${sense}`, sense);
  const x = b.addVariable('x');
  const y = b.addVariable('y');
  b.addObjective(x, 1);
  b.addObjective(y, 1);
  b.addConstraint('band1', [term(x), term(y, -1)], 1, 2);
  b.addConstraint('band2', [term(x), term(y, 2)], 2, 8);
  const expected: Expected =
    sense === 'max'
      ? { termination: 'optimal', objective: 6, values: [4, 2] }
      : { termination: 'optimal', objective: 5 / 3, values: [4 / 3, 1 / 3] };
  return { id: `lp-range-${sense}`, what: `range rows, ${sense === 'max' ? 'upper' : 'lower'} sides active`, model: b.build(), expected };
}

function lpFreeVariables(): CatalogueEntry {
  // x, y free; s = x + y ≥ −3, d = x − y ≥ −1; 2x + y = 1.5 s + 0.5 d ≥ −5 at (−2, −1).
  const b = new ModelBuilder('lp-free', 'min');
  const x = b.addVariable('x', { lower: -INF });
  const y = b.addVariable('y', { lower: -INF });
  b.addObjective(x, 2);
  b.addObjective(y, 1);
  b.greaterEqual('sum', [term(x), term(y)], -3);
  b.greaterEqual('diff', [term(x), term(y, -1)], -1);
  return { id: 'lp-free', what: 'free variables with a negative optimum', model: b.build(), expected: { termination: 'optimal', objective: -5, values: [-2, -1] } };
}

function lpNegativeLowerBounds(): CatalogueEntry {
  // x ≥ −5, −3 ≤ y ≤ 10, x + y ≥ −6; x + 2y = (x + y) + y ≥ −9 at (−3, −3).
  const b = new ModelBuilder('lp-negative-bounds', 'min');
  const x = b.addVariable('x', { lower: -5 });
  const y = b.addVariable('y', { lower: -3, upper: 10 });
  b.addObjective(x, 1);
  b.addObjective(y, 2);
  b.greaterEqual('sum', [term(x), term(y)], -6);
  return { id: 'lp-negative-bounds', what: 'negative lower bounds', model: b.build(), expected: { termination: 'optimal', objective: -9, values: [-3, -3] } };
}

function lpUpperOnly(): CatalogueEntry {
  // x ≤ 2 with no lower bound, y ≤ −1 with no lower bound; max x + y with x − y ≤ 2.5:
  // y = −1 gives x ≤ 1.5 → 0.5; y lower only lowers x + y.
  const b = new ModelBuilder('lp-upper-only', 'max');
  const x = b.addVariable('x', { lower: -INF, upper: 2 });
  const y = b.addVariable('y', { lower: -INF, upper: -1 });
  b.addObjective(x, 1);
  b.addObjective(y, 1);
  b.lessEqual('c', [term(x), term(y, -1)], 2.5);
  return { id: 'lp-upper-only', what: 'variables with only an upper bound', model: b.build(), expected: { termination: 'optimal', objective: 0.5, values: [1.5, -1] } };
}

function lpAtUpperBounds(): CatalogueEntry {
  // max 2x + 3y, x + y ≤ 10 (slack), x ≤ 4, y ≤ 3 → both at their upper bounds: 17.
  const b = new ModelBuilder('lp-at-upper', 'max');
  const x = b.addVariable('x', { upper: 4 });
  const y = b.addVariable('y', { upper: 3 });
  b.addObjective(x, 2);
  b.addObjective(y, 3);
  b.lessEqual('c', [term(x), term(y)], 10);
  return { id: 'lp-at-upper', what: 'variables at their upper bounds', model: b.build(), expected: { termination: 'optimal', objective: 17, values: [4, 3] } };
}

function mipGeneralIntegers(): CatalogueEntry {
  // max 5x + 4y, 6x + 4y ≤ 24, x + 2y ≤ 6: relaxation (3, 1.5) = 21, integers (4, 0) = 20
  // ((3, 1) = 19, (2, 2) = 18).
  const b = new ModelBuilder('mip-general', 'max');
  const x = b.addVariable('x', { type: 'integer' });
  const y = b.addVariable('y', { type: 'integer' });
  b.addObjective(x, 5);
  b.addObjective(y, 4);
  b.lessEqual('c1', [term(x, 6), term(y, 4)], 24);
  b.lessEqual('c2', [term(x), term(y, 2)], 6);
  return { id: 'mip-general', what: 'general integers', model: b.build(), expected: { termination: 'optimal', objective: 20, values: [4, 0] } };
}

function mipNegativeIntegers(): CatalogueEntry {
  // Integers in [−10, 10]; min 3x − 2y, x + y ≥ −4.5, y ≤ 2.7 → y = 2, x = −6: −22.
  const b = new ModelBuilder('mip-negative', 'min');
  const x = b.addVariable('x', { type: 'integer', lower: -10, upper: 10 });
  const y = b.addVariable('y', { type: 'integer', lower: -10, upper: 10 });
  b.addObjective(x, 3);
  b.addObjective(y, -2);
  b.greaterEqual('sum', [term(x), term(y)], -4.5);
  b.lessEqual('cap', [term(y)], 2.7);
  return { id: 'mip-negative', what: 'integers with negative bounds', model: b.build(), expected: { termination: 'optimal', objective: -22, values: [-6, 2] } };
}

function mipFreeInteger(): CatalogueEntry {
  // A free integer: min x, 3x ≥ −7.5 → x ≥ −2.5 → x = −2.
  const b = new ModelBuilder('mip-free-integer', 'min');
  const x = b.addVariable('x', { type: 'integer', lower: -INF });
  b.addObjective(x, 1);
  b.greaterEqual('floor', [term(x, 3)], -7.5);
  return { id: 'mip-free-integer', what: 'free integer variable', model: b.build(), expected: { termination: 'optimal', objective: -2, values: [-2] } };
}

function lpTies(): CatalogueEntry {
  // max x + y, x + y ≤ 5, x ≤ 4, y ≤ 4: every point of the segment is optimal.
  const b = new ModelBuilder('lp-ties', 'max');
  const x = b.addVariable('x', { upper: 4 });
  const y = b.addVariable('y', { upper: 4 });
  b.addObjective(x, 1);
  b.addObjective(y, 1);
  b.lessEqual('c', [term(x), term(y)], 5);
  return { id: 'lp-ties', what: 'LP with a face of optima', model: b.build(), expected: { termination: 'optimal', objective: 5 } };
}

function mipTies(): CatalogueEntry {
  // max x + y, 2x + 2y ≤ 9, integers: any x + y = 4.
  const b = new ModelBuilder('mip-ties', 'max');
  const x = b.addVariable('x', { type: 'integer' });
  const y = b.addVariable('y', { type: 'integer' });
  b.addObjective(x, 1);
  b.addObjective(y, 1);
  b.lessEqual('c', [term(x, 2), term(y, 2)], 9);
  return { id: 'mip-ties', what: 'MIP with several optima', model: b.build(), expected: { termination: 'optimal', objective: 4 } };
}

/** Exhaustive search over all 0/1 vectors of a small pure-binary model. */
export function bruteForceBinary(model: Model): Expected {
  const n = model.variables.length;
  if (n > 20) throw new Error('too many columns to enumerate');
  let best: number[] | null = null;
  let bestObjective = model.sense === 'min' ? Infinity : -Infinity;
  let ties = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    const x = Array.from({ length: n }, (_, j) => (mask >> j) & 1);
    if (!checkMilpSolution(model, x).ok) continue;
    const value = objectiveValue(model, x);
    const better = model.sense === 'min' ? value < bestObjective : value > bestObjective;
    if (better) {
      best = x;
      bestObjective = value;
      ties = 1;
    } else if (value === bestObjective) ties++;
  }
  if (best === null) return { termination: 'infeasible' };
  return ties === 1 ? { termination: 'optimal', objective: bestObjective, values: best } : { termination: 'optimal', objective: bestObjective };
}

function knapsack(): CatalogueEntry {
  const valuesOf = [60, 100, 120, 80, 30, 45, 70, 25, 90, 15];
  const weights = [10, 20, 30, 15, 5, 12, 18, 7, 25, 3];
  const b = new ModelBuilder('knapsack', 'max');
  const items = valuesOf.map((v, i) => {
    const x = b.binary(`take${i}`);
    b.addObjective(x, v);
    return x;
  });
  b.lessEqual('capacity', items.map((x, i) => term(x, weights[i])), 70);
  const model = b.build();
  return { id: 'knapsack', what: '0/1 knapsack (10 items, brute force)', model, expected: bruteForceBinary(model) };
}

/** Exhaustive search over the servers^items assignments of a small GAP instance. */
export function bruteForceAssignment(data: GeneralizedAssignmentData): Expected {
  const items = data.cost.length;
  const servers = data.capacity.length;
  const choice = new Array<number>(items).fill(0);
  // Held in an object: TypeScript does not track assignments made inside the closure.
  const best: { choice: number[] | null; cost: number; ties: number } = { choice: null, cost: Infinity, ties: 0 };
  const load = new Array<number>(servers).fill(0);
  const visit = (i: number, cost: number): void => {
    if (i === items) {
      if (cost < best.cost) {
        best.cost = cost;
        best.choice = [...choice];
        best.ties = 1;
      } else if (cost === best.cost) best.ties++;
      return;
    }
    for (let j = 0; j < servers; j++) {
      if (load[j] + data.weight[i][j] > data.capacity[j]) continue;
      load[j] += data.weight[i][j];
      choice[i] = j;
      visit(i + 1, cost + data.cost[i][j]);
      load[j] -= data.weight[i][j];
    }
  };
  visit(0, 0);
  if (best.choice === null) return { termination: 'infeasible' };
  const values = new Array<number>(items * servers).fill(0);
  best.choice.forEach((j, i) => (values[assignmentColumn(i, j, servers)] = 1));
  return best.ties === 1
    ? { termination: 'optimal', objective: best.cost, values }
    : { termination: 'optimal', objective: best.cost };
}

function generalizedAssignment(): CatalogueEntry {
  const data = generalizedAssignmentData(8, 3, 7);
  return {
    id: 'gap-8x3',
    what: 'generalized assignment 8 items × 3 servers (brute force over 3^8)',
    model: generalizedAssignmentModel(data, 'gap-8x3'),
    expected: bruteForceAssignment(data),
  };
}

function maxWithConstant(): CatalogueEntry {
  // max 2x + y + 10, x + y ≤ 3, x ≤ 2 → (2, 1): 5 + 10 = 15.
  const b = new ModelBuilder('max-constant', 'max');
  const x = b.addVariable('x', { upper: 2 });
  const y = b.addVariable('y');
  b.addObjective(x, 2);
  b.addObjective(y, 1);
  b.addObjectiveConstant(10);
  b.lessEqual('c', [term(x), term(y)], 3);
  return { id: 'max-constant', what: 'max sense with an objective constant', model: b.build(), expected: { termination: 'optimal', objective: 15, values: [2, 1] } };
}

function hostileNames(): CatalogueEntry {
  // Names that collide with jslp's status fields, LP-text keywords and LP-text syntax.
  // max feasible + 2 result + 3 (a-b) − inf + 2 x0 with
  //   [objective]  feasible + result + (a-b) ≤ 4
  //   [r0]         (a-b) ≤ 1
  //   [max]        result ≤ 2           (result integer)
  //   [Subject To] inf − x0 ≥ −1,  x0 ≤ 5
  //   [st]         feasible + bounded ≥ 1, bounded fixed at 0
  // → a-b = 1, result = 2, feasible = 1 (8); inf ≥ x0 − 1 so −inf + 2 x0 ≤ x0 + 1, best at
  // x0 = 5, inf = 4 (6): 14.
  const b = new ModelBuilder('hostile names', 'max');
  const feasible = b.addVariable('feasible');
  const result = b.addVariable('result', { type: 'integer' });
  const ab = b.addVariable('a-b');
  const inf = b.addVariable('inf');
  const x0 = b.addVariable('x0', { upper: 5 });
  const bounded = b.addVariable('bounded', { lower: 0, upper: 0 });
  b.addObjective(feasible, 1);
  b.addObjective(result, 2);
  b.addObjective(ab, 3);
  b.addObjective(inf, -1);
  b.addObjective(x0, 2);
  b.lessEqual('objective', [term(feasible), term(result), term(ab)], 4);
  b.lessEqual('r0', [term(ab)], 1);
  b.lessEqual('max', [term(result)], 2);
  b.greaterEqual('Subject To', [term(inf), term(x0, -1)], -1);
  b.greaterEqual('st', [term(feasible), term(bounded)], 1);
  return {
    id: 'hostile-names',
    what: 'names feasible/result/inf/a-b/x0 and keyword row names',
    model: b.build(),
    expected: { termination: 'optimal', objective: 14, values: [1, 2, 1, 4, 5, 0] },
  };
}

function noConstraints(): CatalogueEntry {
  // No rows at all: x integer in [1.5, 5] → 2, y in [0, 2.5]; min x − y = 2 − 2.5.
  const b = new ModelBuilder('no-constraints', 'min');
  const x = b.addVariable('x', { type: 'integer', lower: 1.5, upper: 5 });
  const y = b.addVariable('y', { upper: 2.5 });
  b.addObjective(x, 1);
  b.addObjective(y, -1);
  return { id: 'no-constraints', what: 'bounds only, no rows', model: b.build(), expected: { termination: 'optimal', objective: -0.5, values: [2, 2.5] } };
}

function noVariables(): CatalogueEntry {
  const b = new ModelBuilder('no-variables', 'min');
  b.addObjectiveConstant(7);
  return { id: 'no-variables', what: 'empty model (objective constant only)', model: b.build(), expected: { termination: 'optimal', objective: 7, values: [] } };
}

function fixedBinary(): CatalogueEntry {
  // A binary fixed at 1 by its bounds (GLPK would reset a "binary" column to [0, 1]).
  // min a + 3b + 2c, a + b + c ≥ 1, a fixed at 1 → 1 (b = c = 0).
  const b = new ModelBuilder('fixed-binary', 'min');
  const a = b.addVariable('a', { type: 'binary', lower: 1 });
  const bb = b.binary('b');
  const c = b.binary('c');
  b.addObjective(a, 1);
  b.addObjective(bb, 3);
  b.addObjective(c, 2);
  b.greaterEqual('cover', [term(a), term(bb), term(c)], 1);
  return { id: 'fixed-binary', what: 'binary fixed at 1 by its bounds', model: b.build(), expected: { termination: 'optimal', objective: 1, values: [1, 0, 0] } };
}

function crossedBounds(): CatalogueEntry {
  const b = new ModelBuilder('crossed-bounds', 'min');
  const x = b.addVariable('x', { type: 'integer', lower: 0.2, upper: 0.8 });
  b.addObjective(x, 1);
  return { id: 'crossed-bounds', what: 'integer column with no integer in its bounds', model: b.build(), expected: { termination: 'infeasible' } };
}

export function catalogue(): CatalogueEntry[] {
  return [
    lpOptimal(),
    lpInfeasible(),
    lpInfeasibleWithRay(),
    lpUnbounded(),
    mipInfeasible(),
    mipUnbounded(),
    lpDegenerate(),
    lpEquality(),
    rangeRows('max'),
    rangeRows('min'),
    lpFreeVariables(),
    lpNegativeLowerBounds(),
    lpUpperOnly(),
    lpAtUpperBounds(),
    mipGeneralIntegers(),
    mipNegativeIntegers(),
    mipFreeInteger(),
    lpTies(),
    mipTies(),
    knapsack(),
    generalizedAssignment(),
    maxWithConstant(),
    hostileNames(),
    noConstraints(),
    noVariables(),
    fixedBinary(),
    crossedBounds(),
  ];
}
