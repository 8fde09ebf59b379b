import { readFileSync } from 'node:fs';
import { generateFleetInput } from '../../formulations/fleet-serving/generate.ts';
import type { BenchSuite } from '../types.ts';

function example(file: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../problems/fleet-serving/${file}`, import.meta.url), 'utf8'));
}

/** The targets run with Helix's own limit (600 s); the exact method and our HiGHS on both models. */
const HELIX_LIMIT_SECONDS = 600;

export const suite: BenchSuite = {
  kind: 'fleet-serving',
  instances: () => [
    {
      name: 'helix-10-llama30b-quality',
      description: 'target: 286.587 tokens/s proven optimal in ≤ 10 s (Gurobi, 20 threads: 3803 s)',
      problem: example('helix-10-llama30b-quality.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'helix-10-llama30b-quality (Helix MILP)',
      description: "Helix's published MILP on our HiGHS, same limit (the same model, open solver)",
      problem: { ...(example('helix-10-llama30b-quality.json') as object), milpFormulation: 'helix' },
      methods: ['highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'helix-24-llama70b-single-cluster',
      description: 'target: ≥ 1289.56 tokens/s with gap ≤ 2% in 600 s (Gurobi at 600 s: gap 5953%)',
      problem: example('helix-24-llama70b-single-cluster.json'),
      methods: ['exact'],
      timeLimitSeconds: HELIX_LIMIT_SECONDS,
    },
    {
      name: 'helix-24-llama70b-single-cluster (Helix MILP)',
      description: "Helix's published MILP on our HiGHS, 600 s",
      problem: { ...(example('helix-24-llama70b-single-cluster.json') as object), milpFormulation: 'helix' },
      methods: ['highs'],
      timeLimitSeconds: HELIX_LIMIT_SECONDS,
    },
    {
      name: 'helix-42-llama70b-high-heterogeneity',
      description: 'target: ≥ 4137.55 tokens/s with gap ≤ 5% in 600 s (Gurobi: 4137.55, bound 91 951 at 3035 s)',
      problem: example('helix-42-llama70b-high-heterogeneity.json'),
      methods: ['exact'],
      timeLimitSeconds: HELIX_LIMIT_SECONDS,
    },
    {
      name: 'three-site-edge-llama-2-13b',
      description: 'Llama-2-13B on a 3-site edge fleet from the catalog; 50 Mbit/s inter-site links bind',
      problem: example('three-site-edge-llama-2-13b.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'kv-bound-llama-2-7b',
      description: 'Llama-2-7B, 32 sequences of 4096 tokens per node: KV memory limits the layers per GPU',
      problem: example('kv-bound-llama-2-7b.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'edge-cloud-llama-3.2-1b-latency-slo',
      description: 'variant: a 55 ms per-token SLO on every routed path binds (the unconstrained optimum takes 60.53 ms)',
      problem: example('edge-cloud-llama-3.2-1b-latency-slo.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 120,
    },
    {
      name: 'edge-cloud-llama-3.2-1b-ttft-slo',
      description: 'variant: a 155 ms time-to-first-token SLO binds (the unconstrained optimum takes 170.9 ms)',
      problem: example('edge-cloud-llama-3.2-1b-ttft-slo.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 120,
    },
    {
      name: 'melange-mix-llama-2-13b-min-cost',
      description: 'variant: the cheapest rented mix of A100/L4/T4 reaching 1000 tokens/s (Mélange-style)',
      problem: example('melange-mix-llama-2-13b-min-cost.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 120,
    },
  ],
  scaling: () => [
    {
      parameter: 'nodes',
      points: [10, 20, 30, 40, 60].map((nodes) => ({
        size: nodes,
        problem: generateFleetInput({ nodes, seed: 3, layers: 40 }),
      })),
      methods: ['exact'],
      timeLimitSeconds: 120,
    },
    {
      parameter: 'nodes',
      points: [10, 20, 30, 40, 60].map((nodes) => ({
        size: nodes,
        problem: generateFleetInput({ nodes, seed: 5, layers: 40, regions: 3, interRegionTokensPerSecond: 1500 }),
      })),
      methods: ['exact'],
      timeLimitSeconds: 120,
    },
  ],
};
