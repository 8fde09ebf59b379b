/**
 * Peers, re-implemented from their published descriptions and routed by the placement's maximum
 * flow (cost.ts), then scored by evaluate like every method. Helix's own MILP is not here: it is a
 * model, compiled with `milpFormulation: "helix"` and solved by our backends (the "same model,
 * open solver" comparison of `compare` and `edgeplan reproduce helix`).
 */
import type { Baseline } from '../types.ts';
import { bestSingleChain, placementOfChains } from './chains.ts';
import { decisionOfPlacement, maxFlowOfPlacement, type Placement } from './cost.ts';
import type { FleetDecision, FleetProblem } from './schema.ts';
import { variantBaselines } from './variant-peers.ts';
import { decideVariant, hasPathBound } from './variants.ts';

/** Largest k a node can serve with a positive throughput (Petals servers load as many blocks as fit). */
function largestK(problem: FleetProblem, i: number): number {
  const node = problem.nodes[i];
  for (let k = node.maxLayers; k >= 1; k--) if ((node.throughput[k] ?? 0) > 0) return k;
  return 0;
}

/**
 * Petals (Borzunov et al., ACL 2023 demo / NeurIPS 2023), block selection: servers join one at a
 * time (listed order), each loads as many consecutive blocks as its memory allows and starts where
 * the swarm is weakest — the window whose per-block throughputs, sorted ascending, are
 * lexicographically smallest (Petals' `_choose_best_start`); the block throughputs then grow by
 * the new server's tokens/s.
 */
export function petalsPlacement(problem: FleetProblem): Placement | null {
  const L = problem.layers;
  const perBlock = new Array<number>(L).fill(0);
  const start = new Array<number>(problem.nodes.length).fill(0);
  const k = new Array<number>(problem.nodes.length).fill(0);
  problem.nodes.forEach((node, i) => {
    const span = problem.wholeModel ? (largestK(problem, i) === L ? L : 0) : largestK(problem, i);
    if (span === 0) return;
    let bestStart = 0;
    let bestKey: number[] | null = null;
    for (let s = 0; s + span <= L; s++) {
      const key = perBlock.slice(s, s + span).sort((a, b) => a - b);
      if (bestKey === null || lexLess(key, bestKey)) {
        bestKey = key;
        bestStart = s;
      }
    }
    start[i] = bestStart;
    k[i] = span;
    for (let l = bestStart; l < bestStart + span; l++) perBlock[l] += node.throughput[span];
  });
  return k.some((x) => x > 0) ? { start, k } : null;
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let r = 0; r < a.length; r++) if (a[r] !== b[r]) return a[r] < b[r];
  return false;
}

/**
 * SWARM parallelism (Ryabinin et al., ICML 2023): the model is cut into S equal stages; each peer
 * serves one stage and joins the stage with the lowest total throughput it can hold (strongest
 * peers first, SWARM's load balancing at steady state). S is tried from the fewest stages any
 * peer can hold upward and the best S kept.
 */
export function swarmPlacement(problem: FleetProblem): Placement | null {
  const L = problem.layers;
  const n = problem.nodes.length;
  let best: Placement | null = null;
  let bestFlow = 0;
  for (let S = 1; S <= Math.min(L, n); S++) {
    if (problem.wholeModel && S > 1) break;
    const bounds = Array.from({ length: S + 1 }, (_, s) => Math.round((s * L) / S));
    const load = new Array<number>(S).fill(0);
    const start = new Array<number>(n).fill(0);
    const k = new Array<number>(n).fill(0);
    const order = [...Array(n).keys()].sort(
      (a, b) => Math.max(...problem.nodes[b].throughput) - Math.max(...problem.nodes[a].throughput),
    );
    for (const i of order) {
      let pick = -1;
      for (let s = 0; s < S; s++) {
        const size = bounds[s + 1] - bounds[s];
        if (!((problem.nodes[i].throughput[size] ?? 0) > 0) || size > problem.nodes[i].maxLayers) continue;
        if (pick < 0 || load[s] < load[pick]) pick = s;
      }
      if (pick < 0) continue;
      start[i] = bounds[pick];
      k[i] = bounds[pick + 1] - bounds[pick];
      load[pick] += problem.nodes[i].throughput[k[i]];
    }
    if (load.some((x) => x === 0)) continue;
    const flow = maxFlowOfPlacement(problem, { start, k }).value;
    if (flow > bestFlow) {
      bestFlow = flow;
      best = { start, k };
    }
  }
  return best;
}

/**
 * Whole-model replicas with uniform pipeline parallelism (a vLLM deployment with PP degree p):
 * identical pipelines of p nodes, each holding ⌈L/p⌉ or ⌊L/p⌋ layers in equal split; nodes are
 * sorted by their tokens/s at that size and grouped p at a time, so that each pipeline's slowest
 * member is as fast as possible. The best p is kept.
 */
export function replicaPlacement(problem: FleetProblem): Placement | null {
  const L = problem.layers;
  const n = problem.nodes.length;
  let best: Placement | null = null;
  let bestFlow = 0;
  for (let p = 1; p <= Math.min(L, n); p++) {
    if (problem.wholeModel && p > 1) break;
    const bounds = Array.from({ length: p + 1 }, (_, s) => Math.round((s * L) / p));
    const size = Math.ceil(L / p);
    const fits = (i: number): boolean => {
      for (let s = 0; s < p; s++) {
        const kk = bounds[s + 1] - bounds[s];
        if (kk > problem.nodes[i].maxLayers || !((problem.nodes[i].throughput[kk] ?? 0) > 0)) return false;
      }
      return true;
    };
    const order = [...Array(n).keys()]
      .filter(fits)
      .sort((a, b) => (problem.nodes[b].throughput[size] ?? 0) - (problem.nodes[a].throughput[size] ?? 0));
    const start = new Array<number>(n).fill(0);
    const k = new Array<number>(n).fill(0);
    for (let g = 0; (g + 1) * p <= order.length; g++) {
      for (let s = 0; s < p; s++) {
        const i = order[g * p + s];
        start[i] = bounds[s];
        k[i] = bounds[s + 1] - bounds[s];
      }
    }
    if (!k.some((x) => x > 0)) continue;
    const flow = maxFlowOfPlacement(problem, { start, k }).value;
    if (flow > bestFlow) {
      bestFlow = flow;
      best = { start, k };
    }
  }
  return best;
}

/** The single best pipeline: one chain of distinct nodes with the highest bottleneck (chains.ts). */
export function singlePipelinePlacement(problem: FleetProblem): Placement | null {
  const c = bestSingleChain(problem);
  return c === null ? null : placementOfChains(problem, [c]);
}

const baseline = (
  name: string,
  description: string,
  place: (p: FleetProblem) => Placement | null,
  why: string,
): Baseline<FleetProblem, FleetDecision> => ({
  name,
  description,
  run(problem) {
    const pl = place(problem);
    if (pl === null) return null;
    // Under the variants the placement is routed within the SLO and its idle rented nodes dropped.
    const variant = hasPathBound(problem) || problem.targetTokensPerSecond !== undefined;
    return variant ? decideVariant(problem, pl) : decisionOfPlacement(problem, pl);
  },
  whyNoDecision: () => why,
});

export const fleetBaselines: readonly Baseline<FleetProblem, FleetDecision>[] = [
  baseline(
    'petals-greedy',
    'Petals block selection: each server in turn loads as many blocks as fit where the swarm is weakest',
    petalsPlacement,
    'no node can hold any layer',
  ),
  baseline(
    'swarm',
    'SWARM: S equal stages, each peer joins the least-served stage it can hold; best S',
    swarmPlacement,
    'no stage count lets every stage be served',
  ),
  baseline(
    'whole-model-replicas',
    'uniform pipeline parallelism: identical pipelines of p nodes with equal layer splits (vLLM PP); best p',
    replicaPlacement,
    'no group of nodes can hold the model in equal stages',
  ),
  baseline(
    'single-pipeline',
    'the single best pipeline (one chain of distinct nodes, highest bottleneck throughput)',
    singlePipelinePlacement,
    'no chain of linked nodes covers all layers',
  ),
  ...variantBaselines([swarmPlacement, replicaPlacement]),
];
