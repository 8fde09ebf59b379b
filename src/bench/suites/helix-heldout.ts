/**
 * `edgeplan bench --suite helix-heldout`: Helix instances that fleet-serving was not tuned on (issue 16: "also run
 * on held-out Helix instances … including one whose inter-region links bind"), imported at run time from the
 * ilp_model.lp files of a checkout of Helix's repository (Thesys-lab/Helix-ASPLOS25) named by EDGEPLAN_HELIX_REPO.
 * The converted problems are not shipped: the workplace keeps fetched repositories' files out of our commits, so
 * datasets/helix/README.md lists the sources and Helix's own figures, and this suite rebuilds the instances from
 * them. Each description carries Helix's published best, bound and time beside which the bench prints ours.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.ts';
import { importHelixLp } from '../../formulations/fleet-serving/import.ts';
import type { BenchInstance, BenchSuite } from '../types.ts';

/** Where the suite reads Helix's repository from (a checkout: the folder holding artifact_evaluation/). */
export const HELIX_REPO_VARIABLE = 'EDGEPLAN_HELIX_REPO';

/** The fleet-serving problem of one held-out source, imported from the checkout. */
export function heldOutProblem(repo: string, source: string): Record<string, unknown> {
  const path = `artifact_evaluation/${source}/ilp_model.lp`;
  return importHelixLp(readFileSync(join(repo, path), 'utf8'), 'ilp_model.lp', path);
}

function helixRepo(): string {
  const repo = process.env[HELIX_REPO_VARIABLE];
  if (repo === undefined || !existsSync(join(repo, 'artifact_evaluation')))
    throw new UsageError(
      `the helix-heldout suite reads Helix's own model files: set ${HELIX_REPO_VARIABLE} to a checkout of ` +
        'github.com/Thesys-lab/Helix-ASPLOS25 (the folder holding artifact_evaluation/)',
    );
  return repo;
}

/** The limit the reproduction table in docs/formulations/fleet-serving.md was measured with. */
const LIMIT_SECONDS = 120;

/** Helix's figures: Gurobi 11 on 20 threads; trace.txt and ilp_solution.sol of each source folder. */
export const HELD_OUT: readonly {
  name: string;
  source: string;
  helix: string;
  methods: BenchInstance['methods'];
  helixMilp?: true;
}[] = [
  {
    name: 'helix-4-llama30b-a100-distributed',
    source: 'distributed_clusters/layout_llama30b/ilp/a100',
    helixMilp: true,
    helix: '4 A100, LLaMA-30B; Helix best 1044.53 (ilp_solution.sol), bound and time not stated',
    methods: ['exact', 'highs'],
  },
  {
    name: 'helix-8-llama30b-l4-distributed',
    source: 'distributed_clusters/layout_llama30b/ilp/l4',
    helixMilp: true,
    helix: '8 L4, LLaMA-30B; Helix best 214.981 (ilp_solution.sol), bound and time not stated',
    methods: ['exact', 'highs'],
  },
  {
    name: 'helix-12-llama30b-t4-distributed',
    source: 'distributed_clusters/layout_llama30b/ilp/t4',
    helixMilp: true,
    helix: '12 T4, LLaMA-30B; Helix best 397.685 (ilp_solution.sol), bound and time not stated',
    methods: ['exact', 'highs'],
  },
  {
    name: 'helix-24-llama70b-distributed',
    source: 'distributed_clusters/layout_llama70b/ilp',
    helixMilp: true,
    helix:
      '3 regions, 24 GPUs, slow inter-region links, 12 neighbours per node; ' +
      'Helix best 1212.18, bound 46 520.8, stopped at 2699.8 s',
    methods: ['exact'],
  },
  {
    name: 'helix-24-llama70b-distributed-no-prune',
    source: 'ablation/layouts/no_prune_24',
    helix: 'the same 3 regions, every link kept (552); Helix best 952.107, bound 69 612.5, stopped at 2900.8 s',
    methods: ['exact'],
  },
  {
    name: 'helix-42-llama70b-no-prune',
    source: 'ablation/layouts/no_prune_42',
    helix: '42 GPUs of 7 kinds, every link kept (1722); Helix best 4892.24, bound 275 073, stopped at 4382.4 s',
    methods: ['exact'],
  },
];

export const suite: BenchSuite = {
  kind: 'helix-heldout',
  instances: () => {
    const repo = helixRepo();
    return HELD_OUT.flatMap((h) => {
      const problem = heldOutProblem(repo, h.source);
      return [
        {
          name: h.name,
          description: h.helix,
          problem,
          methods: h.methods,
          timeLimitSeconds: LIMIT_SECONDS,
        },
        // Helix's own MILP as published on our HiGHS, same limit: the same model with an open solver.
        ...(h.helixMilp === true
          ? [
              {
                name: `${h.name} (Helix MILP)`,
                description: `Helix's MILP on HiGHS; ${h.helix}`,
                problem: { ...problem, milpFormulation: 'helix' },
                methods: ['highs'] as const,
                timeLimitSeconds: LIMIT_SECONDS,
              },
            ]
          : []),
      ];
    });
  },
  scaling: () => [],
};
