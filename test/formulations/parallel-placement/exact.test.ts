import { describe, expect, it } from 'vitest';
import { parallelPlacementFormulation as F } from '../../../src/formulations/parallel-placement/index.ts';
import { searchOptimum } from '../../../src/formulations/parallel-placement/exact.ts';
import { sameObjective } from '../../../src/formulations/tolerance.ts';
import { bruteForceParallel, tinyParallel } from '../../contract/generators/parallel-placement.ts';

describe('parallel-placement exact DP against brute force', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}`, () => {
      const raw = tinyParallel(seed);
      const p = F.parse(raw);
      const brute = bruteForceParallel(raw);
      const dp = searchOptimum(p);
      if (brute.status === 'infeasible') {
        expect(dp.decision).toBeNull();
        return;
      }
      expect(dp.decision).not.toBeNull();
      const ev = F.evaluate(p, dp.decision!);
      expect(ev.violations).toEqual([]);
      expect(sameObjective(ev.objective, brute.objective)).toBe(true);
      expect(sameObjective(dp.objective, ev.objective)).toBe(true);
    });
  }
});
