/**
 * MILP compile of parallel-placement, the cross-check of the exact DP on the backends. A column
 * is one possible stage: layers first..last, its position k counted from the last stage (only
 * when 1F1B memory or a stage limit needs it), its TP degree g and how many g-server groups it
 * takes from each class of interchangeable servers (classesOf: same host, device, memory and
 * links). Binary x picks columns; rows make them a chain covering 1..L (one stage starts at layer
 * 1, and at every boundary as many stages end as start, per position), cap each class's servers,
 * and price the boundaries: the hop between two stages is the slowest pair of their classes, so
 * its bandwidth part and its latency part are each bounded below by every pair of classes the
 * two stages use (evaluate takes the least rate and the most latency over all pairs, which may
 * come from different pairs). Everything a stage costs on its own — time of its slowest DP group
 * at the min-max micro-batch split, its gradient all-reduce, its KV blocks, whether it fits —
 * is a column constant from the cost functions. Objectives: latency Σ, throughput max, training
 * Σ + (B−1)·max + max all-reduce, KV capacity max of a min (big-M per column).
 *
 * This is a different search from the DP (a set-partitioning chain in a MILP, not a recursion
 * over states) sharing only the cost functions and the class grouping; the split is computed here
 * by its own threshold rule, not the DP's greedy. Size: Σ over layer ranges × positions × degrees
 * of the group-count vectors — fine for small fleets and short models; above MAX_COLUMNS the
 * compile refuses with the count rather than hand a backend a model it cannot finish.
 */
import { UsageError } from '../../errors.ts';
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import { withinLimit } from '../tolerance.ts';
import type { CompileHints, Compiled } from '../types.ts';
import {
  blocksThatFit,
  dataParallelSeconds,
  groupCost,
  hopBytes,
  hopTransferSeconds,
  kvBlockBytes,
  weakerLink,
  SELF_LINK,
  type Link,
} from './cost.ts';
import { classesOf } from './exact.ts';
import type { ParallelDecision, ParallelProblem } from './schema.ts';

/** Above this many stage columns the model is refused (the DP is the method at that size). */
export const MAX_COLUMNS = 60_000;

export interface StageColumn {
  readonly first: number;
  readonly last: number;
  /** Position from the end (1 = last stage); 1 for every column when positions are not tracked. */
  readonly k: number;
  readonly g: number;
  /** Groups taken from each class. */
  readonly n: readonly number[];
  /** Samples of each group, per class (training); empty lists otherwise. */
  readonly samples: readonly (readonly number[])[];
  readonly seconds: number;
  readonly allReduceSeconds: number;
  readonly blocks: number;
}

/**
 * Samples per group that minimise the stage's slowest group: the least threshold T (among the
 * groups' own times) at which each group's largest admissible share (time ≤ T, memory fits, for
 * every share up to it) adds up to the micro-batch. Time and memory grow with the share, so the
 * admissible shares form a prefix and any total between dp and that sum is reachable.
 */
function minMaxSplit(
  m: number,
  dp: number,
  seconds: (i: number, x: number) => number,
  fits: (i: number, x: number) => boolean,
): number[] | null {
  if (m < dp) return null;
  const most = m - dp + 1;
  const times: number[][] = [];
  const fitUpTo: number[] = [];
  for (let i = 0; i < dp; i++) {
    const t: number[] = [];
    let f = 0;
    for (let x = 1; x <= most; x++) {
      if (!fits(i, x)) break;
      f = x;
      t.push(seconds(i, x));
    }
    if (f === 0) return null;
    times.push(t);
    fitUpTo.push(f);
  }
  const thresholds = [...new Set(times.flat())].sort((a, b) => a - b);
  for (const T of thresholds) {
    const cap = times.map((t) => {
      let c = 0;
      while (c < t.length && t[c] <= T) c++;
      return c;
    });
    if (cap.some((c) => c === 0)) continue;
    if (cap.reduce((a, b) => a + b, 0) < m) continue;
    const x = [...cap];
    let excess = x.reduce((a, b) => a + b, 0) - m;
    for (let i = 0; i < dp && excess > 0; i++) {
      const give = Math.min(excess, x[i] - 1);
      x[i] -= give;
      excess -= give;
    }
    return x;
  }
  return null;
}

export function stageColumns(p: ParallelProblem): { columns: StageColumn[]; positions: number } {
  const L = p.model.layers;
  const { classes, cross, spanNote } = classesOf(p);
  if (spanNote !== null) throw new UsageError(`parallel-placement MILP: ${spanNote}`);
  const C = classes.length;
  const training = p.mode.kind === 'training';
  const kv = p.mode.kind === 'kv-capacity';
  const B = p.mode.kind === 'training' ? p.mode.microBatches : 1;
  const m = p.mode.kind === 'training' ? p.mode.microBatchSize : 1;
  const oneF1B = p.mode.kind === 'training' && p.mode.schedule === '1f1b';
  const positions = oneF1B || p.maxStages < p.servers.length ? p.maxStages : 1;
  const kvNeed = p.mode.kind === 'kv-capacity' ? Math.ceil(p.mode.contextTokens / p.mode.blockTokens) : 0;
  const maxDp = training ? p.maxDataParallel : 1;

  // Group-count vectors per degree: n_c ≤ |class| / g, 1 ≤ Σ n ≤ maxDp, only classes whose inside link carries TP.
  const vectors = new Map<number, number[][]>();
  for (const g of p.tpDegrees) {
    const out: number[][] = [];
    const n = new Array<number>(C).fill(0);
    const rec = (c: number, dp: number): void => {
      if (c === C) {
        if (dp > 0) out.push([...n]);
        return;
      }
      const intra = classes[c].intra;
      const tpOk = g === 1 || (intra.bitsPerSecond > 0 && intra.bitsPerSecond >= p.tpMinBitsPerSecond * (1 - 1e-9));
      const most = tpOk ? Math.floor(classes[c].members.length / g) : 0;
      for (let v = 0; v <= most && dp + v <= maxDp; v++) {
        n[c] = v;
        rec(c + 1, dp + v);
      }
      n[c] = 0;
    };
    rec(0, 0);
    vectors.set(g, out);
  }
  let count = 0;
  for (let first = 1; first <= L; first++)
    for (let last = first; last <= L; last++)
      for (let k = 1; k <= positions; k++) {
        if ((last === L) !== (k === 1) && positions > 1) continue;
        for (const g of p.tpDegrees) count += vectors.get(g)?.length ?? 0;
      }
  if (count > MAX_COLUMNS)
    throw new UsageError(
      `parallel-placement MILP: ${count} stage columns exceed ${MAX_COLUMNS} (${L} layers, ${C} server classes, ` +
        `${positions} positions); use backend exact`,
    );

  const columns: StageColumn[] = [];
  for (let first = 1; first <= L; first++)
    for (let last = first; last <= L; last++) {
      const single = first === 1 && last === L ? 1 : 2;
      for (let k = 1; k <= positions; k++) {
        // Position k = stages from the end: only the last stage (k = 1) holds layer L.
        if (positions > 1 && (last === L) !== (k === 1)) continue;
        const inflight = !training ? 0 : oneF1B ? Math.min(k, B) : B;
        for (const g of p.tpDegrees)
          for (const n of vectors.get(g) ?? []) {
            const groups: number[] = [];
            n.forEach((v, c) => {
              for (let i = 0; i < v; i++) groups.push(c);
            });
            const dp = groups.length;
            const tpLink = (c: number): Link => (g > 1 ? classes[c].intra : SELF_LINK);
            const cost = (i: number, x: number) =>
              groupCost(p, classes[groups[i]].rep, g, first, last, x, inflight, tpLink(groups[i]), single);
            const fits = (i: number, x: number): boolean =>
              withinLimit(cost(i, x).memoryBytes, p.servers[classes[groups[i]].rep].usableBytes);
            let x: number[] | null;
            if (!training) x = groups.every((_, i) => fits(i, 1)) ? groups.map(() => 1) : null;
            else if (p.mode.kind === 'training' && p.mode.batchSplit === 'even')
              x = m % dp === 0 && groups.every((_, i) => fits(i, m / dp)) ? groups.map(() => m / dp) : null;
            else x = minMaxSplit(m, dp, (i, s) => cost(i, s).seconds, fits);
            if (x === null) continue;
            let seconds = 0;
            let params = 0;
            let blocks = Infinity;
            groups.forEach((c, i) => {
              const gc = cost(i, x[i]);
              seconds = Math.max(seconds, gc.seconds);
              params = gc.stageParams;
              if (kv)
                blocks = Math.min(
                  blocks,
                  blocksThatFit(p.servers[classes[c].rep].usableBytes - gc.memoryBytes, kvBlockBytes(p, g, first, last)),
                );
            });
            if (kv && blocks < kvNeed) continue;
            // The gradient ring runs over the slowest link between two different groups of the stage.
            let dpLink: Link = SELF_LINK;
            for (let a = 0; a < C; a++)
              for (let b = 0; b < C; b++) {
                if (n[a] === 0 || n[b] === 0 || (a === b && n[a] < 2)) continue;
                dpLink = weakerLink(dpLink, a === b ? classes[a].intra : weakerLink(cross[a][b], cross[b][a]));
              }
            const ar = dataParallelSeconds(p, dp, g, params, dpLink);
            if (!Number.isFinite(ar)) continue;
            const samples: number[][] = n.map(() => []);
            groups.forEach((c, i) => samples[c].push(x[i]));
            columns.push({ first, last, k, g, n, samples, seconds, allReduceSeconds: ar, blocks: kv ? blocks : 0 });
          }
      }
    }
  return { columns, positions };
}

export function compileParallel(
  p: ParallelProblem,
  _hints?: CompileHints<ParallelDecision>,
): Compiled<ParallelDecision> {
  const L = p.model.layers;
  const { classes, cross } = classesOf(p);
  const C = classes.length;
  const { columns, positions } = stageColumns(p);
  const kind = p.mode.kind;
  const kvMode = kind === 'kv-capacity';
  const b = new ModelBuilder(`parallel-placement ${p.model.id}`, kvMode ? 'max' : 'min');
  const x = columns.map((col, i) => b.binary(`x${i}_l${col.first}_${col.last}_k${col.k}_g${col.g}_n${col.n.join('.')}`));

  // Chain: one stage starts at layer 1; at each boundary, stages ending at position k+1 = stages starting at k.
  b.equal(
    'start',
    columns.flatMap((c, i) => (c.first === 1 ? [term(x[i])] : [])),
    1,
  );
  for (let l = 1; l < L; l++)
    for (let k = 1; k <= positions; k++) {
      const ending = columns.flatMap((c, i) => (c.last === l && c.k === (positions > 1 ? k + 1 : k) ? [term(x[i])] : []));
      const starting = columns.flatMap((c, i) => (c.first === l + 1 && c.k === k ? [term(x[i], -1)] : []));
      if (ending.length + starting.length > 0) b.equal(`chain_l${l}_k${k}`, [...ending, ...starting], 0);
    }
  if (positions === 1)
    b.lessEqual('stages', x.map((v) => term(v)), p.maxStages);
  for (let c = 0; c < C; c++)
    b.lessEqual(
      `class${c}`,
      columns.flatMap((col, i) => (col.n[c] > 0 ? [term(x[i], col.g * col.n[c])] : [])),
      classes[c].members.length,
    );

  // Boundary l → l+1: u_a = a stage ending at l uses class a, v_b = the next one uses b.
  const bytes = hopBytes(p);
  const factor = kind === 'training' ? 2 : 1;
  const hopTerms: Term[] = [];
  const hopVars: [number, number][] = [];
  if (bytes > 0)
    for (let l = 1; l < L; l++) {
      const u = (a: number): Term[] => columns.flatMap((c, i) => (c.last === l && c.n[a] > 0 ? [term(x[i])] : []));
      const v = (a: number): Term[] => columns.flatMap((c, i) => (c.first === l + 1 && c.n[a] > 0 ? [term(x[i])] : []));
      const hb = b.addVariable(`hopRate_l${l}`);
      const hl = b.addVariable(`hopLatency_l${l}`);
      hopVars.push([hb, hl]);
      hopTerms.push(term(hb), term(hl));
      for (let a = 0; a < C; a++)
        for (let c = 0; c < C; c++) {
          const ua = u(a);
          const vc = v(c);
          if (ua.length === 0 || vc.length === 0) continue;
          const link = a === c ? classes[a].intra : cross[a][c];
          if (link.bitsPerSecond <= 0) {
            b.lessEqual(`nolink_l${l}_${a}_${c}`, [...ua, ...vc], 1);
            continue;
          }
          const rate = factor * (hopTransferSeconds(bytes, { bitsPerSecond: link.bitsPerSecond, latencySeconds: 0 }));
          const lat = factor * link.latencySeconds;
          if (rate > 0)
            b.greaterEqual(`hopRate_l${l}_${a}_${c}`, [term(hb), ...[...ua, ...vc].map((t) => term(t.variable, -rate))], -rate);
          if (lat > 0)
            b.greaterEqual(`hopLat_l${l}_${a}_${c}`, [term(hl), ...[...ua, ...vc].map((t) => term(t.variable, -lat))], -lat);
        }
    }

  const iterations = p.mode.kind === 'training' ? p.mode.iterations : 1;
  const B = p.mode.kind === 'training' ? p.mode.microBatches : 1;
  if (kvMode) {
    const M = Math.max(0, ...columns.map((c) => c.blocks));
    const K = b.addVariable('kvBlocks', { lower: 0, upper: M });
    columns.forEach((c, i) => b.lessEqual(`kv${i}`, [term(K), term(x[i], M - c.blocks)], M));
    b.addObjective(K, 1);
  } else {
    const sum = columns.map((c, i) => term(x[i], c.seconds));
    if (kind === 'inference-latency') for (const t of [...sum, ...hopTerms]) b.addObjective(t.variable, t.coefficient);
    else {
      const T = b.addVariable('bottleneck');
      columns.forEach((c, i) => b.greaterEqual(`bott${i}`, [term(T), term(x[i], -c.seconds)], 0));
      hopVars.forEach(([hb, hl], l) => b.greaterEqual(`bottHop${l + 1}`, [term(T), term(hb, -1), term(hl, -1)], 0));
      if (kind === 'inference-throughput') b.addObjective(T, 1);
      else {
        const A = b.addVariable('allReduce');
        columns.forEach((c, i) => {
          if (c.allReduceSeconds > 0) b.greaterEqual(`ar${i}`, [term(A), term(x[i], -c.allReduceSeconds)], 0);
        });
        for (const t of [...sum, ...hopTerms]) b.addObjective(t.variable, iterations * t.coefficient);
        b.addObjective(T, iterations * (B - 1));
        b.addObjective(A, iterations);
      }
    }
  }
  const model = b.build();

  const decisionOf = (chosen: readonly StageColumn[]): ParallelDecision => {
    const used = new Array<number>(C).fill(0);
    const stages = [...chosen]
      .sort((a, c) => a.first - c.first)
      .map((col) => {
        const groups: ParallelDecision['stages'][number]['groups'] = [];
        col.n.forEach((cnt, c) => {
          for (let i = 0; i < cnt; i++) {
            const servers = classes[c].members.slice(used[c], used[c] + col.g).map((j) => p.servers[j].name);
            used[c] += col.g;
            groups.push({ servers, ...(kind === 'training' ? { samples: col.samples[c][i] } : {}) });
          }
        });
        return { firstLayer: col.first, lastLayer: col.last, groups };
      });
    return { stages };
  };

  const classOf = new Map<string, number>();
  classes.forEach((cl, c) => cl.members.forEach((j) => classOf.set(p.servers[j].name, c)));
  const index = new Map<string, number>();
  columns.forEach((c, i) => index.set(`${c.first}|${c.last}|${c.k}|${c.g}|${c.n.join('.')}`, i));

  return {
    model,
    decode(values) {
      return decisionOf(columns.filter((_, i) => values[x[i]] > 0.5));
    },
    encode(d) {
      const S = d.stages.length;
      const chosen: number[] = [];
      for (let s = 0; s < S; s++) {
        const st = d.stages[s];
        const n = new Array<number>(C).fill(0);
        let g = 0;
        for (const grp of st.groups) {
          const c = classOf.get(grp.servers[0]);
          if (c === undefined || grp.servers.some((name) => classOf.get(name) !== c)) return null;
          n[c]++;
          g = grp.servers.length;
        }
        const k = positions > 1 ? S - s : 1;
        const i = index.get(`${st.firstLayer}|${st.lastLayer}|${k}|${g}|${n.join('.')}`);
        if (i === undefined) return null;
        chosen.push(i);
      }
      const values = new Array<number>(model.variables.length).fill(0);
      for (const i of chosen) values[x[i]] = 1;
      // The continuous columns at the least values the rows allow for this choice.
      return completeContinuous(model, values);
    },
  };
}

/**
 * Sets each continuous column (hop parts, bottleneck, all-reduce, KV blocks) to the tightest value
 * its rows allow given the binaries: hop parts first (they feed the bottleneck), then the rest.
 */
function completeContinuous(model: ReturnType<ModelBuilder['build']>, values: number[]): number[] | null {
  const continuous = model.variables.flatMap((v, i) => (v.type === 'continuous' ? [i] : []));
  const order = [
    ...continuous.filter((i) => model.variables[i].name.startsWith('hop')),
    ...continuous.filter((i) => !model.variables[i].name.startsWith('hop')),
  ];
  const max = model.sense === 'max';
  // Rows that still hold an unset continuous column bound nothing yet (the bottleneck waits for the hops).
  const unset = new Set(order);
  for (const v of order) {
    unset.delete(v);
    let lo = model.variables[v].lower;
    let hi = model.variables[v].upper;
    for (const row of model.constraints) {
      const own = row.terms.find((t) => t.variable === v);
      if (own === undefined || row.terms.some((t) => unset.has(t.variable))) continue;
      let rest = 0;
      for (const t of row.terms) if (t.variable !== v) rest += t.coefficient * values[t.variable];
      // lower ≤ own·v + rest ≤ upper
      const a = (row.lower - rest) / own.coefficient;
      const c = (row.upper - rest) / own.coefficient;
      const [from, to] = own.coefficient > 0 ? [a, c] : [c, a];
      if (Number.isFinite(from)) lo = Math.max(lo, from);
      if (Number.isFinite(to)) hi = Math.min(hi, to);
    }
    if (lo > hi + 1e-9 * Math.max(1, Math.abs(hi))) return null;
    values[v] = max ? hi : Math.max(lo, model.variables[v].lower);
  }
  return values;
}
