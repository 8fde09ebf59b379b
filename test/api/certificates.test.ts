/**
 * The certificate rules of issue 13, each reproduced from its description with scripted backends
 * (so the solver's misbehaviour is exact and repeatable): a verdict is ours, the claim is kept.
 */
import { describe, expect, it } from 'vitest';
import {
  boundOnCorrectSide,
  compare,
  findContradictions,
  solve,
  type CompareRow,
  type MilpResult,
} from '../../src/api.ts';
import { example, scripted } from './helpers.ts';

const knapsack = example('knapsack');
const OPTIMUM = 309;
const optimalValues = [1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0];
/** Items 1, 2, 3, 12: feasible, objective 253. */
const worseValues = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1];

const answer = (backend: 'highs' | 'glpk' | 'jslp', result: Omit<MilpResult, 'backend' | 'timeSeconds'>) =>
  scripted(backend, () => ({ backend, timeSeconds: 0.01, ...result }));

describe('certify: the objective check is one-sided', () => {
  it("accepts a time-limited incumbent whose evaluate objective is better than the solver's (the Mixtral case)", async () => {
    // The solver values its incumbent at 250 (max problem), evaluate at 253: a legitimate, better objective.
    const held = answer('highs', {
      termination: 'time_limit',
      solution: { values: worseValues, objective: 250, bound: 320 },
    });
    const report = await solve(knapsack, { backend: 'highs', backends: { highs: held }, timeLimitSeconds: 20 });
    expect(report.termination).toBe('time_limit');
    expect(report.solution?.objective).toBe(253);
    expect(report.claim).toMatchObject({ termination: 'time_limit', objective: 250 });
    expect(report.attempts[0].notes.join(' ')).toMatch(
      /evaluate's objective 253 is better than the solver's 250: accepted/,
    );
  });

  it("rejects a solver objective better than evaluate's beyond the relative tolerance, keeping the claim", async () => {
    const liar = answer('highs', {
      termination: 'optimal',
      solution: { values: optimalValues, objective: 999, bound: 999 },
    });
    const report = await solve(knapsack, { backend: 'highs', backends: { highs: liar } });
    expect(report).toMatchObject({ termination: 'error', primalStatus: 'rejected', solution: null });
    expect(report.claim).toMatchObject({ termination: 'optimal', objective: 999, bound: 999 });
  });
});

describe('certify: bounds on the wrong side are dropped, and "optimal" needs our own gap', () => {
  it("drops a bound on the wrong side of a maximisation's objective and does not print optimal", async () => {
    // Claimed optimal with bound 300 < objective 309 on a max problem: the bound is impossible.
    const wrong = answer('highs', {
      termination: 'optimal',
      solution: { values: optimalValues, objective: OPTIMUM, bound: 300 },
    });
    const report = await solve(knapsack, { backend: 'highs', backends: { highs: wrong } });
    expect(report.termination).toBe('numerical_error');
    expect(report.solution?.objective).toBe(OPTIMUM);
    expect(report.solution?.bound).toBeUndefined();
    expect(report.bounds.dual).toBe(Infinity);
    expect(report.attempts[0].notes.join(' ')).toMatch(
      /bound 300 lies on the wrong side of the objective 309 \(below it\): dropped/,
    );
  });

  it('never prints optimal next to a gap above mipGap (the "optimal" and "gap 7.7%" case)', async () => {
    const loose = answer('highs', {
      termination: 'optimal',
      solution: { values: worseValues, objective: 253, bound: 272.5 },
    });
    const report = await solve(knapsack, { backend: 'highs', backends: { highs: loose } });
    expect(report.termination).toBe('numerical_error');
    expect(report.solution?.gap).toBeCloseTo((272.5 - 253) / 253, 12);
    expect(report.attempts[0].notes.join(' ')).toMatch(
      /claimed optimal, but our gap .* is 0\.0771 \(mipGap 0\.000001\)/,
    );
  });

  it('a backend without a bound is refuted by the bound probe when a better point exists', async () => {
    // glpk claims optimal at 253 with no bound (as glpk.js does); the real HiGHS finds 309.
    const glpk = answer('glpk', { termination: 'optimal', solution: { values: worseValues, objective: 253 } });
    const report = await solve(knapsack, { backend: 'glpk', backends: { glpk } });
    expect(report.termination).toBe('numerical_error');
    expect(report.solution?.objective).toBe(OPTIMUM);
    expect(report.attempts[0].notes.join(' ')).toMatch(/glpk claimed optimal at 253, but highs found a point at 309/);
  });
});

describe('claims of infeasibility are verified', () => {
  it('a jslp "infeasible" on a feasible model is contradicted by a trusted backend and becomes jslp\'s error', async () => {
    // javascript-lp-solver called the feasible netlib LP e226 infeasible; the same claim here, scripted.
    const jslp = {
      ...answer('jslp', { termination: 'infeasible', solution: null }),
      capabilities: {
        ...answer('jslp', { termination: 'error', solution: null }).capabilities,
        trustedInfeasibility: false,
      },
    };
    const forced = await solve(knapsack, { backend: 'jslp', backends: { jslp } });
    expect(forced.termination).toBe('error');
    expect(forced.attempts[0].message).toMatch(/claimed infeasible, but highs found a feasible point/);
    expect(forced.claim).toMatchObject({ termination: 'error', rawStatus: 'infeasible' });
  });

  it('compare flags infeasible against a checked point, whatever the other rows claim', async () => {
    const glpk = answer('glpk', { termination: 'infeasible', solution: null });
    const table = await compare(knapsack, { backends: { glpk }, only: ['highs', 'glpk'] });
    expect(table.agreement.agree).toBe(false);
    expect(table.contradictions.join('\n')).toMatch(
      /glpk reports infeasible, but highs holds a decision evaluate accepts \(objective 309\)/,
    );
  });
});

describe('compare: relative tolerances (the moe µs case)', () => {
  const row = (
    method: string,
    termination: CompareRow['termination'],
    objective: number | null,
    bound: number | null = null,
  ): CompareRow => ({
    method,
    kind: 'backend',
    termination,
    primalStatus: objective === null ? 'none' : 'feasible',
    claim: null,
    objective,
    bound,
    gap: null,
    timeSeconds: 0,
    feasible: objective === null ? null : true,
    notes: [],
  });

  it('optima of 5.31e-7, 1.05e-6 and 5.62e-7 are a disagreement, not "the same objective"', () => {
    const found = findContradictions(
      [row('exact', 'optimal', 5.31e-7), row('highs', 'optimal', 1.05e-6), row('glpk', 'optimal', 5.62e-7)],
      'min',
      1e-6,
    );
    expect(found.some((c) => /exact and highs both claim optimal with 5\.31e-7 and 0\.00000105/.test(c))).toBe(true);
    expect(found.some((c) => /highs claims optimal with 0\.00000105, but exact holds a better decision/.test(c))).toBe(
      true,
    );
  });

  it('bell5: 8966406.492 vs 8966413.705 agree only within the gap, and are said to (8.0e-7 relative), while 1e-7 flags them', () => {
    const rows = [row('highs', 'optimal', 8966406.492), row('glpk', 'optimal', 8966413.705)];
    expect(findContradictions(rows, 'min', 1e-6)).toEqual([]);
    expect(findContradictions(rows, 'min', 1e-7)).toEqual([]); // the objective tolerance 1e-6 still covers 8.0e-7
    const far = [row('highs', 'optimal', 8966406.492), row('glpk', 'optimal', 8966506.492)];
    expect(findContradictions(far, 'min', 1e-6).length).toBeGreaterThan(0);
  });

  it("unbounded against infeasible, and a bound beaten by another row's point", () => {
    expect(findContradictions([row('highs', 'unbounded', null), row('glpk', 'infeasible', null)], 'min', 1e-6)).toEqual(
      ['highs reports unbounded, glpk infeasible'],
    );
    const beaten = findContradictions(
      [row('highs', 'time_limit', 12, 11), row('exact', 'optimal', 10, 10)],
      'min',
      1e-6,
    );
    expect(beaten.join('\n')).toMatch(/highs's bound 11 is beaten by exact's decision \(10\): that bound is invalid/);
  });
});

describe('objective 0', () => {
  it('a bound of 2.2e-16 beside an objective of exactly 0 is rounding noise, not a wrong-side bound', () => {
    expect(boundOnCorrectSide('min', 0, 2.2e-16)).toBe(true);
    expect(boundOnCorrectSide('min', 0, 1e-9)).toBe(false);
    expect(boundOnCorrectSide('min', 5.31e-7, 1.05e-6)).toBe(false);
  });
});
