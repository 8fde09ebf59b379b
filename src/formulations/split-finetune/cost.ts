/**
 * The split-finetune cost model, built on src/cost: for one client and one option (cut c, frozen
 * prefix F, subchannels n) the time of each aggregation period, the device energy per round, the
 * client's memory and the server memory the client adds. Everything the MILP, the exact method,
 * the peers and evaluate know about time, energy and memory comes from here.
 *
 * A round is one local iteration of one mini-batch per client (SFL-V1, clients in parallel):
 *   client forward (layers 1..c) → uplink of the smashed data → server forward/backward of layers
 *   c+1..L and the head (the server computes the loss) → downlink of the activation gradient →
 *   client backward of its trainable layers F+1..c.
 * Every `aggregationIntervalRounds` rounds (counted over the whole run) and after the last round,
 * the adapters are averaged: the clients upload and download their client-side adapters, and no
 * client starts the next round before the average exists — a barrier. The run is therefore a
 * sequence of aggregation periods and lasts Σ_periods max_k (client k's time in the period).
 * A fully frozen client (F ≥ c) runs its forward and uploads its smashed data in the first epoch
 * only (the server caches it); in later epochs only the server trains its part. It has no
 * backward, no gradient downlink and no client-side adapters, but its server-side adapters are
 * averaged with the others, so it waits at every barrier too.
 */
import type { DeviceSpec, Work } from '../../cost/device.ts';
import { rooflineTime } from '../../cost/device.ts';
import {
  activationBytesPerToken,
  adapterDtypeOf,
  embeddingParams,
  headForwardFlopsPerToken,
  headParams,
  layerForwardFlopsPerToken,
  layerWeightBytes,
} from '../../cost/model.ts';
import {
  bytesPerTrainableParam,
  loraActiveParamsOfLayer,
  loraParamsOfLayer,
  storesActivations,
  trainingActivationBytesPerSample,
  trainingFlopsMultiplier,
} from '../../cost/training.ts';
import { bytesPerValue } from '../../cost/units.ts';
import type { ClientDecision, SplitFinetuneProblem } from './schema.ts';

/** Per-layer roofline times of the three kinds of layer work on one device, as prefix sums. */
interface LayerTimes {
  /** fwdPlain[l] = Σ_{i ≤ l} forward time of layer i without adapters (frozen, forward-only). */
  readonly fwdPlain: Float64Array;
  /** Forward time of layer i with its LoRA adapters, storing activations for the backward. */
  readonly fwdLora: Float64Array;
  /** Backward time of a LoRA layer (activation gradients + adapter gradients). */
  readonly bwd: Float64Array;
  readonly embeddingSeconds: number;
  readonly headForwardSeconds: number;
  readonly headBackwardSeconds: number;
}

/**
 * Aggregation periods of the same shape, in run order: `count` periods, each with
 * `firstEpochRounds` rounds of epoch 1 and `laterRounds` rounds of epochs 2..E. At most four
 * shapes exist (whole periods in epoch 1, one period straddling the end of epoch 1, whole later
 * periods, a shorter last period), so the makespan is a sum of at most four maxima.
 */
export interface PeriodType {
  readonly count: number;
  readonly firstEpochRounds: number;
  readonly laterRounds: number;
}

/** The period shapes of R rounds per epoch, E epochs, aggregation every I rounds and at the end. */
export function periodTypes(roundsPerEpoch: number, epochs: number, interval: number): PeriodType[] {
  const R = roundsPerEpoch;
  const total = R * epochs;
  const out: PeriodType[] = [];
  const add = (count: number, firstEpochRounds: number, laterRounds: number) => {
    if (count <= 0) return;
    const same = out.find((t) => t.firstEpochRounds === firstEpochRounds && t.laterRounds === laterRounds);
    if (same) out[out.indexOf(same)] = { ...same, count: same.count + count };
    else out.push({ count, firstEpochRounds, laterRounds });
  };
  const wholeFirst = Math.floor(R / interval);
  add(wholeFirst, interval, 0);
  let done = wholeFirst * interval;
  if (done < total) {
    const end = Math.min(done + interval, total);
    const first = R - done;
    add(1, first, end - done - first);
    done = end;
  }
  const wholeLater = Math.floor((total - done) / interval);
  add(wholeLater, 0, interval);
  done += wholeLater * interval;
  if (done < total) add(1, 0, total - done);
  return out;
}

/** Everything about one (client, c, F) that does not depend on the subchannel count. */
export interface OptionPhysics {
  readonly cut: number;
  readonly frozenLayers: number;
  /** F ≥ c: the client side is entirely frozen (forward only, smashed data sent in epoch 1 only). */
  readonly fullyFrozen: boolean;
  readonly clientForwardSeconds: number;
  readonly clientBackwardSeconds: number;
  /** The server's forward + backward for this client on its 1/K share of the server. */
  readonly serverSeconds: number;
  /** Smashed data of one round (batch × sequence × hidden × bytes per value). */
  readonly smashedBytes: number;
  /** Index into `problem.compressionLevels` of the smashed data's compression. */
  readonly compression: number;
  /**
   * Bytes the uplink carries per round: smashedBytes × the level's bytes factor (seed §V-A3). The
   * buffers in memory hold the decompressed tensor, so memory counts smashedBytes.
   */
  readonly uplinkBytes: number;
  /** Activation gradient sent back per round (0 for a fully frozen client). */
  readonly gradientBytes: number;
  readonly gradientDownlinkSeconds: number;
  /** Client-side adapter weights exchanged at each aggregation. */
  readonly adapterBytes: number;
  readonly adapterDownlinkSeconds: number;
  readonly clientMemoryBytes: number;
  /** Server memory for this client alone: its adapters' training state, activations, logits, buffers. */
  readonly serverClientMemoryBytes: number;
}

/** What the subchannel count adds: the client's round and period times and its energy. */
export interface RoundFigures {
  uplinkBitsPerSecond: number;
  /** The client's downlink rate: its link's, or in a cell n / N of the downlink carrier's. */
  downlinkBitsPerSecond: number;
  /** Activation-gradient and adapter downlinks (they depend on n in a cell). */
  gradientDownlinkSeconds: number;
  adapterDownlinkSeconds: number;
  /** Smashed-data uplink of one round (epoch 1 only for a fully frozen client). */
  uplinkSeconds: number;
  /** One round in epoch 1. */
  firstEpochRoundSeconds: number;
  /** One round in epochs 2..E (a fully frozen client: the server's part only). */
  laterRoundSeconds: number;
  /** Adapter upload + download at one aggregation (0 for a fully frozen client). */
  aggregationSeconds: number;
  /** This client's busy time in each period of `periodTypes` (same order). */
  periodSeconds: number[];
  /** The client's own busy time over the run (no barrier waits), over R·E: its average round. */
  roundSeconds: number;
  /** Device energy over the run / R·E: compute at active power, airtime at transmit, reception at receive power. */
  energyJoulesPerRound: number;
  computeSecondsPerRound: number;
  airtimeSecondsPerRound: number;
  receiveSecondsPerRound: number;
}

export interface OptionCost extends OptionPhysics, Readonly<RoundFigures> {
  readonly subchannels: number;
}

/** Precomputed tables for one problem; build once with `splitContext`. */
export interface SplitContext {
  readonly problem: SplitFinetuneProblem;
  readonly clientTimes: readonly LayerTimes[];
  readonly serverTimes: LayerTimes;
  /** loraPrefix[l] = adapter parameters of layers 1..l (one adapter per expert in MoE layers). */
  readonly loraPrefix: Float64Array;
  readonly activationBytesPerLayer: number;
  readonly hiddenBytesPerSample: number;
  /** layerWeightPrefix[l] = weight bytes of layers 1..l (server loads layers m+1..L once). */
  readonly layerWeightPrefix: Float64Array;
  readonly embeddingWeightBytes: number;
  readonly serverHeadWeightBytes: number;
  readonly logitsBytesPerSample: number;
  readonly periods: readonly PeriodType[];
  /** Number of aggregations over the run (one per period). */
  readonly aggregations: number;
}

/** The three kinds of work decoder layer `layer` does in one round, for the whole mini-batch. */
export function layerWorks(problem: SplitFinetuneProblem, layer: number): { plain: Work; lora: Work; bwd: Work } {
  const { model, lora, batchSize: b, sequenceLength: s } = problem;
  const tokens = b * s;
  const weight = layerWeightBytes(model, layer);
  // Every expert's adapters are resident; a token runs through its top-k (and shared) experts' only.
  const adapterBytes = loraParamsOfLayer(model, lora, layer) * bytesPerValue(adapterDtypeOf(model));
  const baseFlops = tokens * layerForwardFlopsPerToken(model, layer, s);
  const adapterFlops = tokens * 2 * loraActiveParamsOfLayer(model, lora, layer);
  const hiddenTraffic = 2 * tokens * activationBytesPerToken(model);
  const stored = b * trainingActivationBytesPerSample(model, s, problem.recomputation);
  // A LoRA layer back-propagates activation gradients through the frozen base and computes the
  // adapter gradients: (multiplier − 1) × its forward FLOPs, reading back what the forward stored.
  const backwardFactor = trainingFlopsMultiplier('lora') - 1;
  const recompute = problem.recomputation === 'full' ? 1 : 0;
  return {
    plain: { flops: baseFlops, memoryTrafficBytes: hiddenTraffic, weightBytes: weight, calls: 1 },
    lora: {
      flops: baseFlops + adapterFlops,
      memoryTrafficBytes: hiddenTraffic + stored,
      weightBytes: weight + adapterBytes,
      calls: 1,
    },
    // Full recomputation replays the layer's forward before its backward (as pipeline-placement counts it).
    bwd: {
      flops: (backwardFactor + recompute) * (baseFlops + adapterFlops),
      memoryTrafficBytes: (1 + recompute) * hiddenTraffic + stored,
      weightBytes: (1 + recompute) * (weight + adapterBytes),
      calls: 1 + recompute,
    },
  };
}

/**
 * Output head weights the server holds: the norm, plus the vocabulary matrix even when tied to the
 * embedding (the embedding stays on the client).
 */
export function serverHeadParams(problem: SplitFinetuneProblem): number {
  const m = problem.model;
  return headParams(m) + (m.tiedEmbeddings ? m.vocabSize * m.hiddenSize : 0);
}

function layerTimes(problem: SplitFinetuneProblem, device: DeviceSpec): LayerTimes {
  const L = problem.model.layers;
  const fwdPlain = new Float64Array(L + 1);
  const fwdLora = new Float64Array(L + 1);
  const bwd = new Float64Array(L + 1);
  for (let l = 1; l <= L; l++) {
    const w = layerWorks(problem, l);
    fwdPlain[l] = fwdPlain[l - 1] + rooflineTime(device, w.plain).seconds;
    fwdLora[l] = fwdLora[l - 1] + rooflineTime(device, w.lora).seconds;
    bwd[l] = bwd[l - 1] + rooflineTime(device, w.bwd).seconds;
  }
  const { model, batchSize: b, sequenceLength: s } = problem;
  const tokens = b * s;
  const headBytes = serverHeadParams(problem) * bytesPerValue(model.dtype);
  const logits = logitsBytesPerSample(problem) * b;
  // The head is frozen but sits above trainable layers: it back-propagates (role backprop-frozen).
  const headBackwardFactor = trainingFlopsMultiplier('backprop-frozen') - 1;
  const headFwd: Work = {
    flops: tokens * headForwardFlopsPerToken(model),
    memoryTrafficBytes: logits,
    weightBytes: headBytes,
    calls: 1,
  };
  const headBwd: Work = { ...headFwd, flops: headBackwardFactor * headFwd.flops };
  const embed: Work = {
    flops: 0,
    memoryTrafficBytes: tokens * activationBytesPerToken(model),
    weightBytes: 0,
    calls: 1,
  };
  return {
    fwdPlain,
    fwdLora,
    bwd,
    embeddingSeconds: rooflineTime(device, embed).seconds,
    headForwardSeconds: rooflineTime(device, headFwd).seconds,
    headBackwardSeconds: rooflineTime(device, headBwd).seconds,
  };
}

/** Logits kept for the loss's backward, fp32 as in Korthikanti et al. (4·s·V bytes per sample). */
export function logitsBytesPerSample(problem: SplitFinetuneProblem): number {
  return 4 * problem.sequenceLength * problem.model.vocabSize;
}

/**
 * The server's share for one client: SFL-V1 keeps one server-side model copy per client and runs
 * them concurrently, so each client gets a fixed 1/K of the server's FLOPs and memory bandwidth.
 * This keeps the clients' round times independent given their options.
 */
export function serverShareDevice(problem: SplitFinetuneProblem): DeviceSpec {
  const K = problem.clients.length;
  const s = problem.server;
  return {
    ...s,
    peakFlopsPerSecond: s.peakFlopsPerSecond / K,
    memoryBandwidthBytesPerSecond: s.memoryBandwidthBytesPerSecond / K,
  };
}

const contexts = new WeakMap<SplitFinetuneProblem, SplitContext>();

export function splitContext(problem: SplitFinetuneProblem): SplitContext {
  const cached = contexts.get(problem);
  if (cached) return cached;
  const { model } = problem;
  const L = model.layers;
  const layerWeightPrefix = new Float64Array(L + 1);
  const loraPrefix = new Float64Array(L + 1);
  for (let l = 1; l <= L; l++) {
    layerWeightPrefix[l] = layerWeightPrefix[l - 1] + layerWeightBytes(model, l);
    loraPrefix[l] = loraPrefix[l - 1] + loraParamsOfLayer(model, problem.lora, l);
  }
  // Storing activations is what the LoRA role implies (storesActivations('lora') is true).
  const activationBytesPerLayer = storesActivations('lora')
    ? trainingActivationBytesPerSample(model, problem.sequenceLength, problem.recomputation)
    : 0;
  const periods = periodTypes(problem.roundsPerEpoch, problem.epochs, problem.aggregationIntervalRounds);
  const ctx: SplitContext = {
    problem,
    clientTimes: problem.clients.map((c) => layerTimes(problem, c.device)),
    serverTimes: layerTimes(problem, serverShareDevice(problem)),
    loraPrefix,
    activationBytesPerLayer,
    hiddenBytesPerSample: problem.sequenceLength * activationBytesPerToken(model),
    layerWeightPrefix,
    embeddingWeightBytes: embeddingParams(model) * bytesPerValue(model.dtype),
    serverHeadWeightBytes: serverHeadParams(problem) * bytesPerValue(model.dtype),
    logitsBytesPerSample: logitsBytesPerSample(problem),
    periods,
    aggregations: periods.reduce((s, t) => s + t.count, 0),
  };
  contexts.set(problem, ctx);
  return ctx;
}

/** Frozen base weights the server loads once when its lowest layer is m+1: layers m+1..L and the head. */
export function sharedServerWeightBytes(ctx: SplitContext, lowestClientCut: number): number {
  const L = ctx.problem.model.layers;
  return ctx.layerWeightPrefix[L] - ctx.layerWeightPrefix[lowestClientCut] + ctx.serverHeadWeightBytes;
}

function transfer(bytes: number, bitsPerSecond: number, latencySeconds: number): number {
  return bytes > 0 ? (bytes * 8) / bitsPerSecond + latencySeconds : 0;
}

export function optionPhysics(
  ctx: SplitContext,
  clientIndex: number,
  cut: number,
  frozenLayers: number,
  compression = 0,
): OptionPhysics {
  const p = ctx.problem;
  const L = p.model.layers;
  const b = p.batchSize;
  const client = p.clients[clientIndex];
  const ct = ctx.clientTimes[clientIndex];
  const st = ctx.serverTimes;
  const c = cut;
  const F = frozenLayers;
  const fullyFrozen = F >= c;
  const clientFrozenTop = Math.min(F, c);
  const clientForwardSeconds =
    ct.embeddingSeconds + ct.fwdPlain[clientFrozenTop] + (ct.fwdLora[c] - ct.fwdLora[clientFrozenTop]);
  const clientBackwardSeconds = ct.bwd[c] - ct.bwd[clientFrozenTop];
  const serverLow = Math.max(c, F);
  const serverSeconds =
    st.fwdPlain[serverLow] -
    st.fwdPlain[c] +
    (st.fwdLora[L] - st.fwdLora[serverLow]) +
    (st.bwd[L] - st.bwd[serverLow]) +
    st.headForwardSeconds +
    st.headBackwardSeconds;
  const smashedBytes = b * ctx.hiddenBytesPerSample;
  const gradientBytes = fullyFrozen ? 0 : smashedBytes;
  const clientTrainable = c - clientFrozenTop;
  const clientAdapterParams = ctx.loraPrefix[c] - ctx.loraPrefix[clientFrozenTop];
  const adapterBytes = clientAdapterParams * p.accounting.weightBytes;
  const perTrainable = bytesPerTrainableParam(p.accounting);
  const clientMemoryBytes =
    ctx.embeddingWeightBytes +
    ctx.layerWeightPrefix[c] +
    clientAdapterParams * perTrainable +
    b * clientTrainable * ctx.activationBytesPerLayer +
    smashedBytes +
    gradientBytes;
  const serverTrainable = L - serverLow;
  const serverAdapterParams = ctx.loraPrefix[L] - ctx.loraPrefix[serverLow];
  const serverClientMemoryBytes =
    serverAdapterParams * perTrainable +
    b * serverTrainable * ctx.activationBytesPerLayer +
    b * ctx.logitsBytesPerSample +
    smashedBytes;
  return {
    cut: c,
    frozenLayers: F,
    fullyFrozen,
    clientForwardSeconds,
    clientBackwardSeconds,
    serverSeconds,
    smashedBytes,
    compression,
    uplinkBytes: smashedBytes * p.compressionLevels[compression].bytesFactor,
    gradientBytes,
    gradientDownlinkSeconds: transfer(gradientBytes, client.link.downlinkBitsPerSecond, client.link.latencySeconds),
    adapterBytes,
    adapterDownlinkSeconds: transfer(adapterBytes, client.link.downlinkBitsPerSecond, client.link.latencySeconds),
    clientMemoryBytes,
    serverClientMemoryBytes,
  };
}

/**
 * Uplink rate of `subchannels` subchannels for client k: n × (fraction of its link rate per
 * subchannel). With the default fraction 1/N the link's rate is the whole band's, divided in N.
 */
export function uplinkRate(problem: SplitFinetuneProblem, clientIndex: number, subchannels: number): number {
  return subchannels * problem.subchannelRateFraction * problem.clients[clientIndex].link.uplinkBitsPerSecond;
}

/**
 * Downlink rate of client k holding n subchannels: with a cell, n / N of the downlink carrier at
 * its downlink spectral efficiency (one share for both directions); otherwise its link's rate.
 */
export function downlinkRate(problem: SplitFinetuneProblem, clientIndex: number, subchannels: number): number {
  const link = problem.clients[clientIndex].link;
  return problem.cell !== null
    ? (subchannels / problem.subchannels) * link.downlinkBitsPerSecond
    : link.downlinkBitsPerSecond;
}

export function emptyRoundFigures(periods = 0): RoundFigures {
  return {
    uplinkBitsPerSecond: 0,
    downlinkBitsPerSecond: 0,
    gradientDownlinkSeconds: 0,
    adapterDownlinkSeconds: 0,
    uplinkSeconds: 0,
    firstEpochRoundSeconds: 0,
    laterRoundSeconds: 0,
    aggregationSeconds: 0,
    periodSeconds: new Array<number>(periods).fill(0),
    roundSeconds: 0,
    energyJoulesPerRound: 0,
    computeSecondsPerRound: 0,
    airtimeSecondsPerRound: 0,
    receiveSecondsPerRound: 0,
  };
}

/**
 * The figures that depend on the subchannel count, written into `out` (the option enumeration
 * calls this for every (c, F, n), so it stays allocation-free).
 */
export function roundFigures(
  ctx: SplitContext,
  clientIndex: number,
  physics: OptionPhysics,
  subchannels: number,
  out: RoundFigures,
): RoundFigures {
  const p = ctx.problem;
  const client = p.clients[clientIndex];
  const rate = uplinkRate(p, clientIndex, subchannels);
  const latency = client.link.latencySeconds;
  const down = downlinkRate(p, clientIndex, subchannels);
  const cell = p.cell !== null;
  const gradientDown = cell ? transfer(physics.gradientBytes, down, latency) : physics.gradientDownlinkSeconds;
  const adapterDown = cell ? transfer(physics.adapterBytes, down, latency) : physics.adapterDownlinkSeconds;
  const uplinkSeconds = transfer(physics.uplinkBytes, rate, latency);
  const R = p.roundsPerEpoch;
  const rounds = R * p.epochs;
  const A = ctx.aggregations;
  const smashedAirtime = (physics.uplinkBytes * 8) / rate;
  if (physics.fullyFrozen) {
    out.firstEpochRoundSeconds = physics.clientForwardSeconds + uplinkSeconds + physics.serverSeconds;
    out.laterRoundSeconds = physics.serverSeconds;
    out.aggregationSeconds = 0;
    out.computeSecondsPerRound = (R * physics.clientForwardSeconds) / rounds;
    out.airtimeSecondsPerRound = (R * smashedAirtime) / rounds;
    out.receiveSecondsPerRound = 0;
  } else {
    const round =
      physics.clientForwardSeconds +
      uplinkSeconds +
      physics.serverSeconds +
      gradientDown +
      physics.clientBackwardSeconds;
    out.firstEpochRoundSeconds = round;
    out.laterRoundSeconds = round;
    out.aggregationSeconds = transfer(physics.adapterBytes, rate, latency) + adapterDown;
    const adapterAirtime = (physics.adapterBytes * 8) / rate;
    out.computeSecondsPerRound = physics.clientForwardSeconds + physics.clientBackwardSeconds;
    out.airtimeSecondsPerRound = smashedAirtime + (A * adapterAirtime) / rounds;
    out.receiveSecondsPerRound = (physics.gradientBytes * 8) / down + (A * physics.adapterBytes * 8) / down / rounds;
  }
  let busy = 0;
  for (let t = 0; t < ctx.periods.length; t++) {
    const type = ctx.periods[t];
    const v =
      type.firstEpochRounds * out.firstEpochRoundSeconds +
      type.laterRounds * out.laterRoundSeconds +
      out.aggregationSeconds;
    out.periodSeconds[t] = v;
    busy += type.count * v;
  }
  out.roundSeconds = busy / rounds;
  out.energyJoulesPerRound =
    client.device.activePowerWatts * out.computeSecondsPerRound +
    client.device.transmitPowerWatts * out.airtimeSecondsPerRound +
    client.receivePowerWatts * out.receiveSecondsPerRound;
  out.uplinkBitsPerSecond = rate;
  out.uplinkSeconds = uplinkSeconds;
  out.downlinkBitsPerSecond = down;
  out.gradientDownlinkSeconds = physics.fullyFrozen ? 0 : gradientDown;
  out.adapterDownlinkSeconds = physics.fullyFrozen ? 0 : adapterDown;
  return out;
}

export function optionCost(
  ctx: SplitContext,
  clientIndex: number,
  physics: OptionPhysics,
  subchannels: number,
): OptionCost {
  const f = roundFigures(ctx, clientIndex, physics, subchannels, emptyRoundFigures(ctx.periods.length));
  return { ...physics, ...f, subchannels };
}

/** Index of a decision's compression level (absent: "none"), or -1 for a name the problem does not define. */
export function compressionIndex(problem: SplitFinetuneProblem, name: string | undefined): number {
  return name === undefined ? 0 : problem.compressionLevels.findIndex((l) => l.name === name);
}

/** Costs of a client's decision; an unknown compression name is costed as "none" (the rules flag it). */
export function decisionCost(ctx: SplitContext, clientIndex: number, d: ClientDecision): OptionCost {
  const q = Math.max(0, compressionIndex(ctx.problem, d.compression));
  return optionCost(ctx, clientIndex, optionPhysics(ctx, clientIndex, d.cut, d.frozenLayers, q), d.subchannels);
}

/** Total rounds of the training run: R rounds per epoch × E epochs. */
export function totalRounds(problem: SplitFinetuneProblem): number {
  return problem.roundsPerEpoch * problem.epochs;
}

/**
 * The objective as α · (training time) + γ · Σ_k e_k, with the training time
 * Σ_periods max_k (client k's time in the period) (the barrier at each aggregation) and e_k the
 * client's device energy per round (its energy over the run / R·E). round-time: α = 1/(R·E) (the
 * average round, barrier waits included); total-time: α = 1; device-energy: γ = R·E (joules over
 * the run, summed over clients); weighted: α = perSecond, γ = R·E · perJoule.
 */
export function objectiveCoefficients(problem: SplitFinetuneProblem): {
  timeCoefficient: number;
  energyCoefficient: number;
} {
  const rounds = totalRounds(problem);
  switch (problem.objective) {
    case 'round-time':
      return { timeCoefficient: 1 / rounds, energyCoefficient: 0 };
    case 'total-time':
      return { timeCoefficient: 1, energyCoefficient: 0 };
    case 'device-energy':
      return { timeCoefficient: 0, energyCoefficient: rounds };
    case 'weighted':
      return { timeCoefficient: problem.weights.perSecond, energyCoefficient: rounds * problem.weights.perJoule };
  }
}

/** Objective weight of each period type's makespan: α × its count. */
export function periodWeights(ctx: SplitContext): number[] {
  const { timeCoefficient } = objectiveCoefficients(ctx.problem);
  return ctx.periods.map((t) => timeCoefficient * t.count);
}

/** Training time with the barriers: Σ over period types of count × the slowest client's time in it. */
export function trainingSeconds(ctx: SplitContext, costs: readonly Pick<RoundFigures, 'periodSeconds'>[]): number {
  let total = 0;
  ctx.periods.forEach((type, t) => {
    let worst = 0;
    for (const c of costs) worst = Math.max(worst, c.periodSeconds[t]);
    total += type.count * worst;
  });
  return total;
}

/** The objective of a whole decision by the cost functions (the peers and the incumbent cut-offs use this). */
export function decisionObjective(ctx: SplitContext, costs: readonly OptionCost[]): number {
  const { timeCoefficient, energyCoefficient } = objectiveCoefficients(ctx.problem);
  const energy = costs.reduce((s, c) => s + c.energyJoulesPerRound, 0);
  return (timeCoefficient > 0 ? timeCoefficient * trainingSeconds(ctx, costs) : 0) + energyCoefficient * energy;
}

/** Trainable (adapter) parameters of a client's model with frozen prefix F. */
export function trainableParams(ctx: SplitContext, frozenLayers: number): number {
  const L = ctx.problem.model.layers;
  return ctx.loraPrefix[L] - ctx.loraPrefix[Math.min(frozenLayers, L)];
}
