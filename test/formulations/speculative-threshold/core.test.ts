import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.ts';
import {
  draftedDistribution,
  expectedDrafted,
  expectedTokensGivenDrafted,
  leviathanExpectedTokens,
  leviathanSpeedup,
  leviathanTable1,
  roundExpectation,
  roundTable,
} from '../../../src/formulations/speculative-threshold/cost.ts';
import { solveUnconstrained } from '../../../src/formulations/speculative-threshold/exact.ts';
import { serverOnlySecondsPerToken } from '../../../src/formulations/speculative-threshold/evaluate.ts';
import { speculativeThresholdFormulation as f } from '../../../src/formulations/speculative-threshold/index.ts';
import { stationaryDistribution } from '../../../src/formulations/speculative-threshold/markov.ts';
import { example } from './gen.ts';

/** Leviathan et al.'s setting: a fixed target step T whatever the token count, no link cost. */
function leviathanProblem(alpha: number, c: number, maxDraft: number): Record<string, unknown> {
  const T = 0.02;
  return {
    kind: 'speculative-threshold',
    draft: { model: 'llama-3.2-1b', device: 'phone', secondsPerToken: c * T },
    target: { model: 'llama-2-7b', server: 'rtx-3090', verifySeconds: { fixedSeconds: T, perTokenSeconds: 0 } },
    acceptance: { alpha },
    payload: { headerBytes: 0 },
    channel: {
      states: [{ name: 'ideal', link: { uplinkBitsPerSecond: 1e18, downlinkBitsPerSecond: 1e18, latencySeconds: 0 } }],
    },
    draftTokens: { min: 0, max: maxDraft },
  };
}

function expectInputError(raw: unknown, path: string, rule?: RegExp): void {
  try {
    f.parse(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).path).toBe(path);
    if (rule) expect((e as InputError).rule).toMatch(rule);
    return;
  }
  throw new Error(`expected an InputError at ${path}`);
}

describe('Leviathan, Kalman & Matias (ICML 2023) formulas', () => {
  it('reproduces Table 1 (c = 0) to the two published decimals', () => {
    for (const row of leviathanTable1()) expect(Math.abs(row.computed - row.published)).toBeLessThan(0.005 + 1e-9);
  });

  it('the round model gives E[tokens] = (1 − α^(γ+1)) / (1 − α) and the speed-up E[tokens] / (γc + 1)', () => {
    for (const [alpha, gamma, c] of [
      [0.6, 2, 0],
      [0.8, 5, 0.05],
      [0.9, 10, 0.02],
      [0.75, 3, 0.3],
    ] as const) {
      const p = f.parse(leviathanProblem(alpha, Math.max(c, 1e-12), 12));
      const e = roundExpectation(p, p.states[0], gamma, p.options[0], 0);
      expect(e.expectedTokens).toBeCloseTo(leviathanExpectedTokens(alpha, gamma), 12);
      const ours = serverOnlySecondsPerToken(p) / (e.seconds / e.expectedTokens);
      expect(ours).toBeCloseTo(leviathanSpeedup(alpha, gamma, c), 8);
    }
  });

  it('with α > c some γ improves on plain decoding by at least (1 + α) / (1 + c)', () => {
    for (const [alpha, c] of [
      [0.6, 0.1],
      [0.8, 0.5],
      [0.3, 0.2],
    ] as const) {
      const p = f.parse(leviathanProblem(alpha, c, 20));
      const best = solveUnconstrained(p);
      expect(serverOnlySecondsPerToken(p) / best.ratio).toBeGreaterThanOrEqual((1 + alpha) / (1 + c) - 1e-12);
    }
  });

  it('expected tokens given D drafts matches the general form 1 + Σ_k Π_{i≤k} α_i', () => {
    expect(expectedTokensGivenDrafted([0.805, 0.785, 0.764], 3)).toBeCloseTo(
      1 + 0.805 + 0.805 * 0.785 + 0.805 * 0.785 * 0.764,
      14,
    );
  });
});

describe('threshold stop length', () => {
  it('D = min(γ, G) with G geometric: E[D] = Σ_{k=1..γ} q^k and the law sums to 1', () => {
    for (const [gamma, q] of [
      [0, 0.5],
      [5, 0.7],
      [12, 1],
      [3, 0],
    ] as const) {
      const dist = draftedDistribution(gamma, q);
      expect(dist.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
      let sum = 0;
      for (let k = 1; k <= gamma; k++) sum += q ** k;
      expect(expectedDrafted(gamma, q)).toBeCloseTo(sum, 12);
    }
  });

  it('expectedStopLength L maps to q = L / (1 + L), so E[G] = L', () => {
    const raw = example('phone-1b-draft-llama-2-7b-5g');
    const p = f.parse(raw);
    const row = p.options.find((o) => o.threshold === 0.4);
    expect(row?.continueProbability).toBeCloseTo(5 / 6, 14);
    expect(expectedDrafted(2000, 5 / 6)).toBeCloseTo(5, 6);
  });
});

describe('Markov channel', () => {
  it('two-state chain: π = (b, a) / (a + b)', () => {
    const a = 0.1;
    const b = 0.3;
    const r = stationaryDistribution([
      [1 - a, a],
      [b, 1 - b],
    ]);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.distribution[0]).toBeCloseTo(b / (a + b), 12);
      expect(r.distribution[1]).toBeCloseTo(a / (a + b), 12);
    }
  });

  it('periodic chains have a unique stationary law; transient states get 0', () => {
    const periodic = stationaryDistribution([
      [0, 1],
      [1, 0],
    ]);
    expect(periodic.ok).toBe(true);
    if (periodic.ok) for (const v of periodic.distribution) expect(v).toBeCloseTo(0.5, 14);
    const transient = stationaryDistribution([
      [0.5, 0.5, 0],
      [0, 0.2, 0.8],
      [0, 0.6, 0.4],
    ]);
    expect(transient.ok).toBe(true);
    if (transient.ok) {
      expect(transient.distribution[0]).toBe(0);
      expect(transient.distribution[1]).toBeCloseTo(0.6 / 1.4, 12);
    }
  });

  it('πP = π on the 5G example', () => {
    const p = f.parse(example('phone-1b-draft-llama-2-7b-5g'));
    const P = p.transitionMatrix as number[][];
    for (let j = 0; j < P.length; j++)
      expect(p.stationary.reduce((s, pi, i) => s + pi * P[i][j], 0)).toBeCloseTo(p.stationary[j], 12);
  });

  it('rejects a reducible chain, naming the closed classes', () => {
    const raw = example('phone-1b-draft-llama-2-7b-5g');
    const channel = raw.channel as Record<string, unknown>;
    channel.transitionMatrix = [
      [1, 0, 0],
      [0, 0.5, 0.5],
      [0, 0.5, 0.5],
    ];
    expectInputError(
      raw,
      '$.channel.transitionMatrix',
      /2 closed communicating classes \(\{good\} and \{medium, bad\}\)/,
    );
  });

  it('rejects a row that does not sum to 1 and a negative entry', () => {
    const raw = example('phone-1b-draft-llama-2-7b-5g');
    (raw.channel as Record<string, unknown>).transitionMatrix = [
      [0.9, 0.08, 0.02],
      [0.1, 0.7, 0.1],
      [0.05, 0.15, 0.8],
    ];
    expectInputError(raw, '$.channel.transitionMatrix[1]', /must sum to 1/);
    (raw.channel as Record<string, unknown>).transitionMatrix = [
      [0.9, 0.08, 0.02],
      [1.1, -0.1, 0],
      [0.05, 0.15, 0.8],
    ];
    expectInputError(raw, '$.channel.transitionMatrix[1][0]', /\[0, 1\]/);
  });
});

describe('bad input', () => {
  const base = (): Record<string, unknown> => example('phone-1b-draft-llama-2-7b-5g');
  it('names the JSON path and the rule', () => {
    const missing = base();
    delete missing.draftTokens;
    expectInputError(missing, '$.draftTokens', /required/);
    const extra = { ...base(), gamma: 3 };
    expectInputError(extra, '$.gamma', /unknown field/);
    const both = base();
    both.acceptance = { alpha: 0.7, perPosition: [0.8] };
    expectInputError(both, '$.acceptance', /exactly one/);
    const badAlpha = base();
    badAlpha.acceptance = { alpha: 1.2 };
    expectInputError(badAlpha, '$.acceptance.alpha', /probability/);
    const range = base();
    range.draftTokens = { min: 5, max: 3 };
    expectInputError(range, '$.draftTokens.min', /exceeds max/);
    const probs = base();
    probs.channel = { states: (probs.channel as { states: unknown[] }).states, probabilities: [0.5, 0.3, 0.1] };
    expectInputError(probs, '$.channel.probabilities', /sum to 1/);
    const unknownModel = base();
    unknownModel.target = { model: 'llama-2-7', server: 'rtx-3090' };
    expectInputError(unknownModel, '$.target.model', /unknown model/);
    const dupTau = base();
    dupTau.acceptance = {
      thresholds: [
        { threshold: 0.2, alpha: 0.8, continueProbability: 1 },
        { threshold: 0.2, alpha: 0.9, expectedStopLength: 3 },
      ],
    };
    expectInputError(dupTau, '$.acceptance.thresholds[1].threshold', /twice/);
    const nan = base();
    nan.contextTokens = Number.NaN;
    expectInputError(nan, '$.contextTokens');
    const noChain = base();
    noChain.channel = { states: (noChain.channel as { states: unknown[] }).states };
    expectInputError(noChain, '$.channel', /probabilities or transitionMatrix/);
  });

  it('evaluate flags a γ out of range and a τ not in the table, in words', () => {
    const p = f.parse(base());
    const e = f.evaluate(p, {
      mode: 'per-state',
      states: [
        { draftTokens: 40, threshold: 0 },
        { draftTokens: 3, threshold: 0.33 },
        { draftTokens: 3, threshold: 0.2 },
      ],
    });
    expect(e.feasible).toBe(false);
    expect(e.violations.map((v) => v.constraint)).toEqual(['states[0].draftTokens', 'states[1].threshold']);
    expect(e.violations[0].message).toMatch(/outside the allowed range 0..16/);
    expect(e.violations[0].excess).toBe(24);
    expect(
      f.evaluate(p, { mode: 'per-state', states: [{ draftTokens: 1, threshold: 0 }] }).violations[0].message,
    ).toMatch(/3 states/);
  });
});

describe('round table', () => {
  it('agrees with the per-outcome expectation that evaluate uses', () => {
    for (const name of ['phone-1b-draft-llama-2-7b-5g', 'satellite', 'energy-budget']) {
      const p = f.parse(example(name));
      const t = roundTable(p);
      p.states.forEach((st, s) => {
        t.choices.forEach((c, j) => {
          const e = roundExpectation(p, st, c.gamma, p.options[c.option], c.option);
          expect(t.seconds[s][j]).toBeCloseTo(e.seconds, 12);
          expect(t.joules[s][j]).toBeCloseTo(e.joules, 12);
          expect(t.tokens[s][j]).toBeCloseTo(e.expectedTokens, 12);
        });
      });
    }
  });
});

describe('thresholds in the decision', () => {
  it('picks a higher threshold when its rows make drafts much more reliable, and the simulator agrees', async () => {
    const { perStatePolicy, simulate } = await import('../../../src/formulations/speculative-threshold/simulate.ts');
    const raw = {
      ...example('phone-1b-draft-llama-2-7b-5g'),
      acceptance: {
        thresholds: [
          { threshold: 0, alpha: 0.5, continueProbability: 1 },
          { threshold: 0.5, alpha: 0.95, expectedStopLength: 9 },
        ],
      },
    };
    const p = f.parse(raw);
    const best = solveUnconstrained(p);
    const t = roundTable(p);
    for (const j of best.picks) expect(p.options[t.choices[j].option].threshold).toBe(0.5);
    const sim = simulate(p, perStatePolicy(best.picks.map((j) => t.choices[j])), { rounds: 50_000, seed: 3 });
    expect(Math.abs(sim.costPerToken.mean - best.ratio)).toBeLessThanOrEqual(3 * sim.costPerToken.standardError);
    const d = f.evaluate(p, {
      mode: 'per-state',
      states: best.picks.map((j) => ({ draftTokens: t.choices[j].gamma, threshold: 0.5 })),
    });
    expect(d.objective).toBeCloseTo(best.ratio, 12);
  });
});
