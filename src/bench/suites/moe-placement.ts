/**
 * moe-placement benchmark: the targets (Mixtral-8x7B on 6 servers proven optimal;
 * DeepSeek-V3-sized on 16 servers within 2% reported gap in 60 s), the tight-packing case where
 * memory couples the layers, and a scaling series along the number of experts per layer.
 */
import { readFileSync } from 'node:fs';
import type { BenchSuite } from '../types.ts';

function example(file: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../problems/moe-placement/${file}`, import.meta.url), 'utf8'));
}

const DEVICES = ['h100-sxm', 'a100-80gb', 'rtx-3090', 'jetson-agx-orin-64gb'];

/** 8 MoE layers of `experts` DeepSeek-sized experts (44 MB, top-4) on 8 mixed servers. */
function scalingPoint(experts: number): unknown {
  return {
    kind: 'moe-placement',
    description: `8 MoE layers × ${experts} experts (44 MB each, top-4) on 8 mixed servers, log-normal popularity`,
    moe: { layers: 8, experts, topK: 4, expertBytes: 44040192, expertFlopsPerToken: 88080384, activationBytesPerToken: 7168 },
    popularity: { generator: 'lognormal', sigma: 0.5, seed: 17 },
    batchTokens: 1024,
    servers: Array.from({ length: 8 }, (_, s) => ({
      name: `${DEVICES[s % 4]}-${s}`,
      device: DEVICES[s % 4],
      expertMemoryBytes: 16e9,
      link: 'datacenter',
    })),
    maxReplicasPerLayer: Math.round(experts * 1.25),
  };
}

export const suite: BenchSuite = {
  kind: 'moe-placement',
  instances: () => [
    {
      name: 'mixtral-8x7b-6-servers',
      description: 'Mixtral-8x7B (32 layers × 8 experts, top-2) on 2 A100 + 2 RTX 3090 + 2 Jetson AGX Orin, skewed popularity; target: proven optimal in ≤ 5 s',
      problem: example('mixtral-8x7b-6-servers.json'),
      methods: ['exact'],
      timeLimitSeconds: 60,
    },
    {
      name: 'deepseek-v3-16-servers',
      description: 'DeepSeek-V3-sized (58 layers × 256 experts, top-8) on 8 H100 + 8 A100; target: ≤ 2% reported gap within 60 s',
      problem: example('deepseek-v3-16-servers.json'),
      methods: ['exact'],
      timeLimitSeconds: 60,
    },
    {
      name: 'tight-packing',
      description: '4 Mixtral layers whose 32 experts exactly fill the servers; memory couples the layers (EPLB cannot place it)',
      problem: example('tight-packing.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
  ],
  scaling: () => [
    {
      parameter: 'experts',
      points: [16, 32, 64, 128, 256].map((experts) => ({ size: experts, problem: scalingPoint(experts) })),
      methods: ['exact'],
      timeLimitSeconds: 10,
    },
  ],
};
