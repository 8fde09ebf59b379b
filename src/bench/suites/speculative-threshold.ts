/**
 * Benchmark suite of the speculative-threshold family: the example problems, the target
 * instance (8 channel states × γ ∈ 0..32 × 10 thresholds, solved exactly) with and without an
 * energy budget, and a scaling series over the number of channel states.
 */
import { readFileSync } from 'node:fs';
import type { BenchInstance, BenchSuite, ScalingSeries } from '../types.ts';

const KIND = 'speculative-threshold';

function example(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../problems/speculative-threshold/${name}.json`, import.meta.url), 'utf8'));
}

/** llama.cpp's measured conditional acceptance per position (REFERENCE-FACTS), at τ = 0. */
const BASE_ACCEPTANCE = [0.805, 0.785, 0.764];

/**
 * A synthetic threshold table: τ_k = k / K. A higher τ keeps only confident drafts, so their
 * acceptance rises (the rejection probability shrinks by the factor 1 − 0.7τ) while the expected
 * run of confident tokens falls (L = 2/τ − 1; no stop at τ = 0). Illustrative, not measured.
 */
export function thresholdTable(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, k) => {
    const tau = k / count;
    const perPosition = BASE_ACCEPTANCE.map((a) => 1 - (1 - a) * (1 - 0.7 * tau));
    return tau === 0 ? { threshold: 0, perPosition, continueProbability: 1 } : { threshold: tau, perPosition, expectedStopLength: 2 / tau - 1 };
  });
}

/**
 * An S-state channel from a good 5G cell to a cell edge: latency 2 → 150 ms and uplink
 * 100 → 0.5 Mbps geometrically, with a birth–death transition matrix (stay 0.7, step ±1).
 */
export function channel(states: number): Record<string, unknown> {
  const geo = (from: number, to: number, i: number): number => (states === 1 ? from : from * (to / from) ** (i / (states - 1)));
  const list = Array.from({ length: states }, (_, i) => ({
    name: `s${i}`,
    link: { uplinkBitsPerSecond: geo(100e6, 0.5e6, i), downlinkBitsPerSecond: geo(400e6, 5e6, i), latencySeconds: geo(0.002, 0.15, i) },
  }));
  if (states === 1) return { states: list };
  const matrix = Array.from({ length: states }, (_, i) =>
    Array.from({ length: states }, (_, j) => {
      if (i === j) return i === 0 || i === states - 1 ? 0.85 : 0.7;
      return Math.abs(i - j) === 1 ? 0.15 : 0;
    }),
  );
  return { states: list, transitionMatrix: matrix };
}

/** The phone / RTX 3090 pair of the 5G example with S states, γ ∈ 0..maxDraft and K thresholds. */
export function syntheticProblem(states: number, thresholds: number, maxDraft: number, energyBudgetJoulesPerToken?: number): Record<string, unknown> {
  return {
    kind: KIND,
    description: `${states} channel states × γ ∈ 0..${maxDraft} × ${thresholds} thresholds`,
    draft: { model: { id: 'llama-3.2-1b', dtype: 'int4' }, device: { id: 'phone', transmitPowerWatts: 1.5 } },
    target: { model: 'llama-2-7b', server: 'rtx-3090' },
    acceptance: { thresholds: thresholdTable(thresholds) },
    payload: { tokenIdBytes: 4, topK: 8, probabilityBytes: 2, headerBytes: 40 },
    channel: channel(states),
    draftTokens: { min: 0, max: maxDraft },
    ...(energyBudgetJoulesPerToken !== undefined ? { energyBudgetJoulesPerToken } : {}),
  };
}

export const suite: BenchSuite = {
  kind: KIND,
  instances(): BenchInstance[] {
    return [
      { name: 'phone-1b-draft-llama-2-7b-5g', description: 'phone Llama-3.2-1B draft, Llama-2-7B on an RTX 3090, 3-state 5G Markov channel', problem: example('phone-1b-draft-llama-2-7b-5g') },
      { name: 'satellite', description: 'the same over a LEO/GEO satellite-like link', problem: example('satellite') },
      { name: 'energy-budget', description: 'the 5G example under a 30 mJ/token device energy budget', problem: example('energy-budget') },
      {
        name: 'target-8-states-33-gammas-10-thresholds',
        description: 'the issue target: 8 states × γ ∈ 0..32 × 10 thresholds, exactly (goal ≤ 50 ms)',
        problem: syntheticProblem(8, 10, 32),
        methods: ['exact', 'highs'],
        timeLimitSeconds: 60,
      },
      {
        name: 'target-8-states-budget',
        description: 'the target instance with a 40 mJ/token device energy budget (Dinkelbach + MILP)',
        problem: syntheticProblem(8, 10, 32, 0.04),
        methods: ['exact', 'highs'],
        timeLimitSeconds: 60,
      },
    ];
  },
  scaling(): ScalingSeries[] {
    return [
      {
        parameter: 'states',
        points: [2, 4, 8, 16, 32].map((size) => ({ size, problem: syntheticProblem(size, 10, 32) })),
        methods: ['exact'],
      },
      {
        parameter: 'states (energy budget)',
        points: [2, 4, 8, 16].map((size) => ({ size, problem: syntheticProblem(size, 10, 32, 0.04) })),
        methods: ['exact'],
        timeLimitSeconds: 60,
      },
    ];
  },
};
