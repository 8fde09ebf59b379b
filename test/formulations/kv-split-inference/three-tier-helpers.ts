/** Tiny three-tier instances (GPT-2 small) and an independent brute force over every cut pair. */
import { mulberry32 } from '../../../src/util/random.ts';
import type { KvProblem } from '../../../src/formulations/kv-split-inference/schema.ts';
import { F } from './helpers.ts';

type Raw = Record<string, unknown>;

/**
 * One or two users on GPT-2 small (12 layers) with edge memory, cloud capacity, backhaul rate,
 * privacy floors and SLOs drawn so that each binds in some seeds.
 */
export function tinyThreeTier(seed: number, objective?: 'max' | 'sum'): Raw {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const users = 1 + Math.floor(rand() * 2);
  return {
    kind: 'kv-split-inference',
    model: 'gpt2-small',
    server: {
      device: {
        id: 'jetson-agx-orin-32gb',
        memoryBytes: pick([0.1e9, 0.15e9, 0.3e9, 8e9]),
        memoryBandwidthBytesPerSecond: pick([50e9, 200e9]),
      },
    },
    cloud: {
      device: 'a100-80gb',
      backhaul: {
        uplinkBitsPerSecond: pick([10e6, 100e6, 1e9]),
        downlinkBitsPerSecond: 1e9,
        latencySeconds: pick([0.001, 0.005, 0.02]),
      },
      ...(rand() < 0.4 ? { memoryCapacityBytes: pick([0.1e9, 0.2e9]) } : {}),
      ...(rand() < 0.4 ? { pricePerToken: 1e-5, priceWeightSeconds: pick([10, 1000]) } : {}),
    },
    users: Array.from({ length: users }, (_, i) => ({
      name: `u${i}`,
      device: {
        id: pick(['phone', 'jetson-orin-nx-16gb']),
        memoryBytes: pick([0.05e9, 0.3e9, 8e9]),
        memoryBandwidthBytesPerSecond: pick([5e9, 60e9]),
      },
      link: { id: '5g-user-experienced', uplinkBitsPerSecond: pick([20e6, 200e6, 1e9]) },
      promptTokens: 16 + Math.floor(rand() * 500),
      outputTokens: 8 + Math.floor(rand() * 200),
      ...(rand() < 0.3 ? { minDeviceLayers: pick([1, 3, 6]) } : {}),
      ...(rand() < 0.3 ? { latencySloSeconds: 0.005 + rand() * 0.03 } : {}),
    })),
    objective: objective ?? (rand() < 0.6 ? 'max' : 'sum'),
    deviceWeightStreaming: rand() < 0.5,
  };
}

/** Every (cuts, cloudCuts) with cuts ≤ cloudCuts ≤ L for every user, valued by evaluate. */
export function bruteForceThreeTier(
  problem: KvProblem,
): { objective: number; cuts: number[]; cloudCuts: number[] } | null {
  const L = problem.model.layers;
  const U = problem.users.length;
  const cuts = new Array<number>(U).fill(0);
  const cloudCuts = new Array<number>(U).fill(L);
  let best: { objective: number; cuts: number[]; cloudCuts: number[] } | null = null;
  const rec = (u: number): void => {
    if (u === U) {
      const ev = F.evaluate(problem, { cuts: [...cuts], cloudCuts: [...cloudCuts] });
      if (ev.feasible && (best === null || ev.objective < best.objective))
        best = { objective: ev.objective, cuts: [...cuts], cloudCuts: [...cloudCuts] };
      return;
    }
    for (let c1 = 0; c1 <= L; c1++)
      for (let c2 = c1; c2 <= L; c2++) {
        cuts[u] = c1;
        cloudCuts[u] = c2;
        rec(u + 1);
      }
  };
  rec(0);
  return best;
}
