/**
 * Issue 14 items 14–15 and issue 13 item 6 for speculative-threshold: a valid Dinkelbach bound,
 * no bound when the solver proved none, one budget tolerance for solve and check, infeasible (not
 * a violating decision) below the least reachable energy, and energies printed by magnitude.
 */
import { describe, expect, it } from 'vitest';
import { check, solve } from '../../../src/api.ts';
import { getBackend } from '../../../src/backends/registry.ts';
import { policyRatio, roundTable, tokensPerRoundRange } from '../../../src/formulations/speculative-threshold/cost.ts';
import { decisionFromPicks } from '../../../src/formulations/speculative-threshold/decision.ts';
import {
  solveExact,
  solveUnconstrained,
  type DinkelbachDetails,
} from '../../../src/formulations/speculative-threshold/exact.ts';
import { explainInfeasible, leastEnergyPerToken } from '../../../src/formulations/speculative-threshold/explain.ts';
import { speculativeThresholdFormulation as f } from '../../../src/formulations/speculative-threshold/index.ts';
import type {
  SpeculativeDecision,
  SpeculativeProblem,
} from '../../../src/formulations/speculative-threshold/schema.ts';
import { formatJoules, formatJoulesPair } from '../../../src/formulations/speculative-threshold/units.ts';
import type { ExactContext, SolveMilp } from '../../../src/formulations/types.ts';
import { example } from './gen.ts';

/** The budgeted optimum by enumerating every per-state policy (valued with the option table). */
function bruteForce(p: SpeculativeProblem): number {
  const n = roundTable(p).choices.length;
  const S = p.states.length;
  const B = p.energyBudgetJoulesPerToken as number;
  let best = Infinity;
  const picks = new Array<number>(S).fill(0);
  for (let code = 0; code < n ** S; code++) {
    let c = code;
    for (let s = 0; s < S; s++) {
      picks[s] = c % n;
      c = Math.floor(c / n);
    }
    const r = policyRatio(p, picks);
    if (r.joules <= B * r.tokens * (1 + 1e-6) && r.ratio < best) best = r.ratio;
  }
  return best;
}

const highs = (model: Parameters<SolveMilp>[0], options?: Parameters<SolveMilp>[1]) =>
  getBackend('highs').solve(model, options);

describe('item 14: the exact method reports only valid bounds', () => {
  // The energy-budget example: 3 channel states, a 30 mJ/token budget; optimum 38.61 ms/token.
  const raw = example('energy-budget');
  const p = f.parse(raw);
  const optimum = bruteForce(p);

  it('with F(λ) < 0 the bound divides by the least expected tokens per round (the largest gave a bound above the optimum)', async () => {
    // The first Dinkelbach subproblem is solved exactly (its dual bound is F(λ0) itself), then the
    // run stops at a time limit: the reported bound is what the first iteration proved.
    let calls = 0;
    const firstOnly: SolveMilp = async (model, options) => {
      calls++;
      if (calls > 1) return { backend: 'highs', termination: 'time_limit', solution: null, timeSeconds: 0 };
      return { ...(await highs(model, options)), termination: 'time_limit' };
    };
    const r = await solveExact(p, { mipGap: 1e-9, solveMilp: firstOnly });
    expect(r.termination).toBe('time_limit');
    const first = (r.details as DinkelbachDetails).iterations[0];
    expect(first.value).toBeLessThan(0);
    const tokens = tokensPerRoundRange(p);
    // The old bound λ + F/max Σπ N lies above the true optimum on this instance …
    expect(first.lambda + first.value / tokens.max).toBeGreaterThan(optimum * (1 + 1e-6));
    // … the reported one does not.
    expect(r.bound).toBeDefined();
    expect(r.bound as number).toBeLessThanOrEqual(optimum * (1 + 1e-9));
  });

  it('a subproblem stopped at a time limit without a dual bound gives no bound (never the primal value)', async () => {
    let calls = 0;
    const noDualBound: SolveMilp = async (model, options) => {
      calls++;
      if (calls > 1) return { backend: 'highs', termination: 'time_limit', solution: null, timeSeconds: 0 };
      const res = await highs(model, options);
      const sol = res.solution as NonNullable<typeof res.solution>;
      return { ...res, termination: 'time_limit', solution: { values: sol.values, objective: sol.objective } };
    };
    const r = await solveExact(p, { mipGap: 1e-9, solveMilp: noDualBound });
    expect(r.termination).toBe('time_limit');
    expect(r.decision).not.toBeNull();
    expect(r.bound).toBeUndefined();
  });

  it('a full run proves the optimum with a bound at or below it', async () => {
    const r = await solveExact(p, { mipGap: 1e-9, solveMilp: highs });
    expect(r.termination).toBe('optimal');
    const ratio = policyRatio(p, (r.details as DinkelbachDetails).picks).ratio;
    expect(ratio).toBeCloseTo(optimum, 12);
    expect(r.bound as number).toBeLessThanOrEqual(ratio * (1 + 1e-12));
    expect(r.bound as number).toBeGreaterThanOrEqual(ratio * (1 - 1e-6));
  });

  it("starts from the chain's incumbent when it is a better feasible policy", async () => {
    const best = await solveExact(p, { mipGap: 1e-9, solveMilp: highs });
    const incumbent = best.decision as SpeculativeDecision;
    const ctx: ExactContext<SpeculativeDecision> = { mipGap: 1e-9, solveMilp: highs, incumbent };
    const again = await solveExact(p, ctx);
    expect(again.termination).toBe('optimal');
    expect((again.details as DinkelbachDetails).iterations[0].lambda).toBeCloseTo(optimum, 12);
  });
});

describe('item 15 / issue 13 item 6: one budget tolerance for solve and check', () => {
  const base = example('energy-budget');
  const least = leastEnergyPerToken(f.parse(base));
  const atLeast = { ...base, energyBudgetJoulesPerToken: least };

  it('a budget of exactly the least reachable energy is feasible for every method and for check', async () => {
    // ≈ 123.43 µJ per token on this example: server-only decoding, the radio sending request headers.
    expect(least).toBeCloseTo(123.43e-6, 8);
    for (const backend of ['exact', 'highs', 'glpk'] as const) {
      const report = await solve(atLeast, { backend });
      expect(report.termination, backend).toBe('optimal');
      expect(report.solution?.evaluation.feasible, backend).toBe(true);
    }
    const p = f.parse(atLeast);
    const energyOnly = solveUnconstrained({
      ...p,
      objective: { name: 'energy', secondsWeight: 0, joulesWeight: 1 },
      energyBudgetJoulesPerToken: null,
    });
    const report = check(atLeast, decisionFromPicks(p, energyOnly.picks));
    expect(report.feasible).toBe(true);
    expect(explainInfeasible(p)).toBe('a feasible policy exists');
  }, 60_000);

  it('a budget 0.01% below it is infeasible for every method (exit 1), never a violating decision', async () => {
    const below = { ...base, energyBudgetJoulesPerToken: least * (1 - 1e-4) };
    for (const backend of ['exact', 'highs', 'glpk'] as const) {
      const report = await solve(below, { backend });
      expect(report.termination, backend).toBe('infeasible');
      expect(report.solution, backend).toBeNull();
    }
    const why = explainInfeasible(f.parse(below));
    const [budget, spent] = why.match(/\d+\.\d+ [mµn]?J/g) as string[];
    expect(budget).not.toBe(spent);
    expect(why).toMatch(
      /budget is 123\.42 µJ per token, but the least any policy spends is 123\.43 µJ per token \(short by 12\.343 nJ\)/,
    );
  }, 60_000);

  it('energies print in the unit their magnitude calls for, and a pair never prints alike', () => {
    expect(formatJoules(3e-6)).toBe('3.00 µJ');
    expect(formatJoules(0.0301)).toBe('30.10 mJ');
    expect(formatJoules(2.5)).toBe('2.50 J');
    expect(formatJoulesPair(3.0004e-6, 3.0001e-6)).toEqual(['3.0004 µJ', '3.0001 µJ']);
    expect(formatJoulesPair(1e-6, 0.0141)).toEqual(['1.00 µJ', '14.10 mJ']);
    expect(formatJoulesPair(123.42e-6, 123.4212e-6)).toEqual(['123.420 µJ', '123.421 µJ']);
    // A µJ budget: the explanation says µJ, not "0.00 mJ".
    const tiny = f.parse({ ...base, energyBudgetJoulesPerToken: 3e-6 });
    expect(explainInfeasible(tiny)).toMatch(/budget is 3\.00 µJ per token/);
  });
});
