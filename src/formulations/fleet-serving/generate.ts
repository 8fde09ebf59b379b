/**
 * Synthetic Helix-like fleets for the benchmark's scaling series: n nodes whose throughput tables
 * are the seven measured GPU profiles of Helix's 42-node LLaMA-70B instance (A100, L4, T4 … with
 * their maxLayers), drawn in a seeded order, on L = 80 layers. `regions` > 1 splits the fleet into
 * regions joined only through the first node of each region (hub) by links of `interRegionTokensPerSecond`,
 * so that inter-region links can bind; requests enter and leave at every node.
 */
import { mulberry32 } from '../../util/random.ts';

/** Helix's 42-node instance, one table per GPU kind (tokens/s at k layers, k = 1 …), with maxLayers. */
const PROFILES: readonly (readonly number[])[] = [
  [6180, 2912, 1622, 928],
  [17269, 8427, 5441, 3929, 3061, 2462, 2030, 1713, 1450, 1291, 1107, 964, 839, 728],
  [9111, 4239, 2563, 1812, 1285, 917, 656],
  [14014, 5890, 3342, 1982],
  [20504, 10086, 6641, 4892, 3841, 3137, 2651, 2269, 1981, 1739, 1549, 1389, 1282, 1180, 1071, 974, 873, 781],
  [31327, 15363, 9918, 7039, 5430, 4251, 3406, 2847, 2340, 1931, 1653, 1364],
  [12194, 5814, 3664, 2706, 2121, 1627, 1272, 1022, 783],
];

export interface SyntheticFleetOptions {
  readonly nodes: number;
  readonly seed?: number;
  readonly layers?: number;
  readonly regions?: number;
  readonly interRegionTokensPerSecond?: number;
}

export function generateFleetInput(o: SyntheticFleetOptions): Record<string, unknown> {
  const random = mulberry32(o.seed ?? 1);
  const regions = Math.max(1, o.regions ?? 1);
  const nodes = Array.from({ length: o.nodes }, (_, i) => {
    const table = PROFILES[Math.floor(random() * PROFILES.length)];
    return {
      name: `r${i % regions}-n${i}`,
      throughputByLayers: Object.fromEntries(table.map((t, k) => [String(k + 1), t])),
      maxLayers: table.length,
    };
  });
  const base = {
    kind: 'fleet-serving',
    description:
      `synthetic Helix-like fleet: ${o.nodes} nodes with Helix's measured LLaMA-70B tables, ` + `${regions} region(s)`,
    layers: o.layers ?? 80,
    nodes,
  };
  if (regions === 1) return { ...base, defaultLink: {} };
  const links: Record<string, unknown>[] = [];
  const regionOf = (i: number): number => i % regions;
  for (let i = 0; i < o.nodes; i++) {
    for (let j = 0; j < o.nodes; j++) {
      if (i === j) continue;
      if (regionOf(i) === regionOf(j)) links.push({ from: nodes[i].name, to: nodes[j].name });
      else if (i < regions && j < regions)
        links.push({ from: nodes[i].name, to: nodes[j].name, tokensPerSecond: o.interRegionTokensPerSecond ?? 2000 });
    }
  }
  return { ...base, links };
}
