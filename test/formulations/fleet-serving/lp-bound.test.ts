import { describe, expect, it } from 'vitest';
import { solveWith } from '../../../src/backends/registry.ts';
import { coverBound } from '../../../src/formulations/fleet-serving/cost.ts';
import { evaluateFleet } from '../../../src/formulations/fleet-serving/evaluate.ts';
import { solveFleetExact } from '../../../src/formulations/fleet-serving/exact.ts';
import type { FleetDecision } from '../../../src/formulations/fleet-serving/schema.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import { linkAwareBound } from '../../../src/formulations/fleet-serving/lp-bound.ts';
import { fleetServingGenerator } from '../../contract/generators/fleet-serving.ts';
import { mulberry32 } from '../../../src/util/random.ts';

const highs = (m: Parameters<typeof solveWith>[1], o?: Parameters<typeof solveWith>[2]) => solveWith('highs', m, o);

type Raw = { nodes: unknown[]; links: { from: string; to: string; tokensPerSecond?: number }[] } & Record<
  string,
  unknown
>;

/** A tiny fleet of the contract generator; with `tight`, every link gets a capacity that binds. */
function instance(seed: number, tight: boolean): Raw {
  const raw = structuredClone(fleetServingGenerator.tiny(seed)) as Raw;
  if (tight) {
    const random = mulberry32(seed * 7 + 1);
    raw.links = raw.links.map((l) => ({ ...l, tokensPerSecond: Math.round(3 + 40 * random()) }));
  }
  return raw;
}

describe('fleet-serving link-aware bound', () => {
  it('is never below the brute-force optimum (tiny fleets, links that bind and links that do not)', async () => {
    let checked = 0;
    let tighter = 0;
    let growths = 0;
    // Seeds 1–24, and four where the LP's pipelines revisit nodes (the memories grow there).
    for (const seed of [...Array.from({ length: 24 }, (_, i) => i + 1), 25, 33, 38, 40]) {
      for (const tight of [false, true]) {
        const raw = instance(seed, tight);
        const bf = fleetServingGenerator.bruteForce(raw);
        const problem = parseFleet(raw);
        // A loose upper end, so that the LP alone decides (the cover bound cannot mask an error).
        const upper = 10 * problem.nodes.reduce((s, nd) => s + Math.max(0, ...nd.throughput), 0);
        const r = await linkAwareBound(problem, 0, upper, highs);
        const optimum = bf.status === 'optimal' ? (bf.objective ?? 0) : 0;
        expect(r.bound, `seed ${seed}${tight ? ' (links bind)' : ''}`).toBeGreaterThanOrEqual(optimum * (1 - 1e-9));
        if (r.bound < coverBound(problem) * (1 - 1e-6)) tighter++;
        growths += r.memoryGrowths;
        checked++;
      }
    }
    expect(checked).toBe(56);
    // Where links bind the LP sees them and the cover bound does not.
    expect(tighter).toBeGreaterThan(5);
    // The ng memories were grown somewhere, so their pricing is covered by the comparison too.
    expect(growths).toBeGreaterThan(0);
  });

  it('sees a slow link between the region of the source and that of the sink', async () => {
    const node = (name: string) => ({ name, throughputByLayers: { '1': 900, '2': 500 } });
    const raw = {
      kind: 'fleet-serving',
      layers: 4,
      nodes: [node('a0'), node('a1'), node('b0'), node('b1')],
      links: [
        { from: 'source', to: 'a0' },
        { from: 'source', to: 'a1' },
        { from: 'a0', to: 'a1' },
        { from: 'a1', to: 'a0' },
        { from: 'b0', to: 'b1' },
        { from: 'b1', to: 'b0' },
        { from: 'a0', to: 'b0', tokensPerSecond: 120 },
        { from: 'a1', to: 'b1', tokensPerSecond: 80 },
        { from: 'b0', to: 'sink' },
        { from: 'b1', to: 'sink' },
      ],
    };
    const problem = parseFleet(raw);
    expect(coverBound(problem)).toBeGreaterThan(400);
    const r = await linkAwareBound(problem, 0, coverBound(problem), highs);
    expect(r.bound).toBeLessThanOrEqual(200 * (1 + 1e-3));
    expect(r.bound).toBeGreaterThanOrEqual(200);
    // The exact method uses it: optimal at the two links' 200 tokens/s, proven by this bound alone
    // (the cover bound says 450; no MILP runs).
    const s = await solveFleetExact(problem, { mipGap: 1e-6, solveMilp: highs });
    expect(s.termination).toBe('optimal');
    expect(s.bound).toBeLessThanOrEqual(200 * (1 + 1e-6));
    const details = s.details as { linkBound?: { bound: number }; milp?: unknown };
    expect(details.linkBound?.bound).toBeLessThanOrEqual(200 * (1 + 1e-6));
    expect(details.milp).toBeUndefined();
    expect(evaluateFleet(problem, s.decision as FleetDecision).objective).toBeCloseTo(200, 6);
  });
});
