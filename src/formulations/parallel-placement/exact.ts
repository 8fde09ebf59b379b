/**
 * Exact method: dynamic programming over (layers still to place, servers left per class, the
 * classes the following stage uses, stages placed after), placing stages from the last layer
 * backwards. A class is a set of interchangeable servers — same host, device, memory, and every
 * link to and inside the class the same — so a stage is a choice of TP degree g and of how many
 * g-server groups it takes from each class, not of which servers. Classes that are mirror images
 * of each other (the three A100 hosts of a fleet) form a kind, and a state is kept in a canonical
 * order of its kind's classes (symmetry reduction by device kind). Per stage the micro-batch split
 * over DP groups is the min-max split (greedy, optimal for nondecreasing per-group times and
 * independent memory caps). Inference objectives are scalar DPs (sum, bottleneck, KV blocks);
 * training keeps the Pareto set of (Σ, bottleneck, DP all-reduce) because its objective mixes them.
 * The optimum is certified by construction: the DP enumerates every decision the rules allow.
 */
import { withinLimit } from '../tolerance.ts';
import type { ExactContext, ExactResult } from '../types.ts';
import {
  blocksThatFit,
  combineObjective,
  dataParallelSeconds,
  groupCost,
  hopSeconds,
  kvBlockBytes,
  layerTable,
  slowestLink,
  weakerLink,
  SELF_LINK,
  type Link,
} from './cost.ts';
import type { ParallelDecision, ParallelProblem } from './schema.ts';

export interface ServerClass {
  readonly members: readonly number[];
  readonly rep: number;
  /** Slowest link between two members (SELF_LINK for a single server). */
  readonly intra: Link;
  /** Index of the kind (set of mutually symmetric classes) it belongs to. */
  readonly kind: number;
}

export interface Classes {
  readonly classes: readonly ServerClass[];
  /** cross[a][b]: the (uniform) link from any server of class a to any of class b. */
  readonly cross: readonly (readonly Link[])[];
  readonly kinds: readonly (readonly number[])[];
  /** Why TP groups could span classes (the DP would miss them), or null. */
  readonly spanNote: string | null;
}

function baseKey(p: ParallelProblem, j: number): string {
  const s = p.servers[j];
  const d = s.device;
  return JSON.stringify([s.host, d, s.memoryBytes, s.usableBytes]);
}

function linkKey(p: ParallelProblem, i: number, j: number): string {
  return `${p.bitsPerSecond[i][j]}/${p.latencySeconds[i][j]}/${p.bitsPerSecond[j][i]}/${p.latencySeconds[j][i]}`;
}

/** Colour refinement on (server attributes, links), then a check that links are uniform per class pair. */
export function classesOf(p: ParallelProblem): Classes {
  const n = p.servers.length;
  let colour = p.servers.map((_, j) => baseKey(p, j));
  for (let round = 0; round < n + 1; round++) {
    const next = colour.map((c, i) => {
      const sig: string[] = [];
      for (let j = 0; j < n; j++) if (j !== i) sig.push(`${colour[j]}#${linkKey(p, i, j)}`);
      return `${c}|${sig.sort().join(',')}`;
    });
    const ids = new Map<string, number>();
    const renamed = next.map((s) => {
      if (!ids.has(s)) ids.set(s, ids.size);
      return String(ids.get(s));
    });
    const stable = new Set(renamed).size === new Set(colour).size;
    colour = renamed;
    if (stable) break;
  }
  const groupsByColour = new Map<string, number[]>();
  colour.forEach((c, j) => groupsByColour.set(c, [...(groupsByColour.get(c) ?? []), j]));
  let members = [...groupsByColour.values()];
  const uniform = (sets: number[][]): boolean => {
    for (const a of sets)
      for (const b of sets) {
        let key: string | null = null;
        for (const i of a)
          for (const j of b) {
            if (i === j) continue;
            const k = linkKey(p, i, j);
            if (key === null) key = k;
            else if (k !== key) return false;
          }
      }
    return true;
  };
  // Colour refinement cannot tell a host's fast pairs from the slow ones when counts match; split by host then.
  if (!uniform(members)) {
    const byHost: number[][] = [];
    for (const m of members) {
      const h = new Map<string, number[]>();
      for (const j of m) h.set(p.servers[j].host, [...(h.get(p.servers[j].host) ?? []), j]);
      byHost.push(...h.values());
    }
    members = uniform(byHost) ? byHost : Array.from({ length: n }, (_, j) => [j]);
  }
  members.sort((a, b) => a[0] - b[0]);
  const C = members.length;
  const cross = members.map((a) => members.map((b) => slowestLink(p, a, b)));
  // Kinds: classes with the same attributes, size and inside link whose links to every other class match.
  const sig = members.map((m, a) =>
    JSON.stringify([baseKey(p, m[0]).replace(/^\["[^"]*",/, '['), m.length, cross[a][a]]),
  );
  const kindOf = new Array<number>(C).fill(-1);
  const kinds: number[][] = [];
  for (let a = 0; a < C; a++) {
    if (kindOf[a] >= 0) continue;
    const kind = [a];
    kindOf[a] = kinds.length;
    for (let b = a + 1; b < C; b++) {
      if (kindOf[b] >= 0 || sig[b] !== sig[a]) continue;
      let same = true;
      for (let c = 0; c < C && same; c++) {
        if (c === a || c === b) continue;
        same = JSON.stringify(cross[a][c]) === JSON.stringify(cross[b][c]) && JSON.stringify(cross[c][a]) === JSON.stringify(cross[c][b]);
      }
      same = same && JSON.stringify(cross[a][b]) === JSON.stringify(cross[b][a]);
      // Every pair inside a kind must be linked alike too.
      for (const k of kind) same = same && JSON.stringify(cross[k][b]) === JSON.stringify(cross[a][b]);
      if (same) {
        kind.push(b);
        kindOf[b] = kinds.length;
      }
    }
    kinds.push(kind);
  }
  // The kind must be closed: all members pairwise linked alike (checked above against a).
  const maxDegree = Math.max(...p.tpDegrees);
  const hostBuckets = new Map<string, number>();
  for (const m of members) {
    const key = baseKey(p, m[0]);
    hostBuckets.set(key, (hostBuckets.get(key) ?? 0) + 1);
  }
  const split = [...hostBuckets.values()].some((k) => k > 1);
  const spanNote =
    split && maxDegree > 1
      ? 'the links inside some host are not uniform, so TP groups could mix servers the DP treats apart'
      : null;
  return {
    classes: members.map((m, a) => ({ members: m, rep: m[0], intra: m.length > 1 ? cross[a][a] : SELF_LINK, kind: kindOf[a] })),
    cross,
    kinds,
    spanNote,
  };
}

const MAX_CLASSES = 24;

export function exactNotApplicable(p: ParallelProblem): string | null {
  const c = classesOf(p);
  if (c.classes.length > MAX_CLASSES)
    return `${c.classes.length} classes of interchangeable servers (the DP handles up to ${MAX_CLASSES})`;
  return c.spanNote;
}

interface Back {
  readonly first: number;
  readonly g: number;
  /** Groups per class (in the canonical index space of the state it was chosen in). */
  readonly n: readonly number[];
  readonly samples: readonly number[][];
  readonly child: string | null;
  readonly childLabel: number;
  /** perm[i] = index in this state's space that the child's canonical index i came from. */
  readonly perm: readonly number[];
}

interface Label {
  readonly sum: number;
  readonly bott: number;
  readonly ar: number;
  readonly back: Back | null;
}

interface StageEval {
  readonly seconds: number;
  readonly ar: number;
  /** −blocks in kv-capacity (so that every objective is minimised), else unused. */
  readonly negBlocks: number;
  /** Per class, the samples of each of its groups. */
  readonly samples: number[][];
}

export interface SearchOutcome {
  readonly decision: ParallelDecision | null;
  readonly objective: number;
  readonly states: number;
  readonly stageEvaluations: number;
  readonly timedOut: boolean;
  /** Training labels dropped by the cut-off. */
  readonly pruned: number;
}

class Timeout extends Error {}

export interface SearchOptions {
  /**
   * Keep one label per state (the best objective so far) instead of the Pareto set: a heuristic in
   * training (the objective mixes Σ, bottleneck and all-reduce, so the best suffix need not extend
   * to the best plan), exact in inference where the labels are scalar anyway. Its result is a
   * feasible plan whose value is an upper bound for the exact pass.
   */
  readonly scalar?: boolean;
  /**
   * Training: drop a suffix label when its objective plus a lower bound on any prefix exceeds this
   * (objective units per iteration). Must be the value of a feasible plan, so the optimum survives.
   */
  readonly cutoff?: number;
  /** The chain's progress hook (ExactContext.progress), called every few thousand DP states. */
  readonly progress?: ExactContext['progress'];
}

/**
 * Lower bound on Σ stage time over layers 1..l for every l (index l), training: each layer costs at
 * least its time on the fastest (device, TP degree) with the fewest samples its slowest DP group
 * can have, ⌈m / most groups⌉ — a stage's time is at least the sum of its layers' and times grow
 * with samples. Everything else (TP, hops, embedding) is ≥ 0.
 */
function prefixLowerBounds(p: ParallelProblem): Float64Array {
  const L = p.model.layers;
  const lb = new Float64Array(L + 1);
  if (p.mode.kind !== 'training') return lb;
  const m = p.mode.microBatchSize;
  const n = p.servers.length;
  const reps = new Map<string, number>();
  p.servers.forEach((s, j) => reps.set(JSON.stringify(s.device), j));
  const tablesAt = [...reps.values()].flatMap((j) =>
    p.tpDegrees
      .filter((g) => g <= n)
      .map((g) => layerTable(p, j, g, Math.ceil(m / Math.min(p.maxDataParallel, Math.floor(n / g))))),
  );
  for (let l = 1; l <= L; l++) {
    let least = Infinity;
    for (const t of tablesAt) least = Math.min(least, t.seconds[l] - t.seconds[l - 1]);
    lb[l] = lb[l - 1] + (Number.isFinite(least) ? least : 0);
  }
  return lb;
}

/** The DP itself; `deadlineMs` is a performance.now() reading (Infinity: none). */
export function searchOptimum(p: ParallelProblem, deadlineMs = Infinity, options: SearchOptions = {}): SearchOutcome {
  const L = p.model.layers;
  const { classes, cross, kinds } = classesOf(p);
  const C = classes.length;
  const training = p.mode.kind === 'training';
  const kv = p.mode.kind === 'kv-capacity';
  const B = training && p.mode.kind === 'training' ? p.mode.microBatches : 1;
  const m = p.mode.kind === 'training' ? p.mode.microBatchSize : 1;
  // Stages after this one matter for 1F1B memory (capped at B) and for the stage limit.
  const trackK = (training && p.mode.kind === 'training' && p.mode.schedule === '1f1b') || p.maxStages < p.servers.length;
  const kCap = p.maxStages < p.servers.length ? p.maxStages : B;
  const kvNeed = p.mode.kind === 'kv-capacity' ? Math.ceil(p.mode.contextTokens / p.mode.blockTokens) : 0;
  const memo = new Map<string, Label[]>();
  const stageCache = new Map<number, StageEval | null>();
  const scalar = options.scalar === true || !training;
  const cutoff = options.cutoff ?? Infinity;
  const prefixLb = prefixLowerBounds(p);
  let pruned = 0;
  // Numeric stage-cache key: n in mixed radix (class sizes + 1), then first, last, degree index, k.
  const radix: number[] = [];
  let span = 1;
  for (const c of classes) {
    radix.push(span);
    span *= c.members.length + 1;
  }
  const degreeIndex = new Map(p.tpDegrees.map((g, i) => [g, i]));
  let stageEvaluations = 0;
  let work = 0;

  const linkBetween = (a: number, b: number): Link => (a === b ? classes[a].intra : cross[a][b]);
  const hops = new Map<number, number>();
  /** Boundary time from a stage on classes `mask` to the next on `nextMask` (memoised; masks < 2^24). */
  function hopOf(mask: number, nextMask: number): number {
    if (nextMask === 0) return 0;
    const key = mask * 2 ** C + nextMask;
    const hit = hops.get(key);
    if (hit !== undefined) return hit;
    let hopLink: Link = SELF_LINK;
    for (let a = 0; a < C; a++)
      if ((mask >> a) & 1)
        for (let b = 0; b < C; b++) if ((nextMask >> b) & 1) hopLink = weakerLink(hopLink, linkBetween(a, b));
    const hop = hopSeconds(p, hopLink);
    hops.set(key, hop);
    return hop;
  }

  function evalStage(first: number, last: number, g: number, n: readonly number[], k: number): StageEval | null {
    let code = 0;
    n.forEach((v, c) => (code += v * radix[c]));
    const key = (((code * (L + 1) + first) * (L + 1) + last) * p.tpDegrees.length + (degreeIndex.get(g) ?? 0)) *
      (p.servers.length + 2) + k;
    const hit = stageCache.get(key);
    if (hit !== undefined) return hit;
    stageEvaluations++;
    const single = first === 1 && last === L ? 1 : 2;
    const inflight = training ? (p.mode.kind === 'training' && p.mode.schedule === 'gpipe' ? B : Math.min(k, B)) : 0;
    const groups: number[] = [];
    n.forEach((cnt, c) => {
      for (let i = 0; i < cnt; i++) groups.push(c);
    });
    const dp = groups.length;
    const link = (c: number): Link => (g > 1 ? classes[c].intra : SELF_LINK);
    const cost = (c: number, x: number) => groupCost(p, classes[c].rep, g, first, last, x, inflight, link(c), single);
    const fits = (c: number, x: number): boolean =>
      withinLimit(cost(c, x).memoryBytes, p.servers[classes[c].rep].usableBytes);
    let result: StageEval | null = null;
    const x = new Array<number>(dp).fill(1);
    let ok = true;
    if (training) {
      if (p.mode.kind === 'training' && p.mode.batchSplit === 'even') {
        if (m % dp !== 0) ok = false;
        else x.fill(m / dp);
        ok = ok && groups.every((c, i) => fits(c, x[i]));
      } else {
        ok = m >= dp && groups.every((c) => fits(c, 1));
        for (let left = m - dp; ok && left > 0; left--) {
          let best = -1;
          let bestT = Infinity;
          for (let i = 0; i < dp; i++) {
            if (!fits(groups[i], x[i] + 1)) continue;
            const t = cost(groups[i], x[i] + 1).seconds;
            if (t < bestT) {
              bestT = t;
              best = i;
            }
          }
          if (best < 0) ok = false;
          else x[best]++;
        }
      }
    } else ok = groups.every((c) => fits(c, 1));
    if (ok) {
      let seconds = 0;
      let params = 0;
      let negBlocks = -Infinity;
      groups.forEach((c, i) => {
        const gc = cost(c, x[i]);
        seconds = Math.max(seconds, gc.seconds);
        params = gc.stageParams;
        if (kv) {
          const blocks = blocksThatFit(p.servers[classes[c].rep].usableBytes - gc.memoryBytes, kvBlockBytes(p, g, first, last));
          negBlocks = Math.max(negBlocks, -blocks);
        }
      });
      let dpLink: Link = SELF_LINK;
      for (let a = 0; a < C; a++)
        for (let b = 0; b < C; b++) {
          if (n[a] === 0 || n[b] === 0) continue;
          if (a === b && n[a] < 2) continue;
          dpLink = weakerLink(dpLink, a === b ? classes[a].intra : weakerLink(cross[a][b], cross[b][a]));
        }
      const ar = dataParallelSeconds(p, dp, g, params, dpLink);
      const samples: number[][] = n.map(() => []);
      groups.forEach((c, i) => samples[c].push(x[i]));
      if (Number.isFinite(ar) && (!kv || -negBlocks >= kvNeed)) result = { seconds, ar, negBlocks, samples };
    }
    stageCache.set(key, result);
    return result;
  }

  /** Canonical order inside each kind: (left, used-by-next) descending. */
  function canonical(rem: readonly number[], mask: number): { rem: number[]; mask: number; perm: number[] } {
    const perm = Array.from({ length: C }, (_, i) => i);
    for (const kind of kinds) {
      if (kind.length < 2) continue;
      const order = [...kind].sort((a, b) => {
        const ba = (mask >> a) & 1;
        const bb = (mask >> b) & 1;
        return rem[b] - rem[a] || bb - ba || a - b;
      });
      kind.forEach((pos, i) => (perm[pos] = order[i]));
    }
    let outMask = 0;
    const out = perm.map((src, i) => {
      if ((mask >> src) & 1) outMask |= 1 << i;
      return rem[src];
    });
    return { rem: out, mask: outMask, perm };
  }

  const objectiveOf = (l: Label): number =>
    training ? l.sum + (B - 1) * l.bott + l.ar : p.mode.kind === 'inference-latency' ? l.sum : l.bott;

  function insert(labels: Label[], cand: Label, first: number): void {
    if (training && objectiveOf(cand) + prefixLb[first - 1] > cutoff * (1 + 1e-9)) {
      pruned++;
      return;
    }
    if (scalar) {
      if (labels.length === 0) labels.push(cand);
      else if (objectiveOf(cand) < objectiveOf(labels[0])) labels[0] = cand;
      return;
    }
    for (const l of labels) if (l.sum <= cand.sum && l.bott <= cand.bott && l.ar <= cand.ar) return;
    for (let i = labels.length - 1; i >= 0; i--) {
      const l = labels[i];
      if (cand.sum <= l.sum && cand.bott <= l.bott && cand.ar <= l.ar) labels.splice(i, 1);
    }
    labels.push(cand);
  }

  function solve(last: number, rem: number[], nextMask: number, k: number): Label[] {
    const key = `${last}|${rem.join('.')}|${nextMask}|${trackK ? k : 0}`;
    const hit = memo.get(key);
    if (hit) return hit;
    if (++work % 1024 === 0) {
      if (performance.now() > deadlineMs) throw new Timeout();
      options.progress?.(`${scalar ? 'scalar' : 'Pareto'} DP, ${memo.size} states, ${pruned} labels cut`);
    }
    const labels: Label[] = [];
    if (k >= p.maxStages) {
      memo.set(key, labels);
      return labels;
    }
    for (const g of p.tpDegrees) {
      // Groups per class, canonical within runs of identical (left, used-by-next) classes of a kind.
      const n = new Array<number>(C).fill(0);
      const enumerate = (c: number, dp: number): void => {
        if (c === C) {
          if (dp === 0) return;
          place(g, n, dp);
          return;
        }
        const intra = classes[c].intra;
        // A TP group needs its inside link at or above the floor.
        const tpOk = g === 1 || (intra.bitsPerSecond > 0 && intra.bitsPerSecond >= p.tpMinBitsPerSecond * (1 - 1e-9));
        let most = tpOk ? Math.floor(rem[c] / g) : 0;
        const kind = kinds[classes[c].kind];
        const pos = kind.indexOf(c);
        if (pos > 0) {
          const prev = kind[pos - 1];
          if (rem[prev] === rem[c] && ((nextMask >> prev) & 1) === ((nextMask >> c) & 1)) most = Math.min(most, n[prev]);
        }
        for (let v = 0; v <= most && dp + v <= p.maxDataParallel; v++) {
          n[c] = v;
          enumerate(c + 1, dp + v);
        }
        n[c] = 0;
      };
      enumerate(0, 0);
    }
    memo.set(key, labels);
    return labels;

    function place(g: number, n: readonly number[], _dp: number): void {
      let mask = 0;
      n.forEach((v, c) => {
        if (v > 0) mask |= 1 << c;
      });
      const hop = hopOf(mask, nextMask);
      if (!Number.isFinite(hop)) return;
      // Nothing fits even one layer: skip before building the child state.
      if (evalStage(last, last, g, n, k + 1) === null) return;
      const left = rem.map((r, c) => r - g * n[c]);
      const canon = canonical(left, mask);
      const childKey = (first: number): string => `${first - 1}|${canon.rem.join('.')}|${canon.mask}|${trackK ? k + 1 : 0}`;
      for (let first = last; first >= 1; first--) {
        const st = evalStage(first, last, g, n, k + 1);
        // More layers never fit better (memory, KV blocks and times grow with the range): stop widening.
        if (st === null) break;
        const child = first === 1 ? null : childKey(first);
        const own = kv ? st.negBlocks : Math.max(st.seconds, hop);
        const subs: readonly Label[] =
          first === 1 ? [{ sum: 0, bott: kv ? -Infinity : 0, ar: 0, back: null }] : solve(first - 1, canon.rem, canon.mask, k + 1);
        subs.forEach((sub, idx) => {
          insert(labels, {
            sum: sub.sum + st.seconds + hop,
            bott: Math.max(sub.bott, own),
            ar: Math.max(sub.ar, st.ar),
            back: {
              first,
              g,
              n: [...n],
              samples: st.samples,
              child,
              childLabel: idx,
              perm: canon.perm,
            },
          }, first);
        });
      }
    }
  }

  const full = classes.map((c) => c.members.length);
  let top: Label[];
  try {
    top = solve(L, full, 0, 0);
  } catch (e) {
    if (e instanceof Timeout) return { decision: null, objective: NaN, states: memo.size, stageEvaluations, timedOut: true, pruned };
    throw e;
  }
  if (top.length === 0) return { decision: null, objective: NaN, states: memo.size, stageEvaluations, timedOut: false, pruned };
  let best = top[0];
  for (const l of top) if (objectiveOf(l) < objectiveOf(best)) best = l;
  // Walk the back-pointers from layer L down, mapping canonical class indices back to real ones.
  const stagesRev: ParallelDecision['stages'][number][] = [];
  const usedPerClass = new Array<number>(C).fill(0);
  let toActual = Array.from({ length: C }, (_, i) => i);
  let label: Label | undefined = best;
  let last = L;
  while (label?.back) {
    const back: Back = label.back;
    const groups: { servers: string[]; samples?: number }[] = [];
    back.n.forEach((cnt, c) => {
      const actual = classes[toActual[c]];
      for (let i = 0; i < cnt; i++) {
        const servers = actual.members
          .slice(usedPerClass[toActual[c]], usedPerClass[toActual[c]] + back.g)
          .map((j) => p.servers[j].name);
        usedPerClass[toActual[c]] += back.g;
        groups.push({ servers, ...(training ? { samples: back.samples[c][i] } : {}) });
      }
    });
    stagesRev.push({ firstLayer: back.first, lastLayer: last, groups });
    last = back.first - 1;
    const mapping = toActual;
    toActual = back.perm.map((src) => mapping[src]);
    label = back.child === null ? undefined : memo.get(back.child)?.[back.childLabel];
  }
  const objective = kv ? -best.bott : combineObjective(p, best.sum, best.bott, best.ar, 0);
  return {
    decision: { stages: stagesRev.reverse() },
    objective,
    states: memo.size,
    stageEvaluations,
    timedOut: false,
    pruned,
  };
}

export async function solveExact(
  p: ParallelProblem,
  context: ExactContext<ParallelDecision>,
): Promise<ExactResult<ParallelDecision>> {
  const deadline =
    context.timeLimitSeconds === undefined ? Infinity : performance.now() + context.timeLimitSeconds * 1000;
  // Training: a scalar pass (one label per state) finds a good plan fast; its value is the cut-off
  // that prunes the exact Pareto pass. Inference objectives are scalar, one pass is exact.
  let heuristic: SearchOutcome | null = null;
  if (p.mode.kind === 'training') {
    heuristic = searchOptimum(p, deadline, { scalar: true, progress: context.progress });
    context.progress?.('scalar pass done', Number.isFinite(heuristic.objective) ? { incumbent: heuristic.objective } : {});
  }
  const iterations = p.mode.kind === 'training' ? p.mode.iterations : 1;
  const cutoff = heuristic?.decision ? heuristic.objective / iterations : undefined;
  let out: SearchOutcome =
    heuristic?.timedOut === true || heuristic?.decision === null
      ? heuristic
      : searchOptimum(p, deadline, { progress: context.progress, ...(cutoff !== undefined ? { cutoff } : {}) });
  // The cut-off keeps every label no worse than the scalar plan, so an empty result means that plan is optimal.
  if (!out.timedOut && out.decision === null && heuristic?.decision) out = { ...heuristic, pruned: out.pruned };
  const details = {
    states: out.states,
    stageEvaluations: out.stageEvaluations,
    classes: classesOf(p).classes.length,
    ...(heuristic ? { scalarPassObjective: heuristic.objective, labelsCut: out.pruned } : {}),
  };
  if (out.timedOut) {
    // The scalar pass's plan is feasible even when the Pareto pass runs out of time: a time limit
    // returns the best decision found, never nothing.
    const held = heuristic !== null && !heuristic.timedOut ? heuristic.decision : null;
    const message = held
      ? 'the Pareto DP did not finish in the time limit; holding the scalar pass plan'
      : 'the DP did not finish in the time limit';
    return { termination: 'time_limit', decision: held, message, details };
  }
  if (out.decision === null)
    return { termination: 'infeasible', decision: null, message: 'no stage layout fits the fleet', details };
  return { termination: 'optimal', decision: out.decision, bound: out.objective, details };
}
