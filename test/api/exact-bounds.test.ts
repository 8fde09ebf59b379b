/**
 * An exact method's "optimal" is not taken on a sub-solver's word: a backend that says optimal but reports no bound
 * (glpk.js does that for every MIP) must not yield a certified optimum through the exact method. The exact methods
 * report only a bound the backend gave or one of their own, and certify downgrades an "optimal" without one
 * (src/solve/certify.ts), as it does a backend's. The stub below is the real HiGHS with its bound removed; GLPK is
 * made to fail so that the exact method's sub-solver is the stub.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { solve, type Backend, type MilpResult, type SolveOptions } from '../../src/api.ts';
import { getBackend } from '../../src/backends/registry.ts';
import { failing } from './helpers.ts';

/** The real HiGHS, its MIP answers stripped of their bound (and gap): "optimal" on its word only. */
function withoutBound(): Backend & { stripped: number } {
  const real = getBackend('highs');
  const stub = {
    ...real,
    stripped: 0,
    async solve(...args: Parameters<Backend['solve']>): Promise<MilpResult> {
      const r = await real.solve(...args);
      if (r.solution === null || r.solution.bound === undefined) return r;
      const { bound: _bound, gap: _gap, ...rest } = r.solution;
      stub.stripped++;
      return { ...r, solution: rest };
    },
  };
  return stub;
}

/** a → b (two stages, 70 ms with the link) and c (20 ms): under the 100 ms SLO all serve, 80 tokens/s. */
const sloFleet = {
  kind: 'fleet-serving',
  layers: 4,
  nodes: [
    { name: 'a', throughputByLayers: { '1': 100, '2': 60 }, secondsPerLayer: 0.005 },
    { name: 'b', throughputByLayers: { '1': 100, '2': 50 }, secondsPerLayer: 0.005 },
    { name: 'c', throughputByLayers: { '4': 30 }, latencyByLayers: { '4': 0.02 } },
  ],
  defaultLink: { tokensPerSecond: 1000, latencySeconds: 0.05 },
  latencySloSeconds: 0.1,
};

const example = (path: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../problems/${path}`, import.meta.url), 'utf8'));

describe('exact methods: a sub-solver\'s "optimal" without a bound is not a certificate', () => {
  it('fleet-serving SLO variant: the variant MILP called optimal without a bound is not certified', async () => {
    const highs = withoutBound();
    const options: SolveOptions = { backend: 'exact', backends: { highs, glpk: failing('glpk') } };
    const report = await solve(sloFleet, options);
    expect(highs.stripped).toBeGreaterThan(0);
    expect(report.claim?.termination).toBe('optimal');
    expect(report.termination).toBe('numerical_error');
    expect(report.solution?.objective).toBe(80); // the point is held, not proven
    expect(report.solution?.bound).toBeUndefined();
    const notes = report.attempts[0].notes.join('\n');
    expect(notes).toContain('the exact method claimed optimal without a bound');
    expect(notes).toMatch(/claimed optimal, but no valid bound survived/);
    expect(report.attempts[0].message).toMatch(/highs called the variant MILP optimal but reported no bound/);
  });

  it('the same instance with the real HiGHS (which reports its bound) is certified optimal', async () => {
    const report = await solve(sloFleet, { backend: 'exact', backends: { glpk: failing('glpk') } });
    expect(report.termination).toBe('optimal');
    expect(report.solution?.objective).toBe(80);
  });

  it('auto: the exact attempt is downgraded and the chain earns the bound by its own probe', async () => {
    const highs = withoutBound();
    const report = await solve(sloFleet, { backends: { highs, glpk: failing('glpk') } });
    expect(report.attempts[0]).toMatchObject({ method: 'exact', termination: 'numerical_error' });
    // HiGHS's own attempt has no bound either: the chain's cut-off probe proves one, so the verdict is the chain's.
    expect(report.method).toBe('highs');
    expect(report.termination).toBe('optimal');
    expect(report.attempts[1].notes.join('\n')).toMatch(/highs proved no point beats .* \(cut-off probe/);
  });

  it('speculative-threshold energy budget: Dinkelbach does not turn a bound-less "optimal" into a bound', async () => {
    const highs = withoutBound();
    const problem = example('speculative-threshold/energy-budget.json');
    const report = await solve(problem, { backend: 'exact', backends: { highs, glpk: failing('glpk') } });
    expect(highs.stripped).toBeGreaterThan(0);
    expect(report.termination).not.toBe('optimal');
    const real = await solve(problem, { backend: 'exact', backends: { glpk: failing('glpk') } });
    expect(real.termination).toBe('optimal');
  });
});
