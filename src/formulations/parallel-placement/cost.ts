/**
 * The parallel-placement cost model, from src/cost: a stage is a contiguous layer range held by
 * one or more TP groups (several only in training, where they are the stage's DP groups); a TP
 * group of g servers splits every weight matrix, the KV cache and the vocabulary g ways
 * (Megatron-LM's column/row split, vocab-parallel embedding and head) and pays per layer two
 * all-reduces of the layer's activations in a forward pass (four with the backward) over the
 * slowest link inside the group. Ring all-reduce moves 2·(g−1)/g of the bytes per rank and pays
 * 2·(g−1) latencies (Patarasuk & Yuan 2009, the NCCL ring). Everything here is pure arithmetic on
 * the problem; the exact method, the peers and evaluate all read these same functions.
 */
import { rooflineTime, type DeviceSpec } from '../../cost/device.ts';
import { transferSeconds } from '../../cost/link.ts';
import {
  embeddingParams,
  headForwardFlopsPerToken,
  headParams,
  kvBytesPerTokenPerLayer,
  layerForwardFlopsPerToken,
  layerParams,
  type ModelSpec,
} from '../../cost/model.ts';
import { TRAINING_ACCOUNTINGS, bytesPerTrainableParam } from '../../cost/training.ts';
import { bytesPerValue } from '../../cost/units.ts';
import type { ParallelProblem, TrainingMode } from './schema.ts';

/** Bytes of the fp32 per-token partial sums vocab-parallel cross-entropy all-reduces (max, sum, target logit). */
const CROSS_ENTROPY_BYTES_PER_TOKEN = 3 * 4;

export interface Link {
  /** 0 when some pair has no link. */
  readonly bitsPerSecond: number;
  readonly latencySeconds: number;
}

export const NO_LINK: Link = { bitsPerSecond: 0, latencySeconds: 0 };
/** The link of a single server with itself: nothing to send. */
export const SELF_LINK: Link = { bitsPerSecond: Infinity, latencySeconds: 0 };

/** Slowest link (least rate, most latency) over ordered pairs i ∈ a, j ∈ b, i ≠ j (b = a: inside a). */
export function slowestLink(p: ParallelProblem, a: readonly number[], b: readonly number[] = a): Link {
  let bps = Infinity;
  let lat = 0;
  let pairs = 0;
  for (const i of a)
    for (const j of b) {
      if (i === j) continue;
      pairs++;
      bps = Math.min(bps, p.bitsPerSecond[i][j]);
      lat = Math.max(lat, p.latencySeconds[i][j]);
    }
  if (pairs === 0) return SELF_LINK;
  return bps > 0 ? { bitsPerSecond: bps, latencySeconds: lat } : NO_LINK;
}

export function weakerLink(a: Link, b: Link): Link {
  return {
    bitsPerSecond: Math.min(a.bitsPerSecond, b.bitsPerSecond),
    latencySeconds: Math.max(a.latencySeconds, b.latencySeconds),
  };
}

/** Ring all-reduce of `bytes` among n ranks: 2(n−1)/n of the bytes through the slowest link, 2(n−1) latencies. */
export function ringAllReduceSeconds(n: number, bytes: number, link: Link): number {
  if (n <= 1 || bytes <= 0) return 0;
  if (link.bitsPerSecond <= 0) return Infinity;
  return ((2 * (n - 1)) / n) * ((bytes * 8) / link.bitsPerSecond) + 2 * (n - 1) * link.latencySeconds;
}

/** Ring all-gather (each rank ends with all n shards of `bytes` in total): half a ring all-reduce. */
export function ringAllGatherSeconds(n: number, bytes: number, link: Link): number {
  if (n <= 1 || bytes <= 0) return 0;
  if (link.bitsPerSecond <= 0) return Infinity;
  return ((n - 1) / n) * ((bytes * 8) / link.bitsPerSecond) + (n - 1) * link.latencySeconds;
}

export function hopTransferSeconds(bytes: number, link: Link): number {
  if (link.bitsPerSecond <= 0) return Infinity;
  if (!Number.isFinite(link.bitsPerSecond)) return 0;
  return transferSeconds(bytes, link.bitsPerSecond, link.latencySeconds);
}

/**
 * Activation bytes one layer keeps per sample for the backward pass on one rank of a TP group of
 * g, at 16 bits (Korthikanti et al. 2022, Table 2, tensor parallelism without sequence
 * parallelism): s·h·(10 + 24/g + 5·a·s/(h·g)); selective recomputation drops the attention term;
 * full recomputation keeps the layer input (2·s·h) only. g = 1 gives src/cost/training's 34·s·h + 5·a·s².
 */
export function tpActivationBytesPerSample(model: ModelSpec, mode: TrainingMode, g: number): number {
  const s = mode.sequenceLength;
  const h = model.hiddenSize;
  const a = model.heads;
  switch (mode.recomputation) {
    case 'none':
      return s * h * (10 + 24 / g + (5 * a * s) / (h * g));
    case 'selective':
      return s * h * (10 + 24 / g);
    case 'full':
      return 2 * s * h;
  }
}

/** Per-layer numbers of one rank of a TP group of g servers of one device, at `samples` per micro-batch. */
interface LayerTable {
  /** Prefix sums over layers 1..L (index 0 = 0). */
  readonly seconds: Float64Array;
  readonly stateBytes: Float64Array;
  readonly kvBytes: Float64Array;
  /** Bytes kept per in-flight micro-batch (training). */
  readonly activationBytes: Float64Array;
  readonly embeddingSeconds: number;
  readonly headSeconds: number;
  readonly embeddingStateBytes: number;
  readonly headStateBytes: number;
  /** The tied head's second copy, not needed when one stage holds embedding and head. */
  readonly tiedCopyBytes: number;
  /** Logits kept for the loss on the last stage, per in-flight micro-batch (training). */
  readonly logitsBytes: number;
  /** Bytes of one all-reduce of a layer's activations, and how many per layer. */
  readonly allReduceBytes: number;
  readonly allReducesPerLayer: number;
  /** Embedding all-reduce, head all-gather of logits (inference) or cross-entropy all-reduces (training). */
  readonly embeddingAllReduceBytes: number;
  readonly headGatherBytes: number;
  readonly headAllReduceBytes: number;
  /** Gradient bytes per parameter (training), for the DP all-reduce. */
  readonly gradientBytesPerParam: number;
}

const tables = new WeakMap<ParallelProblem, Map<string, LayerTable>>();

function prefix(values: readonly number[]): Float64Array {
  const p = new Float64Array(values.length + 1);
  for (let i = 0; i < values.length; i++) p[i + 1] = p[i] + values[i];
  return p;
}

function rt(device: DeviceSpec, flops: number, traffic: number, weights: number, calls: number): number {
  return rooflineTime(device, { flops, memoryTrafficBytes: traffic, weightBytes: weights, calls }, weights).seconds;
}

function buildTable(p: ParallelProblem, device: DeviceSpec, g: number, samples: number): LayerTable {
  const { model, mode } = p;
  const L = model.layers;
  const h = model.hiddenSize;
  const betaW = bytesPerValue(p.weightDtype);
  const betaE = bytesPerValue(p.embeddingDtype);
  const betaA = bytesPerValue(p.activationDtype);
  const seconds: number[] = [];
  const state: number[] = [];
  const kv: number[] = [];
  const act: number[] = [];
  const headMatrix = model.vocabSize * h;
  if (mode.kind === 'training') {
    const acc = TRAINING_ACCOUNTINGS[mode.accounting];
    const bpt = bytesPerTrainableParam(acc);
    const s = mode.sequenceLength;
    const tokens = samples * s;
    const rec = mode.recomputation === 'full' ? 1 : 0;
    const stored = (tpActivationBytesPerSample(model, mode, g) * samples * betaA) / 2;
    for (let l = 1; l <= L; l++) {
      const w = (layerParams(model, l) * betaW) / g;
      const flops = ((3 + rec) * layerForwardFlopsPerToken(model, l, s) * tokens) / g;
      seconds.push(rt(device, flops, 2 * stored, w * (2 + rec), 2 + rec));
      state.push((layerParams(model, l) * bpt) / g);
      kv.push(0);
      act.push(stored);
    }
    const embTraffic = (tokens * h * betaE * 2) / g;
    const headW = (headMatrix * betaE) / g;
    return {
      seconds: prefix(seconds),
      stateBytes: prefix(state),
      kvBytes: prefix(kv),
      activationBytes: prefix(act),
      embeddingSeconds: rt(device, 0, embTraffic, 0, 2),
      headSeconds: rt(device, (3 * headForwardFlopsPerToken(model) * tokens) / g, 0, 2 * headW, 2),
      embeddingStateBytes: (embeddingParams(model) * bpt) / g,
      headStateBytes: (headParams(model) * bpt) / g,
      tiedCopyBytes: model.tiedEmbeddings ? (headMatrix * bpt) / g : 0,
      logitsBytes: (tokens * model.vocabSize * betaA) / g,
      allReduceBytes: tokens * h * betaA,
      allReducesPerLayer: 4 + 2 * rec,
      embeddingAllReduceBytes: tokens * h * betaA,
      headGatherBytes: 0,
      headAllReduceBytes: tokens * CROSS_ENTROPY_BYTES_PER_TOKEN,
      gradientBytesPerParam: acc.gradientBytes,
    };
  }
  const kvPerTokenLayer = kvBytesPerTokenPerLayer(model, p.kvDtype);
  let b: number;
  let stepTokens: number;
  let context: number;
  let attendTo: number;
  if (mode.kind === 'kv-capacity') {
    // Capacity is about memory; times are those of one decode step at the full context, for the report.
    b = 1;
    stepTokens = 1;
    context = mode.contextTokens;
    attendTo = context;
  } else {
    b = mode.batch;
    const prefill = mode.phase === 'prefill';
    stepTokens = prefill ? mode.promptTokens : 1;
    context = mode.promptTokens + mode.outputTokens;
    attendTo = prefill ? mode.promptTokens : context;
  }
  for (let l = 1; l <= L; l++) {
    const w = (layerParams(model, l) * betaW) / g;
    const flops = (b * stepTokens * layerForwardFlopsPerToken(model, l, attendTo)) / g;
    seconds.push(rt(device, flops, (b * attendTo * kvPerTokenLayer) / g, w, 1));
    state.push(w);
    kv.push(mode.kind === 'kv-capacity' ? 0 : (b * context * kvPerTokenLayer) / g);
    act.push(0);
  }
  const headW = (headMatrix * betaE) / g;
  return {
    seconds: prefix(seconds),
    stateBytes: prefix(state),
    kvBytes: prefix(kv),
    activationBytes: prefix(act),
    embeddingSeconds: rt(device, 0, (b * stepTokens * h * betaE) / g, 0, 1),
    // Only the last position's logits pick the next token.
    headSeconds: rt(device, (b * headForwardFlopsPerToken(model)) / g, 0, headW, 1),
    embeddingStateBytes: (embeddingParams(model) * betaE) / g,
    headStateBytes: (headParams(model) * betaE) / g,
    tiedCopyBytes: model.tiedEmbeddings ? headW : 0,
    logitsBytes: 0,
    allReduceBytes: b * stepTokens * h * betaA,
    allReducesPerLayer: 2,
    embeddingAllReduceBytes: b * stepTokens * h * betaA,
    headGatherBytes: b * model.vocabSize * betaA,
    headAllReduceBytes: 0,
    gradientBytesPerParam: 0,
  };
}

/** The per-layer table of a g-way group of server `j`'s device (memoised per problem). */
export function layerTable(p: ParallelProblem, j: number, g: number, samples: number): LayerTable {
  let m = tables.get(p);
  if (!m) {
    m = new Map();
    tables.set(p, m);
  }
  const dev = p.servers[j].device;
  const key = `${dev.id}|${dev.peakFlopsPerSecond}|${dev.memoryBandwidthBytesPerSecond}|${dev.memoryBytes}|${g}|${samples}`;
  let t = m.get(key);
  if (!t) {
    t = buildTable(p, dev, g, samples);
    m.set(key, t);
  }
  return t;
}

export interface GroupCost {
  /** Time of the group's share of one micro-batch (training) or one step (inference). */
  readonly seconds: number;
  readonly computeSeconds: number;
  readonly tensorParallelSeconds: number;
  /** Bytes each server of the group holds. */
  readonly memoryBytes: number;
  readonly stateBytes: number;
  readonly kvBytes: number;
  readonly activationBytes: number;
  /** Parameters the stage's layers (and embedding/head) hold in full, for the DP gradient all-reduce. */
  readonly stageParams: number;
}

/**
 * One TP group: g servers of server j's device (j is any member), layers first..last of L, with
 * `samples` per micro-batch (training; ignored otherwise), `inflight` micro-batches of
 * activations kept, `tpLink` the slowest link inside the group and `stages` the stage count.
 */
export function groupCost(
  p: ParallelProblem,
  j: number,
  g: number,
  first: number,
  last: number,
  samples: number,
  inflight: number,
  tpLink: Link,
  stages: number,
): GroupCost {
  const L = p.model.layers;
  const t = layerTable(p, j, g, samples);
  const n = last - first + 1;
  let compute = t.seconds[last] - t.seconds[first - 1];
  let tp = n * t.allReducesPerLayer * ringAllReduceSeconds(g, t.allReduceBytes, tpLink);
  let state = t.stateBytes[last] - t.stateBytes[first - 1];
  let act = inflight * (t.activationBytes[last] - t.activationBytes[first - 1]);
  let params = 0;
  for (let l = first; l <= last; l++) params += layerParams(p.model, l);
  if (first === 1) {
    compute += t.embeddingSeconds;
    tp += ringAllReduceSeconds(g, t.embeddingAllReduceBytes, tpLink);
    state += t.embeddingStateBytes;
    params += embeddingParams(p.model);
  }
  if (last === L) {
    compute += t.headSeconds;
    tp += ringAllGatherSeconds(g, t.headGatherBytes, tpLink) + ringAllReduceSeconds(g, t.headAllReduceBytes, tpLink);
    state += t.headStateBytes + (stages > 1 ? t.tiedCopyBytes : 0);
    act += inflight * t.logitsBytes;
    params += headParams(p.model) + (stages > 1 && p.model.tiedEmbeddings ? p.model.vocabSize * p.model.hiddenSize : 0);
  }
  const kv = t.kvBytes[last] - t.kvBytes[first - 1];
  return {
    seconds: compute + tp,
    computeSeconds: compute,
    tensorParallelSeconds: tp,
    memoryBytes: state + kv + act,
    stateBytes: state,
    kvBytes: kv,
    activationBytes: act,
    stageParams: params,
  };
}

/** KV bytes one block of `blockTokens` needs on one rank of a g-way group holding layers first..last. */
export function kvBlockBytes(p: ParallelProblem, g: number, first: number, last: number): number {
  if (p.mode.kind !== 'kv-capacity') return 0;
  return ((last - first + 1) * p.mode.blockTokens * kvBytesPerTokenPerLayer(p.model, p.kvDtype)) / g;
}

/** Whole KV blocks that fit in `freeBytes` (the tolerance admits a block short by 1e-6 relative). */
export function blocksThatFit(freeBytes: number, blockBytes: number): number {
  if (freeBytes <= 0) return 0;
  return Math.floor((freeBytes / blockBytes) * (1 + 1e-9));
}

/** Bytes crossing a stage boundary per micro-batch (training) or step (inference), one direction. */
export function hopBytes(p: ParallelProblem): number {
  const { mode, model } = p;
  const beta = bytesPerValue(p.activationDtype);
  if (mode.kind === 'training') return mode.microBatchSize * mode.sequenceLength * model.hiddenSize * beta;
  if (mode.kind === 'kv-capacity') return 0;
  return mode.batch * (mode.phase === 'prefill' ? mode.promptTokens : 1) * model.hiddenSize * beta;
}

/** Boundary time over `link`: activations forward (and their gradients back in training). */
export function hopSeconds(p: ParallelProblem, link: Link): number {
  const bytes = hopBytes(p);
  if (bytes === 0) return 0;
  const one = hopTransferSeconds(bytes, link);
  return p.mode.kind === 'training' ? 2 * one : one;
}

/** Micro-batches whose activations stage i (1-based) of S keeps: 1F1B S − i + 1 (≤ B), GPipe B. */
export function inflightOf(p: ParallelProblem, stage: number, stages: number): number {
  if (p.mode.kind !== 'training') return 0;
  return p.mode.schedule === 'gpipe' ? p.mode.microBatches : Math.min(stages - stage + 1, p.mode.microBatches);
}

/** Gradient all-reduce of a stage over its dp groups (each rank its 1/g shard, rings run side by side). */
export function dataParallelSeconds(p: ParallelProblem, dp: number, g: number, stageParams: number, link: Link): number {
  if (p.mode.kind !== 'training' || dp <= 1) return 0;
  const t = layerTable(p, 0, g, 1);
  return ringAllReduceSeconds(dp, (stageParams * t.gradientBytesPerParam) / g, link);
}

export type ObjectiveKind = 'training' | 'latency' | 'throughput' | 'kv-capacity';

export function objectiveKind(p: ParallelProblem): ObjectiveKind {
  switch (p.mode.kind) {
    case 'training':
      return 'training';
    case 'inference-latency':
      return 'latency';
    case 'inference-throughput':
      return 'throughput';
    case 'kv-capacity':
      return 'kv-capacity';
  }
}

/**
 * The objective from per-stage times t_s, boundary times c_s, DP all-reduce times a_s and KV
 * blocks: training iterations·(Σ(t+c) + (B−1)·max(t, c) + max a) — the all-reduce after the
 * flush, not overlapped; latency Σ t + Σ c; throughput max(t, c); kv-capacity min blocks.
 */
export function combineObjective(
  p: ParallelProblem,
  sum: number,
  bottleneck: number,
  allReduce: number,
  blocks: number,
): number {
  switch (p.mode.kind) {
    case 'training':
      return p.mode.iterations * (sum + (p.mode.microBatches - 1) * bottleneck + allReduce);
    case 'inference-latency':
      return sum;
    case 'inference-throughput':
      return bottleneck;
    case 'kv-capacity':
      return blocks;
  }
}
