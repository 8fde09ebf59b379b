/**
 * The raw-MILP kind as a benchmark suite: the problems/milp examples (a knapsack and
 * Martello–Toth type-D generalized assignment) and a scaling series over GAP size. It measures
 * the backends themselves, with greedy-repair as the peer.
 */
import { readFileSync } from 'node:fs';
import { generalizedAssignment } from '../../milp/generators.ts';
import { modelToMilpJson } from '../../formulations/milp/export.ts';
import type { BenchSuite } from '../types.ts';

function example(file: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../problems/milp/${file}`, import.meta.url), 'utf8'));
}

export function gapProblem(items: number, servers: number, seed = 1): unknown {
  return modelToMilpJson(generalizedAssignment(items, servers, seed, 0.8), `generalized assignment ${items} items × ${servers} servers (seed ${seed}, capacities at 80%)`);
}

export const suite: BenchSuite = {
  kind: 'milp',
  instances: () => [
    { name: 'knapsack-12', description: '0/1 knapsack, 12 items (optimum 309 by brute force)', problem: example('knapsack.json') },
    { name: 'gap-20x4', description: 'generalized assignment, 20 items × 4 servers', problem: example('gap-20x4.json'), timeLimitSeconds: 20 },
    {
      name: 'gap-100x10',
      description: 'generalized assignment, 100 items × 10 servers: the largest example, a stress test of the backends’ branch and bound (gap at the limit)',
      problem: example('gap-100x10.json'),
      methods: ['highs', 'glpk'],
      timeLimitSeconds: 20,
    },
  ],
  scaling: () => [
    {
      parameter: 'items',
      // Beyond ≈ 30 items these instances need more than the series' time limit (REFERENCE-FACTS: 30×5 takes seconds, 100×10 ≈ 10 s).
      points: [10, 14, 18, 22, 26].map((items) => ({ size: items, problem: gapProblem(items, items < 20 ? 3 : 4) })),
      methods: ['highs', 'glpk'],
      timeLimitSeconds: 15,
    },
  ],
};
