/**
 * issue 14, split-finetune items 24–29, and the solve-chain interface (pure compile + encode,
 * tolerance policy, warnings, time limit), each pinned with the numbers of the description.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { totalParams } from '../../../src/cost/model.ts';
import { loraParamsOfLayer, loraParamsPerLayer } from '../../../src/cost/training.ts';
import { resolveModel } from '../../../src/catalog/index.ts';
import { checkMilpSolution } from '../../../src/milp/check.ts';
import { objectiveValue } from '../../../src/milp/model.ts';
import { splitFinetuneBaselines, splitLoraFixedCut } from '../../../src/formulations/split-finetune/baselines.ts';
import { decisionCost, periodTypes, splitContext } from '../../../src/formulations/split-finetune/cost.ts';
import {
  evaluateSplitFinetune,
  explainSplitFinetuneInfeasible,
} from '../../../src/formulations/split-finetune/evaluate.ts';
import { solveExact } from '../../../src/formulations/split-finetune/exact.ts';
import { splitFinetuneFormulation } from '../../../src/formulations/split-finetune/index.ts';
import { compileSplitFinetune } from '../../../src/formulations/split-finetune/milp.ts';
import { checkRules } from '../../../src/formulations/split-finetune/rules.ts';
import { parseSplitFinetune, type SplitFinetuneDecision } from '../../../src/formulations/split-finetune/schema.ts';
import { generator } from '../../contract/generators/split-finetune.ts';
import { tinyArb, tinyInput } from './helpers.ts';

type Raw = Record<string, unknown>;
const example = (name: string): Raw =>
  JSON.parse(readFileSync(new URL(`../../../problems/split-finetune/${name}.json`, import.meta.url), 'utf8')) as Raw;
const runs = (n: number) => ({ numRuns: n, seed: 20261123 });

describe('item 24: one LoRA adapter per expert', () => {
  const mixtral = resolveModel('mixtral-8x7b', '$.model');
  const upDown = { rank: 8, targets: ['up', 'down'] as const };

  it('Mixtral, r = 8 on up/down: 8 × 294,912 adapter parameters per layer', () => {
    expect(loraParamsPerLayer(mixtral, upDown)).toBe(294_912);
    expect(loraParamsOfLayer(mixtral, upDown, 1)).toBe(8 * 294_912);
  });

  it('DeepSeek-V3: dense layers keep one FFN adapter, MoE layers one per routed and shared expert', () => {
    const ds = resolveModel('deepseek-v3', '$.model');
    const down = { rank: 4, targets: ['down'] as const };
    expect(loraParamsOfLayer(ds, down, 1)).toBe(4 * (18432 + 7168));
    expect(loraParamsOfLayer(ds, down, 4)).toBe((256 + 1) * 4 * (2048 + 7168));
  });

  it('Mixtral: adapter memory, aggregation traffic and trainableParamFraction are 8× the dense count', () => {
    const raw = {
      ...example('gpt2-medium-3-clients'),
      model: 'mixtral-8x7b',
      lora: { rank: 8, targets: ['up', 'down'] },
      sequenceLength: 256,
    };
    const problem = parseSplitFinetune(raw);
    const ctx = splitContext(problem);
    const cost = decisionCost(ctx, 0, { cut: 2, frozenLayers: 0, subchannels: 4 });
    expect(cost.adapterBytes).toBe(2 * 8 * 294_912 * 2);
    const e = evaluateSplitFinetune(problem, {
      clients: [0, 1, 2].map(() => ({ cut: 2, frozenLayers: 0, subchannels: 4 })),
    });
    expect(e.breakdown?.clients[0].trainableParams).toBe(32 * 8 * 294_912);
    expect(e.breakdown?.clients[0].trainableParamFraction).toBeCloseTo((32 * 8 * 294_912) / totalParams(mixtral), 12);
  });
});

describe('item 25: the aggregation barrier', () => {
  it('period shapes: R = 10, E = 3, aggregation every 4 rounds → 8 periods of four shapes', () => {
    expect(periodTypes(10, 3, 4)).toEqual([
      { count: 2, firstEpochRounds: 4, laterRounds: 0 },
      { count: 1, firstEpochRounds: 2, laterRounds: 2 },
      { count: 4, firstEpochRounds: 0, laterRounds: 4 },
      { count: 1, firstEpochRounds: 0, laterRounds: 2 },
    ]);
    expect(periodTypes(200, 3, 200)).toEqual([
      { count: 1, firstEpochRounds: 200, laterRounds: 0 },
      { count: 2, firstEpochRounds: 0, laterRounds: 200 },
    ]);
  });

  it('llama-2-7b-10-clients-5g: 9 frozen clients + 1 trainable (the fluid optimum, 3982.8 s) take 5803.6 s', () => {
    const problem = parseSplitFinetune(example('llama-2-7b-10-clients-5g'));
    const frozen = [3, 3, 6, 2, 2, 1, 2, 1, 2].map((subchannels) => ({ cut: 16, frozenLayers: 16, subchannels }));
    const decision: SplitFinetuneDecision = { clients: [...frozen, { cut: 32, frozenLayers: 16, subchannels: 2 }] };
    const e = evaluateSplitFinetune(problem, decision);
    expect(e.feasible).toBe(true);
    expect(e.objective).toBeCloseTo(5803.6, 1);
    expect(e.breakdown?.aggregations).toBe(3);
    // The fluid figure was max over clients of their own busy time; the barrier can only add to it.
    const fluid = Math.max(...(e.breakdown?.clients ?? []).map((c) => c.roundSeconds)) * (e.breakdown?.rounds ?? 0);
    expect(fluid).toBeCloseTo(3982.8, 1);
    const exact = solveExact(problem);
    expect(exact.objective).toBeLessThan(e.objective);
    expect(evaluateSplitFinetune(problem, exact.decision as SplitFinetuneDecision).objective).toBeCloseTo(
      exact.objective,
      6,
    );
  });

  it('the barrier training time is never below the busiest client (tiny instances)', () => {
    fc.assert(
      fc.property(tinyArb(3), (o) => {
        const problem = parseSplitFinetune(tinyInput(o));
        const r = solveExact(problem);
        if (r.decision === null) return;
        const b = evaluateSplitFinetune(problem, r.decision).breakdown;
        const busiest = Math.max(...(b?.clients ?? []).map((c) => c.roundSeconds));
        expect(b?.roundSeconds ?? 0).toBeGreaterThanOrEqual(busiest * (1 - 1e-12));
      }),
      runs(20),
    );
  });
});

describe('item 26: frozen clients and the uplink; receive energy', () => {
  const gpt2 = example('gpt2-medium-3-clients');

  it('the allocation is one per run: a fully frozen client keeps its subchannels (Σ n ≤ N counts it)', () => {
    const problem = parseSplitFinetune(gpt2);
    const d = {
      clients: [
        { cut: 12, frozenLayers: 12, subchannels: 4 },
        { cut: 6, frozenLayers: 0, subchannels: 5 },
        { cut: 6, frozenLayers: 0, subchannels: 4 },
      ],
    };
    const e = evaluateSplitFinetune(problem, d);
    expect(e.violations.map((v) => v.constraint)).toEqual(['subchannels']);
    expect(e.violations[0].excess).toBe(1);
  });

  it('receivePowerWatts counts the gradient and adapter downloads; a frozen client receives nothing', () => {
    const clients = (gpt2.clients as Raw[]).map((c) => ({ ...c, receivePowerWatts: 2 }));
    const withRx = splitContext(parseSplitFinetune({ ...gpt2, clients }));
    const without = splitContext(parseSplitFinetune(gpt2));
    const d = { cut: 6, frozenLayers: 2, subchannels: 4 };
    const a = decisionCost(withRx, 2, d);
    const b = decisionCost(without, 2, d);
    expect(a.receiveSecondsPerRound).toBeGreaterThan(0);
    expect(a.energyJoulesPerRound - b.energyJoulesPerRound).toBeCloseTo(2 * a.receiveSecondsPerRound, 12);
    const frozen = decisionCost(withRx, 2, { cut: 6, frozenLayers: 6, subchannels: 4 });
    expect(frozen.receiveSecondsPerRound).toBe(0);
  });
});

describe('item 27: subchannels and monotonicity (the stated rule)', () => {
  const gpt2 = example('gpt2-medium-3-clients');
  const opt = (raw: Raw) => solveExact(parseSplitFinetune(raw)).objective;

  it('with the default rate 1/N, N + 1 does not refine N: GPT-2 example 8 → 9 subchannels gets worse', () => {
    expect(opt({ ...gpt2, subchannels: 9 })).toBeGreaterThan(opt({ ...gpt2, subchannels: 8 }) * 1.01);
  });

  it('with the default rate, 2N refines N; with a fixed per-subchannel rate, N + 1 adds spectrum: never worse', () => {
    expect(opt({ ...gpt2, subchannels: 16 })).toBeLessThanOrEqual(opt({ ...gpt2, subchannels: 8 }) * (1 + 1e-12));
    expect(opt({ ...gpt2, subchannels: 9, subchannelRateFraction: 1 / 8 })).toBeLessThanOrEqual(
      opt({ ...gpt2, subchannels: 8 }) * (1 + 1e-12),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), (seed) => {
        const raw = generator.tiny(seed) as Raw;
        // Instances in a shared cell have resource blocks instead (the contract's relaxations cover those).
        if (typeof raw.subchannels !== 'number') return;
        const base = solveExact(parseSplitFinetune(raw));
        if (base.decision === null) return;
        const N = raw.subchannels;
        for (const grown of [
          { ...raw, subchannels: 2 * N },
          { ...raw, subchannels: N + 1, subchannelRateFraction: raw.subchannelRateFraction ?? 1 / N },
        ])
          expect(solveExact(parseSplitFinetune(grown)).objective).toBeLessThanOrEqual(base.objective * (1 + 1e-9));
      }),
      runs(25),
    );
  });
});

describe('item 28: minTrainableFraction that LoRA cannot reach', () => {
  it('GPT-2 medium, r = 4 on q, v, minTrainableFraction 0.01: the adapters reach only 0.11%', () => {
    const problem = parseSplitFinetune({
      ...example('gpt2-medium-3-clients'),
      accuracy: { minTrainableFraction: 0.01 },
    });
    expect(solveExact(problem).decision).toBeNull();
    const why = explainSplitFinetuneInfeasible(problem);
    expect(why).toMatch(
      /^the LoRA adapters cannot reach minTrainableFraction 0\.01 \(1\.00% of the model's parameters\)/,
    );
    expect(why).toMatch(/rank 4 on q, v in all 24 layers trains 393,216 of [\d,]+ parameters \(0\.11\d%\)/);
    expect(why).not.toMatch(/-\d/);
    expect(why).not.toMatch(/freezing ratio/);
  });

  it('a reachable fraction with a conflicting fixed ratio names both rules', () => {
    const problem = parseSplitFinetune({
      ...example('gpt2-medium-3-clients'),
      accuracy: { minTrainableFraction: 0.0008, freezingRatio: 0.5 },
    });
    expect(explainSplitFinetuneInfeasible(problem)).toMatch(
      /fixed freezing ratio 0\.5 freezes 12 layers, but minTrainableFraction 0\.0008 allow at most \d+/,
    );
  });
});

describe('item 29: every peer says why it has no decision', () => {
  it("SplitLoRA's fixed cut on llama-2-13b phones: 8.50 GB needed, 8.00 GB on the phone", () => {
    const problem = parseSplitFinetune(example('llama-2-13b-phones-fixed-cut-infeasible'));
    expect(splitLoraFixedCut.run(problem)).toBeNull();
    expect(splitLoraFixedCut.whyNoDecision?.(problem)).toMatch(
      /^its fixed cut 10 does not fit: phone-1 needs 8\.50 GB for layers 1\.\.10 \(10 trainable\), its .* has 8\.00 GB/,
    );
  });

  it('a peer with no decision gives a specific reason; a peer decision passes the rules and evaluate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), (seed) => {
        const problem = parseSplitFinetune(generator.tiny(seed));
        for (const peer of splitFinetuneBaselines) {
          const d = peer.run(problem);
          if (d === null) {
            const why = peer.whyNoDecision?.(problem) ?? '';
            expect(why.length).toBeGreaterThan(20);
            expect(why).not.toBe('it found a decision');
          } else {
            expect(checkRules(problem, d).broken).toEqual([]);
            expect(evaluateSplitFinetune(problem, d).feasible).toBe(true);
          }
        }
      }),
      runs(40),
    );
  });
});

describe('solve-chain interface', () => {
  it('compile with an incumbent: encode gives a model-feasible point no worse than it, decode reads it back', () => {
    const problem = parseSplitFinetune(example('gpt2-medium-3-clients'));
    const incumbent = splitFinetuneBaselines[2].run(problem) as SplitFinetuneDecision;
    const upper = checkRules(problem, incumbent).objective;
    const compiled = compileSplitFinetune(problem, { incumbent });
    const values = compiled.encode?.(incumbent);
    expect(values).not.toBeNull();
    const v = values as readonly number[];
    expect(checkMilpSolution(compiled.model, v).ok).toBe(true);
    expect(objectiveValue(compiled.model, v)).toBeLessThanOrEqual(upper * (1 + 1e-9));
    const back = compiled.decode(v);
    expect(evaluateSplitFinetune(problem, back).objective).toBeLessThanOrEqual(upper * (1 + 1e-9));
    // The cut-off drops options, never the optimum: the pruned model is smaller.
    expect(compiled.model.variables.length).toBeLessThan(compileSplitFinetune(problem).model.variables.length);
  });

  it('one tolerance: a server 0.5 ppm short of the optimum’s need is accepted by exact and evaluate alike', () => {
    const raw = example('gpt2-medium-3-clients');
    const problem = parseSplitFinetune(raw);
    const r = solveExact(problem);
    const need = evaluateSplitFinetune(problem, r.decision as SplitFinetuneDecision).breakdown?.server
      .memoryBytes as number;
    const tight = { ...raw, server: { device: { id: 'rtx-3090', memoryBytes: need * (1 - 0.5e-6) } } };
    const tp = parseSplitFinetune(tight);
    expect(evaluateSplitFinetune(tp, r.decision as SplitFinetuneDecision).feasible).toBe(true);
    const again = solveExact(tp);
    expect(again.objective).toBeCloseTo(r.objective, 6);
  });

  it('warnings: an uplink of 50 bit/s and 48 bytes of memory are remarked with their paths, never refused', () => {
    const gpt2 = example('gpt2-medium-3-clients');
    const clients = gpt2.clients as Raw[];
    const raw = {
      ...gpt2,
      clients: [
        { ...clients[0], link: { id: '5g-user-experienced', uplinkBitsPerSecond: 50 } },
        { ...clients[1], device: { id: 'jetson-orin-nx-16gb', memoryBytes: 48 } },
        clients[2],
      ],
    };
    const warnings = splitFinetuneFormulation.warnings?.(parseSplitFinetune(raw)) ?? [];
    const paths = warnings.map((w) => w.path);
    expect(paths).toContain('$.clients[0].link.uplinkBitsPerSecond');
    expect(paths).toContain('$.clients[1].device.memoryBytes');
    expect(splitFinetuneFormulation.warnings?.(parseSplitFinetune(gpt2))).toEqual([]);
  });

  it("the exact method has no hidden limit, and honours the user's: an expired deadline gives a valid bound", () => {
    const problem = parseSplitFinetune(example('llama-2-7b-10-clients-5g'));
    const full = solveExact(problem);
    expect(full.timedOut).toBe(false);
    const cut = solveExact(problem, { deadlineMs: performance.now() - 1 });
    expect(cut.timedOut).toBe(true);
    expect(cut.bound).toBeLessThanOrEqual(full.objective * (1 + 1e-12));
  });
});
