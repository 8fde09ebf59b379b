import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.ts';
import { parallelPlacementFormulation as F } from '../../../src/formulations/parallel-placement/index.ts';
import { parallelBaselines } from '../../../src/formulations/parallel-placement/baselines.ts';

const load = (f: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../problems/parallel-placement/${f}`, import.meta.url), 'utf8'));

function inputError(raw: unknown): InputError {
  try {
    F.parse(raw);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('parsed without error');
}

describe('parallel-placement bad input', () => {
  const base = load('vllm-6920-llama-3-70b-fp8-8xl4.json');
  it('a TP degree that does not divide the KV heads names both numbers', () => {
    const e = inputError({ ...base, tensorParallel: { degrees: [1, 16] } });
    expect(e.path).toBe('$.tensorParallel.degrees[1]');
    expect(e.message).toContain('64');
    expect(e.message).toContain('(8)');
  });
  it('servers of one host with no link between them', () => {
    const raw = structuredClone(base) as { links: unknown; servers: unknown[] };
    raw.servers = raw.servers.slice(0, 2);
    raw.links = { bitsPerSecondMatrix: [[null, null], [null, null]], latencySecondsMatrix: [[0, 0], [0, 0]] };
    const e = inputError(raw);
    expect(e.path).toBe('$.servers[1].host');
    expect(e.message).toContain('no link');
  });
  it('more replicas than servers', () => {
    const raw = load('metis-gpt3-1.5b-4a100-4t4.json');
    const e = inputError({ ...raw, maxDataParallel: 17 });
    expect(e.path).toBe('$.maxDataParallel');
  });
});

describe('parallel-placement examples and peers', () => {
  it('the PR #6920 even split reproduces 1476 blocks (calibrated) and the optimum beats the hand-balanced split', () => {
    const p = F.parse(load('vllm-6920-llama-3-70b-fp8-8xl4.json'));
    const even = parallelBaselines.find((b) => b.name === 'vllm-even-pp')!.run(p)!;
    const hand = parallelBaselines.find((b) => b.name === 'vllm-6920-hand-balanced')!.run(p)!;
    expect(even.stages.map((s) => s.lastLayer - s.firstLayer + 1)).toEqual([10, 10, 10, 10, 10, 10, 10, 10]);
    expect(hand.stages.map((s) => s.lastLayer - s.firstLayer + 1)).toEqual([9, 11, 10, 10, 10, 10, 11, 9]);
    expect(F.evaluate(p, even).objective).toBe(1476);
    const handBlocks = F.evaluate(p, hand).objective;
    expect(handBlocks).toBeGreaterThan(3000);
  });
  it("Metis' published plan is feasible under our evaluate", () => {
    const p = F.parse(load('metis-gpt3-1.5b-4a100-4t4.json'));
    const ev = F.evaluate(p, p.referencePlan!.decision);
    expect(ev.violations).toEqual([]);
  });
  it('a TP group across hosts is refused by evaluate', () => {
    const p = F.parse(load('edge-two-jetson-hosts-rtx.json'));
    const ev = F.evaluate(p, {
      stages: [{ firstLayer: 1, lastLayer: 40, groups: [{ servers: ['jetson-a0', 'jetson-b0'] }] }],
    });
    expect(ev.feasible).toBe(false);
    expect(ev.violations[0].message).toContain('one host');
  });
});
