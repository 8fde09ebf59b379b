/**
 * MILP: the pipeline as a path of stage intervals. x[j][a][b] = 1 when server j holds layers a..b
 * as one stage; only intervals that fit j's memory exist as columns, so memory is exact in the
 * relaxation too. z[l][j][q] carries the path across the boundary after layer l from a stage on j
 * to the next stage on q and pays that link. Flow conservation at every "a stage starts at layer l
 * on q" and "a stage ends at layer l on j" node makes the selected intervals a single contiguous
 * path from layer 1 to layer L; "each server at most once" is the only side constraint on what is
 * otherwise a shortest-path (totally unimodular) network.
 *
 * Under 1F1B a stage's in-flight micro-batches depend on how many stages follow it. An interval
 * that fits only when at most k − 1 stages follow gets one row C_a ≤ k − 1 (when chosen), where
 * C_a = Σ_{l ≥ a} (boundaries after layer l) is kept by one running-sum variable per layer.
 * Bottleneck objectives add T ≥ each server's stage time, T ≥ each boundary's transfer (and the
 * return). T has no lower bound beyond 0: a perfect-balance bound on the column made GLPK's MIP
 * presolve return infeasible points on ≈ 8% of small training instances, and HiGHS finds the
 * same bound from the rows. Identical servers (same tables and links) are interchangeable: rows
 * order them by position in the pipeline, so the search does not revisit permutations.
 *
 * This replaces an earlier layer-by-layer flow model (a[l][j] with pairwise transitions), whose
 * relaxation spread a constant fraction of every layer over every server and so ignored both
 * memory granularity and communication.
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import { withinLimit } from '../tolerance.ts';
import type { CompileHints, Compiled } from '../types.ts';
import {
  lowerBound,
  planObjective,
  planOfDecision,
  stageMemoryBytes,
  stageSeconds,
  tablesOf,
  type PipelineTables,
  type StagePlan,
} from './cost.ts';
import { planToDecision } from './exact.ts';
import type { PipelineDecision, PipelineProblem } from './schema.ts';

const sameArray = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** Whether swapping servers j and k changes nothing: same tables, same links to and from every other server. */
function interchangeable(t: PipelineTables, problem: PipelineProblem, j: number, k: number): boolean {
  const n = t.servers;
  if (j === problem.source || k === problem.source) return false;
  if (
    t.capacityBytes[j] !== t.capacityBytes[k] ||
    t.singleStageCreditBytes[j] !== t.singleStageCreditBytes[k] ||
    t.ret[j] !== t.ret[k] ||
    t.hopBytes[j] !== t.hopBytes[k] ||
    !sameArray(t.timePrefix[j], t.timePrefix[k]) ||
    !sameArray(t.statePrefix[j], t.statePrefix[k]) ||
    !sameArray(t.kvPrefix[j], t.kvPrefix[k]) ||
    !sameArray(t.activationPrefix[j], t.activationPrefix[k])
  ) {
    return false;
  }
  if (t.comm[j * n + k] !== t.comm[k * n + j]) return false;
  for (let q = 0; q < n; q++) {
    if (q === j || q === k) continue;
    if (t.comm[j * n + q] !== t.comm[k * n + q] || t.comm[q * n + j] !== t.comm[q * n + k]) return false;
  }
  return true;
}

/** Classes (≥ 2 members, ascending) of interchangeable servers; empty under a listed order. */
export function symmetryClasses(problem: PipelineProblem): number[][] {
  if (problem.serverOrder === 'listed') return [];
  const t = tablesOf(problem);
  const classes: number[][] = [];
  for (let j = 0; j < t.servers; j++) {
    // Interchangeability is an equivalence (equal tables and link rows), so comparing with a class's first member suffices.
    const home = classes.find((c) => interchangeable(t, problem, c[0], j));
    if (home) home.push(j);
    else classes.push([j]);
  }
  return classes.filter((c) => c.length > 1);
}

/**
 * The fewest servers whose memory can hold every layer at its least footprint (the least number
 * of micro-batches in flight), the source counted first when pinned — a lower bound on the stages.
 */
export function minimumStages(problem: PipelineProblem): number {
  const t = tablesOf(problem);
  let need = 0;
  for (let l = 1; l <= t.layers; l++) {
    let least = Infinity;
    for (let j = 0; j < t.servers; j++) least = Math.min(least, stageMemoryBytes(t, j, l, l, 1));
    need += least;
  }
  // The single-stage credit may lower a whole-model stage below the per-layer sum.
  need -= Math.max(0, ...t.singleStageCreditBytes);
  const src = problem.source;
  const caps = t.capacityBytes.filter((_, j) => j !== src).sort((x, y) => y - x);
  let held = src === null ? 0 : t.capacityBytes[src];
  let count = src === null ? 0 : 1;
  for (const c of caps) {
    if (withinLimit(need, held)) break;
    held += c;
    count++;
  }
  return Math.max(1, Math.min(count, problem.maxStages));
}

interface Interval {
  readonly column: number;
  readonly server: number;
  readonly first: number;
  readonly last: number;
  /** Most stages (counting itself) that may follow from this one under 1F1B; Infinity if unrestricted. */
  readonly maxFromEnd: number;
}

export function compilePipeline(
  problem: PipelineProblem,
  hints: CompileHints<PipelineDecision> = {},
): Compiled<PipelineDecision> {
  const t = tablesOf(problem);
  const n = t.servers;
  const L = t.layers;
  const K = Math.min(problem.stages ?? problem.maxStages, n, L);
  const B = t.microBatches;
  const it = t.iterations;
  const src = problem.source;
  const rank = (j: number): number => (j === src ? -1 : j);
  const b = new ModelBuilder(`pipeline-placement ${problem.model.id} on ${n} servers`, 'min');
  const fits = (j: number, a: number, e: number, fromEnd: number): boolean =>
    withinLimit(stageMemoryBytes(t, j, a, e, fromEnd), t.capacityBytes[j]);
  const lb = lowerBound(problem);

  // Incumbent pruning: a column whose own cost, plus the least the rest of the pipeline can cost,
  // already exceeds the warm start's objective cannot be in a better solution (valid for the optimum).
  // The incumbent is valued with the cost functions (never evaluate, which re-checks the answer).
  const incumbentPlan = hints.incumbent !== undefined ? planOfDecision(problem, hints.incumbent) : null;
  const upper = incumbentPlan !== null ? planObjective(t, incumbentPlan) * (1 + 1e-9) + 1e-12 : Infinity;
  const fastest = new Float64Array(L + 1);
  for (let l = 1; l <= L; l++) {
    let best = Infinity;
    for (let j = 0; j < n; j++) best = Math.min(best, stageSeconds(t, j, l, l));
    fastest[l] = fastest[l - 1] + best;
  }
  /** Least objective of any plan that contains a stage (or transfer) costing `own` and covers the rest at the fastest. */
  const leastWith = (own: number, restSeconds: number, extra: number): number => {
    switch (t.objective) {
      case 'latency':
        return own + restSeconds + extra;
      case 'throughput':
        return Math.max(own, extra);
      case 'training':
        return it * (own + restSeconds + (B - 1) * Math.max(own, lb.bottleneckSeconds));
    }
  };
  const intervalHopeless = (j: number, a: number, e: number): boolean =>
    leastWith(stageSeconds(t, j, a, e), fastest[L] - (fastest[e] - fastest[a - 1]), e === L ? t.ret[j] : 0) > upper;
  const transferHopeless = (seconds: number): boolean => leastWith(seconds, fastest[L], 0) > upper;

  // Interval columns, grouped by their start node (a, j) and end node (e, j).
  const intervals: Interval[] = [];
  const startsAt = new Map<string, number[]>();
  const endsAt = new Map<string, number[]>();
  const key = (l: number, j: number): string => `${l}/${j}`;
  const push = (map: Map<string, number[]>, k: string, v: number): void => {
    const list = map.get(k);
    if (list) list.push(v);
    else map.set(k, [v]);
  };
  for (let j = 0; j < n; j++) {
    for (let a = 1; a <= L; a++) {
      if (src !== null && (a === 1) !== (j === src)) continue;
      for (let e = a; e <= L; e++) {
        // Every interval must fit at least as the last stage (the fewest micro-batches in flight).
        if (!fits(j, a, e, 1)) break;
        if (e === L && !Number.isFinite(t.ret[j])) continue;
        if (intervalHopeless(j, a, e)) continue;
        let maxFromEnd = Infinity;
        if (t.inflightRule === 'position' && e < L && !fits(j, a, e, Math.min(K, B))) {
          maxFromEnd = 1;
          while (maxFromEnd < K && fits(j, a, e, maxFromEnd + 1)) maxFromEnd++;
          // A stage that ends before L has at least one stage after it.
          if (maxFromEnd < 2) continue;
        }
        const column = b.binary(`x_${j}_${a}_${e}`);
        intervals.push({ column, server: j, first: a, last: e, maxFromEnd });
        push(startsAt, key(a, j), column);
        push(endsAt, key(e, j), column);
      }
    }
  }
  // Boundary columns z: from a stage ending at l on j to one starting at l + 1 on q.
  interface Boundary {
    readonly column: number;
    readonly from: number;
    readonly to: number;
    readonly after: number;
  }
  const boundaries: Boundary[] = [];
  const outOf = new Map<string, number[]>();
  const into = new Map<string, number[]>();
  const boundaryAt: Term[][] = Array.from({ length: L }, () => []);
  for (let l = 1; l < L; l++) {
    for (let j = 0; j < n; j++) {
      if (!endsAt.has(key(l, j))) continue;
      for (let q = 0; q < n; q++) {
        if (q === j || !startsAt.has(key(l + 1, q))) continue;
        const c = t.comm[j * n + q];
        if (!Number.isFinite(c) || transferHopeless(c)) continue;
        if (problem.serverOrder === 'listed' && rank(j) >= rank(q)) continue;
        const column = b.addVariable(`z_${l}_${j}_${q}`, { lower: 0, upper: 1 });
        boundaries.push({ column, from: j, to: q, after: l });
        push(outOf, key(l, j), column);
        push(into, key(l + 1, q), column);
        boundaryAt[l].push(term(column, c));
      }
    }
  }
  const needsT = t.objective !== 'latency';
  const T = needsT ? b.addVariable('T', { lower: 0 }) : -1;

  // Exactly one first stage; flow conservation at every start and end node.
  b.equal(
    'first_stage',
    intervals.filter((x) => x.first === 1).map((x) => term(x.column)),
    1,
  );
  for (let j = 0; j < n; j++) {
    for (let l = 2; l <= L; l++) {
      const starting = startsAt.get(key(l, j)) ?? [];
      const arriving = into.get(key(l, j)) ?? [];
      if (starting.length + arriving.length === 0) continue;
      b.equal(`start_${l}_${j}`, [...starting.map((v) => term(v)), ...arriving.map((v) => term(v, -1))], 0);
    }
    for (let l = 1; l < L; l++) {
      const ending = endsAt.get(key(l, j)) ?? [];
      const leaving = outOf.get(key(l, j)) ?? [];
      if (ending.length + leaving.length === 0) continue;
      b.equal(`end_${l}_${j}`, [...ending.map((v) => term(v)), ...leaving.map((v) => term(v, -1))], 0);
    }
    const mine = intervals.filter((x) => x.server === j).map((x) => term(x.column));
    if (mine.length > 0) b.lessEqual(`server_once_${j}`, mine, 1);
  }
  const allStages = intervals.map((x) => term(x.column));
  if (problem.stages !== null) b.equal('stages', allStages, problem.stages);
  else b.addConstraint('stages_range', allStages, minimumStages(problem), problem.maxStages);

  // 1F1B: C_a = boundaries after layers a..L−1 = stages after the stage holding layer a.
  const restricted = intervals.filter((x) => Number.isFinite(x.maxFromEnd));
  const after: number[] = [];
  if (restricted.length > 0) {
    for (let a = 1; a <= L; a++) after[a] = b.addVariable(`after_${a}`, { lower: 0, upper: a === L ? 0 : K - 1 });
    for (let a = 1; a < L; a++)
      b.equal(
        `after_link_${a}`,
        [term(after[a]), term(after[a + 1], -1), ...boundaryAt[a].map((tm) => term(tm.variable, -1))],
        0,
      );
    // One stage starts at a, so the intervals starting there with the same cap share one row.
    const groups = new Map<string, Interval[]>();
    for (const x of restricted) {
      const g = `${x.first}/${x.maxFromEnd}`;
      const list = groups.get(g);
      if (list) list.push(x);
      else groups.set(g, [x]);
    }
    for (const [g, xs] of groups) {
      const cap = xs[0].maxFromEnd;
      // chosen ⇒ after[a] ≤ cap − 1; otherwise after[a] ≤ K − 1 holds anyway.
      b.lessEqual(
        `inflight_${g.replace('/', '_')}`,
        [term(after[xs[0].first]), ...xs.map((x) => term(x.column, K - cap))],
        K - 1,
      );
    }
  }

  if (needsT) {
    for (let j = 0; j < n; j++) {
      const terms: Term[] = [term(T)];
      for (const x of intervals) if (x.server === j) terms.push(term(x.column, -stageSeconds(t, j, x.first, x.last)));
      if (terms.length > 1) b.greaterEqual(`T_stage_${j}`, terms, 0);
    }
    for (let l = 1; l < L; l++)
      if (boundaryAt[l].length > 0)
        b.greaterEqual(`T_link_${l}`, [term(T), ...boundaryAt[l].map((tm) => term(tm.variable, -tm.coefficient))], 0);
    if (t.objective === 'throughput') {
      const terms: Term[] = [term(T)];
      for (const x of intervals) if (x.last === L && t.ret[x.server] > 0) terms.push(term(x.column, -t.ret[x.server]));
      if (terms.length > 1) b.greaterEqual('T_return', terms, 0);
    }
  }

  // Symmetry: within a class of interchangeable servers j < k, k is used only if j is, and j's
  // stage comes first (start_j ≤ start_k, strict since both cannot start at the same layer).
  const classes = symmetryClasses(problem);
  const startTerms = (j: number, sign: number): Term[] =>
    intervals.filter((x) => x.server === j).map((x) => term(x.column, sign * x.first));
  const usedTerms = (j: number, sign: number): Term[] =>
    intervals.filter((x) => x.server === j).map((x) => term(x.column, sign));
  for (const c of classes) {
    for (let i = 0; i + 1 < c.length; i++) {
      const [j, k] = [c[i], c[i + 1]];
      if (usedTerms(k, 1).length === 0) continue;
      b.lessEqual(`sym_used_${j}_${k}`, [...usedTerms(k, 1), ...usedTerms(j, -1)], 0);
      // start_j − start_k + L·used_k ≤ L.
      b.lessEqual(`sym_order_${j}_${k}`, [...startTerms(j, 1), ...startTerms(k, -1), ...usedTerms(k, L)], L);
    }
  }

  const sumWeight = t.objective === 'throughput' ? 0 : t.objective === 'training' ? it : 1;
  if (sumWeight > 0) {
    for (const x of intervals) {
      const ret = t.objective === 'latency' && x.last === L ? t.ret[x.server] : 0;
      b.addObjective(x.column, sumWeight * (stageSeconds(t, x.server, x.first, x.last) + ret));
    }
    for (let l = 1; l < L; l++) for (const tm of boundaryAt[l]) b.addObjective(tm.variable, sumWeight * tm.coefficient);
  }
  if (t.objective === 'training') b.addObjective(T, it * (B - 1));
  if (t.objective === 'throughput') b.addObjective(T, 1);
  const model = b.build();

  const decode = (values: readonly number[]): PipelineDecision => {
    const chosen = intervals.filter((x) => values[x.column] > 0.5).sort((p, q) => p.first - q.first);
    return planToDecision(
      problem,
      chosen.map((x): StagePlan => ({ server: x.server, first: x.first, last: x.last })),
    );
  };

  const columnOf = new Map<string, number>(intervals.map((x) => [`${x.server}/${x.first}/${x.last}`, x.column]));
  const boundaryOf = new Map<string, number>(boundaries.map((z) => [`${z.after}/${z.from}/${z.to}`, z.column]));
  const encode = (decision: PipelineDecision): number[] | null => {
    const given = planOfDecision(problem, decision);
    if (given === null) return null;
    // Canonical form under the symmetry rows: within each class, servers in ascending order of position.
    const rename = new Map<number, number>();
    for (const c of classes) {
      const members = new Set(c);
      const used = given.filter((s) => members.has(s.server)).map((s) => s.server);
      used.forEach((j, i) => rename.set(j, c[i]));
    }
    const plan = given.map((s) => ({ ...s, server: rename.get(s.server) ?? s.server }));
    const x = new Array<number>(model.variables.length).fill(0);
    const S = plan.length;
    let max = 0;
    for (let i = 0; i < S; i++) {
      const s = plan[i];
      const column = columnOf.get(`${s.server}/${s.first}/${s.last}`);
      if (column === undefined) return null;
      x[column] = 1;
      if (after.length > 0) for (let l = s.first; l <= s.last; l++) x[after[l]] = S - 1 - i;
      max = Math.max(max, stageSeconds(t, s.server, s.first, s.last));
      if (i + 1 < S) {
        const z = boundaryOf.get(`${s.last}/${s.server}/${plan[i + 1].server}`);
        if (z === undefined) return null;
        x[z] = 1;
        max = Math.max(max, t.comm[s.server * n + plan[i + 1].server]);
      }
    }
    if (t.objective === 'throughput') max = Math.max(max, t.ret[plan[S - 1].server]);
    if (needsT) x[T] = max;
    return x;
  };

  return { model, decode, encode };
}
