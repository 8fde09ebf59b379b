/**
 * The per-layer table every family and `edgeplan profile` read: for a model on a device under a
 * workload, each row (embedding, decoder layers 1..L, norm + head) with its parameters, forward
 * FLOPs, the activation bytes crossing a cut after it, its KV cache, its memory and its time.
 *
 * Time is the roofline of `device.ts`; a measured profile replaces it for the rows it covers, but
 * only under the conditions it was measured at (same batch, same tokens per pass, same number
 * format) — a profile is one point, and scaling it to other batches would silently invent a
 * compute/memory split the measurement does not contain. To use measurements at other
 * conditions, fit the device with `calibrate.ts` and let the roofline scale.
 */
import { rooflineTime, type DeviceSpec, type MeasuredProfile, type RooflineTime, type Work } from './device.ts';
import {
  activationBytesPerToken,
  activationDtypeOf,
  embeddingDtypeOf,
  embeddingParams,
  embeddingWeightBytes,
  expertParams,
  finalNormWeightBytes,
  headForwardFlopsPerToken,
  headMatrixReadBytes,
  headParams,
  headWeightBytes,
  isMoeLayer,
  kvBytesPerTokenPerLayer,
  layerForwardFlopsPerToken,
  layerParams,
  layerWeightBytes,
  type ModelSpec,
} from './model.ts';
import { bytesPerValue, weightBytesPerParam } from './units.ts';

/** What one pass through the model processes. */
export interface Workload {
  /** Sequences processed together. */
  readonly batch: number;
  /** New tokens per sequence in this pass: the prompt length for prefill, 1 for a decode step. */
  readonly tokens: number;
  /** Tokens each sequence holds in its KV cache after this pass (at least `tokens`). */
  readonly contextTokens: number;
  /**
   * Tokens per sequence whose logits the head computes (default `tokens`: training and scoring;
   * generation needs only the last one, i.e. 1).
   */
  readonly logitsTokens?: number;
}

/** Bytes of one sampled token id sent back after the head (int32). */
export const TOKEN_ID_BYTES = 4;

export type LayerRowKind = 'embedding' | 'decoder' | 'head';

export interface LayerRow {
  readonly kind: LayerRowKind;
  /** 0 for the embedding, 1..L for decoder layers, L + 1 for the head. */
  readonly index: number;
  readonly params: number;
  /** Bytes of the parameters this row stores (a tied head stores only its norm). */
  readonly weightBytes: number;
  /** Forward FLOPs of the whole workload in this row. */
  readonly forwardFlops: number;
  /**
   * Bytes that cross a cut placed right after this row: the hidden states of every processed
   * token; after the head, the sampled token ids.
   */
  readonly activationBytes: number;
  /** KV cache this row holds for the workload (batch × contextTokens). */
  readonly kvBytes: number;
  /** Resident memory: weights plus KV cache. */
  readonly memoryBytes: number;
  readonly seconds: number;
  /** Where `seconds` comes from. */
  readonly timeSource: 'roofline' | 'profile';
  /** The roofline breakdown (also given when the profile overrides it, for comparison). */
  readonly roofline: RooflineTime;
}

export interface LayerTotals {
  readonly params: number;
  readonly weightBytes: number;
  readonly forwardFlops: number;
  readonly kvBytes: number;
  readonly memoryBytes: number;
  readonly seconds: number;
}

export interface LayerTable {
  readonly modelId: string;
  readonly deviceId: string;
  readonly workload: Required<Workload>;
  readonly rows: readonly LayerRow[];
  readonly totals: LayerTotals;
  /** Whether a measured profile was given and used, and why not when it was not. */
  readonly profile: { readonly id: string; readonly applied: boolean; readonly reason: string } | null;
  /** True when weights + KV exceed the device's memory, so weights stream from storage. */
  readonly streamsFromStorage: boolean;
}

export interface LayerTableOptions {
  readonly profile?: MeasuredProfile;
  /**
   * Bytes resident on the device that decide whether weights stream from storage (default: the
   * whole model's weights plus its KV cache for this workload).
   */
  readonly residentBytes?: number;
}

function checkWorkload(w: Workload): Required<Workload> {
  const logitsTokens = w.logitsTokens ?? w.tokens;
  for (const [k, v] of Object.entries({
    batch: w.batch,
    tokens: w.tokens,
    contextTokens: w.contextTokens,
    logitsTokens,
  })) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`workload.${k} must be a positive number, got ${v}`);
  }
  if (w.contextTokens < w.tokens)
    throw new RangeError(`workload.contextTokens (${w.contextTokens}) must be at least tokens (${w.tokens})`);
  if (logitsTokens > w.tokens)
    throw new RangeError(`workload.logitsTokens (${logitsTokens}) must not exceed tokens (${w.tokens})`);
  return { batch: w.batch, tokens: w.tokens, contextTokens: w.contextTokens, logitsTokens };
}

/**
 * Mean number of positions a new token attends to under a causal mask: the new tokens occupy
 * positions C − T + 1 .. C, so the mean is C − (T − 1)/2 (prefill of s tokens: (s + 1)/2).
 */
export function meanAttendedContext(w: Workload): number {
  return w.contextTokens - (w.tokens - 1) / 2;
}

/**
 * Expected number of distinct routed experts `n` tokens touch in one MoE layer when each picks
 * `topK` of `experts` uniformly: E·(1 − (1 − k/E)^n). Decode at batch 1 reads k experts' weights;
 * a large batch reads them all.
 */
export function expectedExpertsTouched(experts: number, topK: number, tokens: number): number {
  return experts * (1 - (1 - topK / experts) ** tokens);
}

/** Weight bytes a decoder layer reads for `tokens` tokens (MoE: shared + touched routed experts). */
function decoderWeightBytesRead(model: ModelSpec, layer: number, tokens: number): number {
  const beta = weightBytesPerParam(model.dtype);
  if (!isMoeLayer(model, layer) || !model.moe) return layerParams(model, layer) * beta;
  const moe = model.moe;
  const allExperts = (moe.experts + moe.sharedExperts) * expertParams(model);
  const nonExpert = layerParams(model, layer) - allExperts;
  const touched = moe.sharedExperts + expectedExpertsTouched(moe.experts, moe.topK, tokens);
  return (nonExpert + touched * expertParams(model)) * beta;
}

/**
 * The work of one row for the workload. Memory traffic besides weights: the KV cache read once
 * (all `contextTokens`, which includes the new tokens' entries) and the hidden states read and
 * written; attention score matrices are assumed never materialised (fused attention).
 */
export function rowWork(model: ModelSpec, kind: LayerRowKind, layer: number, workload: Workload): Work {
  const w = checkWorkload(workload);
  const n = w.batch * w.tokens;
  // Hidden states and logits live in the activation format, whatever the weights are stored in.
  const hidden = activationBytesPerToken(model);
  const act = bytesPerValue(activationDtypeOf(model));
  switch (kind) {
    case 'embedding': {
      // A lookup reads only the rows it needs (at most the whole table), plus positions.
      const rows = Math.min(model.vocabSize, n);
      const pos = model.positionEmbedding === 'learned' ? Math.min(model.maxContext, w.tokens) : 0;
      return {
        flops: 0,
        weightBytes: (rows + pos) * model.hiddenSize * weightBytesPerParam(embeddingDtypeOf(model)),
        memoryTrafficBytes: n * hidden,
        calls: 1,
      };
    }
    case 'decoder': {
      if (!Number.isInteger(layer) || layer < 1 || layer > model.layers)
        throw new RangeError(`layer ${layer} is outside 1..${model.layers}`);
      return {
        flops: n * layerForwardFlopsPerToken(model, layer, meanAttendedContext(w)),
        weightBytes: decoderWeightBytesRead(model, layer, n),
        memoryTrafficBytes: w.batch * w.contextTokens * kvBytesPerTokenPerLayer(model) + 2 * n * hidden,
        calls: 1,
      };
    }
    case 'head': {
      const logits = w.batch * w.logitsTokens;
      // A tied head still reads the whole embedding matrix to produce logits.
      return {
        flops: logits * headForwardFlopsPerToken(model),
        // The final norm is read as stored (the bytes headWeightBytes counts in memory).
        weightBytes: finalNormWeightBytes(model) + headMatrixReadBytes(model),
        memoryTrafficBytes: n * hidden + logits * model.vocabSize * act,
        calls: 1,
      };
    }
  }
}

interface RowShape {
  readonly kind: LayerRowKind;
  readonly index: number;
  readonly params: number;
  readonly weightBytes: number;
  readonly kvBytes: number;
  readonly activationBytes: number;
}

function rowShapes(
  model: ModelSpec,
  w: Required<Workload>,
  first: number,
  last: number,
  embedding: boolean,
  head: boolean,
): RowShape[] {
  const hiddenCut = w.batch * w.tokens * activationBytesPerToken(model);
  const shapes: RowShape[] = [];
  if (embedding)
    shapes.push({
      kind: 'embedding',
      index: 0,
      params: embeddingParams(model),
      weightBytes: embeddingWeightBytes(model),
      kvBytes: 0,
      activationBytes: hiddenCut,
    });
  for (let l = first; l <= last; l++) {
    shapes.push({
      kind: 'decoder',
      index: l,
      params: layerParams(model, l),
      weightBytes: layerWeightBytes(model, l),
      kvBytes: w.batch * w.contextTokens * kvBytesPerTokenPerLayer(model),
      activationBytes: hiddenCut,
    });
  }
  if (head)
    shapes.push({
      kind: 'head',
      index: model.layers + 1,
      params: headParams(model),
      weightBytes: headWeightBytes(model),
      kvBytes: 0,
      activationBytes: w.batch * w.logitsTokens * TOKEN_ID_BYTES,
    });
  return shapes;
}

/** Whether `profile` may stand in for the roofline of `model` under `w`, and why not. */
export function profileApplies(
  profile: MeasuredProfile,
  model: ModelSpec,
  deviceId: string,
  w: Workload,
): { applied: boolean; reason: string } {
  if (profile.modelId !== model.id)
    return { applied: false, reason: `profile is for model ${profile.modelId}, not ${model.id}` };
  if (profile.deviceId !== deviceId)
    return { applied: false, reason: `profile is for device ${profile.deviceId}, not ${deviceId}` };
  const dtype = profile.dtype;
  if (dtype !== undefined && dtype !== model.dtype)
    return { applied: false, reason: `profile was measured in ${dtype}, the model runs in ${model.dtype}` };
  if (profile.batch !== w.batch || profile.tokens !== w.tokens)
    return {
      applied: false,
      reason: `profile was measured at batch ${profile.batch} × ${profile.tokens} tokens, the workload is batch ${w.batch} × ${w.tokens} tokens`,
    };
  return {
    applied: true,
    reason: `measured at batch ${profile.batch} × ${profile.tokens} tokens${dtype ? ` in ${dtype}` : ''}`,
  };
}

function measured(profile: MeasuredProfile, shape: RowShape): number | undefined {
  if (shape.kind === 'embedding') return profile.embeddingSeconds;
  if (shape.kind === 'head') return profile.headSeconds;
  return profile.layerSeconds[shape.index - 1];
}

function buildRows(
  model: ModelSpec,
  device: DeviceSpec,
  w: Required<Workload>,
  shapes: readonly RowShape[],
  options: LayerTableOptions,
): { rows: LayerRow[]; profile: LayerTable['profile']; streams: boolean } {
  const resident = options.residentBytes ?? shapes.reduce((s, r) => s + r.weightBytes + r.kvBytes, 0);
  const check = options.profile ? profileApplies(options.profile, model, device.id, w) : undefined;
  const useProfile = options.profile !== undefined && check?.applied === true ? options.profile : undefined;
  const rows = shapes.map((shape): LayerRow => {
    const work = rowWork(model, shape.kind, shape.index, w);
    const roofline = rooflineTime(device, work, resident);
    const m = useProfile ? measured(useProfile, shape) : undefined;
    const weightBytes = shape.weightBytes;
    return {
      kind: shape.kind,
      index: shape.index,
      params: shape.params,
      weightBytes,
      forwardFlops: work.flops,
      activationBytes: shape.activationBytes,
      kvBytes: shape.kvBytes,
      memoryBytes: weightBytes + shape.kvBytes,
      seconds: m ?? roofline.seconds,
      timeSource: m === undefined ? 'roofline' : 'profile',
      roofline,
    };
  });
  const profile =
    options.profile && check ? { id: options.profile.id, applied: check.applied, reason: check.reason } : null;
  return { rows, profile, streams: resident > device.memoryBytes };
}

function totalsOf(rows: readonly LayerRow[]): LayerTotals {
  const t = { params: 0, weightBytes: 0, forwardFlops: 0, kvBytes: 0, memoryBytes: 0, seconds: 0 };
  for (const r of rows) {
    t.params += r.params;
    t.weightBytes += r.weightBytes;
    t.forwardFlops += r.forwardFlops;
    t.kvBytes += r.kvBytes;
    t.memoryBytes += r.memoryBytes;
    t.seconds += r.seconds;
  }
  return t;
}

/** The whole model on one device: embedding, layers 1..L, head. */
export function layerTable(
  model: ModelSpec,
  device: DeviceSpec,
  workload: Workload,
  options: LayerTableOptions = {},
): LayerTable {
  const w = checkWorkload(workload);
  const { rows, profile, streams } = buildRows(
    model,
    device,
    w,
    rowShapes(model, w, 1, model.layers, true, true),
    options,
  );
  return {
    modelId: model.id,
    deviceId: device.id,
    workload: w,
    rows,
    totals: totalsOf(rows),
    profile,
    streamsFromStorage: streams,
  };
}

export interface LayerRange {
  /** First decoder layer (1-based); a range with first > last holds no decoder layer. */
  readonly first: number;
  readonly last: number;
  /** The range also holds the embedding (a stage that starts the model). */
  readonly embedding?: boolean;
  /** The range also holds the final norm and head (a stage that ends the model). */
  readonly head?: boolean;
}

export interface RangeCost extends LayerTotals {
  readonly rows: readonly LayerRow[];
  /** Bytes leaving the range at its end (the cut after its last row). */
  readonly outputActivationBytes: number;
  readonly streamsFromStorage: boolean;
}

/**
 * Cost of a contiguous range of layers held by one device (a pipeline stage, the device side of
 * a split). Whether weights stream from storage is decided by what this range keeps resident
 * (its weights and KV), unless `options.residentBytes` says the device holds more.
 */
export function rangeCost(
  model: ModelSpec,
  device: DeviceSpec,
  workload: Workload,
  range: LayerRange,
  options: LayerTableOptions = {},
): RangeCost {
  const w = checkWorkload(workload);
  if (!Number.isInteger(range.first) || !Number.isInteger(range.last))
    throw new RangeError('range bounds must be whole layer numbers');
  const empty = range.first > range.last;
  if (!empty && (range.first < 1 || range.last > model.layers))
    throw new RangeError(`range ${range.first}..${range.last} is outside 1..${model.layers}`);
  const shapes = rowShapes(
    model,
    w,
    empty ? 1 : range.first,
    empty ? 0 : range.last,
    range.embedding === true,
    range.head === true,
  );
  const { rows, streams } = buildRows(model, device, w, shapes, options);
  const lastRow = rows[rows.length - 1];
  return {
    ...totalsOf(rows),
    rows,
    outputActivationBytes: lastRow ? lastRow.activationBytes : 0,
    streamsFromStorage: streams,
  };
}

/** Seconds of a contiguous range on a device (see `rangeCost`). */
export function rangeSeconds(
  model: ModelSpec,
  device: DeviceSpec,
  workload: Workload,
  range: LayerRange,
  options: LayerTableOptions = {},
): number {
  return rangeCost(model, device, workload, range, options).seconds;
}
