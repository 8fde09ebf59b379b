import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { solveWith } from '../../src/backends/registry.ts';
import { buildSolution } from '../../src/backends/support.ts';
import { checkMilpSolution, describeViolations } from '../../src/milp/check.ts';
import {
  assignmentColumn,
  generalizedAssignment,
  generalizedAssignmentData,
  generalizedAssignmentModel,
  mulberry32,
} from '../../src/milp/generators.ts';
import { ModelBuilder, term } from '../../src/milp/model.ts';
import { bruteForceAssignment } from './catalogue.ts';

vi.setConfig({ testTimeout: 60_000 });

/** x ∈ [−1, 2], n integer in [0, 10]; band: 1 ≤ x + n ≤ 3; eq: 1000 n = 2000. */
function smallModel() {
  const b = new ModelBuilder('small', 'min');
  const x = b.addVariable('x', { lower: -1, upper: 2 });
  const n = b.addVariable('n', { type: 'integer', upper: 10 });
  b.addConstraint('band', [term(x), term(n)], 1, 3);
  b.equal('eq', [term(n, 1000)], 2000);
  return b.build();
}

describe('checkMilpSolution', () => {
  const model = smallModel();

  it('accepts a feasible point', () => {
    const check = checkMilpSolution(model, [0.5, 2]);
    expect(check).toEqual({ ok: true, violations: [], maxViolation: 0 });
    expect(describeViolations(check)).toBe('feasible');
  });

  it.each([
    ['lower-bound', [-1.5, 2], 'x'],
    ['upper-bound', [2.5, 2], 'x'],
    ['integrality', [0.5, 2.001], 'n'],
    ['row-lower', [-1.5, 2], 'band'],
    ['row-upper', [1.5, 2], 'band'],
    ['not-finite', [Number.NaN, 2], 'x'],
  ] as const)('reports %s', (kind, values, name) => {
    const check = checkMilpSolution(model, values);
    expect(check.ok).toBe(false);
    expect(check.violations.map((v) => [v.kind, v.name])).toContainEqual([kind, name]);
    expect(describeViolations(check)).toContain(JSON.stringify(name));
  });

  it('reports a vector of the wrong length', () => {
    expect(checkMilpSolution(model, [1]).violations[0].kind).toBe('length');
  });

  it('scales row tolerance by the size of the right-hand side', () => {
    const b = new ModelBuilder('scaled', 'min');
    const z = b.addVariable('z');
    b.equal('big', [term(z, 1000)], 2000);
    const scaled = b.build();
    // |1000 z − 2000| / 2000: 0.0005 off is 2.5e-7 (accepted), 0.01 off is 5e-6 (not).
    expect(checkMilpSolution(scaled, [2.0000005]).ok).toBe(true);
    const off = checkMilpSolution(scaled, [2.00001]);
    expect(off.violations.map((v) => v.kind)).toEqual(['row-upper']);
    expect(off.maxViolation).toBeCloseTo(5e-6, 8);
    expect(checkMilpSolution(scaled, [2.00001], 1e-4).ok).toBe(true);
  });
});

describe('buildSolution (shared by every adapter)', () => {
  it('snaps near-integers, clamps just-outside bounds, and turns −0 into 0', () => {
    const built = buildSolution(smallModel(), [-1 - 1e-12, 2 + 3e-6]);
    expect(built).toEqual({ solution: { values: [-1, 2], objective: 0 } });
    const zero = buildSolution(smallModel(), [-0, 2]);
    expect('solution' in zero && Object.is(zero.solution.values[0], 0)).toBe(true);
  });

  it('keeps the raw values when snapping would break a row', () => {
    // 10⁶ (b1 + b2 − b3 − b4) = −2 with b1 = b2 = 0.9999995 and b3 = b4 = 1.0000005: each is within 1e-6 of
    // its integer, but snapping all four moves the activity by 2, i.e. 2e-6 of the row's largest term (10⁶).
    // (One snapped column alone cannot do it: its error is at most 1e-6 of its own term.)
    const b = new ModelBuilder('bigM', 'min');
    const on = [1, 2, 3, 4].map((i) => b.addVariable(`b${i}`, { type: 'binary' }));
    b.equal('link', on.map((v, i) => term(v, i < 2 ? 1e6 : -1e6)), -2);
    const raw = [0.9999995, 0.9999995, 1.0000005, 1.0000005];
    const built = buildSolution(b.build(), raw);
    expect('solution' in built && built.solution.values).toEqual(raw);
  });

  it('refuses an infeasible point, and reports bound and gap only for MIPs', () => {
    const model = smallModel();
    expect(buildSolution(model, [0.5, 1.5])).toMatchObject({ error: expect.stringContaining('integrality') });
    const withBound = buildSolution(model, [0.5, 2], 1.5);
    expect(withBound).toEqual({ solution: { values: [0.5, 2], objective: 0, bound: 1.5, gap: 1.5e10 } });
    const lp = new ModelBuilder('lp', 'min');
    lp.addObjective(lp.addVariable('x'), 1);
    expect(buildSolution(lp.build(), [1], 0.5)).toEqual({ solution: { values: [1], objective: 1 } });
  });
});

describe('generalized-assignment generator', () => {
  it('mulberry32 is deterministic and uniform-looking in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const draws = Array.from({ length: 1000 }, () => a());
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(draws.every((u) => u >= 0 && u < 1)).toBe(true);
    const mean = draws.reduce((s, u) => s + u, 0) / draws.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });

  it('builds a type-D instance: item-major binaries, assignment and capacity rows', () => {
    const data = generalizedAssignmentData(100, 10, 5);
    const model = generalizedAssignment(100, 10, 5);
    expect(model).toEqual(generalizedAssignment(100, 10, 5));
    expect(model).not.toEqual(generalizedAssignment(100, 10, 6));
    expect(model.variables).toHaveLength(1000);
    expect(model.variables.every((v) => v.type === 'binary' && v.lower === 0 && v.upper === 1)).toBe(true);
    expect(model.constraints).toHaveLength(110);
    expect(model.variables[assignmentColumn(3, 7, 10)].name).toBe('x[3][7]');
    for (let i = 0; i < 100; i++) {
      for (let j = 0; j < 10; j++) {
        const w = data.weight[i][j];
        expect(w).toBeGreaterThanOrEqual(1);
        expect(w).toBeLessThanOrEqual(100);
        expect(Math.abs(data.cost[i][j] - (111 - w))).toBeLessThanOrEqual(10);
      }
    }
    for (let j = 0; j < 10; j++) {
      const total = data.weight.reduce((s, row) => s + row[j], 0);
      expect(data.capacity[j]).toBe(Math.floor((0.8 * total) / 10));
    }
  });

  it('rejects nonsense sizes', () => {
    expect(() => generalizedAssignment(0, 3, 1)).toThrow(RangeError);
    expect(() => generalizedAssignment(3, 1.5, 1)).toThrow(RangeError);
    expect(() => generalizedAssignment(3, 3, 1, 0)).toThrow(RangeError);
  });

  it('HiGHS agrees with brute force on small random instances', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 2, max: 3 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.double({ min: 0.5, max: 1.2, noNaN: true }),
        async (items, servers, seed, ratio) => {
          const data = generalizedAssignmentData(items, servers, seed, ratio);
          const expected = bruteForceAssignment(data);
          const result = await solveWith('highs', generalizedAssignmentModel(data));
          expect(result.termination).toBe(expected.termination);
          if (expected.termination === 'optimal') expect(result.solution?.objective).toBe(expected.objective);
        },
      ),
      { numRuns: 25, seed: 20240601 },
    );
  });
});
