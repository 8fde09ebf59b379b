/**
 * The warm start of split-moe: a constructive heuristic, valued with the cost functions (never
 * with evaluate). For a cut vector it places every expert some class calls on the server that
 * serves its callers best (items with the largest regret first), spends the remaining memory on
 * the replicas that save the most, routes each class to its cheapest holder, repairs replica
 * batches over the limit by moving calls to other holders, and drops calls greedily within each
 * class's budget. The cut vector is improved by coordinate descent (every cut of one class, the
 * others fixed). The peers' decisions compete; the best feasible one is returned.
 *
 * Why: the MILP's LP bound is tight but a backend's own heuristics can be slow to find a good
 * incumbent on these models (HiGHS stayed at 2% above the optimum for 50 s on one example).
 */
import { FEASIBILITY_RTOL, withinLimit } from '../tolerance.ts';
import { baselines } from './baselines.ts';
import {
  callBytes,
  callSeconds,
  classLatency,
  classVisits,
  cutRange,
  deviceBytes,
  linkBytesPerLayer,
  objectiveOf,
  replicaTokenLimit,
  serverCapacity,
} from './cost.ts';
import type { SplitMoeDecision, SplitMoeProblem } from './schema.ts';

/** A route while the heuristic still moves shares around. */
interface Route {
  server: number;
  share: number;
}

export interface HeuristicValue {
  readonly feasible: boolean;
  readonly objective: number;
}

/**
 * A decision valued with the cost functions: the objective and whether memory, batch limits,
 * drop budgets and SLOs hold (the same rules as evaluate, without its report).
 */
export function decisionValue(problem: SplitMoeProblem, d: SplitMoeDecision): HeuristicValue {
  const L = problem.layers;
  const E = problem.experts;
  const S = problem.servers.length;
  let feasible = true;
  const held = new Array<number>(S).fill(0);
  for (const row of d.placement) for (const holders of row) for (const s of holders) held[s] += 1;
  held.forEach((n, s) => {
    if (!withinLimit(n * problem.expertBytes, problem.servers[s].expertMemoryBytes)) feasible = false;
  });
  const batch = Array.from({ length: L }, () => Array.from({ length: E }, () => new Array<number>(S).fill(0)));
  const latency: number[] = [];
  const bytes: number[] = [];
  problem.classes.forEach((c, u) => {
    const cut = d.cuts[u];
    const range = cutRange(problem, u);
    if (cut < range.min || cut > range.max || !withinLimit(deviceBytes(problem, u, cut), c.memoryBytes))
      feasible = false;
    let calls = 0;
    let hop = 0;
    let dropped = 0;
    for (let l = cut; l < L; l++)
      for (let e = 0; e < E; e++) {
        const p = c.popularity[l][e];
        let sum = 0;
        for (const r of d.routing[u][l][e]) {
          if (!d.placement[l][e].includes(r.server)) feasible = false;
          sum += r.share;
          calls += p * r.share * callSeconds(problem, u, r.server);
          hop += problem.topK * p * r.share * callBytes(problem, u, r.server);
          batch[l][e][r.server] += classVisits(problem, u, l, e) * r.share;
        }
        if (sum > 1 + FEASIBILITY_RTOL) feasible = false;
        dropped += p * Math.max(0, 1 - sum);
      }
    if (dropped / L > c.maxDroppedShare + FEASIBILITY_RTOL) feasible = false;
    const t = classLatency(problem, u, cut, calls);
    if (c.latencySloSeconds !== null && !withinLimit(t, c.latencySloSeconds)) feasible = false;
    latency.push(t);
    bytes.push((L - cut) * linkBytesPerLayer(problem) + hop);
  });
  for (let s = 0; s < S; s++) {
    const limit = replicaTokenLimit(problem, s);
    for (let l = 0; l < L && feasible; l++)
      for (let e = 0; e < E; e++) if (!withinLimit(batch[l][e][s], limit)) feasible = false;
  }
  return { feasible, objective: objectiveOf(problem, latency, bytes) };
}

/** Per-call cost of class u on server s for the objective (seconds, or network bytes then a tiny share of seconds). */
function unitCost(problem: SplitMoeProblem, u: number, s: number): number {
  if (problem.objective === 'network')
    return problem.topK * callBytes(problem, u, s) + 1e-3 * callSeconds(problem, u, s);
  return callSeconds(problem, u, s);
}

/** A placement and routing for fixed cuts, or null when some called expert finds no server with room. */
export function placeForCuts(problem: SplitMoeProblem, cuts: readonly number[]): SplitMoeDecision | null {
  const L = problem.layers;
  const E = problem.experts;
  const S = problem.servers.length;
  const U = problem.classes.length;
  const weight = problem.classes.map((c) => c.users);
  const cost = problem.classes.map((_, u) => Array.from({ length: S }, (_, s) => unitCost(problem, u, s)));
  const free = problem.servers.map((_, s) => serverCapacity(problem, s));
  const placement: number[][][] = Array.from({ length: L }, () => Array.from({ length: E }, () => []));
  /** Callers' cost of item (l, e) when served by the holder set `holders` (each class to its cheapest). */
  const itemCost = (l: number, e: number, holders: readonly number[]): number => {
    let total = 0;
    for (let u = 0; u < U; u++) {
      const p = problem.classes[u].popularity[l][e];
      if (l < cuts[u] || p === 0) continue;
      let best = Infinity;
      for (const s of holders) best = Math.min(best, cost[u][s]);
      total += weight[u] * p * best;
    }
    return total;
  };
  const needed: { l: number; e: number; order: number[]; regret: number }[] = [];
  for (let l = 0; l < L; l++)
    for (let e = 0; e < E; e++) {
      if (!problem.classes.some((c, u) => l >= cuts[u] && c.popularity[l][e] > 0)) continue;
      const single = Array.from({ length: S }, (_, s) => itemCost(l, e, [s]));
      const order = single.map((_, s) => s).sort((a, b) => single[a] - single[b] || a - b);
      needed.push({ l, e, order, regret: S > 1 ? single[order[1]] - single[order[0]] : 0 });
    }
  needed.sort((a, b) => b.regret - a.regret || a.l - b.l || a.e - b.e);
  for (const item of needed) {
    const s = item.order.find((q) => free[q] > 0);
    if (s === undefined) return null;
    free[s] -= 1;
    placement[item.l][item.e].push(s);
  }
  // Replicas where they save the most (gains re-checked when taken).
  const candidates: { l: number; e: number; s: number; gain: number }[] = [];
  for (const item of needed)
    for (let s = 0; s < S; s++) {
      if (placement[item.l][item.e].includes(s)) continue;
      const gain =
        itemCost(item.l, item.e, placement[item.l][item.e]) -
        itemCost(item.l, item.e, [...placement[item.l][item.e], s]);
      if (gain > 0) candidates.push({ l: item.l, e: item.e, s, gain });
    }
  candidates.sort((a, b) => b.gain - a.gain);
  for (const c of candidates) {
    if (free[c.s] <= 0) continue;
    const holders = placement[c.l][c.e];
    if (holders.includes(c.s) || itemCost(c.l, c.e, holders) - itemCost(c.l, c.e, [...holders, c.s]) <= 0) continue;
    free[c.s] -= 1;
    holders.push(c.s);
  }
  const routing = problem.classes.map((cl, u): Route[][][] =>
    placement.map((row, l) =>
      row.map((holders, e) => {
        if (l < cuts[u] || cl.popularity[l][e] === 0 || holders.length === 0) return [];
        let best = holders[0];
        for (const s of holders) if (cost[u][s] < cost[u][best]) best = s;
        return [{ server: best, share: 1 }];
      }),
    ),
  );
  repairBatches(problem, cuts, placement, routing, cost);
  dropGreedily(problem, cuts, routing, cost);
  return { cuts: [...cuts], placement, routing };
}

/** Moves calls off replicas over their batch limit to other holders with room, cheapest first. */
function repairBatches(
  problem: SplitMoeProblem,
  cuts: readonly number[],
  placement: number[][][],
  routing: Route[][][][],
  cost: number[][],
): void {
  const S = problem.servers.length;
  const limits = problem.servers.map((_, s) => replicaTokenLimit(problem, s));
  if (limits.every((x) => !Number.isFinite(x))) return;
  placement.forEach((row, l) =>
    row.forEach((holders, e) => {
      if (holders.length === 0) return;
      const load = new Array<number>(S).fill(0);
      problem.classes.forEach((_, u) => {
        if (l >= cuts[u]) for (const r of routing[u][l][e]) load[r.server] += classVisits(problem, u, l, e) * r.share;
      });
      for (const s of holders) {
        for (let u = 0; u < problem.classes.length && load[s] > limits[s]; u++) {
          if (l < cuts[u]) continue;
          const visits = classVisits(problem, u, l, e);
          const here = routing[u][l][e].find((r) => r.server === s);
          if (here === undefined || visits === 0) continue;
          for (const t of [...holders].sort((a, b) => cost[u][a] - cost[u][b])) {
            if (t === s || load[s] <= limits[s]) continue;
            const room = Math.min(limits[t] - load[t], load[s] - limits[s], here.share * visits);
            if (room <= 0) continue;
            const share = room / visits;
            here.share -= share;
            const there = routing[u][l][e].find((r) => r.server === t);
            if (there) there.share += share;
            else routing[u][l][e].push({ server: t, share });
            load[s] -= room;
            load[t] += room;
          }
          routing[u][l][e] = routing[u][l][e].filter((r) => r.share > 0);
        }
      }
    }),
  );
}

/** Within each class's budget, skips the calls with the largest cost per unit of routing mass. */
function dropGreedily(
  problem: SplitMoeProblem,
  cuts: readonly number[],
  routing: Route[][][][],
  cost: number[][],
): void {
  problem.classes.forEach((c, u) => {
    if (c.maxDroppedShare <= 0) return;
    const items: { l: number; e: number; r: Route; saving: number }[] = [];
    for (let l = cuts[u]; l < problem.layers; l++)
      for (let e = 0; e < problem.experts; e++)
        for (const r of routing[u][l][e]) items.push({ l, e, r, saving: cost[u][r.server] });
    items.sort((a, b) => b.saving - a.saving);
    let budget = c.maxDroppedShare * problem.layers * (1 - 1e-9);
    for (const it of items) {
      const mass = c.popularity[it.l][it.e] * it.r.share;
      if (budget <= 0 || mass <= 0) continue;
      const fraction = Math.min(1, budget / mass);
      budget -= fraction * mass;
      it.r.share *= 1 - fraction;
    }
    for (let l = cuts[u]; l < problem.layers; l++)
      for (let e = 0; e < problem.experts; e++) routing[u][l][e] = routing[u][l][e].filter((r) => r.share > 0);
  });
}

/** Cuts between the coarse pass's trials. */
const STRIDE = 4;

/**
 * The warm start: coordinate descent over the cuts with placeForCuts, against the peers; null when nothing
 * feasible is found.
 */
export function warmStart(problem: SplitMoeProblem, deadlineMs: number): SplitMoeDecision | null {
  const ranges = problem.classes.map((_, u) => cutRange(problem, u));
  if (ranges.some((r) => r.max < r.min)) return null;
  let best: SplitMoeDecision | null = null;
  let bestValue = Infinity;
  /** The value of a decision (Infinity when infeasible or absent); the best one is kept. */
  const consider = (d: SplitMoeDecision | null): number => {
    if (d === null) return Infinity;
    const v = decisionValue(problem, d);
    if (!v.feasible) return Infinity;
    if (v.objective < bestValue) {
      best = d;
      bestValue = v.objective;
    }
    return v.objective;
  };
  for (const peer of baselines) consider(peer.run(problem));
  for (const start of [ranges.map((r) => r.max), ranges.map((r) => r.min)]) {
    const cuts = [...start];
    let current = consider(placeForCuts(problem, cuts));
    for (let round = 0; round < 3; round++) {
      let improved = false;
      for (let u = 0; u < cuts.length; u++) {
        // Coarse pass (every STRIDE-th cut, so that a tight time limit still sees the whole range),
        // then the cuts next to the best one.
        const { min, max } = ranges[u];
        const coarse: number[] = [];
        for (let c = min; c <= max; c += STRIDE) coarse.push(c);
        if (coarse[coarse.length - 1] !== max) coarse.push(max);
        for (const pass of [0, 1]) {
          const trials = pass === 0 ? coarse : [...Array(2 * STRIDE - 1).keys()].map((i) => cuts[u] - STRIDE + 1 + i);
          for (const c of trials) {
            if (performance.now() > deadlineMs) return best;
            if (c < min || c > max || c === cuts[u]) continue;
            const trial = [...cuts];
            trial[u] = c;
            const v = consider(placeForCuts(problem, trial));
            if (v < current) {
              current = v;
              cuts[u] = c;
              improved = true;
            }
          }
        }
      }
      if (!improved) break;
    }
  }
  return best;
}
