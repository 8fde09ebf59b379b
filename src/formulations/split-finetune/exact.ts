/**
 * Exact method for split-finetune. Given the lowest client cut m (so the server's shared weights
 * W(m) are fixed), the clients are coupled only through Σ n_k ≤ N and Σ server memory ≤ M − W(m):
 * a multiple-choice knapsack. The objective α · max_k T_k + γ · Σ_k e_k is minimised by
 * - γ = 0 (time objectives): binary search over the sorted candidate makespans T (every option's
 *   round time); T is feasible iff the DP "fewest server bytes for each subchannel budget" over the
 *   options with T_k ≤ T fits in memory. Feasibility is monotone in T, so the search is exact.
 * - γ > 0 (energy, weighted): for each candidate T in ascending order (only T = ∞ when α = 0), a
 *   label DP over (subchannels used) with Pareto labels (energy, server bytes) gives the least energy
 *   within the memory; stop once α · T plus the least energy at T = ∞ cannot beat the incumbent.
 * The outer loop enumerates m (per-client cuts: options restricted to c ≥ m; the true lowest cut of
 * the optimum is one of the m tried, so over-counting W for other m never loses it) or the shared
 * pair (c, F) (cutPolicy shared).
 */
import { objectiveCoefficients, sharedServerWeightBytes, splitContext } from './cost.ts';
import { allowedPairs, optionTable, type OptionFilter, type SplitOption } from './options.ts';
import type { SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';

export interface CoreInput {
  readonly options: readonly (readonly SplitOption[])[];
  readonly subchannels: number;
  readonly memoryBudgetBytes: number;
  readonly timeCoefficient: number;
  readonly energyCoefficient: number;
  /** Only solutions with objective strictly below this are of interest. */
  readonly cutoff: number;
}

export interface CoreResult {
  readonly objective: number;
  readonly choice: SplitOption[];
}

interface CoreStats {
  dpRuns: number;
}

/** Fewest server bytes over clients for makespan ≤ T with at most N subchannels, or null. */
function minMemoryAssignment(input: CoreInput, T: number, stats: CoreStats): { bytes: number; choice: SplitOption[] } | null {
  stats.dpRuns++;
  const N = input.subchannels;
  const K = input.options.length;
  let g: Float64Array = new Float64Array(N + 1); // g[j]: least bytes for clients so far with ≤ j subchannels
  const picks: Int32Array[] = [];
  const bestByN: (SplitOption | undefined)[][] = [];
  for (let k = 0; k < K; k++) {
    const best: (SplitOption | undefined)[] = new Array(N + 1).fill(undefined);
    for (const o of input.options[k]) {
      if (o.seconds > T || o.subchannels > N) continue;
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
    // "At most j" semantics: carry the better of j−1 forward is implicit since g[0..] starts at 0 for all j.
    g = next;
    picks.push(pick);
    if (!Number.isFinite(g[N])) return null;
  }
  if (!(g[N] <= input.memoryBudgetBytes)) return null;
  const choice: SplitOption[] = new Array(K);
  let j = N;
  for (let k = K - 1; k >= 0; k--) {
    const n = picks[k][j];
    choice[k] = bestByN[k][n] as SplitOption;
    j -= n;
  }
  return { bytes: g[N], choice };
}

function timeOnly(input: CoreInput, stats: CoreStats): CoreResult | null {
  const a = input.timeCoefficient;
  let lower = 0;
  for (const list of input.options) {
    if (list.length === 0) return null;
    let m = Infinity;
    for (const o of list) m = Math.min(m, o.seconds);
    lower = Math.max(lower, m);
  }
  const set = new Set<number>();
  for (const list of input.options) for (const o of list) if (o.seconds >= lower && a * o.seconds < input.cutoff) set.add(o.seconds);
  const candidates = [...set].sort((x, y) => x - y);
  if (candidates.length === 0) return null;
  // Largest candidate first: if even it is infeasible, nothing below the cutoff is.
  let hiResult = minMemoryAssignment(input, candidates[candidates.length - 1], stats);
  if (hiResult === null) return null;
  let lo = 0;
  let hi = candidates.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = minMemoryAssignment(input, candidates[mid], stats);
    if (r) {
      hi = mid;
      hiResult = r;
    } else lo = mid + 1;
  }
  const choice = hiResult.choice;
  const makespan = Math.max(...choice.map((o) => o.seconds));
  return { objective: a * makespan, choice };
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

/** Per client, the options with T_k ≤ T, and suffix lower bounds on energy, bytes and subchannels of the clients after k. */
function restrictTo(input: CoreInput, T: number) {
  const N = input.subchannels;
  const lists = input.options.map((list) => list.filter((o) => o.seconds <= T && o.subchannels <= N));
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
  return { lists, joulesAfter, bytesAfter, subchannelsAfter };
}

/** Least Σ energy with ≤ N subchannels, ignoring server memory (a 1-D DP); a lower bound, exact when it fits. */
function minEnergyIgnoringMemory(lists: readonly SplitOption[][], N: number): { joules: number; choice: SplitOption[] } | null {
  let g = new Float64Array(N + 1); // ≤ j subchannels
  const picks: (SplitOption | undefined)[][] = [];
  for (const list of lists) {
    const best: (SplitOption | undefined)[] = new Array(N + 1).fill(undefined);
    for (const o of list) {
      const cur = best[o.subchannels];
      if (cur === undefined || o.joules < cur.joules || (o.joules === cur.joules && o.serverBytes < cur.serverBytes)) best[o.subchannels] = o;
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

/**
 * Least Σ energy with makespan ≤ T, ≤ N subchannels and the memory budget, or null. First the
 * memory-blind DP (exact whenever its answer fits); otherwise a label DP over (subchannels used)
 * with Pareto labels (energy, bytes), pruned by suffix bounds against the best complete
 * assignment known (the least-memory assignment, which is feasible whenever anything is).
 */
function minEnergyAssignment(input: CoreInput, T: number, stats: CoreStats): { joules: number; choice: SplitOption[] } | null {
  stats.dpRuns++;
  const N = input.subchannels;
  const budget = input.memoryBudgetBytes;
  const { lists, joulesAfter, bytesAfter, subchannelsAfter } = restrictTo(input, T);
  if (lists.some((l) => l.length === 0)) return null;
  if (bytesAfter[0] > budget || subchannelsAfter[0] > N) return null;
  const relaxed = minEnergyIgnoringMemory(lists, N);
  if (relaxed === null) return null;
  if (relaxed.choice.reduce((s, o) => s + o.serverBytes, 0) <= budget) return relaxed;
  const fallback = minMemoryAssignment({ ...input, options: lists }, Infinity, stats);
  if (fallback === null) return null;
  let incumbent = { joules: fallback.choice.reduce((s, o) => s + o.joules, 0), choice: fallback.choice };
  const K = lists.length;
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
    const restJoules = joulesAfter[k + 1];
    const restBytes = bytesAfter[k + 1];
    const restSubchannels = subchannelsAfter[k + 1];
    const next: Label[][] = Array.from({ length: N + 1 }, () => []);
    for (let j = 0; j <= N; j++) {
      for (const l of states[j]) {
        for (const { n, options } of groups) {
          if (j + n + restSubchannels > N) continue;
          for (const o of options) {
            const bytes = l.bytes + o.serverBytes;
            const joules = l.joules + o.joules;
            if (bytes + restBytes > budget || joules + restJoules >= incumbent.joules) continue;
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

/** Whether a label of the (joules-sorted, bytes-decreasing) front is at least as good on both. */
function dominatedBy(front: readonly Label[], l: Label): boolean {
  // The front is sorted by joules with bytes strictly decreasing: the last entry with joules ≤ l.joules has the fewest bytes among them.
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

function withEnergy(input: CoreInput, stats: CoreStats): CoreResult | null {
  const a = input.timeCoefficient;
  const c = input.energyCoefficient;
  const atInfinity = minEnergyAssignment(input, Infinity, stats);
  if (atInfinity === null) return null;
  const objectiveOf = (choice: SplitOption[], joules: number) => a * Math.max(...choice.map((o) => o.seconds)) + c * joules;
  let best: CoreResult | null = null;
  let bestValue = input.cutoff;
  if (a === 0) {
    const v = objectiveOf(atInfinity.choice, atInfinity.joules);
    return v < bestValue ? { objective: v, choice: atInfinity.choice } : null;
  }
  const set = new Set<number>();
  let lower = 0;
  for (const list of input.options) {
    let m = Infinity;
    for (const o of list) m = Math.min(m, o.seconds);
    lower = Math.max(lower, m);
  }
  for (const list of input.options) for (const o of list) if (o.seconds >= lower) set.add(o.seconds);
  const candidates = [...set].sort((x, y) => x - y);
  for (const T of candidates) {
    if (a * T + c * atInfinity.joules >= bestValue) break;
    const r = minEnergyAssignment(input, T, stats);
    if (r === null) continue;
    const v = objectiveOf(r.choice, r.joules);
    if (v < bestValue) {
      bestValue = v;
      best = { objective: v, choice: r.choice };
    }
  }
  return best;
}

/** Solves one multiple-choice knapsack (fixed lowest cut or fixed shared pair). */
export function solveCore(input: CoreInput, stats: CoreStats = { dpRuns: 0 }): CoreResult | null {
  if (input.memoryBudgetBytes < 0) return null;
  if (input.options.some((l) => l.length === 0)) return null;
  return input.energyCoefficient === 0 ? timeOnly(input, stats) : withEnergy(input, stats);
}

export interface ExactOutcome {
  readonly decision: SplitFinetuneDecision | null;
  readonly objective: number;
  readonly details: { optionsGenerated: number; optionsKept: number; outerIterations: number; dpRuns: number };
}

/**
 * The exact optimum of `problem`, optionally restricted by `filter` (the peers reuse this with
 * fixed subchannels or a fully frozen client side, which makes them "best (c, F) given their rule").
 */
export function solveExact(problem: SplitFinetuneProblem, filter: OptionFilter = {}): ExactOutcome {
  const ctx = splitContext(problem);
  const table = optionTable(problem, filter);
  const { timeCoefficient, energyCoefficient } = objectiveCoefficients(problem);
  const stats: CoreStats = { dpRuns: 0 };
  let best: CoreResult | null = null;
  let cutoff = Infinity;
  let outer = 0;
  const M = problem.server.memoryBytes;
  const consider = (options: SplitOption[][], sharedBytes: number) => {
    outer++;
    const r = solveCore({ options, subchannels: problem.subchannels, memoryBudgetBytes: M - sharedBytes, timeCoefficient, energyCoefficient, cutoff }, stats);
    if (r && r.objective < cutoff) {
      best = r;
      cutoff = r.objective;
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
    // Pairs in order of their lower bound (every client at its fastest / least-energy option), so
    // the incumbent soon prunes the rest; ties keep the enumeration order (stable sort).
    const candidates: { cut: number; options: SplitOption[][]; bound: number }[] = [];
    for (const { cut, frozenLayers } of allowedPairs(problem)) {
      const key = cut * (L + 1) + frozenLayers;
      const options = byPair.map((m) => m.get(key) ?? []);
      if (options.some((l) => l.length === 0)) continue;
      let lbTime = 0;
      let lbEnergy = 0;
      for (const l of options) {
        let t = Infinity;
        let e = Infinity;
        for (const o of l) {
          t = Math.min(t, o.seconds);
          e = Math.min(e, o.joules);
        }
        lbTime = Math.max(lbTime, t);
        lbEnergy += e;
      }
      candidates.push({ cut, options, bound: timeCoefficient * lbTime + energyCoefficient * lbEnergy });
    }
    candidates.sort((a, b) => a.bound - b.bound);
    for (const c of candidates) {
      if (c.bound >= cutoff) break;
      consider(c.options, sharedServerWeightBytes(ctx, c.cut));
    }
  } else {
    const cuts = [...new Set(table.options.flatMap((l) => l.map((o) => o.cut)))].sort((x, y) => y - x);
    for (const m of cuts) {
      const options = table.options.map((list) => list.filter((o) => o.cut >= m));
      if (options.some((l) => l.length === 0)) continue;
      consider(options, sharedServerWeightBytes(ctx, m));
    }
  }
  const details = { optionsGenerated: table.generated, optionsKept: table.kept, outerIterations: outer, dpRuns: stats.dpRuns };
  const found = best as CoreResult | null;
  if (found === null) return { decision: null, objective: Infinity, details };
  return {
    decision: { clients: found.choice.map((o) => ({ cut: o.cut, frozenLayers: o.frozenLayers, subchannels: o.subchannels })) },
    objective: found.objective,
    details,
  };
}
