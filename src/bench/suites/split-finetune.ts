import { readFileSync } from 'node:fs';
import { generateSplitFinetuneInput, type FleetOptions } from '../../formulations/split-finetune/generate.ts';
import type { BenchSuite } from '../types.ts';

function example(file: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../problems/split-finetune/${file}`, import.meta.url), 'utf8'));
}

const gpt2Fleet: FleetOptions = { seed: 7, model: 'gpt2-medium', server: 'a100-80gb', clients: 20, subchannels: 32, batchSize: 4, loraRank: 4, samplesPerClient: 1200, epochs: 5 };
const llamaFleet: FleetOptions = { seed: 11, model: 'llama-2-7b', server: 'a100-80gb', clients: 20, subchannels: 32, batchSize: 1 };

export const suite: BenchSuite = {
  kind: 'split-finetune',
  instances: () => [
    {
      name: 'gpt2-medium-3-clients',
      description: "SplitLoRA's setting: GPT-2 medium, 3 clients, RTX 3090 server, 12 subchannels",
      problem: example('gpt2-medium-3-clients.json'),
    },
    {
      name: 'gpt2-medium-3-clients-compression',
      description: 'The GPT-2 setting on 5G links with smashed-data compression levels, caps and a privacy floor',
      problem: example('gpt2-medium-3-clients-compression.json'),
      timeLimitSeconds: 10,
    },
    {
      name: 'llama-2-7b-10-clients-5g',
      description: 'Llama-2-7B, 10 phones and Jetsons on a 5G cell, A100 server, 24 subchannels',
      problem: example('llama-2-7b-10-clients-5g.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'llama-2-13b-phones-fixed-cut-infeasible',
      description: "Llama-2-13B on 8-GB phones: SplitLoRA's fixed cut does not fit, freezing does",
      problem: example('llama-2-13b-phones-fixed-cut-infeasible.json'),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'gpt2-medium-20-clients-32-subchannels',
      description: 'target: GPT-2 medium, 20 heterogeneous clients, 32 subchannels, exact in ≤ 1 s median',
      problem: generateSplitFinetuneInput(gpt2Fleet),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'llama-2-7b-20-clients-32-subchannels',
      description: 'target: Llama-2-7B, 20 heterogeneous clients, 32 subchannels, exact in ≤ 1 s median',
      problem: generateSplitFinetuneInput(llamaFleet),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'llama-2-7b-20-clients-shared-cut',
      description: 'the same fleet with one (cut, frozen prefix) for every client (the one-hot MILP has ≈ 57k columns here; HiGHS stops at its limit)',
      problem: generateSplitFinetuneInput({ ...llamaFleet, cutPolicy: 'shared' }),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 30,
    },
    {
      name: 'llama-2-7b-20-clients-no-freezing',
      description: 'the same fleet with freezing forbidden: the gain over the peers comes from the cuts and the uplink split alone',
      problem: generateSplitFinetuneInput({ ...llamaFleet, maxFreezingRatio: 0 }),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
    {
      name: 'llama-2-7b-20-clients-energy',
      description: 'the same fleet minimising total device energy',
      problem: generateSplitFinetuneInput({ ...llamaFleet, objective: 'device-energy' }),
      methods: ['exact', 'highs'],
      timeLimitSeconds: 60,
    },
  ],
  scaling: () => [
    {
      parameter: 'clients',
      points: [5, 10, 20, 40, 80].map((clients) => ({
        size: clients,
        problem: generateSplitFinetuneInput({ ...llamaFleet, server: 'h100-sxm', clients, subchannels: Math.max(32, Math.round(1.6 * clients)) }),
      })),
      methods: ['exact'],
      timeLimitSeconds: 60,
    },
  ],
};
