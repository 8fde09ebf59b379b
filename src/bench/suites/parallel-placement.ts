import { readFileSync } from 'node:fs';
import type { BenchSuite } from '../types.ts';

function example(file: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../problems/parallel-placement/${file}`, import.meta.url), 'utf8'));
}

/** A fleet of `hosts` hosts of four GPUs (A100 and L4 alternating) serving Llama-3-70B for KV capacity. */
function fleet(hosts: number): unknown {
  const servers = Array.from({ length: hosts * 4 }, (_, i) => ({
    name: `gpu${i}`,
    host: `host${Math.floor(i / 4)}`,
    device: Math.floor(i / 4) % 2 === 0 ? 'a100-80gb' : 'l4',
  }));
  return {
    kind: 'parallel-placement',
    description: `Llama-3-70B bf16 on ${hosts} hosts of 4 GPUs (A100 and L4 hosts alternating)`,
    model: 'llama-3-70b',
    mode: { kind: 'kv-capacity', contextTokens: 8192 },
    servers,
    links: { default: 'datacenter' },
    tensorParallel: { degrees: [1, 2, 4] },
    runtime: { overheadBytes: 2e9 },
  };
}

export const suite: BenchSuite = {
  kind: 'parallel-placement',
  instances: () => [
    {
      name: 'vllm-6920-llama-3-70b-fp8-8xl4',
      description: 'target: KV blocks ≥ the PR #6920 hand-balanced split (even 1476, hand-balanced 3078 measured)',
      problem: example('vllm-6920-llama-3-70b-fp8-8xl4.json'),
      methods: ['exact'],
      timeLimitSeconds: 60,
    },
    {
      name: 'vllm-6824-two-gpus-30-50gb',
      description: 'two GPUs with 30 and 50 GB free: only an uneven split fits',
      problem: example('vllm-6824-two-gpus-30-50gb.json'),
      methods: ['exact'],
      timeLimitSeconds: 60,
    },
    {
      name: 'metis-gpt3-1.5b-4a100-4t4',
      description: "target: iteration time ≤ Metis' published plan scored by our evaluate",
      problem: example('metis-gpt3-1.5b-4a100-4t4.json'),
      methods: ['exact'],
      timeLimitSeconds: 120,
    },
    {
      name: 'edge-two-jetson-hosts-rtx',
      description: 'two Jetson hosts of two modules and an RTX 3090: TP inside a host, uneven TP per stage',
      problem: example('edge-two-jetson-hosts-rtx.json'),
      methods: ['exact'],
      timeLimitSeconds: 60,
    },
  ],
  scaling: () => [
    {
      parameter: 'gpus',
      points: [1, 2, 3, 4].map((hosts) => ({ size: hosts * 4, problem: fleet(hosts) })),
      methods: ['exact'],
      timeLimitSeconds: 120,
    },
  ],
};
