/**
 * Peers, each re-implemented from its published description and scored with the family's cost
 * functions (never evaluate, never the exact method):
 * - Megatron-LM: a uniform (tp, pp, dp) grid over the servers in listed order, pp dividing the
 *   layers (Shoeybi et al. 2019; Narayanan et al. 2021), the best grid by our cost model.
 * - vLLM: --tensor-parallel-size × --pipeline-parallel-size with vLLM's even layer split
 *   (get_pp_indices: remainder layers to the middle stages, PR #13839); the user's servingConfig
 *   when given, else the best uniform (tp, pp).
 * - vLLM PR #6920 hand-balanced: the even split with one layer moved off the first stage (which
 *   also holds the embedding) and one off the last (the head) onto their neighbours.
 * - Metis (Um et al., ATC 2024): its pruned enumeration — device-type orders, power-of-two device
 *   groups per stage no smaller than N/S, each stage starting at (dp = group, tp = 1) and turning
 *   dp into tp on the stage with the least memory headroom until it fits, layers split in
 *   proportion to stage compute — the best plan found by our cost model.
 * - Alpa (Zheng et al., OSDI 2022): its inter-operator DP under identical devices, run with the
 *   fleet's mean device, then scored on the real servers.
 * - published-plan: a plan given in the problem (e.g. Metis' own output), scored as is.
 */
import type { Baseline } from '../types.ts';
import { withinLimit } from '../tolerance.ts';
import {
  blocksThatFit,
  combineObjective,
  dataParallelSeconds,
  groupCost,
  hopSeconds,
  inflightOf,
  kvBlockBytes,
  slowestLink,
  weakerLink,
  type Link,
} from './cost.ts';
import type { ParallelDecision, ParallelProblem, ParallelServer } from './schema.ts';

export interface PlanStage {
  readonly first: number;
  readonly last: number;
  readonly groups: readonly (readonly number[])[];
  readonly samples: readonly number[];
}

/** Objective of a plan by the cost functions, or null when it breaks a rule or a memory limit. */
export function planCost(p: ParallelProblem, plan: readonly PlanStage[]): number | null {
  const S = plan.length;
  let sum = 0;
  let bott = 0;
  let ar = 0;
  let blocks = Infinity;
  const kvNeed = p.mode.kind === 'kv-capacity' ? Math.ceil(p.mode.contextTokens / p.mode.blockTokens) : 0;
  for (let s = 0; s < S; s++) {
    const st = plan[s];
    const g = st.groups[0].length;
    if (!p.tpDegrees.includes(g)) return null;
    let t = 0;
    let params = 0;
    for (let k = 0; k < st.groups.length; k++) {
      const members = st.groups[k];
      if (members.length !== g) return null;
      const lead = p.servers[members[0]];
      for (const j of members) {
        const sv = p.servers[j];
        if (sv.host !== lead.host || sv.device.id !== lead.device.id || sv.usableBytes !== lead.usableBytes) return null;
        for (const i of members)
          if (i !== j && (p.bitsPerSecond[i][j] <= 0 || p.bitsPerSecond[i][j] < p.tpMinBitsPerSecond)) return null;
      }
      const c = groupCost(p, members[0], g, st.first, st.last, st.samples[k], inflightOf(p, s + 1, S), slowestLink(p, members), S);
      if (!withinLimit(c.memoryBytes, lead.usableBytes)) return null;
      if (p.mode.kind === 'kv-capacity')
        blocks = Math.min(blocks, blocksThatFit(lead.usableBytes - c.memoryBytes, kvBlockBytes(p, g, st.first, st.last)));
      t = Math.max(t, c.seconds);
      params = c.stageParams;
    }
    let hop = 0;
    if (s + 1 < S) hop = hopSeconds(p, slowestLink(p, st.groups.flat(), plan[s + 1].groups.flat()));
    let link: Link = { bitsPerSecond: Infinity, latencySeconds: 0 };
    for (const a of st.groups) for (const b of st.groups) if (a !== b) link = weakerLink(link, slowestLink(p, a, b));
    const dp = dataParallelSeconds(p, st.groups.length, g, params, link);
    if (!Number.isFinite(hop) || !Number.isFinite(dp)) return null;
    sum += t + hop;
    bott = Math.max(bott, t, hop);
    ar = Math.max(ar, dp);
  }
  if (p.mode.kind === 'kv-capacity' && blocks < kvNeed) return null;
  return combineObjective(p, sum, bott, ar, blocks);
}

function better(p: ParallelProblem, a: number, b: number): boolean {
  return p.mode.kind === 'kv-capacity' ? a > b : a < b;
}

export function toDecision(p: ParallelProblem, plan: readonly PlanStage[]): ParallelDecision {
  return {
    stages: plan.map((s) => ({
      firstLayer: s.first,
      lastLayer: s.last,
      groups: s.groups.map((g, k) => ({
        servers: g.map((j) => p.servers[j].name),
        ...(p.mode.kind === 'training' ? { samples: s.samples[k] } : {}),
      })),
    })),
  };
}

/** vLLM's get_pp_indices (PR #13839): L // pp each, the remainder on the middle stages, else all but the last. */
export function vllmEvenPartition(L: number, pp: number): number[] {
  const parts = new Array<number>(pp).fill(Math.floor(L / pp));
  const r = L % pp;
  if (r > 0) {
    const targets = pp > 2 && r <= pp - 2 ? [...Array(pp - 2).keys()].map((i) => i + 1) : [...Array(pp - 1).keys()];
    // Spread over the target stages as evenly as possible, from the middle outwards being irrelevant here.
    for (let i = 0; i < r; i++) parts[targets[Math.floor((i * targets.length) / r)]]++;
  }
  return parts;
}

/** PR #6920's "less layers in the first and last partition": one layer each moved to the neighbouring stage. */
export function handBalancedPartition(L: number, pp: number): number[] | null {
  if (pp < 3) return null;
  const parts = vllmEvenPartition(L, pp);
  if (parts[0] < 2 || parts[pp - 1] < 2) return null;
  parts[0]--;
  parts[1]++;
  parts[pp - 1]--;
  parts[pp - 2]++;
  return parts;
}

function evenSamples(p: ParallelProblem, dp: number): number[] | null {
  if (p.mode.kind !== 'training') return new Array<number>(dp).fill(1);
  const m = p.mode.microBatchSize;
  if (m < dp) return null;
  if (m % dp !== 0 && p.mode.batchSplit === 'even') return null;
  return Array.from({ length: dp }, (_, k) => Math.floor(m / dp) + (k < m % dp ? 1 : 0));
}

/** Uniform grid on servers in `order`: stage s takes tp·dp consecutive servers, tp consecutive per group. */
function gridPlan(p: ParallelProblem, order: readonly number[], tp: number, dp: number, parts: readonly number[]): PlanStage[] | null {
  const pp = parts.length;
  if (tp * dp * pp > order.length) return null;
  const samples = evenSamples(p, dp);
  if (samples === null) return null;
  let next = 1;
  let at = 0;
  const plan: PlanStage[] = [];
  for (const n of parts) {
    if (n < 1) return null;
    const groups: number[][] = [];
    for (let k = 0; k < dp; k++) {
      groups.push(order.slice(at, at + tp) as number[]);
      at += tp;
    }
    plan.push({ first: next, last: next + n - 1, groups, samples });
    next += n;
  }
  return plan;
}

function listed(p: ParallelProblem): number[] {
  return p.servers.map((_, j) => j);
}

function bestOf(p: ParallelProblem, plans: Iterable<PlanStage[] | null>): PlanStage[] | null {
  let best: PlanStage[] | null = null;
  let bestV = NaN;
  for (const plan of plans) {
    if (plan === null) continue;
    const v = planCost(p, plan);
    if (v === null) continue;
    if (best === null || better(p, v, bestV)) {
      best = plan;
      bestV = v;
    }
  }
  return best;
}

function* megatronGrid(p: ParallelProblem): Generator<PlanStage[] | null> {
  const n = p.servers.length;
  const L = p.model.layers;
  for (const tp of p.tpDegrees)
    for (let pp = 1; pp <= p.maxStages; pp++) {
      if (L % pp !== 0) continue;
      for (let dp = 1; dp <= p.maxDataParallel && tp * pp * dp <= n; dp++)
        yield gridPlan(p, listed(p), tp, dp, new Array<number>(pp).fill(L / pp));
    }
}

function* vllmConfigs(p: ParallelProblem, partition: (L: number, pp: number) => number[] | null): Generator<PlanStage[] | null> {
  if (p.mode.kind === 'training') return;
  const L = p.model.layers;
  const configs = p.servingConfig
    ? [[p.servingConfig.tensorParallelSize, p.servingConfig.pipelineParallelSize]]
    : p.tpDegrees.flatMap((tp) => [...Array(p.maxStages).keys()].map((i) => [tp, i + 1]));
  for (const [tp, pp] of configs) {
    if (tp * pp > p.servers.length) continue;
    const parts = partition(L, pp);
    if (parts !== null) yield gridPlan(p, listed(p), tp, 1, parts);
  }
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  const out: T[][] = [];
  items.forEach((x, i) => {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) out.push([x, ...rest]);
  });
  return out;
}

/** Compositions of n into `stages` powers of two, each at least `min` (Metis' device-group shapes). */
function powerOfTwoGroups(n: number, stages: number, min: number): number[][] {
  const shapes: number[] = [];
  for (let s = 1; s <= n; s *= 2) if (s >= min) shapes.push(s);
  const out: number[][] = [];
  const rec = (left: number, acc: number[]): void => {
    if (acc.length === stages) {
      if (left === 0) out.push([...acc]);
      return;
    }
    for (const s of shapes) if (s <= left) rec(left - s, [...acc, s]);
  };
  rec(n, []);
  return out;
}

function speed(s: ParallelServer): number {
  return s.device.peakFlopsPerSecond * s.device.computeEfficiency;
}

function* metisPlans(p: ParallelProblem): Generator<PlanStage[] | null> {
  if (p.mode.kind !== 'training') return;
  const n = p.servers.length;
  const L = p.model.layers;
  const types = [...new Set(p.servers.map((s) => s.device.id))];
  for (const seq of permutations(types)) {
    const order = seq.flatMap((t) => listed(p).filter((j) => p.servers[j].device.id === t));
    for (let S = 1; S <= Math.min(n, L, p.maxStages); S++) {
      const min = Math.max(Math.floor(n / S), Math.floor(S / n));
      for (const sizes of powerOfTwoGroups(n, S, min)) {
        // Stage devices in node order; start with pure data parallelism.
        const stageDevices: number[][] = [];
        let at = 0;
        for (const s of sizes) {
          stageDevices.push(order.slice(at, at + s));
          at += s;
        }
        const power = stageDevices.map((d) => d.reduce((a, j) => a + speed(p.servers[j]), 0));
        const total = power.reduce((a, b) => a + b, 0);
        const parts = power.map((w) => Math.max(1, Math.round((L * w) / total)));
        let diff = L - parts.reduce((a, b) => a + b, 0);
        for (let i = 0; diff !== 0 && i < 4 * L; i++) {
          const k = i % S;
          if (diff > 0) {
            parts[k]++;
            diff--;
          } else if (parts[k] > 1) {
            parts[k]--;
            diff++;
          }
        }
        if (diff !== 0) continue;
        const tp = new Array<number>(S).fill(1);
        for (let step = 0; step <= 4 * S; step++) {
          const plan = metisLayout(p, stageDevices, tp, parts);
          yield plan;
          if (plan !== null && planCost(p, plan) !== null) break;
          // Turn dp into tp on the stage with the least memory headroom (Metis' _next_strategy).
          const headroom = stageDevices.map((d, s) => (tp[s] < d.length && p.tpDegrees.includes(tp[s] * 2) ? memoryRatio(p, plan, s) : -Infinity));
          let pick = -1;
          headroom.forEach((h, s) => {
            if (h > -Infinity && (pick < 0 || h > headroom[pick])) pick = s;
          });
          if (pick < 0) break;
          tp[pick] *= 2;
        }
      }
    }
  }
}

function metisLayout(p: ParallelProblem, devices: number[][], tp: number[], parts: number[]): PlanStage[] | null {
  let next = 1;
  const plan: PlanStage[] = [];
  for (let s = 0; s < devices.length; s++) {
    const dp = devices[s].length / tp[s];
    const samples = evenSamples(p, dp);
    if (samples === null || samples.some((x) => x !== samples[0])) return null;
    const groups: number[][] = [];
    for (let k = 0; k < dp; k++) groups.push(devices[s].slice(k * tp[s], (k + 1) * tp[s]));
    plan.push({ first: next, last: next + parts[s] - 1, groups, samples });
    next += parts[s];
  }
  return plan;
}

/** Memory need over usable of a stage's fullest server (higher = less headroom). */
function memoryRatio(p: ParallelProblem, plan: PlanStage[] | null, s: number): number {
  if (plan === null) return 0;
  const st = plan[s];
  let worst = 0;
  st.groups.forEach((g, k) => {
    const c = groupCost(p, g[0], g.length, st.first, st.last, st.samples[k], inflightOf(p, s + 1, plan.length), slowestLink(p, g), plan.length);
    worst = Math.max(worst, c.memoryBytes / p.servers[g[0]].usableBytes);
  });
  return worst;
}

/** The fleet as Alpa sees it: every server the mean device (mean speed, bandwidth, memory). */
function meanFleet(p: ParallelProblem): ParallelProblem {
  const n = p.servers.length;
  const mean = (f: (s: ParallelServer) => number): number => p.servers.reduce((a, s) => a + f(s), 0) / n;
  const d = p.servers[0].device;
  const device = {
    ...d,
    id: 'mean-device',
    name: 'mean of the fleet',
    peakFlopsPerSecond: mean((s) => s.device.peakFlopsPerSecond * s.device.computeEfficiency) / d.computeEfficiency,
    memoryBandwidthBytesPerSecond: mean((s) => s.device.memoryBandwidthBytesPerSecond * s.device.bandwidthEfficiency) / d.bandwidthEfficiency,
    memoryBytes: mean((s) => s.device.memoryBytes),
  };
  const usable = mean((s) => s.usableBytes);
  const memory = mean((s) => s.memoryBytes);
  return {
    ...p,
    servers: p.servers.map((s) => ({ ...s, device, usableBytes: usable, memoryBytes: memory, host: 'mesh' })),
  };
}

function alpaPlan(p: ParallelProblem): PlanStage[] | null {
  const q = meanFleet(p);
  const L = p.model.layers;
  const n = p.servers.length;
  let best: PlanStage[] | null = null;
  let bestV = NaN;
  for (const tp of p.tpDegrees)
    for (let dp = 1; dp <= p.maxDataParallel; dp++)
      for (let pp = 1; pp <= p.maxStages && tp * dp * pp <= n; pp++) {
        // Inter-operator DP on identical devices: contiguous split minimising the slowest stage.
        const parts = balancedSplit(q, tp, dp, pp, L);
        if (parts === null) continue;
        const plan = gridPlan(q, listed(q), tp, dp, parts);
        if (plan === null) continue;
        const v = planCost(q, plan);
        if (v === null) continue;
        if (best === null || better(p, v, bestV)) {
          best = plan;
          bestV = v;
        }
      }
  return best;
}

/** Min-max contiguous split of L layers into pp stages by stage time on the mean device. */
function balancedSplit(q: ParallelProblem, tp: number, dp: number, pp: number, L: number): number[] | null {
  if (pp > L) return null;
  const samples = evenSamples(q, dp);
  if (samples === null) return null;
  const link = { bitsPerSecond: Infinity, latencySeconds: 0 };
  const t = (a: number, b: number, stageFromEnd: number): number => {
    const c = groupCost(q, 0, tp, a, b, samples[0], inflightOf(q, pp - stageFromEnd + 1, pp), link, pp);
    return withinLimit(c.memoryBytes, q.servers[0].usableBytes) ? c.seconds : Infinity;
  };
  // f[k][e]: best max over the last k stages covering layers e+1..L.
  const f = Array.from({ length: pp + 1 }, () => new Array<number>(L + 1).fill(Infinity));
  const cut = Array.from({ length: pp + 1 }, () => new Array<number>(L + 1).fill(-1));
  f[0][L] = 0;
  for (let k = 1; k <= pp; k++)
    for (let e = L - 1; e >= 0; e--)
      for (let b = e + 1; b <= L - (k - 1); b++) {
        const v = Math.max(t(e + 1, b, k), f[k - 1][b]);
        if (v < f[k][e]) {
          f[k][e] = v;
          cut[k][e] = b;
        }
      }
  if (!Number.isFinite(f[pp][0])) return null;
  const parts: number[] = [];
  let e = 0;
  for (let k = pp; k >= 1; k--) {
    const b = cut[k][e];
    parts.push(b - e);
    e = b;
  }
  return parts;
}

function decisionOf(p: ParallelProblem, plan: PlanStage[] | null): ParallelDecision | null {
  return plan === null ? null : toDecision(p, plan);
}

export const parallelBaselines: readonly Baseline<ParallelProblem, ParallelDecision>[] = [
  {
    name: 'megatron-uniform-grid',
    description: 'Megatron-LM uniform (tp, pp, dp) over the listed servers, pp dividing the layers, best grid',
    run: (p) => decisionOf(p, bestOf(p, megatronGrid(p))),
    whyNoDecision: () => 'no uniform grid with pp dividing the layers fits (memory, same-host TP groups)',
  },
  {
    name: 'vllm-even-pp',
    description: "vLLM: uniform TP, even layer split (get_pp_indices); the problem's servingConfig, else the best (tp, pp)",
    run: (p) => decisionOf(p, bestOf(p, vllmConfigs(p, vllmEvenPartition))),
    whyNoDecision: (p) => (p.mode.kind === 'training' ? 'vLLM serves; training has no vLLM plan' : 'no even split fits'),
  },
  {
    name: 'vllm-6920-hand-balanced',
    description: 'vLLM PR #6920: the even split with one layer fewer on the first and last stages',
    run: (p) => decisionOf(p, bestOf(p, vllmConfigs(p, handBalancedPartition))),
    whyNoDecision: (p) =>
      p.mode.kind === 'training' ? 'vLLM serves; training has no vLLM plan' : 'needs 3+ stages and the moved layers must fit',
  },
  {
    name: 'metis-pruned-enumeration',
    description: 'Metis (ATC 2024): device-type orders × power-of-two stage groups, dp→tp on memory pressure',
    run: (p) => decisionOf(p, bestOf(p, metisPlans(p))),
    whyNoDecision: (p) => (p.mode.kind === 'training' ? 'no plan in its pruned space fits' : 'Metis plans training only'),
  },
  {
    name: 'alpa-mean-device',
    description: "Alpa's inter-operator DP assuming identical devices (the fleet's mean), scored on the real fleet",
    run: (p) => decisionOf(p, alpaPlan(p)),
    whyNoDecision: () => 'no uniform mesh fits the mean device',
  },
  {
    name: 'published-plan',
    description: "the plan the problem file quotes (referencePlan: e.g. Metis' published output), as given",
    run: (p) => p.referencePlan?.decision ?? null,
    whyNoDecision: () => 'the problem quotes no referencePlan',
  },
];
