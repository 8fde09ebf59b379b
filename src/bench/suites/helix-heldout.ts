/**
 * `edgeplan bench --suite helix-heldout`: Helix instances that fleet-serving was not tuned on (issue 16: "also run
 * on held-out Helix instances … including one whose inter-region links bind"), imported from the ilp_model.lp files
 * of Helix's artifact into datasets/helix/ (README there: sources, Helix's own figures). Each description carries
 * Helix's published best, bound and time beside which the bench prints ours; the peers run as in every suite.
 */
import { readFileSync } from 'node:fs';
import type { BenchInstance, BenchSuite } from '../types.ts';

function dataset(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../datasets/helix/${name}.json`, import.meta.url), 'utf8'));
}

/** The limit the reproduction table in docs/formulations/fleet-serving.md was measured with. */
const LIMIT_SECONDS = 120;

/** Helix's figures: Gurobi 11 on 20 threads; trace.txt and ilp_solution.sol of each source folder. */
const HELD_OUT: readonly { name: string; helix: string; methods: BenchInstance['methods']; helixMilp?: true }[] = [
  {
    name: 'helix-4-llama30b-a100-distributed',
    helixMilp: true,
    helix: '4 A100, LLaMA-30B; Helix best 1044.53 (ilp_solution.sol), bound and time not stated',
    methods: ['exact', 'highs'],
  },
  {
    name: 'helix-8-llama30b-l4-distributed',
    helixMilp: true,
    helix: '8 L4, LLaMA-30B; Helix best 214.981 (ilp_solution.sol), bound and time not stated',
    methods: ['exact', 'highs'],
  },
  {
    name: 'helix-12-llama30b-t4-distributed',
    helixMilp: true,
    helix: '12 T4, LLaMA-30B; Helix best 397.685 (ilp_solution.sol), bound and time not stated',
    methods: ['exact', 'highs'],
  },
  {
    name: 'helix-24-llama70b-distributed',
    helixMilp: true,
    helix:
      '3 regions, 24 GPUs, slow inter-region links, 12 neighbours per node; ' +
      'Helix best 1212.18, bound 46 520.8, stopped at 2699.8 s',
    methods: ['exact'],
  },
  {
    name: 'helix-24-llama70b-distributed-no-prune',
    helix: 'the same 3 regions, every link kept (552); Helix best 952.107, bound 69 612.5, stopped at 2900.8 s',
    methods: ['exact'],
  },
  {
    name: 'helix-42-llama70b-no-prune',
    helix: '42 GPUs of 7 kinds, every link kept (1722); Helix best 4892.24, bound 275 073, stopped at 4382.4 s',
    methods: ['exact'],
  },
];

export const suite: BenchSuite = {
  kind: 'helix-heldout',
  instances: () =>
    HELD_OUT.flatMap((h) => [
      {
        name: h.name,
        description: h.helix,
        problem: dataset(h.name),
        methods: h.methods,
        timeLimitSeconds: LIMIT_SECONDS,
      },
      // Helix's own MILP as published on our HiGHS, same limit: the same model with an open solver.
      ...(h.helixMilp === true
        ? [
            {
              name: `${h.name} (Helix MILP)`,
              description: `Helix's MILP on HiGHS; ${h.helix}`,
              problem: { ...(dataset(h.name) as object), milpFormulation: 'helix' },
              methods: ['highs'] as const,
              timeLimitSeconds: LIMIT_SECONDS,
            },
          ]
        : []),
    ]),
  scaling: () => [],
};
