/** Shared helpers for the kv-split-inference tests: small random instances and brute force. */
import fc from 'fast-check';
import { kvSplitInferenceFormulation as F } from '../../../src/formulations/kv-split-inference/index.ts';
import type { KvDecision, KvProblem } from '../../../src/formulations/kv-split-inference/schema.ts';

export { F };

/** Every assignment of cuts (and `null` under admission); the best feasible one, or null. */
export function bruteForce(problem: KvProblem): { decision: KvDecision; objective: number } | null {
  const L = problem.model.layers;
  const options: (number | null)[] = [];
  for (let c = 0; c <= L; c++) options.push(c);
  if (problem.admission) options.push(null);
  const U = problem.users.length;
  const cuts = new Array<number | null>(U).fill(0);
  let best: { decision: KvDecision; objective: number } | null = null;
  const rec = (u: number): void => {
    if (u === U) {
      const decision = { cuts: [...cuts] };
      const ev = F.evaluate(problem, decision);
      if (ev.feasible && (best === null || ev.objective < best.objective - 1e-12))
        best = { decision, objective: ev.objective };
      return;
    }
    for (const c of options) {
      cuts[u] = c;
      rec(u + 1);
    }
  };
  rec(0);
  return best;
}

/** Same objective up to floating-point noise. */
export function close(a: number, b: number, rel = 1e-7): boolean {
  return Math.abs(a - b) <= rel * Math.max(1e-3, Math.abs(a), Math.abs(b));
}

const devices = ['phone', 'jetson-orin-nx-16gb', 'apple-m1-max'];
const links = ['5g-user-experienced', '6g-user-experienced', 'edge-lan', 'edge-cloud'];

export interface SmallOptions {
  readonly maxUsers?: number;
  readonly objective?: 'max' | 'sum';
  readonly admission?: boolean;
}

/**
 * Raw problems on GPT-2 small (12 layers, 13 cuts per user) with device and server memory drawn
 * around what the model needs, so that device memory, server memory (weights vs KV) and the SLOs
 * each bind in some instances.
 */
export function smallInstance(options: SmallOptions = {}): fc.Arbitrary<Record<string, unknown>> {
  const user = fc.record({
    device: fc.constantFrom(...devices),
    deviceMemoryBytes: fc.constantFrom(0.03e9, 0.12e9, 0.3e9, 8e9),
    link: fc.constantFrom(...links),
    promptTokens: fc.integer({ min: 16, max: 600 }),
    outputTokens: fc.integer({ min: 8, max: 300 }),
    variant: fc.constantFrom(null, 'a', 'b'),
    slo: fc.option(fc.double({ min: 0.003, max: 0.05, noNaN: true }), { nil: null, freq: 3 }),
    ttft: fc.option(fc.double({ min: 0.01, max: 0.5, noNaN: true }), { nil: null, freq: 4 }),
  });
  return fc
    .record({
      users: fc.array(user, { minLength: 1, maxLength: options.maxUsers ?? 3 }),
      serverMemoryBytes: fc.double({ min: 0.15e9, max: 0.45e9, noNaN: true }),
      serverDevice: fc.constantFrom('rtx-3090', 'jetson-agx-orin-64gb'),
      objective: options.objective ? fc.constant(options.objective) : fc.constantFrom('max' as const, 'sum' as const),
      admission: options.admission !== undefined ? fc.constant(options.admission) : fc.boolean(),
      streaming: fc.boolean(),
    })
    .map((r) => ({
      kind: 'kv-split-inference',
      model: 'gpt2-small',
      variants: [
        { name: 'a', lora: { rank: 8, targets: ['q', 'v'] } },
        { name: 'b', lora: { rank: 64, targets: ['q', 'k', 'v', 'o', 'up', 'down'] } },
      ],
      server: { device: { id: r.serverDevice, memoryBytes: r.serverMemoryBytes } },
      users: r.users.map((u) => ({
        device: { id: u.device, memoryBytes: u.deviceMemoryBytes },
        link: u.link,
        promptTokens: u.promptTokens,
        outputTokens: u.outputTokens,
        ...(u.variant !== null ? { variant: u.variant } : {}),
        ...(u.slo !== null ? { latencySloSeconds: u.slo } : {}),
        ...(u.ttft !== null ? { ttftSloSeconds: u.ttft } : {}),
      })),
      objective: r.objective,
      admission: r.admission,
      deviceWeightStreaming: r.streaming,
    }));
}

export const noMilp = async (): Promise<never> => {
  throw new Error('the exact method must not call a MILP');
};
