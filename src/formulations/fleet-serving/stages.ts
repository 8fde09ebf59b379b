/**
 * Staged pipelines, the exact method's main incumbent heuristic. A staged pipeline at target F is
 * a sequence of stages tiling layers 1..L; each stage is a group of nodes that all hold the same
 * range, and whose tokens/s at that k sum to ≥ F (several weak nodes side by side serve as one
 * strong one — Helix's shared stages). Stages are built from layer 1 on: the next stage's
 * members must be linked from the previous stage's (or from the source), the last stage's to the
 * sink, and among the ways to cover the next k layers the one that uses the least "potential" per
 * layer is taken — a node's potential being its best layer-work at F, max_k k·min(T(k), F)/F, i.e.
 * what it could contribute elsewhere. Targets F are scanned downward from the bound; what is left
 * of the fleet forms further pipelines. Every candidate is valued by the placement's max flow
 * (cost.ts), so link capacities and missing links are accounted for exactly.
 */
import { maxFlowOfPlacement, type Placement } from './cost.ts';
import type { FleetProblem } from './schema.ts';

interface Stage {
  readonly start: number;
  readonly k: number;
  readonly members: readonly number[];
}

function potential(problem: FleetProblem, i: number, F: number): number {
  const node = problem.nodes[i];
  let best = 0;
  for (let k = 1; k <= node.maxLayers; k++) {
    const t = node.throughput[k] ?? 0;
    if (t > 0 && (!problem.wholeModel || k === problem.layers)) best = Math.max(best, (k * Math.min(t, F)) / F);
  }
  return best;
}

/** One staged pipeline at target F over the available nodes, or null when the greedy gets stuck. */
export function stagedPipeline(
  problem: FleetProblem,
  F: number,
  available: readonly boolean[],
  sinkPenalty = 1.5,
): Stage[] | null {
  const L = problem.layers;
  const n = problem.nodes.length;
  const pot = problem.nodes.map((_, i) => potential(problem, i, F));
  const linkedFrom: Set<number>[] = problem.nodes.map(() => new Set());
  for (const l of problem.links) if (l.capacity > 0) linkedFrom[l.to].add(l.from);
  const free = [...available];
  const stages: Stage[] = [];
  let pos = 0;
  let prev: readonly number[] | null = null;
  while (pos < L) {
    const candidates: number[] = [];
    for (let i = 0; i < n; i++) {
      if (!free[i]) continue;
      if (prev === null ? problem.sourceCapacity[i] > 0 : prev.some((p) => linkedFrom[i].has(p))) candidates.push(i);
    }
    let best: { k: number; members: number[]; score: number } | null = null;
    for (let k = 1; k <= L - pos; k++) {
      if (problem.wholeModel && k !== L) continue;
      const final = pos + k === L;
      const pool = candidates.filter(
        (i) =>
          (problem.nodes[i].throughput[k] ?? 0) > 0 &&
          k <= problem.nodes[i].maxLayers &&
          (!final || problem.sinkCapacity[i] > 0),
      );
      // Sink-linked nodes are kept for the last stage unless nothing else will do.
      const cost = (i: number): number =>
        pot[i] * (!final && problem.sinkCapacity[i] > 0 && problem.sourceCapacity[i] === 0 ? sinkPenalty : 1);
      pool.sort((a, b) => cost(a) / problem.nodes[a].throughput[k] - cost(b) / problem.nodes[b].throughput[k]);
      const members: number[] = [];
      let sum = 0;
      for (const i of pool) {
        if (sum >= F) break;
        members.push(i);
        sum += problem.nodes[i].throughput[k];
      }
      if (sum < F) continue;
      // Drop members that are not needed (the most expensive first).
      for (let r = members.length - 1; r >= 0; r--) {
        const t = problem.nodes[members[r]].throughput[k];
        if (sum - t >= F) {
          sum -= t;
          members.splice(r, 1);
        }
      }
      const spent = members.reduce((s, i) => s + cost(i), 0);
      const score = k / Math.max(spent, 1e-12);
      if (best === null || score > best.score) best = { k, members, score };
    }
    if (best === null) return null;
    for (const i of best.members) free[i] = false;
    stages.push({ start: pos, k: best.k, members: best.members });
    pos += best.k;
    prev = best.members;
  }
  return stages;
}

function placementOf(problem: FleetProblem, stages: readonly Stage[], base?: Placement): Placement {
  const start = base ? [...base.start] : new Array<number>(problem.nodes.length).fill(0);
  const k = base ? [...base.k] : new Array<number>(problem.nodes.length).fill(0);
  for (const s of stages) {
    for (const i of s.members) {
      start[i] = s.start;
      k[i] = s.k;
    }
  }
  return { start, k };
}

/**
 * Staged pipelines over the whole fleet: for each target F on a downward grid from `upper`,
 * pipelines at F while they can be built, then at lower targets from the rest; the placement with
 * the largest max flow is returned (or null when no pipeline could be built).
 */
export function stagedPlacement(
  problem: FleetProblem,
  upper: number,
  deadlineMs = Infinity,
  steps = 60,
): Placement | null {
  const n = problem.nodes.length;
  let best: Placement | null = null;
  let bestValue = 0;
  if (!(upper > 0)) return null;
  const grid = Array.from({ length: steps }, (_, r) => upper * Math.pow(0.02, r / (steps - 1)));
  for (const penalty of [1.5, 1, 3]) {
    for (const F of grid) {
      if (performance.now() > deadlineMs) return best;
      const available = new Array<boolean>(n).fill(true);
      let pl: Placement | undefined;
      for (const G of grid) {
        if (G > F) continue;
        for (
          let stages = stagedPipeline(problem, G, available, penalty);
          stages !== null;
          stages = stagedPipeline(problem, G, available, penalty)
        ) {
          pl = placementOf(problem, stages, pl);
          for (const s of stages) for (const i of s.members) available[i] = false;
        }
      }
      if (pl === undefined) continue;
      const value = maxFlowOfPlacement(problem, pl).value;
      if (value > bestValue) {
        bestValue = value;
        best = pl;
      }
    }
  }
  return best;
}
