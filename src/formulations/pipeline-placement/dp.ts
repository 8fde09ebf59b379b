/**
 * The dynamic programmes behind the exact method (and, with other cost views, behind several
 * peers). Both build the pipeline from its end: a state is "layers l..L are covered, the stage
 * that starts at layer l runs on server j", so the number of stages from a stage to the end —
 * which fixes its in-flight micro-batches under 1F1B — is known when the stage is placed.
 *
 * - chainDp: servers visited in a fixed order (any subsequence of it); state (l, k, position).
 * - subsetDp: servers in any order; state (l, set of servers used by the suffix, server of the
 *   first suffix stage). H(l, S, j) = min over j' ∈ S of link(j → j') ⊕ f(l, S, j') separates
 *   "which range" from "which next server", so a state costs O(L + n) instead of O(L·n).
 *
 * `combine: 'sum'` minimises Σ stage times + Σ transfers (+ return); `'max'` minimises the largest
 * of them. `cap` (strict) forbids any single stage time or transfer ≥ cap — the feasibility
 * filter of the bottleneck search for the training objective.
 */
import { withinLimit } from '../tolerance.ts';
import { stageMemoryBytes, stageSeconds, type PipelineTables, type StagePlan } from './cost.ts';

export interface DpOptions {
  readonly combine: 'sum' | 'max';
  /** Every stage time and transfer must be < cap. */
  readonly cap: number;
  /** Stages allowed at most. */
  readonly maxStages: number;
  /** Exactly this many stages, or null. */
  readonly exactStages: number | null;
  /** Server that must hold stage 1, or null. */
  readonly source: number | null;
  /** Told each layer the DP reaches (`layer 3 of 80`), for the exact method's progress. */
  readonly progress?: (phase: string) => void;
}

/** What a DP sees of the instance; peers plug in their own (simplified) views. */
export interface DpCosts {
  readonly servers: number;
  readonly layers: number;
  stage(j: number, first: number, last: number): number;
  fits(j: number, first: number, last: number, stagesFromEnd: number): boolean;
  comm(from: number, to: number): number;
  ret(j: number): number;
}

/** The true cost view of a problem. */
export function trueCosts(t: PipelineTables): DpCosts {
  return {
    servers: t.servers,
    layers: t.layers,
    stage: (j, a, b) => stageSeconds(t, j, a, b),
    fits: (j, a, b, k) => withinLimit(stageMemoryBytes(t, j, a, b, k), t.capacityBytes[j]),
    comm: (a, b) => t.comm[a * t.servers + b],
    ret: (j) => t.ret[j],
  };
}

export interface DpResult {
  readonly plan: StagePlan[];
  /** The DP's own value of the plan. */
  readonly value: number;
}

const combineOf = (kind: 'sum' | 'max') =>
  kind === 'sum' ? (a: number, b: number) => a + b : (a: number, b: number) => (a > b ? a : b);

/**
 * Fixed order: servers order[0], order[1], … (a subsequence is used). With a pinned source,
 * order[0] must be the source and stage 1 runs there.
 */
export function chainDp(c: DpCosts, order: readonly number[], opts: DpOptions): DpResult | null {
  const L = c.layers;
  const P = order.length;
  const K = Math.min(opts.maxStages, P, L);
  const combine = combineOf(opts.combine);
  const cap = opts.cap;
  // g[((l-1)·(K+1) + k)·P + p], HH likewise; choice arrays for reconstruction.
  const size = L * (K + 1) * P;
  const g = new Float64Array(size).fill(Infinity);
  const gM = new Int32Array(size).fill(-1);
  const hh = new Float64Array(size).fill(Infinity);
  const hhQ = new Int32Array(size).fill(-1);
  const at = (l: number, k: number, p: number): number => ((l - 1) * (K + 1) + k) * P + p;
  for (let l = L; l >= 1; l--) {
    opts.progress?.(`chain DP layer ${L - l + 1} of ${L}`);
    for (let k = 1; k <= Math.min(K, L - l + 1); k++) {
      for (let p = 0; p < P; p++) {
        if (opts.source !== null && (order[p] === opts.source) !== (l === 1)) continue;
        if (P - p < k) continue;
        const j = order[p];
        let best = Infinity;
        let bestM = -1;
        if (k === 1) {
          if (c.fits(j, l, L, 1)) {
            const st = c.stage(j, l, L);
            const r = c.ret(j);
            if (st < cap && (r === 0 || r < cap)) {
              best = opts.combine === 'sum' ? st + r : Math.max(st, r);
              bestM = L;
            }
          }
        } else {
          for (let m = l; m <= L - (k - 1); m++) {
            if (!c.fits(j, l, m, k)) break;
            const st = c.stage(j, l, m);
            if (st >= cap || st >= best) break;
            const h = hh[at(m + 1, k - 1, p)];
            if (h === Infinity) continue;
            const v = combine(st, h);
            if (v < best) {
              best = v;
              bestM = m;
            }
          }
        }
        g[at(l, k, p)] = best;
        gM[at(l, k, p)] = bestM;
      }
      if (l >= 2) {
        // hh(l, k, p): the stage before sits on order[p]; the next one on some later position.
        for (let p = 0; p < P; p++) {
          let best = Infinity;
          let bestQ = -1;
          for (let q = p + 1; q < P; q++) {
            const gv = g[at(l, k, q)];
            if (gv === Infinity) continue;
            const cm = c.comm(order[p], order[q]);
            if (!(cm < cap)) continue;
            const v = combine(cm, gv);
            if (v < best) {
              best = v;
              bestQ = q;
            }
          }
          hh[at(l, k, p)] = best;
          hhQ[at(l, k, p)] = bestQ;
        }
      }
    }
  }
  let best = Infinity;
  let bk = -1;
  let bp = -1;
  for (let k = 1; k <= K; k++) {
    if (opts.exactStages !== null && k !== opts.exactStages) continue;
    for (let p = 0; p < P; p++) {
      const v = g[at(1, k, p)];
      if (v < best) {
        best = v;
        bk = k;
        bp = p;
      }
    }
  }
  if (bk < 0) return null;
  const plan: StagePlan[] = [];
  let l = 1;
  let k = bk;
  let p = bp;
  for (;;) {
    const m = gM[at(l, k, p)];
    plan.push({ server: order[p], first: l, last: m });
    if (k === 1) break;
    p = hhQ[at(m + 1, k - 1, p)];
    l = m + 1;
    k -= 1;
  }
  return { plan, value: best };
}

/** Number of DP cells the subset DP allocates (for the applicability test). */
export function subsetDpCells(servers: number, layers: number): number {
  return layers * 2 ** servers * servers;
}

function popcount(x: number): number {
  let c = 0;
  while (x) {
    x &= x - 1;
    c++;
  }
  return c;
}

/**
 * Dense tables of a cost view for the hot loops: stage time of every (server, first, last) and,
 * for every (stages-from-end k, server, first), the last layer a stage may reach within memory
 * (memory grows with the range, so it is one bound per start).
 */
interface DenseCosts {
  readonly time: Float64Array;
  readonly maxEnd: Int32Array;
}

function densify(c: DpCosts, K: number): DenseCosts {
  const n = c.servers;
  const L = c.layers;
  const time = new Float64Array(n * (L + 1) * (L + 1));
  const maxEnd = new Int32Array((K + 1) * n * (L + 1));
  for (let j = 0; j < n; j++)
    for (let a = 1; a <= L; a++) for (let b = a; b <= L; b++) time[(j * (L + 1) + a) * (L + 1) + b] = c.stage(j, a, b);
  for (let k = 1; k <= K; k++)
    for (let j = 0; j < n; j++) {
      let end = 0;
      for (let a = 1; a <= L; a++) {
        // Range 1..L may fit thanks to the single-stage credit while 2..L does not: restart at a = 2.
        if (a === 2) end = 1;
        if (end < a - 1) end = a - 1;
        while (end < L && c.fits(j, a, end + 1, k)) end++;
        maxEnd[(k * n + j) * (L + 1) + a] = end;
      }
    }
  return { time, maxEnd };
}

/** Any order: DP over (layer, subset, first server of the suffix). */
export function subsetDp(c: DpCosts, opts: DpOptions): DpResult | null {
  const n = c.servers;
  const L = c.layers;
  const M = 1 << n;
  const combine = combineOf(opts.combine);
  const sum = opts.combine === 'sum';
  const cap = opts.cap;
  const src = opts.source;
  const srcBit = src === null ? 0 : 1 << src;
  const K = Math.min(opts.maxStages, n, L);
  const { time, maxEnd } = densify(c, K);
  const L1 = L + 1;
  const size = L * M * n;
  const f = new Float64Array(size).fill(Infinity);
  const fM = new Int16Array(size).fill(-1);
  const h = new Float64Array(size).fill(Infinity);
  const hJ = new Int8Array(size).fill(-1);
  const bits = new Int32Array(M);
  for (let mask = 1; mask < M; mask++) bits[mask] = popcount(mask);
  const comm = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) comm[a * n + b] = a === b ? Infinity : c.comm(a, b);
  const ret = Float64Array.from({ length: n }, (_, j) => c.ret(j));
  for (let l = L; l >= 1; l--) {
    opts.progress?.(`subset DP layer ${L - l + 1} of ${L}`);
    const base = (l - 1) * M;
    for (let mask = 1; mask < M; mask++) {
      const k = bits[mask];
      if (k > K || k > L - l + 1) continue;
      if (l > 1 && (mask & srcBit) !== 0) continue;
      for (let j = 0; j < n; j++) {
        if ((mask & (1 << j)) === 0) continue;
        if (l === 1 && src !== null && j !== src) continue;
        const rest = mask & ~(1 << j);
        let best = Infinity;
        let bestM = -1;
        const reach = maxEnd[(k * n + j) * L1 + l];
        const row = (j * L1 + l) * L1;
        if (rest === 0) {
          if (reach === L || (l === 1 && c.fits(j, 1, L, 1))) {
            const st = time[row + L];
            const r = ret[j];
            if (st < cap && (r === 0 || r < cap)) {
              best = sum ? st + r : Math.max(st, r);
              bestM = L;
            }
          }
        } else {
          const last = Math.min(reach, L - (k - 1));
          for (let m = l; m <= last; m++) {
            const st = time[row + m];
            if (st >= cap || st >= best) break;
            const hv = h[(m * M + rest) * n + j];
            if (hv === Infinity) continue;
            const v = sum ? st + hv : st > hv ? st : hv;
            if (v < best) {
              best = v;
              bestM = m;
            }
          }
        }
        const idx = (base + mask) * n + j;
        f[idx] = best;
        fM[idx] = bestM;
      }
      if (l >= 2) {
        for (let j = 0; j < n; j++) {
          if ((mask & (1 << j)) !== 0) continue;
          let best = Infinity;
          let bestJ = -1;
          for (let q = 0; q < n; q++) {
            if ((mask & (1 << q)) === 0) continue;
            const fv = f[(base + mask) * n + q];
            if (fv === Infinity) continue;
            const cm = comm[j * n + q];
            if (!(cm < cap)) continue;
            const v = combine(cm, fv);
            if (v < best) {
              best = v;
              bestJ = q;
            }
          }
          const idx = (base + mask) * n + j;
          h[idx] = best;
          hJ[idx] = bestJ;
        }
      }
    }
  }
  let best = Infinity;
  let bMask = -1;
  let bJ = -1;
  for (let mask = 1; mask < M; mask++) {
    if (bits[mask] > K) continue;
    if (opts.exactStages !== null && bits[mask] !== opts.exactStages) continue;
    for (let j = 0; j < n; j++) {
      const v = f[mask * n + j];
      if (v < best) {
        best = v;
        bMask = mask;
        bJ = j;
      }
    }
  }
  if (bMask < 0) return null;
  const plan: StagePlan[] = [];
  let l = 1;
  let mask = bMask;
  let j = bJ;
  for (;;) {
    const m = fM[((l - 1) * M + mask) * n + j];
    plan.push({ server: j, first: l, last: m });
    const rest = mask & ~(1 << j);
    if (rest === 0) break;
    j = hJ[(m * M + rest) * n + j];
    mask = rest;
    l = m + 1;
  }
  return { plan, value: best };
}
