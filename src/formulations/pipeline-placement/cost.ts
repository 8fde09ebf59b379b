/**
 * The pipeline-placement cost model, built once per problem from src/cost: for every server and
 * every decoder layer, the layer's time (per micro-batch in training, per step in inference) and
 * its memory; for every ordered pair of servers, the time of one boundary transfer. The embedding
 * is charged to layer 1 and norm + head to layer L, so the units of placement are the L decoder
 * layers and a stage is a contiguous range of them. Layers of a stage run one after another, so a
 * stage's time is the sum of its layers' times (prefix sums make any range O(1)).
 */
import { rooflineTime, type DeviceSpec, type Work } from '../../cost/device.ts';
import { transferSeconds } from '../../cost/link.ts';
import { lossBufferBytes, storedLogitsBytes } from '../../cost/memory.ts';
import {
  activationBytesPerToken,
  defaultTensorDtype,
  embeddingParams,
  headForwardFlopsPerToken,
  headParams,
  kvBytesPerTokenPerLayer,
  layerForwardFlopsPerToken,
  layerParams,
  type ModelSpec,
} from '../../cost/model.ts';
import {
  TRAINING_ACCOUNTINGS,
  bytesPerTrainableParam,
  layerRoles,
  loraForwardFlopsPerToken,
  loraParamsPerLayer,
  storesActivations,
  trainingActivationBytesPerSample,
  trainingFlopsMultiplier,
  type LayerTrainingRole,
} from '../../cost/training.ts';
import { runtimeKvTokens, runtimeStepSeconds } from '../../cost/runtime.ts';
import { withRuntimeOverheads } from '../../cost/runtime-time.ts';
import { bytesPerValue, type DType } from '../../cost/units.ts';
import { withinLimit } from '../tolerance.ts';
import type { InferenceMode, PipelineProblem, PipelineServer, TrainingMode } from './schema.ts';

/** What the objective is made of. */
export type ObjectiveKind = 'training' | 'latency' | 'throughput';

/** Bytes of a generated token id sent back to the source (int32 per sequence). */
export const TOKEN_ID_BYTES = 4;

export interface PipelineTables {
  readonly layers: number;
  readonly servers: number;
  readonly objective: ObjectiveKind;
  /** B (1 outside training). */
  readonly microBatches: number;
  /** Multiplier of the iteration time (training), 1 otherwise. */
  readonly iterations: number;
  /** In-flight micro-batches: 'none' (inference), 'all' (GPipe: B), 'position' (1F1B). */
  readonly inflightRule: 'none' | 'all' | 'position';
  /** [j][l] = Σ_{l' ≤ l} time of layer l' on server j (index 0 = 0). */
  readonly timePrefix: readonly Float64Array[];
  /** Weights, gradients and optimizer state. */
  readonly statePrefix: readonly Float64Array[];
  readonly kvPrefix: readonly Float64Array[];
  /** Activation bytes kept per in-flight micro-batch. */
  readonly activationPrefix: readonly Float64Array[];
  /** Bytes not needed when one stage holds both layer 1 and layer L (a tied head's second copy). */
  readonly singleStageCreditBytes: readonly number[];
  readonly capacityBytes: readonly number[];
  /** comm[j·n + k]: seconds per boundary from server j to server k (training: both directions). */
  readonly comm: Float64Array;
  /** ret[j]: seconds to return the output from last server j to the source (0 when not returned). */
  readonly ret: Float64Array;
  /**
   * hopBytes[j]: bytes server j sends across a stage boundary (its own activation format: its
   * measured profile's hop size, else batch × tokens × hidden × its precision). Decided per
   * sender, so a server that is not used cannot change the cost of a plan.
   */
  readonly hopBytes: readonly number[];
  readonly returnBytes: number;
  /** Where each server's layer times come from. */
  readonly timeSource: readonly ('profile' | 'roofline')[];
  /** Number format of each server's weights, KV cache and sent activations. */
  readonly precision: readonly DType[];
  /** Id of each server's measured profile, or null (roofline). */
  readonly profileId: readonly (string | null)[];
}

const cache = new WeakMap<PipelineProblem, PipelineTables>();

/** Per-problem tables, built once. */
export function tablesOf(problem: PipelineProblem): PipelineTables {
  let t = cache.get(problem);
  if (!t) {
    t = buildTables(problem);
    cache.set(problem, t);
  }
  return t;
}

function prefix(values: readonly number[]): Float64Array {
  const p = new Float64Array(values.length + 1);
  for (let i = 0; i < values.length; i++) p[i + 1] = p[i] + values[i];
  return p;
}

function time(device: DeviceSpec, work: Work, residentBytes: number): number {
  return rooflineTime(device, work, residentBytes).seconds;
}

interface LayerCosts {
  seconds: number[];
  stateBytes: number[];
  kvBytes: number[];
  activationBytes: number[];
  singleStageCreditBytes: number;
}

/** Embedding and head weights, with a tied head's copy on the last stage (as Megatron-LM keeps it). */
function tiedHeadCopyParams(model: ModelSpec): number {
  return model.tiedEmbeddings ? model.vocabSize * model.hiddenSize : 0;
}

function trainingCosts(model: ModelSpec, mode: TrainingMode, server: PipelineServer): LayerCosts {
  const L = model.layers;
  // The runtime's host time per layer call replaces the device's generic one (runtime-time.ts).
  const device = withRuntimeOverheads(server.device, server.runtime);
  const beta = bytesPerValue(model.dtype);
  const bpt = bytesPerTrainableParam(TRAINING_ACCOUNTINGS[mode.accounting]);
  const roles: LayerTrainingRole[] = layerRoles(L, mode.frozenPrefixLayers, mode.trained);
  const tokens = mode.microBatchSize * mode.sequenceLength;
  const loraParams = mode.lora ? loraParamsPerLayer(model, mode.lora) : 0;
  const loraFlops = mode.lora ? loraForwardFlopsPerToken(model, mode.lora) : 0;
  const seconds: number[] = [];
  const stateBytes: number[] = [];
  const activationBytes: number[] = [];
  for (let l = 1; l <= L; l++) {
    const role = roles[l - 1];
    const perToken = layerForwardFlopsPerToken(model, l, mode.sequenceLength) + (role === 'lora' ? loraFlops : 0);
    const passes = role === 'forward-only' ? 1 : 2;
    const stored = storesActivations(role)
      ? trainingActivationBytesPerSample(model, mode.sequenceLength, mode.recomputation) * mode.microBatchSize
      : 0;
    const weights = layerParams(model, l) * beta;
    // Full recomputation re-runs each stored layer's forward before its backward (one more forward).
    const recompute = mode.recomputation === 'full' && storesActivations(role) ? 1 : 0;
    seconds.push(
      time(
        device,
        {
          flops: (trainingFlopsMultiplier(role) + recompute) * perToken * tokens,
          memoryTrafficBytes: 2 * stored,
          weightBytes: weights * (passes + recompute),
          calls: passes + recompute,
        },
        weights,
      ),
    );
    const params = layerParams(model, l);
    stateBytes.push(
      role === 'full' ? params * bpt : role === 'lora' ? params * beta + loraParams * bpt : params * beta,
    );
    activationBytes.push(stored);
  }
  // Embedding: a lookup (memory traffic only); trained only in full training without a frozen prefix.
  const embeddingTrained = mode.trained === 'full' && mode.frozenPrefixLayers === 0;
  const embTraffic = tokens * model.hiddenSize * beta * (embeddingTrained ? 2 : 1);
  seconds[0] += time(
    device,
    { flops: 0, memoryTrafficBytes: embTraffic, weightBytes: 0, calls: embeddingTrained ? 2 : 1 },
    0,
  );
  stateBytes[0] += embeddingParams(model) * (embeddingTrained ? bpt : beta);
  // Head: the loss starts here, so it always back-propagates (≈ 2× forward), 3× when trained.
  const headTrained = mode.trained === 'full';
  const headMatrixBytes = model.vocabSize * model.hiddenSize * beta;
  seconds[L - 1] += time(
    device,
    {
      flops: (headTrained ? 3 : 2) * headForwardFlopsPerToken(model) * tokens,
      memoryTrafficBytes: 0,
      weightBytes: 2 * headMatrixBytes,
      calls: 2,
    },
    headMatrixBytes,
  );
  const headBytesPerParam = headTrained ? bpt : beta;
  stateBytes[L - 1] += (headParams(model) + tiedHeadCopyParams(model)) * headBytesPerParam;
  // The logits of every token are kept for the loss's backward pass, in the activation format, for
  // every micro-batch in flight; the fp32 upcast and fp32 gradient of the loss live only while one
  // micro-batch's loss is computed and back-propagated: once per stage (memory.ts, one code path).
  activationBytes[L - 1] += storedLogitsBytes(model, tokens);
  stateBytes[L - 1] += lossBufferBytes(model, tokens);
  return {
    seconds,
    stateBytes,
    kvBytes: new Array<number>(L).fill(0),
    activationBytes,
    singleStageCreditBytes: tiedHeadCopyParams(model) * headBytesPerParam,
  };
}

/** KV-cache format on a server: the model's `kvDtype`, else 16-bit unless its weights are wider (runtimes' default). */
export function serverKvDtype(model: ModelSpec, server: PipelineServer): DType {
  return model.kvDtype ?? defaultTensorDtype(server.precision);
}

/**
 * Format of the activations a server sends: the model's `activationDtype`, else 16-bit unless
 * its weights are wider. */
export function serverActivationDtype(model: ModelSpec, server: PipelineServer): DType {
  return model.activationDtype ?? defaultTensorDtype(server.precision);
}

function inferenceCosts(model: ModelSpec, mode: InferenceMode, server: PipelineServer): LayerCosts {
  const L = model.layers;
  const device = withRuntimeOverheads(server.device, server.runtime);
  const profile = server.profile;
  // Weights and the roofline parts the profile lacks are at this server's precision; the KV cache
  // and the hidden states in their own formats (an int4 model keeps a 16-bit cache).
  const beta = bytesPerValue(server.precision);
  const actBytes = bytesPerValue(serverActivationDtype(model, server));
  const b = mode.batch;
  const contextTokens = mode.promptTokens + mode.outputTokens;
  // A paged runtime allocates whole blocks; the attention still reads only the tokens there are.
  const allocatedTokens = runtimeKvTokens(server.runtime, contextTokens);
  const kvPerToken = kvBytesPerTokenPerLayer(model, serverKvDtype(model, server));
  const prefill = mode.phase === 'prefill';
  const stepTokens = prefill ? mode.promptTokens : 1;
  const seconds: number[] = [];
  const stateBytes: number[] = [];
  const kvBytes: number[] = [];
  for (let l = 1; l <= L; l++) {
    const weights = layerParams(model, l) * beta;
    const measured = profile?.layerSeconds[l - 1];
    if (measured !== undefined) seconds.push(measured);
    else {
      // Decode attends over the whole context (the last, slowest step); prefill over the prompt.
      const attendTo = prefill ? mode.promptTokens : contextTokens;
      const kvTraffic = b * (prefill ? mode.promptTokens : contextTokens) * kvPerToken;
      seconds.push(
        time(
          device,
          {
            flops: b * stepTokens * layerForwardFlopsPerToken(model, l, attendTo),
            memoryTrafficBytes: kvTraffic,
            weightBytes: weights,
            calls: 1,
          },
          weights,
        ),
      );
    }
    stateBytes.push(profile?.layerMemoryBytes ?? weights);
    kvBytes.push(b * allocatedTokens * kvPerToken);
  }
  const embeddingRoofline = (): number =>
    time(
      device,
      { flops: 0, memoryTrafficBytes: b * stepTokens * model.hiddenSize * actBytes, weightBytes: 0, calls: 1 },
      0,
    );
  seconds[0] += profile ? (profile.embeddingSeconds ?? embeddingRoofline()) : embeddingRoofline();
  stateBytes[0] += profile?.embeddingMemoryBytes ?? embeddingParams(model) * beta;
  // Only the last position's logits are needed to pick the next token.
  const headMatrixBytes = model.vocabSize * model.hiddenSize * beta;
  const headRoofline = (): number =>
    time(
      device,
      { flops: b * headForwardFlopsPerToken(model), memoryTrafficBytes: 0, weightBytes: headMatrixBytes, calls: 1 },
      headMatrixBytes,
    );
  // The stage holding the head samples: the runtime's per-step time (scheduler, sampling) is paid
  // there, on roofline servers (a measured profile already contains its runtime's).
  seconds[L - 1] += profile
    ? (profile.headSeconds ?? headRoofline())
    : headRoofline() + runtimeStepSeconds(server.runtime);
  const tiedCopyBytes = profile?.headMemoryBytes !== undefined ? 0 : tiedHeadCopyParams(model) * beta;
  stateBytes[L - 1] += profile?.headMemoryBytes ?? headParams(model) * beta + tiedCopyBytes;
  return {
    seconds,
    stateBytes,
    kvBytes,
    activationBytes: new Array<number>(L).fill(0),
    singleStageCreditBytes: tiedCopyBytes,
  };
}

/** Bytes server j sends across a boundary in inference: the override, its profile's measured size, or its own format. */
function inferenceHopBytes(problem: PipelineProblem, mode: InferenceMode, server: PipelineServer): number {
  if (mode.activationBytesPerHop !== undefined) return mode.activationBytesPerHop;
  if (server.profile?.activationBytesPerHop !== undefined) return server.profile.activationBytesPerHop;
  const stepTokens = mode.phase === 'prefill' ? mode.promptTokens : 1;
  return mode.batch * stepTokens * activationBytesPerToken(problem.model, serverActivationDtype(problem.model, server));
}

function buildTables(problem: PipelineProblem): PipelineTables {
  const { model, mode, servers } = problem;
  const n = servers.length;
  const costs = servers.map((s) =>
    mode.kind === 'training' ? trainingCosts(model, mode, s) : inferenceCosts(model, mode, s),
  );
  const training = mode.kind === 'training';
  const hopBytes = servers.map((s) =>
    training
      ? mode.microBatchSize * mode.sequenceLength * activationBytesPerToken(model)
      : inferenceHopBytes(problem, mode, s),
  );
  const returnBytes = training ? 0 : mode.batch * TOKEN_ID_BYTES;
  const oneWay = (i: number, j: number, bytes: number): number =>
    problem.bitsPerSecond[i][j] > 0
      ? transferSeconds(bytes, problem.bitsPerSecond[i][j], problem.latencySeconds[i][j])
      : Infinity;
  const comm = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      // Training sends activations forward and their gradients back across every boundary.
      comm[i * n + j] = training ? oneWay(i, j, hopBytes[i]) + oneWay(j, i, hopBytes[j]) : oneWay(i, j, hopBytes[i]);
    }
  const ret = new Float64Array(n);
  const returns = !training && mode.returnToSource && problem.source !== null;
  if (returns)
    for (let j = 0; j < n; j++) ret[j] = j === problem.source ? 0 : oneWay(j, problem.source as number, returnBytes);
  return {
    layers: model.layers,
    servers: n,
    objective: training ? 'training' : mode.kind === 'inference-latency' ? 'latency' : 'throughput',
    microBatches: training ? mode.microBatches : 1,
    iterations: training ? mode.iterations : 1,
    inflightRule: training ? (mode.schedule === 'gpipe' ? 'all' : 'position') : 'none',
    timePrefix: costs.map((c) => prefix(c.seconds)),
    statePrefix: costs.map((c) => prefix(c.stateBytes)),
    kvPrefix: costs.map((c) => prefix(c.kvBytes)),
    activationPrefix: costs.map((c) => prefix(c.activationBytes)),
    singleStageCreditBytes: costs.map((c) => c.singleStageCreditBytes),
    capacityBytes: servers.map((s) => s.memoryBytes),
    comm,
    ret,
    hopBytes,
    returnBytes,
    timeSource: servers.map((s) => (s.profile && !training ? 'profile' : 'roofline')),
    precision: servers.map((s) => (training ? model.dtype : s.precision)),
    profileId: servers.map((s) => (s.profile && !training ? s.profile.id : null)),
  };
}

/**
 * Micro-batches a stage keeps activations for. GPipe runs all B forwards before any backward;
 * 1F1B lets stage i of S hold S − i + 1 (never more than B). `stagesFromEnd` = S − i + 1.
 */
export function inflightMicroBatches(t: PipelineTables, stagesFromEnd: number): number {
  switch (t.inflightRule) {
    case 'none':
      return 0;
    case 'all':
      return t.microBatches;
    case 'position':
      return Math.min(stagesFromEnd, t.microBatches);
  }
}

/** Time of layers first..last on server j. */
export function stageSeconds(t: PipelineTables, j: number, first: number, last: number): number {
  const p = t.timePrefix[j];
  return p[last] - p[first - 1];
}

export interface StageMemory {
  readonly stateBytes: number;
  readonly kvBytes: number;
  readonly activationBytes: number;
  readonly inflightMicroBatches: number;
  readonly totalBytes: number;
}

export function stageMemory(
  t: PipelineTables,
  j: number,
  first: number,
  last: number,
  stagesFromEnd: number,
): StageMemory {
  const credit = first === 1 && last === t.layers ? t.singleStageCreditBytes[j] : 0;
  const stateBytes = t.statePrefix[j][last] - t.statePrefix[j][first - 1] - credit;
  const kvBytes = t.kvPrefix[j][last] - t.kvPrefix[j][first - 1];
  const inflight = inflightMicroBatches(t, stagesFromEnd);
  const activationBytes = inflight * (t.activationPrefix[j][last] - t.activationPrefix[j][first - 1]);
  return {
    stateBytes,
    kvBytes,
    activationBytes,
    inflightMicroBatches: inflight,
    totalBytes: stateBytes + kvBytes + activationBytes,
  };
}

/** Total memory only (the hot path of the DPs). */
export function stageMemoryBytes(
  t: PipelineTables,
  j: number,
  first: number,
  last: number,
  stagesFromEnd: number,
): number {
  const credit = first === 1 && last === t.layers ? t.singleStageCreditBytes[j] : 0;
  return (
    t.statePrefix[j][last] -
    t.statePrefix[j][first - 1] -
    credit +
    t.kvPrefix[j][last] -
    t.kvPrefix[j][first - 1] +
    inflightMicroBatches(t, stagesFromEnd) * (t.activationPrefix[j][last] - t.activationPrefix[j][first - 1])
  );
}

export function commSeconds(t: PipelineTables, from: number, to: number): number {
  return t.comm[from * t.servers + to];
}

/**
 * The objective from per-stage compute, per-boundary communication and the return transfer:
 * training iterations·(Σ (t_s + comm_s) + (B − 1)·max_s max(t_s, comm_s)); latency
 * Σ t_s + Σ comm_s + return; throughput max(t_s, comm_s, return).
 */
export function objectiveFrom(
  t: PipelineTables,
  stageTimes: readonly number[],
  comms: readonly number[],
  returnSeconds: number,
): number {
  let sum = 0;
  let max = 0;
  for (const x of stageTimes) {
    sum += x;
    if (x > max) max = x;
  }
  for (const x of comms) {
    sum += x;
    if (x > max) max = x;
  }
  switch (t.objective) {
    case 'training':
      return t.iterations * (sum + (t.microBatches - 1) * max);
    case 'latency':
      return sum + returnSeconds;
    case 'throughput':
      return Math.max(max, returnSeconds);
  }
}

/** A stage as indices: server j holds layers first..last. */
export interface StagePlan {
  readonly server: number;
  readonly first: number;
  readonly last: number;
}

/** Objective of a plan (assumed well-formed: contiguous, distinct servers). */
export function planObjective(t: PipelineTables, plan: readonly StagePlan[]): number {
  const times = plan.map((s) => stageSeconds(t, s.server, s.first, s.last));
  const comms: number[] = [];
  for (let i = 0; i + 1 < plan.length; i++) comms.push(commSeconds(t, plan[i].server, plan[i + 1].server));
  return objectiveFrom(t, times, comms, t.ret[plan[plan.length - 1].server]);
}

/** Whether every stage of a plan fits its server's memory. */
export function planFits(t: PipelineTables, plan: readonly StagePlan[]): boolean {
  return plan.every((s, i) =>
    withinLimit(stageMemoryBytes(t, s.server, s.first, s.last, plan.length - i), t.capacityBytes[s.server]),
  );
}

/**
 * Perfect-balance lower bounds: every layer on the server fastest for it and no communication
 * (Σ part); the bottleneck at least the total of those times spread over the most stages allowed,
 * and at least what the pool's aggregate per-layer speed allows.
 */
export function lowerBound(problem: PipelineProblem): {
  sumSeconds: number;
  bottleneckSeconds: number;
  objective: number;
} {
  const t = tablesOf(problem);
  const L = t.layers;
  let sumSeconds = 0;
  let slowestLayer = 0;
  for (let l = 1; l <= L; l++) {
    let best = Infinity;
    for (let j = 0; j < t.servers; j++) best = Math.min(best, stageSeconds(t, j, l, l));
    sumSeconds += best;
    slowestLayer = Math.max(slowestLayer, best);
  }
  const stages = problem.stages ?? problem.maxStages;
  // Server j runs at most T / μ_j layers within T (μ_j its fastest layer); the best `stages` servers together must cover L.
  const rates = Array.from({ length: t.servers }, (_, j) => {
    let mu = Infinity;
    for (let l = 1; l <= L; l++) mu = Math.min(mu, stageSeconds(t, j, l, l));
    return mu > 0 ? 1 / mu : Infinity;
  }).sort((a, b) => b - a);
  const rateSum = rates.slice(0, stages).reduce((a, b) => a + b, 0);
  const bottleneckSeconds = Math.max(
    slowestLayer,
    sumSeconds / stages,
    Number.isFinite(rateSum) && rateSum > 0 ? L / rateSum : 0,
  );
  const objective =
    t.objective === 'training'
      ? t.iterations * (sumSeconds + (t.microBatches - 1) * bottleneckSeconds)
      : t.objective === 'latency'
        ? sumSeconds
        : bottleneckSeconds;
  return { sumSeconds, bottleneckSeconds, objective };
}

/**
 * A decision as a plan, for the search side (exact method, MILP cut-offs, peers): null when it is
 * not a well-formed, memory-feasible, linked plan of this problem. Valued with the cost functions
 * only; evaluate keeps its own, independent structural check.
 */
export function planOfDecision(
  problem: PipelineProblem,
  decision: {
    readonly stages: readonly { readonly server: string; readonly firstLayer: number; readonly lastLayer: number }[];
  },
): StagePlan[] | null {
  const t = tablesOf(problem);
  const index = new Map<string, number>(problem.servers.map((s, j) => [s.name, j]));
  const S = decision.stages.length;
  if (S === 0 || S > problem.maxStages || (problem.stages !== null && S !== problem.stages)) return null;
  const used = new Set<number>();
  const plan: StagePlan[] = [];
  let next = 1;
  for (const s of decision.stages) {
    const j = index.get(s.server);
    if (j === undefined || used.has(j) || s.firstLayer !== next || s.lastLayer < s.firstLayer || s.lastLayer > t.layers)
      return null;
    used.add(j);
    plan.push({ server: j, first: s.firstLayer, last: s.lastLayer });
    next = s.lastLayer + 1;
  }
  if (next !== t.layers + 1) return null;
  if (problem.source !== null && plan[0].server !== problem.source) return null;
  const rank = (j: number): number => (j === problem.source ? -1 : j);
  for (let i = 0; i + 1 < S; i++) {
    if (!Number.isFinite(commSeconds(t, plan[i].server, plan[i + 1].server))) return null;
    if (problem.serverOrder === 'listed' && rank(plan[i].server) >= rank(plan[i + 1].server)) return null;
  }
  if (!Number.isFinite(t.ret[plan[S - 1].server]) || !planFits(t, plan)) return null;
  return plan;
}
