/**
 * Peers of the variants, scored by evaluate like every method:
 * - single-pipeline-slo (latency or TTFT SLO): the single best pipeline whose path times meet the SLOs;
 * - cheapest-first and tokens-per-dollar-first (target): rent nodes one at a time in price order
 *   (or by rent per full-model tokens/s, the cost efficiency Mélange ranks GPU types by), place the
 *   rented set with the family's placement heuristics, stop at the first set that reaches the target;
 * - single-type (target): Mélange's baseline (Griggs et al. 2024): a fleet of one node type only,
 *   as few as reach the target; the cheapest type wins.
 */
import type { Baseline } from '../types.ts';
import { bestSingleChain, packChains, placementOfChains } from './chains.ts';
import type { Placement } from './cost.ts';
import type { FleetDecision, FleetProblem } from './schema.ts';
import { decideVariant, hasPathBound, pathBounds, routedFlow } from './variants.ts';
import { atLeast } from '../tolerance.ts';

/** The fleet with only the rented nodes able to hold layers (indices unchanged). */
function masked(problem: FleetProblem, rented: readonly boolean[]): FleetProblem {
  return {
    ...problem,
    nodes: problem.nodes.map((node, i) => (rented[i] ? node : { ...node, throughput: [0], maxLayers: 0 })),
  };
}

type Placer = (p: FleetProblem) => Placement | null;

/**
 * The best decision (most tokens/s) the family's placement heuristics give the rented nodes: the
 * single best pipeline, disjoint chains, and the max-flow peers passed in; each routed under the
 * variants (decideVariant). Budgets are work counts, so the result is deterministic.
 */
export function placeRented(
  problem: FleetProblem,
  rented: readonly boolean[],
  placers: readonly Placer[],
): FleetDecision | null {
  const m = masked(problem, rented);
  let best: FleetDecision | null = null;
  const candidates: (Placement | null)[] = [...placers.map((place) => place(m))];
  const chains = packChains(m, Infinity, 2_000);
  if (chains.length > 0) candidates.push(placementOfChains(m, chains));
  const single = bestSingleChain(m, 5_000);
  if (single !== null) candidates.push(placementOfChains(m, [single]));
  if (hasPathBound(problem)) {
    const slo = sloChainPlacement(m);
    if (slo !== null) candidates.push(slo);
  }
  for (const pl of candidates) {
    if (pl === null) continue;
    const d = decideVariant(problem, pl);
    if (d !== null && (best === null || routedFlow(d) > routedFlow(best))) best = d;
  }
  return best;
}

const rentOfDecision = (problem: FleetProblem, d: FleetDecision): number => {
  const used = new Set(d.placement.map((p) => p.node));
  return problem.nodes.reduce((s, node) => s + (used.has(node.name) ? (node.costPerHour ?? 0) : 0), 0);
};

/** Rent nodes in the given order until the placed set reaches the target. */
function greedyRent(problem: FleetProblem, order: readonly number[], placers: readonly Placer[]): FleetDecision | null {
  const target = problem.targetTokensPerSecond;
  if (target === undefined) return null;
  const rented = new Array<boolean>(problem.nodes.length).fill(false);
  for (const i of order) {
    rented[i] = true;
    const d = placeRented(problem, rented, placers);
    if (d !== null && atLeast(routedFlow(d), target)) return d;
  }
  return null;
}

/** Layer-work capacity of a node: the most full-model tokens/s it could contribute (max k·T(k) / L). */
function fullModelTokensPerSecond(problem: FleetProblem, i: number): number {
  const node = problem.nodes[i];
  let best = 0;
  for (let k = 1; k <= node.maxLayers; k++) best = Math.max(best, k * (node.throughput[k] ?? 0));
  return best / problem.layers;
}

export function cheapestFirst(problem: FleetProblem, placers: readonly Placer[]): FleetDecision | null {
  const order = [...problem.nodes.keys()].sort(
    (a, b) =>
      (problem.nodes[a].costPerHour ?? 0) - (problem.nodes[b].costPerHour ?? 0) ||
      fullModelTokensPerSecond(problem, b) - fullModelTokensPerSecond(problem, a),
  );
  return greedyRent(problem, order, placers);
}

export function tokensPerDollarFirst(problem: FleetProblem, placers: readonly Placer[]): FleetDecision | null {
  const efficiency = (i: number): number =>
    fullModelTokensPerSecond(problem, i) / Math.max(problem.nodes[i].costPerHour ?? 0, 1e-12);
  const order = [...problem.nodes.keys()].sort((a, b) => efficiency(b) - efficiency(a) || a - b);
  return greedyRent(problem, order, placers);
}

/**
 * Mélange's single-GPU-type baseline: per node type (same device or table, and price), rent the
 * fewest that reach the target; the cheapest type wins.
 */
export function singleType(problem: FleetProblem, placers: readonly Placer[]): FleetDecision | null {
  const types = new Map<string, number[]>();
  problem.nodes.forEach((node, i) => {
    const id = `${node.device ?? node.throughput.join(',')}|${node.maxLayers}|${node.costPerHour ?? 0}`;
    types.set(id, [...(types.get(id) ?? []), i]);
  });
  let best: FleetDecision | null = null;
  for (const members of types.values()) {
    const d = greedyRent(problem, members, placers);
    if (d !== null && (best === null || rentOfDecision(problem, d) < rentOfDecision(problem, best))) best = d;
  }
  return best;
}

/**
 * The single best pipeline under the path bounds: a chain of distinct linked nodes tiling layers
 * 1..L whose time meets every bound (per-token latency: links + decode; time to first token: links,
 * the prompt's transfer and prefill), with the highest bottleneck. Thresholds (table values and
 * capacities) are tried from the highest; at each, a depth-first search with a work budget looks
 * for a chain within the bounds (exact on small fleets, a heuristic on large ones).
 */
export function sloChainPlacement(problem: FleetProblem, budget = 50_000): Placement | null {
  const bounds = pathBounds(problem);
  const L = problem.layers;
  const n = problem.nodes.length;
  const levels = new Set<number>();
  for (const node of problem.nodes) for (const t of node.throughput) if (t > 0) levels.add(t);
  for (const l of problem.links) if (l.capacity > 0 && Number.isFinite(l.capacity)) levels.add(l.capacity);
  for (const c of [...problem.sourceCapacity, ...problem.sinkCapacity]) if (c > 0 && Number.isFinite(c)) levels.add(c);
  const out: { to: number; capacity: number; seconds: number[] }[][] = problem.nodes.map(() => []);
  for (const l of problem.links)
    out[l.from].push({ to: l.to, capacity: l.capacity, seconds: bounds.map((b) => b.link(l)) });
  const sourceSeconds = problem.nodes.map((_, j) => bounds.map((b) => b.source(j)));
  const within = (s: readonly number[]): boolean => s.every((x, r) => x <= bounds[r].sloSeconds);
  for (const F of [...levels].sort((a, b) => b - a)) {
    let work = 0;
    const path: number[] = [];
    const ks: number[] = [];
    const inPath = new Array<boolean>(n).fill(false);
    const dfs = (covered: number, seconds: readonly number[]): boolean => {
      if (++work > budget) return false;
      const last = path[path.length - 1];
      if (covered === L)
        return problem.sinkCapacity[last] >= F && within(seconds.map((x, r) => x + bounds[r].sink(last)));
      const next: { i: number; k: number; s: number[] }[] = [];
      const consider = (i: number, capacity: number, hop: readonly number[]): void => {
        if (inPath[i] || capacity < F) return;
        const node = problem.nodes[i];
        for (let k = Math.min(node.maxLayers, L - covered); k >= 1; k--) {
          if ((node.throughput[k] ?? 0) < F || (problem.wholeModel && k !== L)) continue;
          const s = seconds.map((x, r) => x + hop[r] + bounds[r].node(i, k));
          if (within(s)) next.push({ i, k, s });
        }
      };
      if (path.length === 0) for (let i = 0; i < n; i++) consider(i, problem.sourceCapacity[i], sourceSeconds[i]);
      else for (const e of out[last]) consider(e.to, e.capacity, e.seconds);
      // Fewer, longer stages first (fewer hops), then the faster one (the first bound's time).
      next.sort((a, b) => b.k - a.k || (a.s[0] ?? 0) - (b.s[0] ?? 0));
      for (const { i, k, s } of next) {
        path.push(i);
        ks.push(k);
        inPath[i] = true;
        if (dfs(covered + k, s)) return true;
        inPath[i] = false;
        path.pop();
        ks.pop();
        if (work > budget) return false;
      }
      return false;
    };
    if (dfs(0, bounds.map(() => 0))) return placementOfChains(problem, [{ nodes: path, ks, tokensPerSecond: F }]);
  }
  return null;
}

/** The variant peers, given the family's max-flow placers (baselines.ts) to place a rented set. */
export function variantBaselines(placers: readonly Placer[]): Baseline<FleetProblem, FleetDecision>[] {
  const needsTarget = 'applies with $.targetTokensPerSecond only, or no rented set reaches the target';
  return [
    {
      name: 'single-pipeline-slo',
      description: 'the single best pipeline whose path times (per token, to the first token) meet the SLOs',
      run: (problem) => {
        if (!hasPathBound(problem)) return null;
        const pl = sloChainPlacement(problem);
        return pl === null ? null : decideVariant(problem, pl);
      },
      whyNoDecision: () => 'applies with $.latencySloSeconds or $.ttftSloSeconds only, or no single chain meets them',
    },
    {
      name: 'cheapest-first',
      description: 'rent the cheapest nodes one at a time, placing them by the family heuristics, until the target',
      run: (problem) => cheapestFirst(problem, placers),
      whyNoDecision: () => needsTarget,
    },
    {
      name: 'tokens-per-dollar-first',
      description: 'rent nodes by full-model tokens/s per unit of rent, best first, until the target is met',
      run: (problem) => tokensPerDollarFirst(problem, placers),
      whyNoDecision: () => needsTarget,
    },
    {
      name: 'single-type',
      description: "Mélange's baseline: the cheapest fleet of a single node type that reaches the target",
      run: (problem) => singleType(problem, placers),
      whyNoDecision: () => needsTarget,
    },
  ];
}
