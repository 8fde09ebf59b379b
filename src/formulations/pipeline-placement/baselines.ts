/**
 * Peers, each re-implemented from its published description and scored by our evaluate (their own
 * cost models only steer their choices). Where a peer has no notion of a pinned source, a stage
 * limit or an exact stage count, it is handed the servers in the listed order with the source
 * first and the allowed number of stages, so that its decision is comparable.
 */
import { embeddingParams, headParams, layerParams } from '../../cost/model.ts';
import { layerRoles, loraParamsPerLayer } from '../../cost/training.ts';
import { withinLimit } from '../tolerance.ts';
import type { Baseline } from '../types.ts';
import {
  inflightMicroBatches,
  stageMemoryBytes,
  stageSeconds,
  tablesOf,
  type PipelineTables,
  type StagePlan,
} from './cost.ts';
import { chainDp, subsetDp, subsetDpCells, trueCosts, type DpCosts } from './dp.ts';
import { listedOrder, planToDecision, SUBSET_DP_CELL_LIMIT } from './exact.ts';
import type { PipelineDecision, PipelineProblem } from './schema.ts';

/** Stages a fixed-count peer uses: the exact count if asked, else every server allowed. */
function stageCount(problem: PipelineProblem): number {
  return problem.stages ?? Math.min(problem.maxStages, problem.servers.length, problem.model.layers);
}

/** Contiguous ranges with the given layer counts on the given servers. */
function plansFromCounts(servers: readonly number[], counts: readonly number[]): StagePlan[] {
  const plan: StagePlan[] = [];
  let first = 1;
  servers.forEach((server, i) => {
    plan.push({ server, first, last: first + counts[i] - 1 });
    first += counts[i];
  });
  return plan;
}

/**
 * A layer's memory when a peer books memory layer by layer: its state and KV plus activations for
 * the most micro-batches any stage may hold (GPipe: B; 1F1B: stage 1's count with every allowed stage).
 */
function layerMemoryForBookkeeping(t: PipelineTables, problem: PipelineProblem, j: number, l: number): number {
  const worst = inflightMicroBatches(t, problem.stages ?? problem.maxStages);
  return (
    t.statePrefix[j][l] -
    t.statePrefix[j][l - 1] +
    t.kvPrefix[j][l] -
    t.kvPrefix[j][l - 1] +
    worst * (t.activationPrefix[j][l] - t.activationPrefix[j][l - 1])
  );
}

const uniform: Baseline<PipelineProblem, PipelineDecision> = {
  name: 'uniform',
  description:
    'Equal layer counts on every allowed server in the listed order (source first), ignoring speeds, memory and links.',
  run(problem) {
    const S = stageCount(problem);
    const L = problem.model.layers;
    const counts = Array.from({ length: S }, (_, i) => Math.floor(L / S) + (i < L % S ? 1 : 0));
    return planToDecision(problem, plansFromCounts(listedOrder(problem).slice(0, S), counts));
  },
};

/**
 * Parameters of each placement unit (embedding on layer 1, head on layer L) as DeepSpeed's
 * partition_method="parameters" counts them: only parameters with requires_grad (its
 * _count_layer_params), so frozen layers count 0 and LoRA layers count their adapters. In the
 * inference modes nothing is frozen, so every parameter counts.
 */
function unitParams(problem: PipelineProblem): number[] {
  const m = problem.model;
  const L = m.layers;
  const mode = problem.mode;
  const tiedCopy = m.tiedEmbeddings ? m.vocabSize * m.hiddenSize : 0;
  if (mode.kind !== 'training') {
    const p = Array.from({ length: L }, (_, i) => layerParams(m, i + 1));
    p[0] += embeddingParams(m);
    p[L - 1] += headParams(m) + tiedCopy;
    return p;
  }
  const roles = layerRoles(L, mode.frozenPrefixLayers, mode.trained);
  const lora = mode.lora ? loraParamsPerLayer(m, mode.lora) : 0;
  const p = roles.map((role, i) => (role === 'full' ? layerParams(m, i + 1) : role === 'lora' ? lora : 0));
  if (mode.trained === 'full' && mode.frozenPrefixLayers === 0) p[0] += embeddingParams(m);
  if (mode.trained === 'full') p[L - 1] += headParams(m) + tiedCopy;
  return p;
}

const deepspeed: Baseline<PipelineProblem, PipelineDecision> = {
  name: 'deepspeed-parameters',
  description:
    'DeepSpeed PipelineModule partition_method="parameters": contiguous stages that minimise the largest per-stage count of trainable parameters (requires_grad; all parameters in inference), on every allowed server in the listed order; device speed, memory and links ignored.',
  run(problem) {
    const S = stageCount(problem);
    const params = unitParams(problem);
    const pre = [0];
    for (const x of params) pre.push(pre[pre.length - 1] + x);
    const order = listedOrder(problem).slice(0, S);
    const view: DpCosts = {
      servers: problem.servers.length,
      layers: problem.model.layers,
      stage: (_j, a, b) => pre[b] - pre[a - 1],
      fits: () => true,
      comm: () => 0,
      ret: () => 0,
    };
    const r = chainDp(view, order, {
      combine: 'max',
      cap: Infinity,
      maxStages: S,
      exactStages: S,
      source: problem.source,
    });
    return r ? planToDecision(problem, r.plan) : null;
  },
};

/**
 * Named for what it is: Metis (ATC 2024) also searches device-group orderings and intra-stage
 * parallelism with its cost model; this peer is only the speed-proportional layer split.
 */
const speedProportional: Baseline<PipelineProblem, PipelineDecision> = {
  name: 'speed-proportional',
  description:
    "Speed-proportional split (the heterogeneity-aware load balancing of Metis-like planners, without their search): layer counts proportional to each server's compute speed (largest remainder, at least one each) on every allowed server in the listed order, then memory repair by shifting boundary layers from an overfull stage to the neighbour with the most free memory; links ignored.",
  run(problem) {
    const t = tablesOf(problem);
    const S = stageCount(problem);
    const L = t.layers;
    const servers = listedOrder(problem).slice(0, S);
    const speed = servers.map((j) => L / Math.max(stageSeconds(t, j, 1, L), 1e-30));
    const total = speed.reduce((a, b) => a + b, 0);
    const spare = L - S;
    const raw = speed.map((s) => (s / total) * spare);
    const counts = raw.map((r) => 1 + Math.floor(r));
    let left = L - counts.reduce((a, b) => a + b, 0);
    const byRemainder = raw.map((r, i) => ({ i, rem: r - Math.floor(r) })).sort((a, b) => b.rem - a.rem || a.i - b.i);
    for (let k = 0; left > 0; k = (k + 1) % S, left--) counts[byRemainder[k].i]++;
    const used = (i: number, plan: StagePlan[]): number =>
      stageMemoryBytes(t, plan[i].server, plan[i].first, plan[i].last, S - i);
    const over = (i: number, plan: StagePlan[]): number =>
      withinLimit(used(i, plan), t.capacityBytes[plan[i].server])
        ? Math.min(0, used(i, plan) - t.capacityBytes[plan[i].server])
        : used(i, plan) - t.capacityBytes[plan[i].server];
    for (let step = 0; step < L * S; step++) {
      const plan = plansFromCounts(servers, counts);
      const bad = plan.findIndex((_, i) => over(i, plan) > 0);
      if (bad < 0) break;
      if (counts[bad] <= 1) break;
      // Free memory a neighbour would have after taking one more layer.
      const room = (i: number): number => {
        if (i < 0 || i >= S) return -Infinity;
        const c = [...counts];
        c[i]++;
        c[bad]--;
        return -over(i, plansFromCounts(servers, c));
      };
      const left = room(bad - 1);
      const right = room(bad + 1);
      if (Math.max(left, right) === -Infinity) break;
      counts[left >= right ? bad - 1 : bad + 1]++;
      counts[bad]--;
    }
    return planToDecision(problem, plansFromCounts(servers, counts));
  },
};

const pipedream: Baseline<PipelineProblem, PipelineDecision> = {
  name: 'pipedream-dp',
  description:
    "PipeDream planner (SOSP 2019): DP over (layer, stage) on the listed server order minimising the largest of every stage's compute time and every boundary's activation (and gradient) transfer time, as its A(j, m) recursion does; no return transfer; memory checked.",
  run(problem) {
    const t = tablesOf(problem);
    // PipeDream's max includes the boundary transfer 2·C_i; it has no notion of returning the output.
    const view: DpCosts = { ...trueCosts(t), ret: () => 0 };
    const r = chainDp(view, listedOrder(problem), {
      combine: 'max',
      cap: Infinity,
      maxStages: problem.maxStages,
      exactStages: problem.stages,
      source: problem.source,
    });
    return r ? planToDecision(problem, r.plan) : null;
  },
};

/** Alpa's stage-time view: every server as fast as the pool's mean, and no communication. */
function alphaView(t: PipelineTables): DpCosts {
  const n = t.servers;
  const L = t.layers;
  const mean = new Float64Array(L + 1);
  for (let l = 1; l <= L; l++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += stageSeconds(t, j, l, l);
    mean[l] = mean[l - 1] + s / n;
  }
  return { ...trueCosts(t), stage: (_j, a, b) => mean[b] - mean[a - 1], comm: () => 0, ret: () => 0 };
}

const alpa: Baseline<PipelineProblem, PipelineDecision> = {
  name: 'alpa-dp',
  description:
    "Alpa-style inter-operator DP: minimises Σ stage times + (B − 1)·slowest stage (the mode's objective) assuming identical devices (the pool's mean speed) and free communication, stages on the listed order; memory checked.",
  run(problem) {
    const t = tablesOf(problem);
    const view = alphaView(t);
    const opts = { cap: Infinity, maxStages: problem.maxStages, exactStages: problem.stages, source: problem.source };
    const order = listedOrder(problem);
    if (t.objective === 'throughput') {
      const r = chainDp(view, order, { ...opts, combine: 'max' });
      return r ? planToDecision(problem, r.plan) : null;
    }
    if (t.objective === 'latency') {
      const r = chainDp(view, order, { ...opts, combine: 'sum' });
      return r ? planToDecision(problem, r.plan) : null;
    }
    // Training: its own bottleneck search (stage times only) — enumerate caps like the exact method.
    let best: StagePlan[] | null = null;
    let bestValue = Infinity;
    let cap = Infinity;
    for (let guard = 0; guard < 10_000; guard++) {
      const r = chainDp(view, order, { ...opts, combine: 'sum', cap });
      if (!r) break;
      const times = r.plan.map((s) => view.stage(s.server, s.first, s.last));
      const max = Math.max(...times);
      const v = r.value + (t.microBatches - 1) * max;
      if (v < bestValue) {
        bestValue = v;
        best = r.plan;
      }
      cap = max;
    }
    return best ? planToDecision(problem, best) : null;
  },
};

/**
 * EdgeShard (Zhang et al. 2024) latency DP: D[i][j] = min_k D[i−1][k] + transfer(k→j) + t(i, j),
 * layer 1 on the source. Each cell keeps ONE remaining-memory vector, copied from its best
 * predecessor, and a transition is allowed only if that vector has room for the layer — greedy
 * bookkeeping that can discard a slightly slower prefix that would have left memory for later
 * layers. (Our port also forbids re-entering a server that was left, since a stage is contiguous.)
 */
export function edgeshardLatencyPlan(problem: PipelineProblem): StagePlan[] | null {
  const t = tablesOf(problem);
  const n = t.servers;
  const L = t.layers;
  interface Cell {
    value: number;
    memoryLeft: number[];
    left: Set<number>;
    prev: number;
    stages: number;
  }
  const cells: (Cell | null)[][] = Array.from({ length: L + 1 }, () => new Array<Cell | null>(n).fill(null));
  const mem = (j: number, l: number): number => layerMemoryForBookkeeping(t, problem, j, l);
  const rank = (j: number): number => (j === problem.source ? -1 : j);
  const starts = problem.source === null ? [...Array(n).keys()] : [problem.source];
  for (const j of starts) {
    if (!withinLimit(mem(j, 1), t.capacityBytes[j])) continue;
    const memoryLeft = [...t.capacityBytes];
    memoryLeft[j] -= mem(j, 1);
    cells[1][j] = { value: stageSeconds(t, j, 1, 1), memoryLeft, left: new Set(), prev: -1, stages: 1 };
  }
  for (let i = 2; i <= L; i++) {
    for (let j = 0; j < n; j++) {
      let best: Cell | null = null;
      for (let k = 0; k < n; k++) {
        const c = cells[i - 1][k];
        if (!c) continue;
        if (k !== j && c.left.has(j)) continue;
        if (k !== j && problem.serverOrder === 'listed' && rank(k) >= rank(j)) continue;
        if (!withinLimit(t.capacityBytes[j] - c.memoryLeft[j] + mem(j, i), t.capacityBytes[j])) continue;
        const stages = c.stages + (k === j ? 0 : 1);
        if (stages > problem.maxStages) continue;
        const link = k === j ? 0 : t.comm[k * n + j];
        if (!Number.isFinite(link)) continue;
        const v = c.value + link + stageSeconds(t, j, i, i);
        if (!best || v < best.value) {
          const memoryLeft = [...c.memoryLeft];
          memoryLeft[j] -= mem(j, i);
          const left = new Set(c.left);
          if (k !== j) left.add(k);
          best = { value: v, memoryLeft, left, prev: k, stages };
        }
      }
      cells[i][j] = best;
    }
  }
  let bestJ = -1;
  let bestV = Infinity;
  for (let j = 0; j < n; j++) {
    const c = cells[L][j];
    if (!c) continue;
    if (problem.stages !== null && c.stages !== problem.stages) continue;
    const v = c.value + t.ret[j];
    if (v < bestV) {
      bestV = v;
      bestJ = j;
    }
  }
  if (bestJ < 0) return null;
  const owner: number[] = new Array<number>(L + 1);
  for (let i = L, j = bestJ; i >= 1; i--) {
    owner[i] = j;
    j = (cells[i][j] as Cell).prev;
  }
  const plan: StagePlan[] = [];
  for (let l = 1; l <= L; l++) {
    const last = plan[plan.length - 1];
    if (last && last.server === owner[l]) plan[plan.length - 1] = { ...last, last: l };
    else plan.push({ server: owner[l], first: l, last: l });
  }
  return plan;
}

const edgeshardLatency: Baseline<PipelineProblem, PipelineDecision> = {
  name: 'edgeshard-latency',
  description:
    'EdgeShard latency DP over (layer, device) with the source first and greedy per-cell memory bookkeeping (one remaining-memory vector copied from the best predecessor).',
  run(problem) {
    const plan = edgeshardLatencyPlan(problem);
    return plan ? planToDecision(problem, plan) : null;
  },
};

const edgeshardThroughput: Baseline<PipelineProblem, PipelineDecision> = {
  name: 'edgeshard-throughput',
  description:
    'EdgeShard throughput DP over (layer, device subset, last device) minimising the largest stage or transfer time, memory booked per layer at the worst in-flight count, no return transfer; exponential in the pool, skipped for large pools.',
  run(problem) {
    const t = tablesOf(problem);
    if (subsetDpCells(t.servers, t.layers) > SUBSET_DP_CELL_LIMIT) return null;
    const booked = problem.servers.map((_, j) => {
      const p = new Float64Array(t.layers + 1);
      for (let l = 1; l <= t.layers; l++) p[l] = p[l - 1] + layerMemoryForBookkeeping(t, problem, j, l);
      return p;
    });
    const view: DpCosts = {
      ...trueCosts(t),
      fits: (j, a, b) => withinLimit(booked[j][b] - booked[j][a - 1], t.capacityBytes[j]),
      ret: () => 0,
    };
    const r = subsetDp(view, {
      combine: 'max',
      cap: Infinity,
      maxStages: problem.maxStages,
      exactStages: problem.stages,
      source: problem.source,
    });
    return r ? planToDecision(problem, r.plan) : null;
  },
};

export const pipelineBaselines: readonly Baseline<PipelineProblem, PipelineDecision>[] = [
  uniform,
  deepspeed,
  speedProportional,
  pipedream,
  alpa,
  edgeshardLatency,
  edgeshardThroughput,
];
