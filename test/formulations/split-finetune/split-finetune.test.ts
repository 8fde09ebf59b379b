import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import type { BackendName } from '../../../src/backends/types.ts';
import { InputError } from '../../../src/errors.ts';
import {
  splitFinetuneBaselines,
  splitLoraFixedCut,
  uniformSubchannels,
} from '../../../src/formulations/split-finetune/baselines.ts';
import { decisionCost, splitContext } from '../../../src/formulations/split-finetune/cost.ts';
import {
  evaluateSplitFinetune,
  explainSplitFinetuneInfeasible,
} from '../../../src/formulations/split-finetune/evaluate.ts';
import { solveExact } from '../../../src/formulations/split-finetune/exact.ts';
import { freezingFront, splitFinetuneFormulation } from '../../../src/formulations/split-finetune/index.ts';
import { parseSplitFinetune, type SplitFinetuneDecision } from '../../../src/formulations/split-finetune/schema.ts';
import { generator } from '../../contract/generators/split-finetune.ts';
import { tinyArb, tinyInput, type TinyOptions } from './helpers.ts';

const EXAMPLES = [
  'gpt2-medium-3-clients.json',
  'llama-2-7b-10-clients-5g.json',
  'llama-2-13b-phones-fixed-cut-infeasible.json',
];
const readExample = (f: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../problems/split-finetune/${f}`, import.meta.url), 'utf8'));

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

/** One backend through the API: the evaluated objective, or null when it says infeasible. */
async function backendObjective(raw: unknown, backend: BackendName | 'exact'): Promise<number | null> {
  const r = await solve(raw, { backend, mipGap: 1e-9, timeLimitSeconds: 30 });
  if (r.termination === 'infeasible') return null;
  expect(r.termination).toBe('optimal');
  expect(r.solution?.evaluation.feasible).toBe(true);
  return r.solution?.objective ?? NaN;
}

describe('split-finetune examples', () => {
  for (const file of EXAMPLES) {
    it(`${file}: the exact optimum passes evaluate and beats every feasible peer`, () => {
      const problem = parseSplitFinetune(readExample(file));
      const r = solveExact(problem);
      expect(r.decision).not.toBeNull();
      const e = evaluateSplitFinetune(problem, r.decision as SplitFinetuneDecision);
      expect(e.feasible).toBe(true);
      expect(close(e.objective, r.objective)).toBe(true);
      for (const b of splitFinetuneBaselines) {
        const d = b.run(problem);
        if (d === null) continue;
        const be = evaluateSplitFinetune(problem, d);
        expect(be.feasible).toBe(true);
        expect(e.objective).toBeLessThanOrEqual(be.objective * (1 + 1e-9));
      }
    });
  }

  it('the fixed cut is infeasible on the Llama-2-13B phones and the reason is the phone memory', () => {
    const problem = parseSplitFinetune(readExample('llama-2-13b-phones-fixed-cut-infeasible.json'));
    expect(splitLoraFixedCut.run(problem)).toBeNull();
    const n = uniformSubchannels(problem) as number[];
    const e = evaluateSplitFinetune(problem, {
      clients: n.map((subchannels) => ({ cut: 10, frozenLayers: 0, subchannels })),
    });
    expect(
      e.violations.some(
        (v) => v.constraint === 'client[0].memory' && /phone-1 needs .* GB/.test(v.message) && (v.excess ?? 0) > 0,
      ),
    ).toBe(true);
  });

  it('GPT-2 medium: the training time falls as the freezing ratio rises (seed Fig. 3)', () => {
    const front = freezingFront(readExample('gpt2-medium-3-clients.json'), [0, 0.25, 0.5, 0.75, 1]);
    const times = front.map((p) => p.totalSeconds as number);
    expect(front.every((p) => p.feasible)).toBe(true);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeLessThanOrEqual(times[i - 1] * (1 + 1e-12));
    expect(times[times.length - 1]).toBeLessThan(times[0]);
  });

  it('MILP (HiGHS) equals the exact method on the GPT-2 example', async () => {
    const raw = readExample('gpt2-medium-3-clients.json');
    const exact = solveExact(parseSplitFinetune(raw));
    expect(close((await backendObjective(raw, 'highs')) as number, exact.objective)).toBe(true);
  });
});

describe('split-finetune cost model', () => {
  const problem = parseSplitFinetune(readExample('gpt2-medium-3-clients.json'));
  const ctx = splitContext(problem);

  it('a fully frozen client pays forward and uplink once over E epochs and nothing back', () => {
    const frozen = decisionCost(ctx, 2, { cut: 6, frozenLayers: 6, subchannels: 4 });
    expect(frozen.fullyFrozen).toBe(true);
    expect(frozen.gradientBytes).toBe(0);
    expect(frozen.clientBackwardSeconds).toBe(0);
    expect(frozen.adapterBytes).toBe(0);
    expect(frozen.roundSeconds).toBeCloseTo(
      (frozen.clientForwardSeconds + frozen.uplinkSeconds) / problem.epochs + frozen.serverSeconds,
      12,
    );
    const trained = decisionCost(ctx, 2, { cut: 6, frozenLayers: 5, subchannels: 4 });
    expect(trained.fullyFrozen).toBe(false);
    expect(trained.roundSeconds).toBeGreaterThan(frozen.roundSeconds);
    expect(trained.smashedBytes).toBe(problem.batchSize * problem.sequenceLength * 1024 * 2);
  });

  it('more subchannels shorten the uplink; a deeper frozen prefix never costs the client memory', () => {
    const a = decisionCost(ctx, 0, { cut: 4, frozenLayers: 1, subchannels: 1 });
    const b = decisionCost(ctx, 0, { cut: 4, frozenLayers: 1, subchannels: 3 });
    expect(b.uplinkSeconds).toBeLessThan(a.uplinkSeconds);
    const c = decisionCost(ctx, 0, { cut: 4, frozenLayers: 3, subchannels: 1 });
    expect(c.clientMemoryBytes).toBeLessThan(a.clientMemoryBytes);
  });
});

const runs = (n: number) => ({ numRuns: n, seed: 20261122 });

describe('split-finetune properties (tiny generated instances)', () => {
  it('exact equals brute force and every feasible peer is no better', () => {
    fc.assert(
      fc.property(tinyArb(2), (o) => {
        const raw = tinyInput({ ...o, layers: Math.min(o.layers, 3) });
        const problem = parseSplitFinetune(raw);
        const exact = solveExact(problem);
        const bf = generator.bruteForce(raw);
        const brute = bf.status === 'optimal' ? bf.objective : Infinity;
        if (exact.decision === null) {
          expect(brute).toBe(Infinity);
          expect(explainSplitFinetuneInfeasible(problem).length).toBeGreaterThan(10);
          return;
        }
        const e = evaluateSplitFinetune(problem, exact.decision);
        expect(e.feasible).toBe(true);
        expect(close(e.objective, exact.objective)).toBe(true);
        expect(close(e.objective, brute)).toBe(true);
        for (const b of splitFinetuneBaselines) {
          const d = b.run(problem);
          if (d === null) continue;
          const be = evaluateSplitFinetune(problem, d);
          expect(be.feasible).toBe(true);
          expect(e.objective).toBeLessThanOrEqual(be.objective * (1 + 1e-9));
        }
      }),
      runs(25),
    );
  });

  it('exact equals the MILP on every backend (through solve)', async () => {
    await fc.assert(
      fc.asyncProperty(tinyArb(3), async (o: TinyOptions) => {
        const raw = tinyInput(o);
        const exact = solveExact(parseSplitFinetune(raw));
        for (const backend of ['highs', 'glpk', 'jslp'] as const) {
          const m = await backendObjective(raw, backend);
          if (exact.decision === null) expect(m).toBeNull();
          else expect(close(m as number, exact.objective)).toBe(true);
        }
      }),
      runs(12),
    );
  }, 60_000);

  it('more server memory, more subchannels or a faster client never make the optimum worse', () => {
    fc.assert(
      fc.property(tinyArb(3), fc.integer({ min: 0, max: 2 }), (o, which) => {
        const base = solveExact(parseSplitFinetune(tinyInput(o)));
        if (base.decision === null) return;
        const grown: TinyOptions =
          which === 0
            ? { ...o, serverMemoryBytes: o.serverMemoryBytes * 1.5 }
            : which === 1
              ? { ...o, subchannelsExtra: o.subchannelsExtra + 1 }
              : { ...o, clients: o.clients.map((c, k) => (k === 0 ? { ...c, flops: c.flops * 3 } : c)) };
        const better = solveExact(parseSplitFinetune(tinyInput(grown)));
        expect(better.decision).not.toBeNull();
        // A faster client draws its active power for less time, so energy falls too; all objectives are monotone.
        expect(better.objective).toBeLessThanOrEqual(base.objective * (1 + 1e-9));
      }),
      runs(40),
    );
  });

  it('the reported decision of the API passes evaluate (through the registered formulation)', async () => {
    const problem = parseSplitFinetune(
      tinyInput({
        layers: 3,
        clients: [
          { flops: 4e9, memoryBytes: 1.2e6, uplink: 10e6, power: 2 },
          { flops: 1e9, memoryBytes: 0.6e6, uplink: 2e6, power: 8 },
        ],
        subchannelsExtra: 2,
        serverMemoryBytes: 3.5e6,
        serverFlops: 5e10,
        cutPolicy: 'per-client',
        objective: 'total-time',
        epochs: 2,
        maxFreezingRatio: 0.5,
      }),
    );
    const r = await splitFinetuneFormulation.exact?.solve(problem, {
      mipGap: 1e-6,
      solveMilp: () => Promise.reject(new Error('not used')),
    });
    expect(r?.termination).toBe('optimal');
    const e = splitFinetuneFormulation.evaluate(problem, r?.decision as SplitFinetuneDecision);
    expect(e.feasible).toBe(true);
    expect(close(e.objective, r?.bound as number)).toBe(true);
    const text = splitFinetuneFormulation.describe?.(problem, r?.decision as SplitFinetuneDecision, e) ?? '';
    expect(text).toMatch(/average round .*busiest c\d/);
    expect(splitFinetuneFormulation.evaluate === evaluateSplitFinetune).toBe(true);
    expect(evaluateSplitFinetune(problem, r?.decision as SplitFinetuneDecision).breakdown?.clients).toHaveLength(2);
  });
});

describe('split-finetune infeasibility and bad input', () => {
  const gpt2 = readExample('gpt2-medium-3-clients.json') as Record<string, unknown>;

  it('a model that fits on no client is explained in words with the shortfall', () => {
    const raw = {
      ...gpt2,
      clients: [{ name: 'tiny-phone', device: { id: 'phone', memoryBytes: 0.08e9 }, link: '5g-user-experienced' }],
    };
    const problem = parseSplitFinetune(raw);
    expect(solveExact(problem).decision).toBeNull();
    expect(explainSplitFinetuneInfeasible(problem)).toMatch(
      /tiny-phone needs at least [\d.]+ MB \(cut 1, .*\), its .* has 80\.0 MB \([\d.]+ MB short\)/,
    );
  });

  it('a server too small for the shared layers is explained', () => {
    const problem = parseSplitFinetune({ ...gpt2, server: { device: { id: 'rtx-3090', memoryBytes: 0.2e9 } } });
    expect(solveExact(problem).decision).toBeNull();
    expect(explainSplitFinetuneInfeasible(problem)).toMatch(/server/);
  });

  it('more clients than subchannels is explained', () => {
    const problem = parseSplitFinetune({ ...gpt2, subchannels: 2 });
    expect(solveExact(problem).decision).toBeNull();
    expect(explainSplitFinetuneInfeasible(problem)).toMatch(
      /3 clients need at least one uplink subchannel each, the cell has only 2/,
    );
  });

  it('a fixed freezing ratio of 1 (nothing left to train) is explained', () => {
    const problem = parseSplitFinetune({ ...gpt2, accuracy: { freezingRatio: 1 } });
    expect(solveExact(problem).decision).toBeNull();
    expect(explainSplitFinetuneInfeasible(problem)).toMatch(/freezes all 24 layers/);
  });

  it('an energy budget no option meets is explained, and a loose one is respected by the optimum', () => {
    const tight = parseSplitFinetune({ ...gpt2, energyBudgetJoulesPerRound: 1e-4 });
    expect(solveExact(tight).decision).toBeNull();
    expect(explainSplitFinetuneInfeasible(tight)).toMatch(/energy budget of 0\.0001 J per round/);
    const loose = parseSplitFinetune({ ...gpt2, energyBudgetJoulesPerRound: 0.5 });
    const r = solveExact(loose);
    expect(r.decision).not.toBeNull();
    const b = evaluateSplitFinetune(loose, r.decision as SplitFinetuneDecision).breakdown;
    for (const c of b?.clients ?? []) expect(c.energyJoulesPerRound).toBeLessThanOrEqual(0.5);
    expect(r.objective).toBeGreaterThanOrEqual(solveExact(parseSplitFinetune(gpt2)).objective);
  });

  it('a shared cut is never better than per-client cuts, and the shared optimum uses one pair', () => {
    const perClient = solveExact(parseSplitFinetune(gpt2));
    const sharedProblem = parseSplitFinetune({ ...gpt2, cutPolicy: 'shared' });
    const shared = solveExact(sharedProblem);
    expect(shared.objective).toBeGreaterThanOrEqual(perClient.objective * (1 - 1e-12));
    const pairs = new Set(shared.decision?.clients.map((c) => `${c.cut}:${c.frozenLayers}`));
    expect(pairs.size).toBe(1);
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['missing batch size', { batchSize: undefined }, '$.batchSize'],
    ['negative epochs', { epochs: -1 }, '$.epochs'],
    ['unknown field', { speed: 3 }, '$.speed'],
    ['cut range beyond L', { cutRange: { max: 30 } }, '$.cutRange.max'],
    ['unknown device', { server: { device: 'rtx-9090' } }, '$.server.device'],
    ['freezing ratio above 1', { accuracy: { maxFreezingRatio: 1.5 } }, '$.accuracy.maxFreezingRatio'],
    ['weights without weighted objective', { weights: { perSecond: 1, perJoule: 1 } }, '$.weights'],
    ['sequence longer than the context', { sequenceLength: 4096 }, '$.sequenceLength'],
    ['no clients', { clients: [] }, '$.clients'],
    ['bad link in a client', { clients: [{ device: 'phone', link: 'wifi-99' }] }, '$.clients[0].link'],
  ];
  for (const [what, patch, path] of bad) {
    it(`bad input (${what}) → InputError at ${path}`, () => {
      const raw: Record<string, unknown> = { ...gpt2, ...patch };
      for (const k of Object.keys(patch)) if (patch[k] === undefined) delete raw[k];
      try {
        parseSplitFinetune(raw);
        expect.unreachable('parse accepted bad input');
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).path).toBe(path);
      }
    });
  }

  it('evaluate names broken constraints in domain words', () => {
    const problem = parseSplitFinetune(gpt2);
    const e = evaluateSplitFinetune(problem, {
      clients: [
        { cut: 24, frozenLayers: 20, subchannels: 8 },
        { cut: 1, frozenLayers: 0, subchannels: 8 },
        { cut: 3, frozenLayers: 0, subchannels: 1 },
      ],
    });
    expect(e.feasible).toBe(false);
    const ids = e.violations.map((v) => v.constraint);
    expect(ids).toContain('subchannels');
    expect(ids).toContain('client[0].accuracy');
    expect(e.violations.find((v) => v.constraint === 'subchannels')?.excess).toBe(5);
  });
});
