/**
 * Layer decomposition with a proven bound. Layers interact only through server memory (and the
 * migration term, which is separable per expert). So:
 *
 * Bound. For each layer l, any feasible placement induces per server s: n_s replicas of layer l
 * (n_s ≤ memory capacity of s), L_s tokens served with L_s ≤ G(n_s) (the n_s busiest experts'
 * tokens — s holds distinct experts and serves at most all of each) and, with a replica budget R,
 * L_s ≥ H(n_s − (R − E)) (at most R − E experts are split, so at least n_s − (R − E) replicas on s
 * serve their expert's every token; H sums the smallest loads). The layer's term is the max over
 * servers of the same linear time rows the MILP uses. Minimising that over (n, L, z) — a MILP with
 * 3 variables per server, concave G and convex H written as their tangent rows (exact at integer
 * n) — is a relaxation of the layer, so Σ_l of these minima (migration ≥ 0 dropped) is a lower
 * bound of the whole problem. Small layers also get their exact single-layer MILP (memory = the
 * whole server), an even tighter per-layer bound.
 *
 * Incumbent. Per layer: replica slots from the bound's n_s when the bound solutions fit memory
 * together (else a per-layer allotment of each server's memory), experts replicated by EPLB's rule,
 * replicas dealt to servers toward the bound's loads L_s, then the optimal shares for that
 * placement by an LP; then single-layer MILPs (warm-started, time-boxed) on the layers with the
 * largest gap. When the per-layer optima fit memory together, their union is optimal. When memory
 * couples the layers and the whole MILP is small, it is solved warm-started from the incumbent.
 *
 * The reported gap is (incumbent − bound) / incumbent with both evaluated exactly.
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import { aggregateLayerBound, type AggregateBound } from './bound.ts';
import type { ExactContext, ExactResult } from '../types.ts';
import { baselines } from './baselines.ts';
import {
  expertTokens,
  placementValue,
  replicaCapacity,
  serverLayerObjective,
  serverRows,
  serverTrafficBytes,
  type PlacementValue,
} from './cost.ts';
import { explainShortage } from './explain.ts';
import { buildLayerModel, canonicalize, enoughSlots } from './milp.ts';
import type { MoePlacementDecision, MoePlacementProblem, Replica } from './schema.ts';

/** Single-layer MILPs up to this many placement binaries are solved exactly. */
const SMALL_LAYER_BINARIES = 600;
/** The whole MILP is attempted (when memory couples the layers) up to this many binaries. */
const WHOLE_MILP_BINARIES = 6000;
/**
 * Under a user time limit: share of it the per-layer aggregate bounds may use before the fluid
 * bound takes over. Without a time limit every phase runs to its end (no wall-clock branching:
 * the same input gives the same result); the MILPs inside are bounded by the problem's
 * `exactNodeLimit`, a node count, which is deterministic.
 */
const AGGREGATE_SHARE = 0.6;
/** Under a user time limit: below this many seconds left no further LP/MILP is started. */
const MIN_SOLVE_SECONDS = 0.2;

/** Replica slots → a placement: EPLB's replication rule, then replicas dealt toward target loads. */
/**
 * EPLB's replication rule for one layer — each of `extra` spare copies goes to the expert with the
 * highest load per copy, at most one copy per server — and the resulting pieces (expert, tokens per
 * copy), heaviest first.
 */
function replicaPieces(problem: MoePlacementProblem, layer: number, extra: number): { e: number; tokens: number }[] {
  const E = problem.experts;
  const S = problem.servers.length;
  const loads = Array.from({ length: E }, (_, e) => expertTokens(problem, layer, e));
  const copies = new Array<number>(E).fill(1);
  for (let i = 0; i < extra; i++) {
    let best = 0;
    for (let e = 1; e < E; e++) if (loads[e] / copies[e] > loads[best] / copies[best]) best = e;
    if (copies[best] >= S) break;
    copies[best] += 1;
  }
  const items: { e: number; tokens: number }[] = [];
  for (let e = 0; e < E; e++) for (let c = 0; c < copies[e]; c++) items.push({ e, tokens: loads[e] / copies[e] });
  return items.sort((a, b) => b.tokens - a.tokens || a.e - b.e);
}

export function realizeLayer(problem: MoePlacementProblem, layer: number, counts: readonly number[], targets: readonly number[]): Replica[][] {
  const E = problem.experts;
  const S = problem.servers.length;
  const items = replicaPieces(problem, layer, counts.reduce((a, b) => a + b, 0) - E);
  const free = [...counts];
  const assigned = new Array<number>(S).fill(0);
  const holders: Replica[][] = Array.from({ length: E }, () => []);
  for (const item of items) {
    // The heaviest piece goes where the remaining target per free slot is largest: that server
    // needs big pieces to reach its target within its slots.
    let best = -1;
    let bestNeed = -Infinity;
    for (let s = 0; s < S; s++) {
      if (free[s] <= 0 || holders[item.e].some((r) => r.server === s)) continue;
      const need = (targets[s] - assigned[s]) / free[s];
      if (need > bestNeed) {
        best = s;
        bestNeed = need;
      }
    }
    if (best < 0) continue; // no distinct server with a free slot: this extra copy is dropped
    free[best] -= 1;
    assigned[best] += item.tokens;
    holders[item.e].push({ server: best, share: 1 });
  }
  return holders.map((reps) => reps.map((r) => ({ server: r.server, share: 1 / reps.length })));
}

/**
 * Speed-aware greedy: `extra` spare copies go by EPLB's rule, then copies, heaviest first, each to
 * the server (with a free slot, not yet holding that expert) whose time after taking it is least.
 */
export function greedyLayer(problem: MoePlacementProblem, layer: number, slotCaps: readonly number[], extra: number): Replica[][] {
  const E = problem.experts;
  const S = problem.servers.length;
  const items = replicaPieces(problem, layer, extra);
  const rows = problem.servers.map((_, s) => serverRows(problem, s));
  const traffic = problem.objective === 'traffic';
  const free = [...slotCaps];
  const tokens = new Array<number>(S).fill(0);
  const count = new Array<number>(S).fill(0);
  const holders: number[][] = Array.from({ length: E }, () => []);
  const timeAfter = (s: number, add: number): number => {
    if (traffic) return problem.servers[s].link === null ? 0 : add;
    let t = 0;
    for (const row of rows[s]) t = Math.max(t, row.perToken * (tokens[s] + add) + row.perReplica * (count[s] + 1) + row.fixed);
    return t;
  };
  for (const item of items) {
    let best = -1;
    let bestTime = Infinity;
    for (let s = 0; s < S; s++) {
      if (free[s] <= 0 || holders[item.e].includes(s)) continue;
      const t = timeAfter(s, item.tokens);
      if (t < bestTime) {
        best = s;
        bestTime = t;
      }
    }
    if (best < 0) continue;
    free[best] -= 1;
    tokens[best] += item.tokens;
    count[best] += 1;
    holders[item.e].push(best);
  }
  return holders.map((hs) => hs.map((server) => ({ server, share: 1 / hs.length })));
}

/**
 * Local search on one layer at fixed shares: move a replica off the slowest server to a server
 * with memory left, or swap it with a lighter replica elsewhere, whenever both servers then finish
 * before the slowest one did. `free` (per server, over all layers) is updated in place.
 */
export function improveLayer(problem: MoePlacementProblem, layer: number, rows: readonly (readonly Replica[])[], free: number[], maxMoves = 300): Replica[][] {
  if (problem.objective === 'traffic') return rows.map((reps) => reps.map((r) => ({ ...r })));
  const S = problem.servers.length;
  const timeRows = problem.servers.map((_, s) => serverRows(problem, s));
  const holders = rows.map((reps) => reps.map((r) => ({ ...r })));
  const tokensOf = (e: number, share: number) => share * expertTokens(problem, layer, e);
  const tokens = new Array<number>(S).fill(0);
  const count = new Array<number>(S).fill(0);
  const onServer: Set<number>[] = Array.from({ length: S }, () => new Set<number>());
  holders.forEach((reps, e) =>
    reps.forEach((r) => {
      tokens[r.server] += tokensOf(e, r.share);
      count[r.server] += 1;
      onServer[r.server].add(e);
    }),
  );
  const time = (s: number, t: number, n: number): number => {
    if (n <= 0) return 0;
    let v = 0;
    for (const row of timeRows[s]) v = Math.max(v, row.perToken * t + row.perReplica * n + row.fixed);
    return v;
  };
  for (let moves = 0; moves < maxMoves; moves++) {
    let b = 0;
    for (let s = 1; s < S; s++) if (time(s, tokens[s], count[s]) > time(b, tokens[b], count[b])) b = s;
    const limit = time(b, tokens[b], count[b]) * (1 - 1e-12);
    let done = false;
    for (const e of [...onServer[b]]) {
      if (done) break;
      const here = holders[e].find((r) => r.server === b);
      if (here === undefined) continue;
      const te = tokensOf(e, here.share);
      for (let s = 0; s < S && !done; s++) {
        if (s === b || holders[e].some((r) => r.server === s)) continue;
        // Move the replica when s has memory left.
        if (free[s] > 0 && Math.max(time(b, tokens[b] - te, count[b] - 1), time(s, tokens[s] + te, count[s] + 1)) < limit) {
          here.server = s;
          tokens[b] -= te;
          tokens[s] += te;
          count[b] -= 1;
          count[s] += 1;
          free[s] -= 1;
          free[b] += 1;
          onServer[b].delete(e);
          onServer[s].add(e);
          done = true;
          break;
        }
        // Or swap it with a lighter replica of another expert on s.
        for (const f of onServer[s]) {
          const there = holders[f].find((r) => r.server === s);
          if (there === undefined || onServer[b].has(f)) continue;
          const tf = tokensOf(f, there.share);
          if (tf >= te) continue;
          if (Math.max(time(b, tokens[b] - te + tf, count[b]), time(s, tokens[s] + te - tf, count[s])) < limit) {
            here.server = s;
            there.server = b;
            tokens[b] += tf - te;
            tokens[s] += te - tf;
            onServer[b].delete(e);
            onServer[s].add(e);
            onServer[s].delete(f);
            onServer[b].add(f);
            done = true;
            break;
          }
        }
      }
    }
    if (!done) break;
  }
  return holders;
}

/** A layer's term for one layer's rows (max-type: slowest server; traffic: remote bytes); ∞ if an expert has no holder. */
function rowsValue(problem: MoePlacementProblem, layer: number, rows: readonly (readonly Replica[])[]): number {
  const S = problem.servers.length;
  const tokens = new Array<number>(S).fill(0);
  const count = new Array<number>(S).fill(0);
  for (const [e, reps] of rows.entries()) {
    if (reps.length === 0) return Infinity;
    for (const r of reps) {
      tokens[r.server] += r.share * expertTokens(problem, layer, e);
      count[r.server] += 1;
    }
  }
  let value = 0;
  for (let s = 0; s < S; s++) {
    if (count[s] === 0) continue;
    if (problem.objective === 'traffic') value += serverTrafficBytes(problem, s, tokens[s]);
    else value = Math.max(value, serverLayerObjective(problem, s, tokens[s], count[s]));
  }
  return value;
}

/** The best shares for a fixed placement of one layer: an LP over the holders' shares. */
async function optimalShares(
  problem: MoePlacementProblem,
  layer: number,
  holders: readonly (readonly Replica[])[],
  context: ExactContext,
  timeLimitSeconds: number | undefined,
): Promise<Replica[][]> {
  const S = problem.servers.length;
  const maxType = problem.objective !== 'traffic';
  const b = new ModelBuilder(`moe-shares-${layer}`, 'min');
  const y = holders.map((reps, e) => reps.map((r) => b.addVariable(`y_${e}_${r.server}`, { lower: 0, upper: 1 })));
  holders.forEach((reps, e) => b.equal(`share_${e}`, reps.map((_, i) => term(y[e][i])), 1));
  if (maxType) {
    const T = b.addVariable('T', { lower: 0 });
    for (let s = 0; s < S; s++) {
      const held = holders.flatMap((reps, e) => reps.map((r, i) => ({ r, e, i })).filter((h) => h.r.server === s));
      if (held.length === 0) continue;
      serverRows(problem, s).forEach((row, k) => {
        const terms: Term[] = [term(T)];
        for (const h of held) terms.push(term(y[h.e][h.i], -row.perToken * expertTokens(problem, layer, h.e)));
        b.greaterEqual(`time_${s}_${k}`, terms, row.perReplica * held.length + row.fixed);
      });
    }
    b.addObjective(T, 1);
  } else {
    holders.forEach((reps, e) =>
      reps.forEach((r, i) => {
        if (problem.servers[r.server].link !== null) b.addObjective(y[e][i], 2 * problem.activationBytesPerToken * expertTokens(problem, layer, e));
      }),
    );
  }
  const result = await context.solveMilp(b.build(), timeLimitSeconds === undefined ? {} : { timeLimitSeconds });
  if (result.solution === null) return holders.map((reps) => reps.map((r) => ({ ...r })));
  const values = result.solution.values;
  return holders.map((reps, e) => {
    const raw = reps.map((_, i) => Math.max(0, Math.min(1, values[y[e][i]])));
    const sum = raw.reduce((a, v) => a + v, 0);
    return reps.map((r, i) => ({ server: r.server, share: sum > 0 ? raw[i] / sum : 1 / reps.length }));
  });
}

/**
 * Replicas server s can hold in a layer of an improving solution: its time rows alone
 * (fixed + perReplica·n, tokens aside) must stay within `budget`, the most an improving solution
 * can spend on the layer. A server that cannot hold even one is left out of the layer.
 */
export function usefulCaps(problem: MoePlacementProblem, caps: readonly number[], budget: number): number[] {
  if (problem.objective === 'traffic' || !Number.isFinite(budget)) return [...caps];
  return caps.map((cap, s) => {
    const rows = serverRows(problem, s);
    let n = Math.min(cap, problem.experts);
    while (n > 0 && rows.some((row) => row.fixed + row.perReplica * n > budget * (1 + 1e-9))) n -= 1;
    return n;
  });
}

function countsOf(problem: MoePlacementProblem, rows: readonly (readonly Replica[])[]): number[] {
  const counts = new Array<number>(problem.servers.length).fill(0);
  for (const reps of rows) for (const r of reps) counts[r.server] += 1;
  return counts;
}

/** Per-layer replica allotment that respects every server's memory: bound counts if they fit, else proportional. */
function allotment(problem: MoePlacementProblem, caps: readonly number[], wanted: readonly (readonly number[])[] | null): number[][] {
  const S = problem.servers.length;
  const Lm = problem.layers;
  const fits = wanted !== null && caps.every((c, s) => wanted.reduce((a, row) => a + row[s], 0) <= c);
  if (wanted !== null && fits) return wanted.map((row) => [...row]);
  // Spread each server's slots evenly over the layers; the remainders rotate (server s starts
  // where server s − 1 stopped) so that layer totals differ by at most one and each layer gets
  // at least ⌊Σ caps / L⌋ ≥ E slots whenever a placement exists.
  const out = Array.from({ length: Lm }, () => new Array<number>(S).fill(0));
  let offset = 0;
  for (let s = 0; s < S; s++) {
    const rest = caps[s] % Lm;
    for (let l = 0; l < Lm; l++) out[l][s] = Math.floor(caps[s] / Lm) + ((l - offset + Lm) % Lm < rest ? 1 : 0);
    offset = (offset + rest) % Lm;
  }
  return out;
}

export function notApplicable(problem: MoePlacementProblem): string | null {
  void problem;
  return null;
}

export async function solveExact(
  problem: MoePlacementProblem,
  context: ExactContext<MoePlacementDecision>,
): Promise<ExactResult<MoePlacementDecision>> {
  const start = performance.now();
  const S = problem.servers.length;
  const E = problem.experts;
  const small = E * S <= SMALL_LAYER_BINARIES;
  // The user's limit or none: no hidden default. Every wall-clock test below is skipped without one.
  const timed = context.timeLimitSeconds !== undefined;
  const limit = context.timeLimitSeconds ?? Infinity;
  const elapsed = (): number => (performance.now() - start) / 1000;
  const remaining = (): number => limit - elapsed();
  const inAggregateShare = (): boolean => !timed || elapsed() < AGGREGATE_SHARE * limit;
  const canStart = (): boolean => !timed || remaining() > MIN_SOLVE_SECONDS;
  const nodeLimit = problem.exactNodeLimit;
  /** MILP options: the node limit always, the time left only under a user limit. */
  const effort = (seconds?: number): { nodeLimit: number; timeLimitSeconds?: number } =>
    timed ? { nodeLimit, timeLimitSeconds: Math.max(MIN_SOLVE_SECONDS, seconds ?? remaining()) } : { nodeLimit };
  const Lm = problem.layers;
  const maxType = problem.objective !== 'traffic';
  const caps = problem.servers.map((_, s) => replicaCapacity(problem, s));
  if (!enoughSlots(problem)) return { termination: 'infeasible', decision: null, message: explainShortage(problem) };

  // Candidates are valued with the cost functions (placementValue); evaluate re-checks the answer.
  let best: MoePlacementDecision | null = null;
  let bestValue: PlacementValue | null = null;
  const consider = (candidate: MoePlacementDecision): void => {
    const v = placementValue(problem, candidate);
    if (v.feasible && (bestValue === null || v.objective < bestValue.objective)) {
      best = candidate;
      bestValue = v;
    }
  };
  // The chain's warm start and the peers seed the incumbent and give each layer a scale.
  if (context.incumbent !== undefined) consider(context.incumbent);
  for (const baseline of baselines) {
    context.progress?.(`incumbent from peer ${baseline.name}`);
    const d = baseline.run(problem);
    if (d !== null) consider(d);
  }
  const seed = bestValue as PlacementValue | null;
  const seedLayer = (l: number): number => (seed === null ? 0 : seed.layers[l]);

  // 1. Aggregate bound per layer (a bound on the layer's term without migration). Each costs a
  //    bisection (about 0.1 s per layer on DeepSeek-V3 × 16 servers), so under a short time limit
  //    the layers not reached by AGGREGATE_SHARE of it get the solver-free fluid bound instead.
  const aggregates: (AggregateBound | null)[] = [];
  for (let l = 0; l < Lm; l++) {
    context.progress?.(`aggregate bound, layer ${l + 1} of ${Lm}`);
    aggregates.push(!maxType || inAggregateShare() ? aggregateLayerBound(problem, l, caps, seedLayer(l)) : null);
  }
  const aggregateSeconds = elapsed();
  const aggregateBounds = aggregates.map((a, l) => a?.bound ?? fluidLayerBound(problem, l));
  const layerBounds = [...aggregateBounds];

  // 2. Realised incumbent per layer.
  const complete = aggregates.every((a) => a !== null);
  const slots = allotment(problem, caps, complete ? aggregates.map((a) => (a as AggregateBound).counts) : null);
  const even = allotment(problem, caps, null);
  const realised: Replica[][][] = [];
  for (let l = 0; l < Lm; l++) {
    let agg = aggregates[l];
    // Memory forced a per-layer allotment: aim at the relaxation's solution within it instead
    // (while time allows; otherwise only the greedy packings below are tried).
    if (agg !== null && !slots[l].every((c, s) => c === agg?.counts[s]))
      agg = inAggregateShare() ? aggregateLayerBound(problem, l, slots[l], seedLayer(l)) : null;
    // Candidates: the relaxation's solution dealt out, and speed-aware greedy packings with a
    // few amounts of replication; the best (at proportional shares) gets its optimal shares.
    const spare = Math.max(0, Math.min(problem.maxReplicasPerLayer ?? Infinity, even[l].reduce((a, b) => a + b, 0)) - E);
    const candidates = agg === null ? [] : [realizeLayer(problem, l, agg.counts, agg.tokens)];
    for (const extra of new Set([0, Math.floor(spare / 4), Math.floor(spare / 2), spare]))
      candidates.push(greedyLayer(problem, l, even[l], extra));
    let chosen = candidates[0];
    let chosenValue = Infinity;
    for (const c of candidates) {
      const v = rowsValue(problem, l, c);
      if (v < chosenValue) {
        chosen = c;
        chosenValue = v;
      }
    }
    realised.push(chosen);
  }
  // Local search across the layers' shared memory, then the optimal shares of each layer.
  const used = problem.servers.map((_, s) => realised.reduce((a, rows) => a + countsOf(problem, rows)[s], 0));
  const free = caps.map((c, s) => Math.max(0, c - used[s]));
  for (let l = 0; l < Lm; l++) {
    const improved = improveLayer(problem, l, realised[l], free);
    // Optimal shares are one LP per layer; out of (user) time, the proportional shares stand.
    realised[l] = canStart() ? await optimalShares(problem, l, improved, context, timed ? Math.min(30, remaining()) : undefined) : improved;
  }
  consider({ placement: realised });
  const realisedObjective = placementValue(problem, { placement: realised }).objective;
  if (best === null || bestValue === null) return { termination: 'error', decision: null, message: 'no feasible incumbent was constructed' };
  let incumbent: MoePlacementDecision = best;
  let incumbentValue: PlacementValue = bestValue;
  const accept = (candidate: MoePlacementDecision): void => {
    const v = placementValue(problem, candidate);
    if (v.feasible && v.objective < incumbentValue.objective) {
      incumbent = candidate;
      incumbentValue = v;
    }
  };

  // 3. Single-layer MILPs. Small layers: exact with the whole memory (a valid, tighter bound).
  //    Large layers: warm-started on the allotted slots (improvement only), largest gap first.
  const layerSolutions: (Replica[][] | null)[] = new Array<Replica[][] | null>(Lm).fill(null);
  const gapOf = (l: number): number => incumbentValue.layers[l] - layerBounds[l];
  const order = Array.from({ length: Lm }, (_, l) => l).sort((a, b) => gapOf(b) - gapOf(a) || a - b);
  let stoppedEarly = false;
  let nodeLimited = false;
  for (const [k, l] of order.entries()) {
    if (gapOf(l) <= context.mipGap * Math.max(1e-12, layerBounds[l])) {
      if (small) layerSolutions[l] = incumbent.placement[l].map((reps) => [...reps]);
      continue;
    }
    if (!canStart()) {
      stoppedEarly = true;
      break;
    }
    const sumBound = layerBounds.reduce((a, b) => a + b, 0);
    const gap = relative(incumbentValue.objective, sumBound);
    context.progress?.(`layer MILP ${k + 1} of ${Lm}`, { incumbent: incumbentValue.objective, bound: sumBound, gap });
    const layerCaps = small ? caps : slots[l];
    const scale = 1 / Math.max(layerBounds[l], 1e-12);
    // Whatever improves on the incumbent's layer value uses only servers that fit under it.
    const upper = incumbentValue.layers[l];
    const built = buildLayerModel(problem, {
      layers: [l],
      replicaCaps: layerCaps,
      layerServerCaps: [usefulCaps(problem, layerCaps, upper)],
      scale,
      ...(maxType ? { layerLowerBounds: [aggregateBounds[l]] } : {}),
    });
    const startRows = canonicalize(problem, incumbent, l).placement[l];
    const fitsCaps = countsOf(problem, startRows).every((c, s) => c <= layerCaps[s]);
    const result = await context.solveMilp(built.model, {
      mipGap: context.mipGap,
      ...effort(remaining() / Math.max(1, Lm - k)),
      ...(fitsCaps ? { warmStart: built.encode([startRows]) } : {}),
    });
    if (result.termination === 'node_limit') nodeLimited = true;
    if (result.termination === 'time_limit') stoppedEarly = true;
    if (result.solution === null) continue;
    const rows = built.decode(result.solution.values)[0];
    if (small) {
      // With the whole memory as the cap, the single-layer MILP is a relaxation of the layer.
      if (result.termination === 'optimal') layerSolutions[l] = rows;
      // Only a bound the backend reported: its "optimal" without one (GLPK's MIPs) is not a proof.
      const b = result.solution.bound;
      if (b !== undefined && Number.isFinite(b))
        layerBounds[l] = Math.max(layerBounds[l], Math.min(b, result.solution.objective) / scale);
    }
    accept({ placement: incumbent.placement.map((r, i) => (i === l ? rows : r)) });
  }

  const layerSeconds = elapsed() - aggregateSeconds;
  // 4. Small layers solved exactly: their union is optimal when it fits memory together.
  if (small && layerSolutions.every((r) => r !== null)) accept({ placement: layerSolutions as Replica[][][] });
  let bound = layerBounds.reduce((a, b) => a + b, 0);

  // 5. Memory couples the layers and the whole MILP is small: solve it from the incumbent.
  let wholeMessage = '';
  if (relative(incumbentValue.objective, bound) > context.mipGap && Lm * E * S <= WHOLE_MILP_BINARIES && canStart()) {
    const scale = 1 / Math.max(bound, 1e-12);
    // Layer l of an improving solution spends at most incumbent − Σ_{other layers} bound.
    const slack = incumbentValue.objective - bound;
    const perLayer = layerBounds.map((b) => usefulCaps(problem, caps, b + slack));
    const built = buildLayerModel(problem, { scale, layerServerCaps: perLayer, ...(maxType ? { layerLowerBounds: aggregateBounds } : {}) });
    const result = await context.solveMilp(built.model, {
      mipGap: context.mipGap,
      ...effort(),
      warmStart: built.encode(canonicalize(problem, incumbent).placement),
    });
    if (result.termination === 'node_limit') nodeLimited = true;
    if (result.termination === 'time_limit') stoppedEarly = true;
    if (result.solution !== null) {
      accept({ placement: built.decode(result.solution.values) });
      if (result.solution.bound !== undefined) bound = Math.max(bound, Math.min(result.solution.bound, result.solution.objective) / scale);
    }
    wholeMessage = ` Whole MILP: ${result.termination}.`;
  }

  bound = Math.min(bound, incumbentValue.objective);
  const gap = relative(incumbentValue.objective, bound);
  const optimal = gap <= context.mipGap + 1e-12;
  // Not proven: the user's time limit cut the search, or else (deterministically) the node limit
  // of the internal MILPs, or — for large layers — the method itself (their bound is the aggregate one).
  const termination = optimal ? 'optimal' : stoppedEarly ? 'time_limit' : 'node_limit';
  const stopped = optimal
    ? ''
    : stoppedEarly
      ? ' (time limit reached)'
      : nodeLimited
        ? ` (node limit ${nodeLimit} per MILP reached; raise exactNodeLimit)`
        : ' (the large layers’ MILPs improve the incumbent only; their bound is the aggregate relaxation)';
  return {
    termination,
    decision: incumbent,
    bound,
    message:
      `layer decomposition: bound ${bound.toPrecision(6)}, incumbent ${incumbentValue.objective.toPrecision(6)}, ` +
      `gap ${(gap * 100).toFixed(4)}%${stopped}; exactNodeLimit ${nodeLimit} per MILP` +
      `${timed ? `, time limit ${limit} s` : ', no time limit'}.${wholeMessage}`,
    details: {
      method:
        'layer decomposition (aggregate per-layer relaxation bound + constructed incumbent with local search + single-layer MILPs)',
      gap,
      exactNodeLimit: nodeLimit,
      timeLimitSeconds: timed ? limit : null,
      aggregateBound: aggregateBounds.reduce((a, b) => a + b, 0),
      realisedObjective,
      smallLayers: small,
      aggregateSeconds,
      layerSeconds,
      seconds: elapsed(),
    },
  };
}

/**
 * A solver-free lower bound on a max-type layer term: a server serving L_s > 0 tokens pays at
 * least a_s · L_s (a_s: its largest per-token time coefficient) and Σ_s L_s = W, so
 * T ≥ W / Σ_s 1/a_s. Weaker than the aggregate bound; used for layers it had no time for.
 */
function fluidLayerBound(problem: MoePlacementProblem, layer: number): number {
  let W = 0;
  for (let e = 0; e < problem.experts; e++) W += expertTokens(problem, layer, e);
  let capacity = 0;
  problem.servers.forEach((_, s) => {
    const a = Math.max(0, ...serverRows(problem, s).map((r) => r.perToken));
    capacity += a > 0 ? 1 / a : Infinity;
  });
  return Number.isFinite(capacity) && capacity > 0 ? W / capacity : 0;
}

function relative(objective: number, bound: number): number {
  return Math.abs(objective - bound) / Math.max(1e-12, Math.abs(objective));
}
