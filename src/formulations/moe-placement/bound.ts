/**
 * A per-layer lower bound that needs no solver: the "aggregate" relaxation of one layer.
 *
 * Any feasible placement induces, for each server s in layer l, a replica count n_s ≤ c_s (the
 * experts that fit in s's whole memory) and tokens served L_s, with
 *   - L_s ≤ G(n_s): s holds n_s distinct experts and serves at most all tokens of each, so at
 *     most the tokens of the n_s busiest experts (G = prefix sums of loads sorted descending);
 *   - L_s ≥ H(n_s − d) with d = R − E spare replicas: at most d experts are split, so at least
 *     n_s − d replicas on s serve every token of their expert (H = prefix sums ascending);
 *   - Σ_s L_s = W (all tokens served), E ≤ Σ_s n_s ≤ R;
 *   - the layer's term T ≥ perToken·L_s + perReplica·n_s + fixed for every time row of s with
 *     n_s ≥ 1 — the same rows as the MILP and evaluate.
 * Dropping everything else (which experts, which shares) leaves a relaxation, so its minimum is
 * ≤ the layer's term in every feasible placement, and Σ_l of the minima ≤ the optimum (the
 * migration term is ≥ 0 and left out). One relaxation is kept loose on purpose: the L_s ≥ H
 * rows only demand a non-empty interval per server, not Σ_s H(n_s − d) ≤ W (still a relaxation).
 *
 * The minimum is found exactly (to a relative 1e-9) by bisection on T: for a given T, server s
 * with n replicas can absorb at most hi_s(n, T) = min(G(n), min_rows (T − perReplica·n − fixed) /
 * perToken) tokens, and T is feasible iff some counts with E ≤ Σ n ≤ R give Σ hi ≥ W — a max-plus
 * knapsack over servers by total count. The bound returned is the largest T proven infeasible.
 */
import { expertTokens, serverRows, type TimeRow } from './cost.ts';
import type { MoePlacementProblem } from './schema.ts';

export interface AggregateBound {
  /** Valid lower bound on the layer's term (without migration). */
  readonly bound: number;
  /** Replica counts per server of a relaxation solution at (just above) the bound. */
  readonly counts: number[];
  /** Tokens per server of that solution (sum W). */
  readonly tokens: number[];
}

const RELATIVE_PRECISION = 1e-8;
/** Doublings of T tried before the layer is declared unplaceable (from 1e-12 s: up to ≈ 1e48 s). */
const MAX_DOUBLINGS = 200;

/**
 * The layer's aggregate bound, or null when the layer cannot be placed at all within `caps`
 * (fewer slots than experts, or a replica budget below the experts): then no T is feasible and
 * there is no bound to give — the caller reports the shortage instead of a number (a bisection
 * that never finds a feasible T once returned 3.26e79).
 */
export function aggregateLayerBound(
  problem: MoePlacementProblem,
  layer: number,
  caps: readonly number[],
  upper: number,
): AggregateBound | null {
  const S = problem.servers.length;
  const E = problem.experts;
  const loads = Array.from({ length: E }, (_, e) => expertTokens(problem, layer, e));
  const W = loads.reduce((a, b) => a + b, 0);
  const desc = [...loads].sort((a, b) => b - a);
  const asc = [...loads].sort((a, b) => a - b);
  const G = prefix(desc);
  const H = prefix(asc);
  const nMax = caps.map((c) => Math.min(c, E));
  const budget = Math.min(problem.maxReplicasPerLayer ?? Infinity, nMax.reduce((a, b) => a + b, 0));
  const spare = Number.isFinite(problem.maxReplicasPerLayer ?? Infinity) ? budget - E : Infinity;
  if (budget < E) return null;

  if (problem.objective === 'traffic') return trafficBound(problem, W, G, nMax);

  const rows: TimeRow[][] = problem.servers.map((_, s) => serverRows(problem, s));
  const R = budget;
  const hiArrays = nMax.map((n) => new Float64Array(n + 1));
  const fill = (T: number): void => {
    for (let s = 0; s < S; s++) {
      const hi = hiArrays[s];
      hi[0] = 0;
      for (let n = 1; n <= nMax[s]; n++) {
        let u = Infinity;
        for (const row of rows[s]) u = Math.min(u, (T - row.perReplica * n - row.fixed) / row.perToken);
        let h = Math.min(G[n], u);
        const low = n - spare > 0 ? H[n - spare] : 0;
        if (u < 0 || h < low * (1 - 1e-12)) h = -Infinity;
        hi[n] = h;
      }
    }
  };
  // Max-plus knapsack over servers in `order`: best[m] = max Σ hi with Σ n = m, clamped after
  // each server to G(m) — the servers processed so far hold at most m distinct experts, so
  // together they serve at most the m busiest experts' tokens (valid for any order; the order
  // decides which groups of servers are constrained jointly).
  const Gm = (m: number): number => (m >= E ? W : G[m]);
  const choice = nMax.map(() => new Int32Array(R + 1));
  let lastBest = -1;
  const feasible = (T: number, order: readonly number[], record: boolean): boolean => {
    fill(T);
    let prev = new Float64Array(R + 1).fill(-Infinity);
    prev[0] = 0;
    for (const s of order) {
      const next = new Float64Array(R + 1).fill(-Infinity);
      const hi = hiArrays[s];
      const pick = choice[s];
      for (let m = 0; m <= R; m++) {
        const base = prev[m];
        if (base === -Infinity) continue;
        const top = Math.min(nMax[s], R - m);
        for (let n = 0; n <= top; n++) {
          const h = hi[n];
          if (h === -Infinity) continue;
          const v = base + h;
          if (v > next[m + n]) {
            next[m + n] = v;
            if (record) pick[m + n] = n;
          }
        }
      }
      for (let m = 0; m <= R; m++) if (next[m] > Gm(m)) next[m] = Gm(m);
      prev = next;
    }
    let bestM = -1;
    for (let m = E; m <= R; m++) if (prev[m] >= W * (1 - 1e-12) && (bestM < 0 || prev[m] > prev[bestM])) bestM = m;
    if (record) lastBest = bestM;
    return bestM >= 0;
  };

  // Orders: servers whose replicas are dearest first (they want the busiest experts), and
  // the slowest per token first; each gives a valid bound, the larger is kept.
  const ids = problem.servers.map((_, s) => s);
  const dearest = (s: number) => Math.max(...rows[s].map((r) => r.perReplica + r.fixed));
  const slowest = (s: number) => Math.max(...rows[s].map((r) => r.perToken));
  const orders = [[...ids].sort((a, b) => dearest(b) - dearest(a) || a - b), [...ids].sort((a, b) => slowest(b) - slowest(a) || a - b)];
  let best: AggregateBound | null = null;
  for (const order of orders) {
    const found = bisect(order, best?.bound ?? 0);
    if (found !== null && (best === null || found.bound > best.bound)) best = found;
  }
  // Then the servers the relaxation packs densest (tokens per replica) first: those are the ones
  // over-claiming the busiest experts together, which the prefix clamp then constrains.
  for (let round = 0; round < 3 && best !== null; round++) {
    const sol: AggregateBound = best;
    const density = (s: number) => (sol.counts[s] > 0 ? sol.tokens[s] / sol.counts[s] : -1);
    const found = bisect([...ids].sort((a, b) => density(b) - density(a) || a - b), sol.bound);
    if (found === null || found.bound <= sol.bound * (1 + 1e-9)) break;
    best = found;
  }
  return best;

  /** The bound for one order, or null when it cannot beat `known` (feasible there already) or no T is feasible. */
  function bisect(order: readonly number[], known: number): AggregateBound | null {
    if (known > 0 && feasible(known, order, false)) return null;
    let lo = known;
    let hiT = Math.max(Number.isFinite(upper) ? upper : 0, known * 2, 1e-12);
    let guard = 0;
    while (!feasible(hiT, order, false)) {
      if (guard++ >= MAX_DOUBLINGS) return null;
      lo = hiT;
      hiT *= 2;
    }
    while (hiT - lo > RELATIVE_PRECISION * hiT) {
      const mid = (lo + hiT) / 2;
      if (feasible(mid, order, false)) hiT = mid;
      else lo = mid;
    }
    // Reconstruct counts and tokens at the feasible end.
    feasible(hiT, order, true);
    const counts = new Array<number>(S).fill(0);
    let m = lastBest;
    for (let k = order.length - 1; k >= 0 && m > 0; k--) {
      const s = order[k];
      counts[s] = choice[s][m];
      m -= counts[s];
    }
    fill(hiT);
    const his = counts.map((n, s) => Math.max(0, hiArrays[s][n]));
    const total = his.reduce((a, b) => a + b, 0);
    const tokens = his.map((h) => (total > 0 ? (h * W) / total : 0));
    return { bound: lo, counts, tokens };
  }
}

function prefix(values: readonly number[]): number[] {
  const out = [0];
  for (const v of values) out.push(out[out.length - 1] + v);
  return out;
}

/**
 * Traffic: only tokens served off the requester's own server cross the network, and that server
 * can serve at most the tokens of the experts it can hold.
 */
function trafficBound(problem: MoePlacementProblem, W: number, G: readonly number[], nMax: readonly number[]): AggregateBound {
  const S = problem.servers.length;
  const E = problem.experts;
  const home = problem.requesterServer;
  const perToken = 2 * problem.activationBytesPerToken;
  // A relaxation solution for the incumbent: the home server takes what it can, the rest spread.
  const counts = new Array<number>(S).fill(0);
  let left = E;
  if (home !== null) {
    counts[home] = Math.min(nMax[home], E);
    left -= counts[home];
  }
  for (let s = 0; left > 0 && s < S; s++) {
    if (s === home) continue;
    const take = Math.min(nMax[s], left);
    counts[s] = take;
    left -= take;
  }
  const local = home === null ? 0 : Math.min(W, G[counts[home]]);
  const remoteSlots = counts.reduce((a, n, s) => (s === home ? a : a + n), 0);
  const tokens = counts.map((n, s) => (s === home ? local : remoteSlots > 0 ? ((W - local) * n) / remoteSlots : 0));
  return { bound: perToken * (W - local), counts, tokens };
}
