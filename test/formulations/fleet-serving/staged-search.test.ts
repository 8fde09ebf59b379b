import { describe, expect, it } from 'vitest';
import { fleetExample } from '../../support/fleet-examples.ts';
import { decisionOfPlacement, maxFlowOfPlacement } from '../../../src/formulations/fleet-serving/cost.ts';
import { evaluateFleet } from '../../../src/formulations/fleet-serving/evaluate.ts';
import { stagedPipeline } from '../../../src/formulations/fleet-serving/stages.ts';

const helix42 = fleetExample('helix-42-llama70b-high-heterogeneity');

describe('fleet-serving staged pipelines (depth-first search)', () => {
  it('helix-42: backtracking finds a staged pipeline carrying 4600 tokens/s (a short search does not)', () => {
    const all = new Array<boolean>(helix42.nodes.length).fill(true);
    const stages = stagedPipeline(helix42, 4600, all, 1.5, 20_000);
    expect(stages).not.toBeNull();
    const start = new Array<number>(helix42.nodes.length).fill(0);
    const k = new Array<number>(helix42.nodes.length).fill(0);
    let pos = 0;
    for (const s of stages ?? []) {
      expect(s.start).toBe(pos);
      pos += s.k;
      for (const i of s.members) {
        expect(k[i]).toBe(0);
        start[i] = s.start;
        k[i] = s.k;
      }
    }
    expect(pos).toBe(helix42.layers);
    // Every member of a stage is linked from every member of the stage before: the stage carries F.
    expect(maxFlowOfPlacement(helix42, { start, k }).value).toBeGreaterThanOrEqual(4600);
    // Re-checked by evaluate: above Helix's published best (4137.55).
    const e = evaluateFleet(helix42, decisionOfPlacement(helix42, { start, k }));
    expect(e.feasible).toBe(true);
    expect(e.objective).toBeGreaterThanOrEqual(4600 * (1 - 1e-9));
    // With the default budget of 400 expansions (little backtracking) the construction gets stuck.
    expect(stagedPipeline(helix42, 4600, all, 1.5, 400)).toBeNull();
  });
});
