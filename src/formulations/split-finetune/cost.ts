/**
 * The split-finetune cost model, built on src/cost: for one client and one option (cut c, frozen
 * prefix F, subchannels n) the amortised round time, the device energy per round, the client's
 * memory and the server memory the client adds. Everything the MILP, the exact method, the
 * baselines and evaluate know about time, energy and memory comes from here.
 *
 * A round is one local iteration of one mini-batch per client (SFL-V1, clients in parallel):
 *   client forward (layers 1..c) → uplink of the smashed data → server forward/backward of layers
 *   c+1..L and the head (the server computes the loss) → downlink of the activation gradient →
 *   client backward of its trainable layers F+1..c;
 * plus, every `aggregationIntervalRounds` rounds, the upload and download of the client-side LoRA
 * adapters (amortised per round). A fully frozen client (F ≥ c) runs its forward and uploads its
 * smashed data in the first epoch only (the server caches it), so those two terms are amortised
 * over the E epochs, and it has no backward, no gradient downlink and no client-side adapters.
 */
import type { DeviceSpec, Work } from '../../cost/device.ts';
import { rooflineTime } from '../../cost/device.ts';
import {
  activationBytesPerToken,
  embeddingParams,
  headForwardFlopsPerToken,
  headParams,
  layerForwardFlopsPerToken,
  layerWeightBytes,
} from '../../cost/model.ts';
import {
  bytesPerTrainableParam,
  loraForwardFlopsPerToken,
  loraParamsPerLayer,
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

/** Everything about one (client, c, F) that does not depend on the subchannel count. */
export interface OptionPhysics {
  readonly cut: number;
  readonly frozenLayers: number;
  /** F ≥ c: the client side is entirely frozen (forward only, smashed data sent once). */
  readonly fullyFrozen: boolean;
  readonly clientForwardSeconds: number;
  readonly clientBackwardSeconds: number;
  /** The server's forward + backward for this client on its 1/K share of the server. */
  readonly serverSeconds: number;
  /** Smashed data of one round (batch × sequence × hidden × bytes per value). */
  readonly smashedBytes: number;
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

export interface OptionCost extends OptionPhysics {
  readonly subchannels: number;
  readonly uplinkBitsPerSecond: number;
  /** Smashed-data uplink of one round (paid once per client for a fully frozen client). */
  readonly uplinkSeconds: number;
  /** Adapter upload + download per aggregation, divided by the aggregation interval. */
  readonly aggregationSecondsPerRound: number;
  /** Amortised round time of this client (what the makespan is taken over). */
  readonly roundSeconds: number;
  /** Amortised device energy per round (compute at active power + radio airtime at transmit power). */
  readonly energyJoulesPerRound: number;
  readonly computeSecondsPerRound: number;
  readonly airtimeSecondsPerRound: number;
}

/** Precomputed tables for one problem; build once with `splitContext`. */
export interface SplitContext {
  readonly problem: SplitFinetuneProblem;
  readonly clientTimes: readonly LayerTimes[];
  readonly serverTimes: LayerTimes;
  readonly loraParamsPerLayer: number;
  readonly activationBytesPerLayer: number;
  readonly hiddenBytesPerSample: number;
  /** sharedWeightPrefix[l] = weight bytes of layers 1..l (server loads layers m+1..L once). */
  readonly layerWeightPrefix: Float64Array;
  readonly embeddingWeightBytes: number;
  readonly serverHeadWeightBytes: number;
  readonly logitsBytesPerSample: number;
}

/** The three kinds of work decoder layer `layer` does in one round, for the whole mini-batch. */
export function layerWorks(problem: SplitFinetuneProblem, layer: number): { plain: Work; lora: Work; bwd: Work } {
  const { model, lora, batchSize: b, sequenceLength: s } = problem;
  const tokens = b * s;
  const weight = layerWeightBytes(model, layer);
  const adapterBytes = loraParamsPerLayer(model, lora) * bytesPerValue(model.dtype);
  const baseFlops = tokens * layerForwardFlopsPerToken(model, layer, s);
  const adapterFlops = tokens * loraForwardFlopsPerToken(model, lora);
  const hiddenTraffic = 2 * tokens * activationBytesPerToken(model);
  const stored = b * trainingActivationBytesPerSample(model, s, problem.recomputation);
  // A LoRA layer back-propagates activation gradients through the frozen base and computes the
  // adapter gradients: (multiplier − 1) × its forward FLOPs, reading back what the forward stored.
  const backwardFactor = trainingFlopsMultiplier('lora') - 1;
  return {
    plain: { flops: baseFlops, memoryTrafficBytes: hiddenTraffic, weightBytes: weight, calls: 1 },
    lora: { flops: baseFlops + adapterFlops, memoryTrafficBytes: hiddenTraffic + stored, weightBytes: weight + adapterBytes, calls: 1 },
    bwd: { flops: backwardFactor * (baseFlops + adapterFlops), memoryTrafficBytes: hiddenTraffic + stored, weightBytes: weight + adapterBytes, calls: 1 },
  };
}

/** Output head weights the server holds: the norm, plus the vocabulary matrix even when tied to the embedding (the embedding stays on the client). */
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
  const headFwd: Work = { flops: tokens * headForwardFlopsPerToken(model), memoryTrafficBytes: logits, weightBytes: headBytes, calls: 1 };
  const headBwd: Work = { ...headFwd, flops: headBackwardFactor * headFwd.flops };
  const embed: Work = { flops: 0, memoryTrafficBytes: tokens * activationBytesPerToken(model), weightBytes: 0, calls: 1 };
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
  return { ...s, peakFlopsPerSecond: s.peakFlopsPerSecond / K, memoryBandwidthBytesPerSecond: s.memoryBandwidthBytesPerSecond / K };
}

const contexts = new WeakMap<SplitFinetuneProblem, SplitContext>();

export function splitContext(problem: SplitFinetuneProblem): SplitContext {
  const cached = contexts.get(problem);
  if (cached) return cached;
  const { model } = problem;
  const L = model.layers;
  const layerWeightPrefix = new Float64Array(L + 1);
  for (let l = 1; l <= L; l++) layerWeightPrefix[l] = layerWeightPrefix[l - 1] + layerWeightBytes(model, l);
  // Storing activations is what the LoRA role implies (storesActivations('lora') is true).
  const activationBytesPerLayer = storesActivations('lora') ? trainingActivationBytesPerSample(model, problem.sequenceLength, problem.recomputation) : 0;
  const ctx: SplitContext = {
    problem,
    clientTimes: problem.clients.map((c) => layerTimes(problem, c.device)),
    serverTimes: layerTimes(problem, serverShareDevice(problem)),
    loraParamsPerLayer: loraParamsPerLayer(model, problem.lora),
    activationBytesPerLayer,
    hiddenBytesPerSample: problem.sequenceLength * activationBytesPerToken(model),
    layerWeightPrefix,
    embeddingWeightBytes: embeddingParams(model) * bytesPerValue(model.dtype),
    serverHeadWeightBytes: serverHeadParams(problem) * bytesPerValue(model.dtype),
    logitsBytesPerSample: logitsBytesPerSample(problem),
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

export function optionPhysics(ctx: SplitContext, clientIndex: number, cut: number, frozenLayers: number): OptionPhysics {
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
  const clientForwardSeconds = ct.embeddingSeconds + ct.fwdPlain[clientFrozenTop] + (ct.fwdLora[c] - ct.fwdLora[clientFrozenTop]);
  const clientBackwardSeconds = ct.bwd[c] - ct.bwd[clientFrozenTop];
  const serverLow = Math.max(c, F);
  const serverSeconds =
    st.fwdPlain[serverLow] - st.fwdPlain[c] + (st.fwdLora[L] - st.fwdLora[serverLow]) + (st.bwd[L] - st.bwd[serverLow]) + st.headForwardSeconds + st.headBackwardSeconds;
  const smashedBytes = b * ctx.hiddenBytesPerSample;
  const gradientBytes = fullyFrozen ? 0 : smashedBytes;
  const clientTrainable = c - clientFrozenTop;
  const adapterWeightBytes = p.accounting.weightBytes;
  const adapterBytes = clientTrainable * ctx.loraParamsPerLayer * adapterWeightBytes;
  const perTrainable = bytesPerTrainableParam(p.accounting);
  const clientMemoryBytes =
    ctx.embeddingWeightBytes +
    ctx.layerWeightPrefix[c] +
    clientTrainable * ctx.loraParamsPerLayer * perTrainable +
    b * clientTrainable * ctx.activationBytesPerLayer +
    smashedBytes +
    gradientBytes;
  const serverTrainable = L - serverLow;
  const serverClientMemoryBytes =
    serverTrainable * ctx.loraParamsPerLayer * perTrainable + b * serverTrainable * ctx.activationBytesPerLayer + b * ctx.logitsBytesPerSample + smashedBytes;
  return {
    cut: c,
    frozenLayers: F,
    fullyFrozen,
    clientForwardSeconds,
    clientBackwardSeconds,
    serverSeconds,
    smashedBytes,
    gradientBytes,
    gradientDownlinkSeconds: transfer(gradientBytes, client.link.downlinkBitsPerSecond, client.link.latencySeconds),
    adapterBytes,
    adapterDownlinkSeconds: transfer(adapterBytes, client.link.downlinkBitsPerSecond, client.link.latencySeconds),
    clientMemoryBytes,
    serverClientMemoryBytes,
  };
}

/** Uplink rate of `subchannels` subchannels for client k: n × (fraction of its link rate per subchannel). */
export function uplinkRate(problem: SplitFinetuneProblem, clientIndex: number, subchannels: number): number {
  return subchannels * problem.subchannelRateFraction * problem.clients[clientIndex].link.uplinkBitsPerSecond;
}

/** Amortised round time and energy per round of client k for option physics `physics` at n subchannels. */
export interface RoundFigures {
  roundSeconds: number;
  energyJoulesPerRound: number;
  uplinkBitsPerSecond: number;
  uplinkSeconds: number;
  aggregationSecondsPerRound: number;
  computeSecondsPerRound: number;
  airtimeSecondsPerRound: number;
}

/**
 * The per-round figures without building an OptionCost (the option enumeration calls this for
 * every (c, F, n), so it stays allocation-light).
 */
export function roundFigures(ctx: SplitContext, clientIndex: number, physics: OptionPhysics, subchannels: number, out: RoundFigures): RoundFigures {
  const p = ctx.problem;
  const client = p.clients[clientIndex];
  const rate = uplinkRate(p, clientIndex, subchannels);
  const latency = client.link.latencySeconds;
  const uplinkSeconds = transfer(physics.smashedBytes, rate, latency);
  const I = p.aggregationIntervalRounds;
  const E = p.epochs;
  const adapterUpSeconds = transfer(physics.adapterBytes, rate, latency);
  const aggregationSecondsPerRound = (adapterUpSeconds + physics.adapterDownlinkSeconds) / I;
  const smashedAirtime = (physics.smashedBytes * 8) / rate;
  const adapterAirtime = (physics.adapterBytes * 8) / rate;
  if (physics.fullyFrozen) {
    out.roundSeconds = (physics.clientForwardSeconds + uplinkSeconds) / E + physics.serverSeconds;
    out.computeSecondsPerRound = physics.clientForwardSeconds / E;
    out.airtimeSecondsPerRound = smashedAirtime / E;
  } else {
    out.roundSeconds =
      physics.clientForwardSeconds + uplinkSeconds + physics.serverSeconds + physics.gradientDownlinkSeconds + physics.clientBackwardSeconds + aggregationSecondsPerRound;
    out.computeSecondsPerRound = physics.clientForwardSeconds + physics.clientBackwardSeconds;
    out.airtimeSecondsPerRound = smashedAirtime + adapterAirtime / I;
  }
  out.energyJoulesPerRound = client.device.activePowerWatts * out.computeSecondsPerRound + client.device.transmitPowerWatts * out.airtimeSecondsPerRound;
  out.uplinkBitsPerSecond = rate;
  out.uplinkSeconds = uplinkSeconds;
  out.aggregationSecondsPerRound = aggregationSecondsPerRound;
  return out;
}

export function emptyRoundFigures(): RoundFigures {
  return { roundSeconds: 0, energyJoulesPerRound: 0, uplinkBitsPerSecond: 0, uplinkSeconds: 0, aggregationSecondsPerRound: 0, computeSecondsPerRound: 0, airtimeSecondsPerRound: 0 };
}

export function optionCost(ctx: SplitContext, clientIndex: number, physics: OptionPhysics, subchannels: number): OptionCost {
  const f = roundFigures(ctx, clientIndex, physics, subchannels, emptyRoundFigures());
  return { ...physics, ...f, subchannels };
}

export function decisionCost(ctx: SplitContext, clientIndex: number, d: ClientDecision): OptionCost {
  return optionCost(ctx, clientIndex, optionPhysics(ctx, clientIndex, d.cut, d.frozenLayers), d.subchannels);
}

/** Total rounds of the training run: R rounds per epoch × E epochs. */
export function totalRounds(problem: SplitFinetuneProblem): number {
  return problem.roundsPerEpoch * problem.epochs;
}

/**
 * The objective as α · max_k T_k + γ · Σ_k e_k, with T_k the amortised round time and e_k the
 * amortised energy per round. round-time: α = 1; total-time: α = R·E (clients proceed at their own
 * pace between aggregations, so the run lasts R·E amortised rounds of the slowest client);
 * device-energy: γ = R·E (joules over the whole run, summed over clients); weighted: both, scaled by
 * the user's weights.
 */
export function objectiveCoefficients(problem: SplitFinetuneProblem): { timeCoefficient: number; energyCoefficient: number } {
  const rounds = totalRounds(problem);
  switch (problem.objective) {
    case 'round-time':
      return { timeCoefficient: 1, energyCoefficient: 0 };
    case 'total-time':
      return { timeCoefficient: rounds, energyCoefficient: 0 };
    case 'device-energy':
      return { timeCoefficient: 0, energyCoefficient: rounds };
    case 'weighted':
      return { timeCoefficient: rounds * problem.weights.perSecond, energyCoefficient: rounds * problem.weights.perJoule };
  }
}

/** Trainable (adapter) parameters of client k's model with frozen prefix F, over all model parameters. */
export function trainableParams(ctx: SplitContext, frozenLayers: number): number {
  return (ctx.problem.model.layers - frozenLayers) * ctx.loraParamsPerLayer;
}
