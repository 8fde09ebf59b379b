/**
 * The configuration bound (config-bound.ts): each layer covered by whole nodes. It must never cut
 * off a feasible flow (brute force on tiny fleets), and it must see what the layer-work bound
 * cannot: a weak node helps a layer only together with others.
 */
import { describe, expect, it } from 'vitest';
import { solveWith } from '../../../src/backends/registry.ts';
import { configurationBound } from '../../../src/formulations/fleet-serving/config-bound.ts';
import { coverBound, layerWorkBound } from '../../../src/formulations/fleet-serving/cost.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import { fleetServingGenerator } from '../../contract/generators/fleet-serving.ts';
import { fleetExample } from '../../support/fleet-examples.ts';

const highs = (m: Parameters<typeof solveWith>[1], o?: Parameters<typeof solveWith>[2]) => solveWith('highs', m, o);

type Raw = { nodes: unknown[]; links: { from: string; to: string; tokensPerSecond?: number }[] } & Record<
  string,
  unknown
>;

describe('fleet-serving configuration bound', () => {
  it('is never below the brute-force optimum (tiny fleets, links that bind and links that do not)', async () => {
    let checked = 0;
    let tighter = 0;
    for (let seed = 1; seed <= 30; seed++) {
      for (const tight of [false, true]) {
        const raw = structuredClone(fleetServingGenerator.tiny(seed)) as Raw;
        if (tight) {
          const random = mulberry32(seed * 7 + 1);
          raw.links = raw.links.map((l) => ({ ...l, tokensPerSecond: Math.round(3 + 40 * random()) }));
        }
        const bf = fleetServingGenerator.bruteForce(raw);
        const problem = parseFleet(raw);
        // A loose upper end, so that the configuration LP alone decides.
        const upper = 10 * problem.nodes.reduce((s, nd) => s + Math.max(0, ...nd.throughput), 0);
        const r = await configurationBound(problem, 0, upper, highs, { tolerance: 1e-6 });
        const optimum = bf.status === 'optimal' ? (bf.objective ?? 0) : 0;
        expect(r.bound, `seed ${seed}${tight ? ' (links bind)' : ''}`).toBeGreaterThanOrEqual(optimum * (1 - 1e-9));
        if (r.bound < layerWorkBound(problem) * (1 - 1e-6)) tighter++;
        checked++;
      }
    }
    expect(checked).toBe(60);
    expect(tighter).toBeGreaterThan(0);
  });

  it('is exact where a layer needs two weak nodes: 1000 (the layer-work bound says 1200)', async () => {
    const node = (name: string, t: number) => ({ name, throughputByLayers: { '1': t }, maxLayers: 1 });
    const names = ['a', 'b1', 'b2'];
    const problem = parseFleet({
      kind: 'fleet-serving',
      layers: 2,
      nodes: [node('a', 1000), node('b1', 700), node('b2', 700)],
      links: [
        ...names.map((n) => ({ from: 'source', to: n })),
        ...names.map((n) => ({ from: n, to: 'sink' })),
        ...names.flatMap((x) => names.filter((y) => y !== x).map((y) => ({ from: x, to: y }))),
      ],
    });
    // One layer on a (1000), the other on b1 + b2 (1400): 1000; the layer-work bound counts b's 700
    // towards a layer that a holds as well.
    expect(layerWorkBound(problem)).toBeCloseTo(1200, 6);
    const r = await configurationBound(problem, 0, 1200, highs, { tolerance: 1e-7 });
    expect(r.bound).toBeGreaterThanOrEqual(1000);
    expect(r.bound).toBeLessThanOrEqual(1000 * (1 + 1e-3));
  });

  it('takes helix-42 from the cover bound 6216.12 to below 6060', async () => {
    const problem = fleetExample('helix-42-llama70b-high-heterogeneity');
    const cover = coverBound(problem);
    expect(cover).toBeCloseTo(6216.12, 1);
    const r = await configurationBound(problem, 5741.68, cover, highs);
    expect(r.bound).toBeLessThan(6060);
    // 5741.68 is a placement pattern staging realises (patterns.test.ts): the bound stays above it.
    expect(r.bound).toBeGreaterThan(5741.68);
  });
});
