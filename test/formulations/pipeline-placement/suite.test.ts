import { describe, expect, it } from 'vitest';
import { suite } from '../../../src/bench/suites/pipeline-placement.ts';
import { pipelinePlacementFormulation as F } from '../../../src/formulations/pipeline-placement/index.ts';
import type { ExactContext } from '../../../src/formulations/types.ts';

const context: ExactContext = { mipGap: 1e-9, solveMilp: () => Promise.reject(new Error('unused')) };

describe('benchmark suite', () => {
  const all = [...suite.instances().map((i) => ({ name: i.name, problem: i.problem })), ...suite.scaling().flatMap((s) => s.points.map((p) => ({ name: `${s.parameter}=${p.size}`, problem: p.problem })))];
  it('every instance parses, is solved to optimality, and the optimum/peer ratio is ≤ 1 for every feasible peer', async () => {
    for (const { name, problem } of all) {
      const p = F.parse(problem);
      const r = await F.exact!.solve(p, context);
      expect(r.termination, name).toBe('optimal');
      const opt = F.evaluate(p, r.decision!);
      expect(opt.feasible, name).toBe(true);
      let feasiblePeers = 0;
      for (const peer of F.baselines) {
        const d = peer.run(p);
        if (!d) continue;
        const e = F.evaluate(p, d);
        if (!e.feasible) continue;
        feasiblePeers++;
        expect(opt.objective / e.objective, `${name} vs ${peer.name}`).toBeLessThanOrEqual(1 + 1e-12);
      }
      expect(feasiblePeers, name).toBeGreaterThan(0);
    }
  }, 120_000);
});
