import { describe, expect, it } from 'vitest';
import { parallelPlacementFormulation as F } from '../../../src/formulations/parallel-placement/index.ts';
import { searchOptimum, solveExact } from '../../../src/formulations/parallel-placement/exact.ts';
import { sameObjective } from '../../../src/formulations/tolerance.ts';
import { bruteForceParallel, tinyParallel } from '../../contract/generators/parallel-placement.ts';

const noMilp = () => Promise.reject(new Error('the DP needs no MILP'));

describe('parallel-placement exact DP against brute force', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}`, async () => {
      const raw = tinyParallel(seed);
      const p = F.parse(raw);
      const brute = bruteForceParallel(raw);
      // The full method: in training a scalar pass, then the Pareto pass cut off at its value.
      const res = await solveExact(p, { mipGap: 1e-6, solveMilp: noMilp });
      const plain = searchOptimum(p);
      if (brute.status === 'infeasible') {
        expect(res.termination).toBe('infeasible');
        expect(plain.decision).toBeNull();
        return;
      }
      expect(res.termination).toBe('optimal');
      const ev = F.evaluate(p, res.decision!);
      expect(ev.violations).toEqual([]);
      expect(sameObjective(ev.objective, brute.objective)).toBe(true);
      expect(sameObjective(res.bound!, ev.objective)).toBe(true);
      // The uncut Pareto DP agrees.
      expect(sameObjective(plain.objective, brute.objective)).toBe(true);
    });
  }
});
