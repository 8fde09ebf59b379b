import { describe, expect, it } from 'vitest';
import { check, solve } from '../../../src/api.ts';
import { suite } from '../../../src/bench/suites/pipeline-placement.ts';
import { pipelinePlacementFormulation as F } from '../../../src/formulations/pipeline-placement/index.ts';

describe('benchmark suite', () => {
  const all = [
    ...suite.instances().map((i) => ({ name: i.name, problem: i.problem })),
    ...suite.scaling().flatMap((s) => s.points.map((p) => ({ name: `${s.parameter}=${p.size}`, problem: p.problem }))),
  ];
  it('every instance is solved to optimality, and the optimum/peer ratio is ≤ 1 for every feasible peer', async () => {
    for (const { name, problem } of all) {
      const r = await solve(problem, { backend: 'exact' });
      expect(r.termination, name).toBe('optimal');
      const p = F.parse(problem);
      let feasiblePeers = 0;
      for (const peer of F.baselines) {
        const d = peer.run(p);
        if (!d) continue;
        const c = check(problem, d);
        if (!c.feasible) continue;
        feasiblePeers++;
        expect(r.solution!.objective / c.objective, `${name} vs ${peer.name}`).toBeLessThanOrEqual(1 + 1e-12);
      }
      expect(feasiblePeers, name).toBeGreaterThan(0);
    }
  }, 120_000);
});
