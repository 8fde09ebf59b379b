/**
 * The row check of a backend's point (src/milp/check.ts) is relative to the row's own magnitude:
 * max(1, |limit|, max_j |a_ij x_j|). At a zero right-hand side the old rule, max(1, |limit|), was an
 * absolute 1e-6, and HiGHS's answers to fleet-serving models (flow balances over 1e4 tokens/s) were
 * rejected for missing one by 1.0000003e-6. These tests hold both sides: such a miss is accepted, a
 * genuine relative miss is rejected, and bounds and integrality are as they were.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { solveWith } from '../../src/backends/registry.ts';
import { buildSolution } from '../../src/backends/support.ts';
import { generateFleetInput } from '../../src/formulations/fleet-serving/generate.ts';
import { parseFleet } from '../../src/formulations/fleet-serving/index.ts';
import { compileStrong } from '../../src/formulations/fleet-serving/milp.ts';
import { evaluateMilp } from '../../src/formulations/milp/evaluate.ts';
import { compileMilp } from '../../src/formulations/milp/milp.ts';
import { decisionOf } from '../../src/formulations/milp/cost.ts';
import { parseMilp } from '../../src/formulations/milp/schema.ts';
import { FEASIBILITY_RTOL } from '../../src/formulations/tolerance.ts';
import { checkMilpSolution, DEFAULT_FEASIBILITY_TOLERANCE, rowMagnitude } from '../../src/milp/check.ts';
import { evaluateTerms, ModelBuilder, term } from '../../src/milp/model.ts';
import { scaleModel } from '../../src/milp/scale.ts';

/**
 * The shape HiGHS got wrong by a hair: max F over two routes with capacities, flow balance
 * `entering`: g1 + g2 − F = 0. Columns: F, g1, g2, on (binary: route 2 open).
 */
function flowModel() {
  const b = new ModelBuilder('flow', 'max');
  const f = b.addVariable('F', { lower: 0, upper: 1e5 });
  const g1 = b.addVariable('g1', { upper: 3000 });
  const g2 = b.addVariable('g2', { upper: 2430 });
  const on = b.addVariable('on', { type: 'binary' });
  b.equal('entering', [term(g1), term(g2), term(f, -1)], 0);
  b.lessEqual('cap', [term(g2), term(on, -2430)], 0);
  b.addObjective(f, 1);
  return b.build();
}

describe('row tolerance relative to the row magnitude', () => {
  it('is the project tolerance, not a second constant', () => {
    expect(DEFAULT_FEASIBILITY_TOLERANCE).toBe(FEASIBILITY_RTOL);
  });

  it('rowMagnitude is the largest |a_ij x_j| at the point (zero terms count for nothing)', () => {
    const terms = [term(0, 2), term(1, -1e6), term(2, -3)];
    expect(rowMagnitude(terms, [5, 0, 4])).toBe(12);
    expect(rowMagnitude(terms, [5, 1e-3, 4])).toBe(1000);
    expect(rowMagnitude([], [])).toBe(0);
  });

  it('accepts a zero-rhs row of 1e4-sized terms missed by 1e-6 absolute (HiGHS on fleet-serving)', () => {
    const model = flowModel();
    // The point HiGHS returned: F = 5430.000001 with g1 + g2 = 5430 (entering off by 1.0000003e-6).
    const point = [5430.000001, 3000, 2430, 1];
    const check = checkMilpSolution(model, point);
    expect(check.ok).toBe(true);
    // The old rule, |miss| / max(1, |rhs|), called it a violation: the case this fixes.
    const miss = Math.abs(3000 + 2430 - 5430.000001);
    expect(miss / Math.max(1, 0)).toBeGreaterThan(DEFAULT_FEASIBILITY_TOLERANCE);
    // And the guard's buildSolution keeps it, on the original and on the scaled model.
    const built = buildSolution(model, point, undefined, scaleModel(model));
    expect('solution' in built, 'error' in built ? built.error : '').toBe(true);
  });

  it('rejects the same row missed by a relative amount above the tolerance', () => {
    const model = flowModel();
    // 2e-6 relative to the largest term (5430): over the tolerance.
    const check = checkMilpSolution(model, [5430 * (1 + 2e-6), 3000, 2430, 1]);
    expect(check.ok).toBe(false);
    expect(check.violations.map((v) => [v.kind, v.name])).toEqual([['row-lower', 'entering']]);
    expect(check.maxViolation).toBeCloseTo(2e-6, 9);
    const built = buildSolution(model, [5430 * (1 + 2e-6), 3000, 2430, 1], undefined, scaleModel(model));
    expect('error' in built && built.error).toMatch(/row-lower of "entering"/);
  });

  it('rejects a zero-rhs row with small terms missed by more than 1e-6 (a big-M term at 0 excuses nothing)', () => {
    const model = flowModel();
    // GLPK's kind of miss: g2 = 1.3e-6 through a closed route (cap: g2 − 2430 on ≤ 0 with on = 0).
    const check = checkMilpSolution(model, [1.3e-6, 0, 1.3e-6, 0]);
    expect(check.ok).toBe(false);
    expect(check.violations.map((v) => [v.kind, v.name])).toEqual([['row-upper', 'cap']]);
    expect(check.maxViolation).toBeCloseTo(1.3e-6, 12);
  });

  it('judges a long row by its largest term, not by the sum of its terms', () => {
    // Σ_{i<1000} x_i − y = 0 with every x_i = 10 and y = 1e4 + 0.015: 1.5e-6 of the largest term
    // (y) is over the tolerance; relative to Σ|a x| = 2e4 it would be 7.5e-7 and pass.
    const b = new ModelBuilder('long', 'min');
    const xs = Array.from({ length: 1000 }, (_, i) => b.addVariable(`x${i}`));
    const y = b.addVariable('y');
    b.equal('sum', [...xs.map((x) => term(x)), term(y, -1)], 0);
    const model = b.build();
    const point = [...xs.map(() => 10), 1e4 + 0.015];
    expect(checkMilpSolution(model, point).ok).toBe(false);
    point[1000] = 1e4 + 0.005;
    expect(checkMilpSolution(model, point).ok).toBe(true);
  });

  it('leaves bounds and integrality as they were', () => {
    const model = flowModel();
    // on = 1 + 2e-6 sits in a row with terms of 2430, but integrality is absolute: rejected.
    const offInteger = checkMilpSolution(model, [5430, 3000, 2430, 1 + 2e-6]);
    expect(offInteger.violations.map((v) => v.kind)).toContain('integrality');
    // A column bound at 0 is still absolute: g1 = −2e-6 is below 0 whatever the rows' sizes.
    const below = checkMilpSolution(model, [2430 - 2e-6, -2e-6, 2430, 1]);
    expect(below.violations.map((v) => [v.kind, v.name])).toEqual([['lower-bound', 'g1']]);
    // Within 1e-6 of the bound and of the integer: accepted, as before.
    expect(checkMilpSolution(model, [5430, 3000, 2430, 1 + 5e-7]).ok).toBe(true);
  });

  it('the milp family evaluate agrees with the backends check on random one-sided and equality rows', () => {
    // Rows of 3 terms with coefficients and values across 1e-3..1e5, sides 0 or a value; points
    // placed at the side plus a relative offset on either side of the tolerance.
    const magnitude = fc.double({ min: -3, max: 5, noNaN: true }).map((e) => 10 ** e);
    const signed = fc.tuple(magnitude, fc.boolean()).map(([m, s]) => (s ? m : -m));
    const seen = { feasible: 0, infeasible: 0 };
    fc.assert(
      fc.property(
        fc.array(signed, { minLength: 3, maxLength: 3 }),
        fc.array(signed, { minLength: 3, maxLength: 3 }),
        fc.constantFrom('lower', 'upper', 'equals'),
        fc.boolean(),
        fc.integer({ min: 0, max: 400 }).map((k) => k * 1e-8), // uniform on 0..4e-6, not biased to 0
        (coefficients, values, side, zeroRhs, offset) => {
          const activity = coefficients.reduce((s, a, j) => s + a * values[j], 0);
          const rhs = zeroRhs ? 0 : activity;
          // Move the last column so the row meets `rhs`, then so it misses it by offset · (its magnitude).
          const shifted = [...values];
          shifted[2] += (rhs - activity) / coefficients[2];
          const largest = Math.max(1, Math.abs(rhs), ...coefficients.map((a, j) => Math.abs(a * shifted[j])));
          shifted[2] += ((side === 'lower' ? -1 : 1) * offset * largest) / coefficients[2];
          const raw = {
            kind: 'milp',
            sense: 'min',
            variables: [0, 1, 2].map((j) => ({ name: `v${j}`, type: 'continuous', lower: null, upper: null })),
            constraints: [
              { name: 'r', terms: { v0: coefficients[0], v1: coefficients[1], v2: coefficients[2] }, [side]: rhs },
            ],
            objective: {},
          };
          const problem = parseMilp(raw);
          const model = compileMilp(problem).model;
          const byCheck = checkMilpSolution(model, shifted).ok;
          const byEvaluate = evaluateMilp(problem, decisionOf(problem, shifted)).feasible;
          expect(byEvaluate).toBe(byCheck);
          seen[byCheck ? 'feasible' : 'infeasible']++;
        },
      ),
      { numRuns: 400, seed: 20261202 },
    );
    // Both verdicts occur, so the agreement is not vacuous.
    expect(seen.feasible).toBeGreaterThan(40);
    expect(seen.infeasible).toBeGreaterThan(40);
  });

  it('HiGHS on a complete-link fleet-serving model: its optimum is accepted, though a zero-rhs row misses by > 1e-6', async () => {
    // 4 Helix nodes, 12 layers, every pair linked: HiGHS proves 3342 tokens/s optimal (≈1 s, no time limit, so the
    // run is deterministic) at a point whose F is 3342.000001 — a boundary or entering row off by 1.0008e-6, which
    // the absolute rule at rhs 0 turned into a backend error.
    const problem = parseFleet(generateFleetInput({ nodes: 4, seed: 3, layers: 12 }));
    const { model } = compileStrong(problem);
    const r = await solveWith('highs', model, { mipGap: 1e-6 });
    expect(r.termination, r.message).toBe('optimal');
    expect(r.solution?.objective).toBeCloseTo(3342, 4);
    const values = r.solution?.values ?? [];
    const zeroRhsMiss = Math.max(
      ...model.constraints
        .filter((c) => c.lower === 0 && c.upper === 0)
        .map((c) => Math.abs(evaluateTerms(c.terms, values))),
    );
    // The case this instance exists for (if a new HiGHS lands exactly, pick another instance from the scan in
    // docs/scaling.md rather than dropping the test).
    expect(zeroRhsMiss).toBeGreaterThan(DEFAULT_FEASIBILITY_TOLERANCE);
    // …and is tiny beside the row's terms (a relative 3e-10).
    expect(zeroRhsMiss).toBeLessThan(1e-8 * 3342);
  }, 60_000);
});
