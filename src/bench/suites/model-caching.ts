import { readFileSync } from 'node:fs';
import { generateCachingInput, type CachingInstanceOptions } from '../../formulations/model-caching/generate.ts';
import type { BenchSuite } from '../types.ts';

const BASES = ['gpt2-medium', 'gpt2-large', 'gpt2-xl', 'gpt3-xl', 'llama-3.2-1b', 'llama-2-7b', 'llama-3-8b', 'gpt-6.7b', 'llama-2-13b', 'opt-13b'];

function example(file: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../problems/model-caching/${file}`, import.meta.url), 'utf8'));
}

const scalingBase: CachingInstanceOptions = {
  seed: 21,
  bases: BASES,
  adaptersPerBase: 5,
  includeBase: false,
  servers: 10,
  storageBytesPerServer: 40e9,
  users: 200,
  areaMeters: 2000,
  coverageRadiusMeters: 550,
  zipfExponent: 0.8,
  personalization: 0.4,
  modelsPerUser: 12,
};

export const suite: BenchSuite = {
  kind: 'model-caching',
  instances: () => [
    {
      name: 'lora-50-models-10-servers-200-users',
      description: '10 base LLMs × 5 LoRA variants on 10 edge servers (40 GB each) for 200 users; the issue’s ≤ 10 s / ≤ 1% gap target',
      problem: example('lora-10-bases-10-servers-200-users.json'),
      methods: ['highs', 'glpk'],
      timeLimitSeconds: 10,
    },
    {
      name: 'fine-tune-family',
      description: 'Six Llama-2-7B fine-tunes sharing the bottom 24 layers; coverage computed from 5G/6G links and on-device decode',
      problem: example('fine-tune-family.json'),
    },
    {
      name: 'popularity-skew',
      description: 'Zipf 1.6 popularity with little personalisation: the head of the ranking decides',
      problem: example('popularity-skew.json'),
    },
    {
      name: 'separable-lora',
      description: 'Each user reaches only its nearest server, so the exact per-server method applies',
      problem: generateCachingInput({ ...scalingBase, seed: 5, coverageRadiusMeters: 0, users: 120 }),
    },
  ],
  scaling: () => [
    {
      parameter: 'users',
      points: [25, 50, 100, 200, 400].map((users) => ({ size: users, problem: generateCachingInput({ ...scalingBase, users }) })),
      methods: ['highs'],
      timeLimitSeconds: 30,
    },
  ],
};
