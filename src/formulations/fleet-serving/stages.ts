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

/**
 * One staged pipeline at target F over the available nodes, or null when none was found. A
 * depth-first search over the stages: at each position the options are, per k, the cheapest
 * group of candidates whose tokens/s at k reach F (scored by layers per unit of potential spent),
 * tried best first — so the first path is the greedy construction — and it backtracks when it
 * gets stuck (e.g. two layers short of L with no sink-linked node left), within `budget` stage
 * expansions. A branch is cut when the free nodes' potential cannot cover the layers left (a stage
 * of k layers spends at least k potential: its members' k·T(k)/F sum to ≥ k).
 */
export function stagedPipeline(
  problem: FleetProblem,
  F: number,
  available: readonly boolean[],
  sinkPenalty = 1.5,
  budget = STAGE_BUDGET,
  deadlineMs = Infinity,
): Stage[] | null {
  const L = problem.layers;
  const n = problem.nodes.length;
  const pot = problem.nodes.map((_, i) => potential(problem, i, F));
  const linkedFrom: Set<number>[] = problem.nodes.map(() => new Set());
  for (const l of problem.links) if (l.capacity > 0) linkedFrom[l.to].add(l.from);
  const free = [...available];
  let freePotential = pot.reduce((sum, x, i) => sum + (free[i] ? x : 0), 0);
  const stages: Stage[] = [];
  let work = 0;
  const options = (pos: number, prev: readonly number[] | null): { k: number; members: number[]; score: number }[] => {
    const candidates: number[] = [];
    for (let i = 0; i < n; i++) {
      if (!free[i]) continue;
      if (prev === null ? problem.sourceCapacity[i] > 0 : prev.every((p) => linkedFrom[i].has(p))) candidates.push(i);
    }
    const out: { k: number; members: number[]; score: number }[] = [];
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
      const spent = members.reduce((total, i) => total + cost(i), 0);
      out.push({ k, members, score: k / Math.max(spent, 1e-12) });
    }
    return out.sort((x, y) => y.score - x.score);
  };
  const dfs = (pos: number, prev: readonly number[] | null): boolean => {
    if (pos === L) return true;
    if (++work > budget || (work % 64 === 0 && performance.now() > deadlineMs)) {
      work = budget + 1;
      return false;
    }
    if (freePotential < (L - pos) * (1 - 1e-9)) return false;
    for (const o of options(pos, prev)) {
      for (const i of o.members) {
        free[i] = false;
        freePotential -= pot[i];
      }
      stages.push({ start: pos, k: o.k, members: o.members });
      if (dfs(pos + o.k, o.members)) return true;
      stages.pop();
      for (const i of o.members) {
        free[i] = true;
        freePotential += pot[i];
      }
      if (work > budget) return false;
    }
    return false;
  };
  return dfs(0, null) ? stages : null;
}

/** Stage expansions one staged-pipeline search may make (the first path is the greedy one). */
export const STAGE_BUDGET = 400;

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
          let stages = stagedPipeline(problem, G, available, penalty, STAGE_BUDGET, deadlineMs);
          stages !== null;
          stages = stagedPipeline(problem, G, available, penalty, STAGE_BUDGET, deadlineMs)
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

/**
 * A deeper search for one staged pipeline over the whole fleet: targets F rising from just above
 * the incumbent's flow towards the bound, each searched with a large budget; a success moves the
 * target 2% above the best flow found, a failure halves the step (three failures end it). Searches
 * that succeed are fast and those that fail use their whole budget, hence upwards from below.
 * A target whose search runs out counts as failed, so this is a heuristic, never a bound. Every
 * pipeline is valued by the max flow of its placement; the best placement is returned, or null.
 */
export function searchStaged(
  problem: FleetProblem,
  lower: number,
  upper: number,
  deadlineMs: number,
  budget = DEEP_STAGE_BUDGET,
): Placement | null {
  const all = new Array<boolean>(problem.nodes.length).fill(true);
  let best: Placement | null = null;
  let bestValue = Math.max(0, lower);
  let step = 0.02;
  for (let failures = 0; failures < 3 && performance.now() < deadlineMs;) {
    const F = Math.min(upper, bestValue * (1 + step));
    if (!(F > bestValue)) break;
    const stages = stagedPipeline(problem, F, all, 1.5, budget, deadlineMs);
    const value = stages === null ? 0 : maxFlowOfPlacement(problem, placementOf(problem, stages)).value;
    if (stages !== null && value > bestValue) {
      best = placementOf(problem, stages);
      bestValue = value;
    } else {
      failures++;
      step /= 2;
    }
  }
  return best;
}

/** Stage expansions per target in the deeper search (≈ 5 s on helix-42 when it fails). */
export const DEEP_STAGE_BUDGET = 200_000;
