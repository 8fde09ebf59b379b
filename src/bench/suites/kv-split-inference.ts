import { readFileSync } from 'node:fs';
import { generateKvInput, type KvFleetOptions } from '../../formulations/kv-split-inference/generate.ts';
import type { BenchSuite } from '../types.ts';

function example(file: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../problems/kv-split-inference/${file}`, import.meta.url), 'utf8'));
}

/**
 * Llama-2-7B (MHA: 0.5 MB of KV per token) with long prompts on an A100: at 64 users the KV no
 * longer fits next to the weights, so users with capable devices must take layers (and their KV).
 */
const kvBoundFleet: KvFleetOptions = { seed: 3, model: 'llama-2-7b', server: 'a100-80gb', users: 64, promptTokens: [1024, 3072], outputTokens: [128, 512] };

export const suite: BenchSuite = {
  kind: 'kv-split-inference',
  instances: () => [
    {
      name: 'llama-2-7b-16-phones-5g',
      description: 'Llama-2-7B, 16 phones on a 5G cell, RTX 3090 MEC server, 250 ms SLO',
      problem: example('llama-2-7b-16-phones-5g.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'llama-3-8b-64-users-a100',
      description: 'Llama-3-8B (GQA), 64 mixed users with two LoRA variants, A100 server',
      problem: example('llama-3-8b-64-users-a100.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'kv-bound',
      description: 'Llama-2-7B, 12 users with 2048 + 512 tokens on an RTX 3090: KV memory, not weights, binds',
      problem: example('kv-bound.json'),
      methods: ['exact', 'highs', 'glpk'],
      timeLimitSeconds: 60,
    },
    {
      name: 'llama-2-7b-64-users-kv-bound',
      description: 'target: 64 users × Llama-2-7B (33 cut options each) to proven optimality in ≤ 5 s',
      problem: generateKvInput(kvBoundFleet),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 120,
    },
    {
      name: 'three-tier-llama-2-7b-6-users',
      description:
        'target: three tiers device | RTX 3090 edge | A100 cloud slice over a 1 Gbit/s backhaul, 6 users, optimal in ≤ 10 s',
      problem: example('three-tier-llama-2-7b-6-users.json'),
      methods: ['highs'],
      timeLimitSeconds: 120,
    },
    {
      name: 'llama-2-7b-8-users-kv-formats',
      description:
        'target: KV format per user (fp16 | int4) under a total accuracy budget, RTX 3090, memory binds; ' +
        'optimal in ≤ 10 s',
      problem: example('llama-2-7b-8-users-kv-formats.json'),
      methods: ['highs', 'glpk'],
      timeLimitSeconds: 120,
    },
    {
      name: 'llama-2-7b-16-users-sum',
      description: 'the sum-of-latencies objective (MILP only: no exact decomposition), 16 users',
      problem: generateKvInput({ ...kvBoundFleet, users: 16, server: { id: 'rtx-3090' }, promptTokens: [512, 2048], objective: 'sum' }),
      methods: ['highs'],
      timeLimitSeconds: 120,
    },
  ],
  scaling: () => [
    {
      parameter: 'users',
      points: [8, 16, 32, 64, 128].map((users) => ({
        size: users,
        problem: generateKvInput({ ...kvBoundFleet, users, server: users > 64 ? 'h100-sxm' : 'a100-80gb' }),
      })),
      methods: ['exact'],
      timeLimitSeconds: 60,
    },
    {
      parameter: 'users',
      points: [4, 8, 16, 24, 32].map((users) => ({
        size: users,
        problem: generateKvInput({ ...kvBoundFleet, users, server: { id: 'a100-80gb', memoryBytes: 80e9 * (users / 64) + 20e9 } }),
      })),
      methods: ['highs'],
      timeLimitSeconds: 120,
    },
  ],
};
