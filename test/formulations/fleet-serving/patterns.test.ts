/**
 * Pattern staging (patterns.ts): the stages chosen for the whole fleet, then ordered and named. On
 * helix-42 (hubs and edge nodes that reach each other only through them) the greedy staged search
 * and LNS stalled at 5 215.90 tokens/s; one target of pattern staging realises 5 741.68.
 */
import { describe, expect, it } from 'vitest';
import { fleetExample } from '../../support/fleet-examples.ts';
import { solveWith } from '../../../src/backends/registry.ts';
import {
  decisionOfPlacement,
  independentSet,
  maxFlowOfPlacement,
} from '../../../src/formulations/fleet-serving/cost.ts';
import { evaluateFleet } from '../../../src/formulations/fleet-serving/evaluate.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import { stagedAtTarget } from '../../../src/formulations/fleet-serving/patterns.ts';

const highs = (m: Parameters<typeof solveWith>[1], o?: Parameters<typeof solveWith>[2]) => solveWith('highs', m, o);
const helix42 = fleetExample('helix-42-llama70b-high-heterogeneity');

describe('fleet-serving pattern staging', () => {
  it('realises a helix-42 placement at 5700 tokens/s that evaluate confirms (the greedy search stalled at 5215.90)', async () => {
    const { placement, outcome } = await stagedAtTarget(helix42, 5700, highs, 120);
    expect(outcome).toBe('realised');
    expect(placement).not.toBeNull();
    if (placement === null) return;
    const flow = maxFlowOfPlacement(helix42, placement).value;
    expect(flow).toBeGreaterThanOrEqual(5700);
    const evaluation = evaluateFleet(helix42, decisionOfPlacement(helix42, placement));
    expect(evaluation.feasible).toBe(true);
    expect(evaluation.objective).toBeCloseTo(flow, 6);
    // Edge nodes (the independent set) are never next to each other on a routed path.
    const inI = independentSet(helix42);
    const ends = new Map<number, number[]>();
    helix42.nodes.forEach((_, i) => {
      if (placement.k[i] > 0) ends.set(placement.start[i], [...(ends.get(placement.start[i]) ?? []), i]);
    });
    for (let i = 0; i < helix42.nodes.length; i++) {
      if (!inI[i] || placement.k[i] === 0) continue;
      const next = ends.get(placement.start[i] + placement.k[i]) ?? [];
      expect(next.every((j) => !inI[j])).toBe(true);
    }
  }, 180_000);

  it('gives up (null) at a target above the cover bound', async () => {
    const { placement } = await stagedAtTarget(helix42, 7000, highs, 30);
    expect(placement).toBeNull();
  });

  it('routes the target over slow links between stages instead of asking every member pair to be linked', async () => {
    // Two sites joined by two 60 tokens/s links (a1 → b1, a2 → b2); each site's pair holds two layers
    // at 60 + 60. The stages are not linked member to member (no a1 → b2), yet the two links carry 120.
    const node = (name: string) => ({ name, throughputByLayers: { '1': 90, '2': 60 }, maxLayers: 2 });
    const slow = parseFleet({
      kind: 'fleet-serving',
      layers: 4,
      nodes: [node('a1'), node('a2'), node('b1'), node('b2')],
      links: [
        { from: 'source', to: 'a1' },
        { from: 'source', to: 'a2' },
        { from: 'a1', to: 'b1', tokensPerSecond: 60 },
        { from: 'a2', to: 'b2', tokensPerSecond: 60 },
        { from: 'b1', to: 'sink' },
        { from: 'b2', to: 'sink' },
      ],
    });
    const at100 = await stagedAtTarget(slow, 100, highs, 30);
    expect(at100.outcome).toBe('realised');
    expect(at100.placement).not.toBeNull();
    if (at100.placement !== null) expect(maxFlowOfPlacement(slow, at100.placement).value).toBeGreaterThanOrEqual(100);
    // The two links carry 120 at most: a higher target is out of reach.
    expect((await stagedAtTarget(slow, 130, highs, 30)).placement).toBeNull();
  });
});
