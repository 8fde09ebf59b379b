/**
 * Exact method for split-finetune. Given the lowest client cut m (so the server's shared weights
 * W(m) are fixed), the clients are coupled only through Σ n_k ≤ N and Σ server memory ≤ M − W(m):
 * a multiple-choice knapsack. The objective is Σ_t w_t · max_k P_{k,t} + γ · Σ_k e_k, where P_{k,t}
 * is client k's busy time in an aggregation period of type t (at most four types; w_t = α × the
 * number of such periods — the barrier at each aggregation makes the run a sum of per-period maxima).
 * - γ = 0 (time objectives): the period makespans T_t are searched on the grid of option values.
 *   The heaviest types are enumerated in ascending order, pruned by Σ w·T + Σ w·(lower bounds) ≥
 *   incumbent, and the last type is found by binary search: T is feasible iff the DP "fewest
 *   server bytes for each subchannel budget" over the options with P_{k,t} ≤ T_t for every t fits
 *   in memory, which is monotone in each T_t. The optimum's own makespans are a grid point, so the
 *   search is exact. With one period type (E = 1 and I dividing R) this is a single binary search.
 * - γ > 0 (energy, weighted): every type is enumerated (α = 0: only T = ∞); at each grid point a
 *   label DP over (subchannels used) with Pareto labels (energy, server bytes) gives the least
 *   energy within the memory; a scan stops once Σ w·T plus the least energy at T = ∞ cannot beat
 *   the incumbent.
 * The outer loop enumerates m (per-client cuts: options restricted to c ≥ m; the true lowest cut of
 * the optimum is one of the m tried, so over-counting W for other m never loses it) or the shared
 * pair (c, F) (cutPolicy shared). Memory is tested with the tolerance policy (tolerance.ts), as in
 * evaluate. No hidden time limit: the user's limit (if any) stops the search with the incumbent and
 * a valid lower bound.
 */
import { withinLimit } from '../tolerance.ts';
import type { ExactContext } from '../types.ts';
import { objectiveCoefficients, periodWeights, sharedServerWeightBytes, splitContext } from './cost.ts';
import { allowedPairs, optionDecision, optionTable, type SplitOption } from './options.ts';
import { checkRules } from './rules.ts';
import type { SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';

export interface CoreInput {
  readonly options: readonly (readonly SplitOption[])[];
  readonly subchannels: number;
  /** Server memory already taken by the shared weights, and the server's capacity. */
  readonly sharedBytes: number;
  readonly capacityBytes: number;
  /** Objective weight of each period type's makespan. */
  readonly weights: readonly number[];
  readonly energyCoefficient: number;
  /** Only solutions with objective strictly below this are of interest. */
  readonly cutoff: number;
  /** performance.now() reading after which the search gives up (Infinity: never). */
  readonly deadlineMs: number;
}

export interface CoreResult {
  readonly objective: number;
  readonly choice: SplitOption[];
}

interface CoreStats {
  dpRuns: number;
  timedOut: boolean;
}

const fitsWithin = (o: SplitOption, T: readonly number[]) => {
  for (let t = 0; t < T.length; t++) if (o.periodSeconds[t] > T[t]) return false;
  return true;
};

function memoryFits(input: CoreInput, bytes: number): boolean {
  return withinLimit(input.sharedBytes + bytes, input.capacityBytes);
}

function objectiveOf(input: CoreInput, choice: readonly SplitOption[]): number {
  let v = 0;
  input.weights.forEach((w, t) => {
    if (w > 0) v += w * Math.max(...choice.map((o) => o.periodSeconds[t]));
  });
  if (input.energyCoefficient > 0) v += input.energyCoefficient * choice.reduce((s, o) => s + o.joules, 0);
  return v;
}

/** Fewest server bytes over clients with every period makespan ≤ T and at most N subchannels, or null. */
function minMemoryAssignment(input: CoreInput, T: readonly number[], stats: CoreStats): SplitOption[] | null {
  stats.dpRuns++;
  const N = input.subchannels;
  const K = input.options.length;
  let g: Float64Array = new Float64Array(N + 1); // g[j]: least bytes for clients so far with ≤ j subchannels
  const picks: Int32Array[] = [];
  const bestByN: (SplitOption | undefined)[][] = [];
  for (let k = 0; k < K; k++) {
    const best: (SplitOption | undefined)[] = new Array(N + 1).fill(undefined);
    for (const o of input.options[k]) {
      if (o.subchannels > N || !fitsWithin(o, T)) continue;
      const cur = best[o.subchannels];
      if (cur === undefined || o.serverBytes < cur.serverBytes) best[o.subchannels] = o;
    }
    bestByN.push(best);
    const next = new Float64Array(N + 1).fill(Infinity);
    const pick = new Int32Array(N + 1);
    for (let n = 1; n <= N; n++) {
      const o = best[n];
      if (o === undefined) continue;
      for (let j = n; j <= N; j++) {
        const v = g[j - n] + o.serverBytes;
        if (v < next[j]) {
          next[j] = v;
          pick[j] = n;
        }
      }
    }
    g = next;
    picks.push(pick);
    if (!Number.isFinite(g[N])) return null;
  }
  if (!memoryFits(input, g[N])) return null;
  const choice: SplitOption[] = new Array(K);
  let j = N;
  for (let k = K - 1; k >= 0; k--) {
    const n = picks[k][j];
    choice[k] = bestByN[k][n] as SplitOption;
    j -= n;
  }
  return choice;
}

/** Per type, the least makespan any assignment can have, and the sorted grid of values at or above it. */
function grids(input: CoreInput): { lower: number[]; values: number[][] } {
  const d = input.weights.length;
  const lower = new Array<number>(d).fill(0);
  for (const list of input.options)
    for (let t = 0; t < d; t++) {
      let m = Infinity;
      for (const o of list) m = Math.min(m, o.periodSeconds[t]);
      lower[t] = Math.max(lower[t], m);
    }
  const values = lower.map((lb, t) => {
    const set = new Set<number>();
    for (const list of input.options) for (const o of list) if (o.periodSeconds[t] >= lb) set.add(o.periodSeconds[t]);
    return [...set].sort((x, y) => x - y);
  });
  return { lower, values };
}

interface Search {
  readonly input: CoreInput;
  readonly stats: CoreStats;
  /** Types in enumeration order (heaviest weight first); types of weight 0 stay at ∞. */
  readonly order: readonly number[];
  readonly lower: readonly number[];
  readonly values: readonly (readonly number[])[];
  /** Least Σ energy at T = ∞ (0 when energy does not count). */
  leastEnergy: number;
  best: CoreResult | null;
  bestValue: number;
}

function timedOut(s: Search): boolean {
  if (performance.now() > s.input.deadlineMs) s.stats.timedOut = true;
  return s.stats.timedOut;
}

function offer(s: Search, choice: SplitOption[] | null): void {
  if (choice === null) return;
  const v = objectiveOf(s.input, choice);
  if (v < s.bestValue) {
    s.bestValue = v;
    s.best = { objective: v, choice };
  }
}

/** Σ over the types from `level` on of w·(lower bound). */
function restBound(s: Search, level: number): number {
  let b = 0;
  for (let i = level; i < s.order.length; i++) b += s.input.weights[s.order[i]] * s.lower[s.order[i]];
  return b;
}

/** Smallest index of `grid` (up to `top`) at which type t is feasible with the other makespans in T, or −1. */
function leastFeasible(
  s: Search,
  T: number[],
  t: number,
  top: number,
): { index: number; choice: SplitOption[] } | null {
  const grid = s.values[t];
  T[t] = grid[top];
  let choice = minMemoryAssignment(s.input, T, s.stats);
  if (choice === null) return null;
  let lo = 0;
  let hi = top;
  while (lo < hi) {
    if (timedOut(s)) break;
    const mid = (lo + hi) >> 1;
    T[t] = grid[mid];
    const r = minMemoryAssignment(s.input, T, s.stats);
    if (r) {
      hi = mid;
      choice = r;
    } else lo = mid + 1;
  }
  return { index: hi, choice };
}

/**
 * The last two types: A ascending, B by a pointer that only moves down — the least feasible B is
 * non-increasing in A (more options fit), so the staircase costs O(|A| + |B|) feasibility checks.
 * At the optimum's own makespans (a*, b*) the pointer is at or below b*, and every choice offered
 * on the way is valued by its actual makespans, so the optimum (or one as good) is offered.
 */
function searchPair(s: Search, level: number, T: number[], prefix: number): void {
  const tA = s.order[level];
  const tB = s.order[level + 1];
  const wA = s.input.weights[tA];
  const wB = s.input.weights[tB];
  const gridA = s.values[tA];
  const gridB = s.values[tB];
  let ptr = -1;
  for (const v of gridA) {
    if (timedOut(s)) break;
    if (prefix + wA * v + wB * s.lower[tB] >= s.bestValue) break;
    T[tA] = v;
    if (ptr < 0) {
      const found = leastFeasible(s, T, tB, gridB.length - 1);
      if (found === null) continue;
      ptr = found.index;
      offer(s, found.choice);
      continue;
    }
    while (ptr > 0 && prefix + wA * v + wB * gridB[ptr - 1] < s.bestValue) {
      T[tB] = gridB[ptr - 1];
      const r = minMemoryAssignment(s.input, T, s.stats);
      if (r === null) break;
      ptr--;
      offer(s, r);
    }
  }
  T[tA] = Infinity;
  T[tB] = Infinity;
}

function searchTime(s: Search, level: number, T: number[], prefix: number): void {
  if (level === s.order.length - 2) return searchPair(s, level, T, prefix);
  const t = s.order[level];
  const w = s.input.weights[t];
  const grid = s.values[t];
  const rest = restBound(s, level + 1);
  // Only grid values whose bound can still beat the incumbent.
  let top = grid.length - 1;
  while (top >= 0 && prefix + w * grid[top] + rest >= s.bestValue) top--;
  if (top < 0) return;
  if (level === s.order.length - 1) {
    const found = leastFeasible(s, T, t, top);
    T[t] = Infinity;
    if (found !== null) offer(s, found.choice);
    return;
  }
  for (let i = 0; i <= top; i++) {
    if (timedOut(s)) return;
    const v = grid[i];
    if (prefix + w * v + rest >= s.bestValue) break;
    T[t] = v;
    if (minMemoryAssignment(s.input, T, s.stats) === null) continue;
    searchTime(s, level + 1, T, prefix + w * v);
  }
  T[t] = Infinity;
}

interface Label {
  readonly joules: number;
  readonly bytes: number;
  readonly option: SplitOption | null;
  readonly parent: Label | null;
}

/** Keeps labels not dominated in (joules, bytes), sorted by joules. */
function paretoLabels(labels: Label[]): Label[] {
  labels.sort((x, y) => x.joules - y.joules || x.bytes - y.bytes);
  const out: Label[] = [];
  let minBytes = Infinity;
  for (const l of labels) {
    if (l.bytes < minBytes) {
      out.push(l);
      minBytes = l.bytes;
    }
  }
  return out;
}

/** Least Σ energy with ≤ N subchannels, ignoring server memory (a 1-D DP); a lower bound, exact when it fits. */
function minEnergyIgnoringMemory(
  lists: readonly SplitOption[][],
  N: number,
): { joules: number; choice: SplitOption[] } | null {
  let g = new Float64Array(N + 1); // ≤ j subchannels
  const picks: (SplitOption | undefined)[][] = [];
  for (const list of lists) {
    const best: (SplitOption | undefined)[] = new Array(N + 1).fill(undefined);
    for (const o of list) {
      const cur = best[o.subchannels];
      if (cur === undefined || o.joules < cur.joules || (o.joules === cur.joules && o.serverBytes < cur.serverBytes))
        best[o.subchannels] = o;
    }
    const next = new Float64Array(N + 1).fill(Infinity);
    const pick: (SplitOption | undefined)[] = new Array(N + 1).fill(undefined);
    for (let n = 1; n <= N; n++) {
      const o = best[n];
      if (o === undefined) continue;
      for (let j = n; j <= N; j++) {
        const v = g[j - n] + o.joules;
        if (v < next[j]) {
          next[j] = v;
          pick[j] = o;
        }
      }
    }
    g = next;
    picks.push(pick);
  }
  if (!Number.isFinite(g[N])) return null;
  const choice: SplitOption[] = new Array(lists.length);
  let j = N;
  for (let k = lists.length - 1; k >= 0; k--) {
    const o = picks[k][j] as SplitOption;
    choice[k] = o;
    j -= o.subchannels;
  }
  return { joules: g[N], choice };
}

/** Whether a label of the (joules-sorted, bytes-decreasing) front is at least as good on both. */
function dominatedBy(front: readonly Label[], l: Label): boolean {
  let lo = 0;
  let hi = front.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (front[mid].joules <= l.joules) {
      at = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return at >= 0 && front[at].bytes <= l.bytes;
}

/**
 * Least Σ energy with every period makespan ≤ T, ≤ N subchannels and the memory budget, or null.
 * First the memory-blind DP (exact whenever its answer fits); otherwise a label DP over
 * (subchannels used) with Pareto labels (energy, bytes), pruned by suffix bounds against the best
 * complete assignment known (the least-memory assignment, which is feasible whenever anything is).
 */
function minEnergyAssignment(
  input: CoreInput,
  T: readonly number[],
  stats: CoreStats,
): { joules: number; choice: SplitOption[] } | null {
  stats.dpRuns++;
  const N = input.subchannels;
  const lists = input.options.map((list) => list.filter((o) => o.subchannels <= N && fitsWithin(o, T)));
  const K = lists.length;
  const joulesAfter = new Float64Array(K + 1);
  const bytesAfter = new Float64Array(K + 1);
  const subchannelsAfter = new Float64Array(K + 1);
  for (let k = K - 1; k >= 0; k--) {
    let e = Infinity;
    let m = Infinity;
    let n = Infinity;
    for (const o of lists[k]) {
      e = Math.min(e, o.joules);
      m = Math.min(m, o.serverBytes);
      n = Math.min(n, o.subchannels);
    }
    joulesAfter[k] = joulesAfter[k + 1] + e;
    bytesAfter[k] = bytesAfter[k + 1] + m;
    subchannelsAfter[k] = subchannelsAfter[k + 1] + n;
  }
  if (lists.some((l) => l.length === 0)) return null;
  if (!memoryFits(input, bytesAfter[0]) || subchannelsAfter[0] > N) return null;
  const relaxed = minEnergyIgnoringMemory(lists, N);
  if (relaxed === null) return null;
  if (
    memoryFits(
      input,
      relaxed.choice.reduce((s, o) => s + o.serverBytes, 0),
    )
  )
    return relaxed;
  const fallback = minMemoryAssignment({ ...input, options: lists }, T, stats);
  if (fallback === null) return null;
  let incumbent = { joules: fallback.reduce((s, o) => s + o.joules, 0), choice: fallback };
  let states: Label[][] = Array.from({ length: N + 1 }, () => []);
  states[0] = [{ joules: 0, bytes: 0, option: null, parent: null }];
  for (let k = 0; k < K; k++) {
    const byN = new Map<number, SplitOption[]>();
    for (const o of lists[k]) {
      const g = byN.get(o.subchannels);
      if (g) g.push(o);
      else byN.set(o.subchannels, [o]);
    }
    const groups = [...byN.entries()].map(([n, os]) => {
      const labels = paretoLabels(os.map((o) => ({ joules: o.joules, bytes: o.serverBytes, option: o, parent: null })));
      return { n, options: labels.map((l) => l.option as SplitOption) };
    });
    const next: Label[][] = Array.from({ length: N + 1 }, () => []);
    for (let j = 0; j <= N; j++) {
      for (const l of states[j]) {
        for (const { n, options } of groups) {
          if (j + n + subchannelsAfter[k + 1] > N) continue;
          for (const o of options) {
            const bytes = l.bytes + o.serverBytes;
            const joules = l.joules + o.joules;
            if (!memoryFits(input, bytes + bytesAfter[k + 1]) || joules + joulesAfter[k + 1] >= incumbent.joules)
              continue;
            next[j + n].push({ joules, bytes, option: o, parent: l });
          }
        }
      }
    }
    // Labels at j that a label with fewer subchannels beats on both energy and bytes are dropped.
    let front: Label[] = [];
    for (let j = 0; j <= N; j++) {
      const kept = paretoLabels(next[j]).filter((l) => !dominatedBy(front, l));
      next[j] = kept;
      if (kept.length > 0) front = paretoLabels([...front, ...kept]);
    }
    states = next;
  }
  for (let j = 0; j <= N; j++)
    for (const l of states[j])
      if (l.joules < incumbent.joules) {
        const choice: SplitOption[] = [];
        for (let x: Label | null = l; x !== null && x.option !== null; x = x.parent) choice.push(x.option);
        incumbent = { joules: l.joules, choice: choice.reverse() };
      }
  return incumbent;
}

function searchEnergy(s: Search, level: number, T: number[], prefix: number): void {
  const t = s.order[level];
  const w = s.input.weights[t];
  const rest = restBound(s, level + 1);
  const leaf = level === s.order.length - 1;
  for (const v of s.values[t]) {
    if (timedOut(s)) return;
    if (prefix + w * v + rest + s.input.energyCoefficient * s.leastEnergy >= s.bestValue) break;
    T[t] = v;
    if (leaf) {
      offer(s, minEnergyAssignment(s.input, T, s.stats)?.choice ?? null);
      continue;
    }
    if (minMemoryAssignment(s.input, T, s.stats) === null) continue;
    searchEnergy(s, level + 1, T, prefix + w * v);
  }
  T[t] = Infinity;
}

/** Solves one multiple-choice knapsack (fixed lowest cut or fixed shared pair). */
export function solveCore(input: CoreInput, stats: CoreStats = { dpRuns: 0, timedOut: false }): CoreResult | null {
  if (input.options.some((l) => l.length === 0)) return null;
  const d = input.weights.length;
  const infinite = new Array<number>(d).fill(Infinity);
  const order = input.weights
    .map((w, t) => ({ w, t }))
    .filter((x) => x.w > 0)
    .sort((a, b) => b.w - a.w || a.t - b.t)
    .map((x) => x.t);
  const { lower, values } = grids(input);
  const s: Search = { input, stats, order, lower, values, leastEnergy: 0, best: null, bestValue: input.cutoff };
  if (input.energyCoefficient === 0) {
    if (order.length === 0) offer(s, minMemoryAssignment(input, infinite, stats));
    else searchTime(s, 0, infinite.slice(), 0);
    return s.best;
  }
  const atInfinity = minEnergyAssignment(input, infinite, stats);
  if (atInfinity === null) return null;
  s.leastEnergy = atInfinity.joules;
  offer(s, atInfinity.choice);
  if (order.length > 0) searchEnergy(s, 0, infinite.slice(), 0);
  return s.best;
}

export interface ExactDetails {
  readonly optionsGenerated: number;
  readonly optionsKept: number;
  readonly outerIterations: number;
  readonly dpRuns: number;
  readonly periodTypes: number;
}

export interface ExactOutcome {
  readonly decision: SplitFinetuneDecision | null;
  readonly objective: number;
  /** Proven lower bound (equal to the objective unless the search stopped at the deadline). */
  readonly bound: number;
  readonly timedOut: boolean;
  readonly details: ExactDetails;
}

export interface ExactOptions {
  /** performance.now() reading at which to stop; default none. */
  readonly deadlineMs?: number;
  /** A decision to start from; valued (and checked) with the cost functions. */
  readonly incumbent?: SplitFinetuneDecision;
  /** The chain's progress hook (ExactContext.progress): one report per outer sub-problem. */
  readonly progress?: ExactContext['progress'];
}

/** Σ w_t · (max over clients of their least P_t) + γ · Σ (least energy): valid for every option subset. */
function tableLowerBound(
  options: readonly (readonly SplitOption[])[],
  weights: readonly number[],
  gamma: number,
): number {
  if (options.some((l) => l.length === 0)) return Infinity;
  let b = 0;
  weights.forEach((w, t) => {
    if (w > 0) b += w * Math.max(...options.map((l) => Math.min(...l.map((o) => o.periodSeconds[t]))));
  });
  if (gamma > 0) b += gamma * options.reduce((s, l) => s + Math.min(...l.map((o) => o.joules)), 0);
  return b;
}

/** The exact optimum of `problem`. */
export function solveExact(problem: SplitFinetuneProblem, options: ExactOptions = {}): ExactOutcome {
  const ctx = splitContext(problem);
  const table = optionTable(problem);
  const { energyCoefficient } = objectiveCoefficients(problem);
  const weights = periodWeights(ctx);
  const deadlineMs = options.deadlineMs ?? Infinity;
  const stats: CoreStats = { dpRuns: 0, timedOut: false };
  let best: { objective: number; decision: SplitFinetuneDecision } | null = null;
  if (options.incumbent !== undefined) {
    const check = checkRules(problem, options.incumbent);
    if (check.broken.length === 0) best = { objective: check.objective, decision: options.incumbent };
  }
  let outer = 0;
  let outerTotal = 0;
  const M = problem.server.memoryBytes;
  const consider = (list: SplitOption[][], sharedBytes: number) => {
    outer++;
    const cutoff = best?.objective ?? Infinity;
    const facts = Number.isFinite(cutoff) ? { incumbent: cutoff } : {};
    options.progress?.(`sub-problem ${outer} of at most ${outerTotal}`, facts);
    const input: CoreInput = {
      options: list,
      subchannels: problem.subchannels,
      sharedBytes,
      capacityBytes: M,
      weights,
      energyCoefficient,
      cutoff,
      deadlineMs,
    };
    const r = solveCore(input, stats);
    if (r && r.objective < cutoff) {
      const decision = {
        clients: r.choice.map((o) => optionDecision(problem, o)),
      };
      best = { objective: r.objective, decision };
    }
  };
  if (problem.cutPolicy === 'shared') {
    // Group each client's options by pair once, instead of filtering the whole list per pair.
    const L = problem.model.layers;
    const byPair = table.options.map((list) => {
      const m = new Map<number, SplitOption[]>();
      for (const o of list) {
        const key = o.cut * (L + 1) + o.frozenLayers;
        const g = m.get(key);
        if (g) g.push(o);
        else m.set(key, [o]);
      }
      return m;
    });
    // Pairs in order of their lower bound, so the incumbent soon prunes the rest (stable sort).
    const candidates: { cut: number; options: SplitOption[][]; bound: number }[] = [];
    for (const { cut, frozenLayers } of allowedPairs(problem)) {
      const key = cut * (L + 1) + frozenLayers;
      const list = byPair.map((m) => m.get(key) ?? []);
      if (list.some((l) => l.length === 0)) continue;
      candidates.push({ cut, options: list, bound: tableLowerBound(list, weights, energyCoefficient) });
    }
    candidates.sort((a, b) => a.bound - b.bound);
    outerTotal = candidates.length;
    for (const c of candidates) {
      if (stats.timedOut || c.bound >= (best?.objective ?? Infinity)) break;
      consider(c.options, sharedServerWeightBytes(ctx, c.cut));
    }
  } else {
    const cuts = [...new Set(table.options.flatMap((l) => l.map((o) => o.cut)))].sort((x, y) => y - x);
    outerTotal = cuts.length;
    for (const m of cuts) {
      if (stats.timedOut) break;
      const list = table.options.map((l) => l.filter((o) => o.cut >= m));
      if (tableLowerBound(list, weights, energyCoefficient) >= (best?.objective ?? Infinity)) continue;
      consider(list, sharedServerWeightBytes(ctx, m));
    }
  }
  const details: ExactDetails = {
    optionsGenerated: table.generated,
    optionsKept: table.kept,
    outerIterations: outer,
    dpRuns: stats.dpRuns,
    periodTypes: weights.length,
  };
  const found = best as { objective: number; decision: SplitFinetuneDecision } | null;
  const lowerBound = tableLowerBound(table.options, weights, energyCoefficient);
  if (found === null) {
    return {
      decision: null,
      objective: Infinity,
      bound: stats.timedOut ? lowerBound : Infinity,
      timedOut: stats.timedOut,
      details,
    };
  }
  return {
    decision: found.decision,
    objective: found.objective,
    bound: stats.timedOut ? Math.min(lowerBound, found.objective) : found.objective,
    timedOut: stats.timedOut,
    details,
  };
}
