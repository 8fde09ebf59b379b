/**
 * zod schemas for catalog entries and for references to them in problem files. A reference is a
 * catalog id (`"llama-2-7b"`), an object naming an id with fields that override the entry
 * (`{ "id": "rtx-3090", "memoryBytes": 20e9 }`), or a complete inline object.
 */
import { z } from 'zod';
import { ATTENTION_WORKSPACES, KV_ALLOCATIONS } from '../cost/runtime.ts';
import { DTYPES } from '../cost/units.ts';

const positiveInt = z.number().int('must be a whole number').positive('must be positive');
const nonNegativeInt = z.number().int('must be a whole number').nonnegative('must not be negative');
const positive = z.number().positive('must be positive').finite('must be finite');
const nonNegative = z.number().nonnegative('must not be negative').finite('must be finite');
const fraction = z.number().gt(0, 'must be in (0, 1]').lte(1, 'must be in (0, 1]');

/**
 * Upper limits on catalog numbers. They are far beyond any real model or device (the largest
 * dataset entries: 80 layers, hidden 8192, FFN 28672, 129k vocabulary, 164k context, 256 experts,
 * 9.89e14 FLOP/s, 80 GB) and exist only to turn absurd sizes into a clear InputError: generators
 * and solvers allocate per layer, per expert or per head, so `"layers": 1e9` would otherwise
 * exhaust the heap, and 1e308 bytes or seconds turn costs into Infinity/NaN.
 */
export const CATALOG_MAXIMA = {
  layers: 1000,
  hiddenSize: 1_048_576,
  heads: 16_384,
  kvHeads: 16_384,
  headDim: 65_536,
  ffnHiddenSize: 1_048_576,
  vocabSize: 10_000_000,
  maxContext: 100_000_000,
  experts: 65_536,
  topK: 65_536,
  sharedExperts: 65_536,
  expertFfnHiddenSize: 1_048_576,
  denseLayers: 1000,
  loraRank: 1_048_576,
  /** FLOP/s: an exaFLOP per device (today's largest accelerators are ~1e15–1e16). */
  peakFlopsPerSecond: 1e18,
  memoryBytes: 1e15,
  /** Rates: 1e18 leaves room for an idealised "free" link or memory (tests model one at 1e18 bit/s). */
  bytesPerSecond: 1e18,
  bitsPerSecond: 1e18,
  /** Seconds for one overhead or one-way latency: a day. */
  seconds: 86_400,
  watts: 1e6,
} as const;

const tooBig = (max: number): string => `must be at most ${max} (absurd size)`;
const cappedInt = (max: number) => positiveInt.lte(max, tooBig(max));
const cappedNonNegativeInt = (max: number) => nonNegativeInt.lte(max, tooBig(max));
const cappedPositive = (max: number) => positive.lte(max, tooBig(max));
const cappedNonNegative = (max: number) => nonNegative.lte(max, tooBig(max));
const M = CATALOG_MAXIMA;

export const moeSchema = z.strictObject({
  experts: cappedInt(M.experts),
  topK: cappedInt(M.topK),
  sharedExperts: cappedNonNegativeInt(M.sharedExperts),
  expertFfnHiddenSize: cappedInt(M.expertFfnHiddenSize),
  denseLayers: cappedNonNegativeInt(M.denseLayers),
});

export const mlaSchema = z.strictObject({
  qLoraRank: cappedInt(M.loraRank),
  kvLoraRank: cappedInt(M.loraRank),
  qkNopeHeadDim: cappedInt(M.headDim),
  qkRopeHeadDim: cappedNonNegativeInt(M.headDim),
  vHeadDim: cappedInt(M.headDim),
});

const modelFields = {
  id: z.string().min(1),
  name: z.string().min(1),
  layers: cappedInt(M.layers),
  hiddenSize: cappedInt(M.hiddenSize),
  heads: cappedInt(M.heads),
  kvHeads: cappedInt(M.kvHeads),
  headDim: cappedInt(M.headDim),
  ffnHiddenSize: cappedInt(M.ffnHiddenSize),
  ffnKind: z.enum(['mlp', 'gated']),
  vocabSize: cappedInt(M.vocabSize),
  maxContext: cappedInt(M.maxContext),
  positionEmbedding: z.enum(['learned', 'rotary']),
  bias: z.boolean(),
  tiedEmbeddings: z.boolean(),
  moe: moeSchema.optional(),
  mla: mlaSchema.optional(),
  dtype: z.enum(DTYPES),
  kvDtype: z.enum(DTYPES).optional(),
  activationDtype: z.enum(DTYPES).optional(),
  adapterDtype: z.enum(DTYPES).optional(),
  source: z.string().min(1),
};

/** A complete model entry, with the architectural rules a config must obey. */
export const modelSpecSchema = z
  .strictObject(modelFields)
  .superRefine((m, ctx) => {
    if (m.heads % m.kvHeads !== 0)
      ctx.addIssue({ code: 'custom', path: ['kvHeads'], message: `kvHeads (${m.kvHeads}) must divide heads (${m.heads})` });
    if (m.moe && m.moe.topK > m.moe.experts)
      ctx.addIssue({ code: 'custom', path: ['moe', 'topK'], message: `topK (${m.moe.topK}) exceeds the number of experts (${m.moe.experts})` });
    if (m.moe && m.moe.denseLayers > m.layers)
      ctx.addIssue({ code: 'custom', path: ['moe', 'denseLayers'], message: `denseLayers (${m.moe.denseLayers}) exceeds layers (${m.layers})` });
  });

/**
 * Whole-number checks for the object branch of a reference union. zod's `.int()` aborts, and when
 * every branch of a union aborts zod reports only "Invalid input" at the union; a refinement does
 * not abort, so `{ "id": "llama-2-7b", "layers": 31.5 }` reports `$.model.layers` and its rule.
 */
const refPositiveInt = z.number().positive('must be positive').refine(Number.isInteger, 'must be a whole number').meta({ type: 'integer' });
const refNonNegativeInt = z.number().nonnegative('must not be negative').refine(Number.isInteger, 'must be a whole number').meta({ type: 'integer' });
const refCappedInt = (max: number) => refPositiveInt.lte(max, tooBig(max));
const refCappedNonNegativeInt = (max: number) => refNonNegativeInt.lte(max, tooBig(max));

/**
 * An enumerated field for the object branch of a reference union: like `z.enum` (the JSON Schema
 * still lists the values) but a wrong value does not abort the union, so its path is reported.
 */
function refEnum(values: readonly string[]) {
  return z
    .string()
    .refine((v) => values.includes(v), `must be one of ${values.map((v) => `"${v}"`).join(', ')}`)
    .meta({ enum: [...values] });
}

const moeRefSchema = z.strictObject({
  experts: refCappedInt(M.experts),
  topK: refCappedInt(M.topK),
  sharedExperts: refCappedNonNegativeInt(M.sharedExperts),
  expertFfnHiddenSize: refCappedInt(M.expertFfnHiddenSize),
  denseLayers: refCappedNonNegativeInt(M.denseLayers),
});

const mlaRefSchema = z.strictObject({
  qLoraRank: refCappedInt(M.loraRank),
  kvLoraRank: refCappedInt(M.loraRank),
  qkNopeHeadDim: refCappedInt(M.headDim),
  qkRopeHeadDim: refCappedNonNegativeInt(M.headDim),
  vHeadDim: refCappedInt(M.headDim),
});

/**
 * What a problem may write for a model: an id, or an object. When an inline object omits
 * `headDim`, it is hidden/heads and heads must divide hidden (checked at resolution).
 */
export const modelRefSchema = z.union([
  z.string().min(1),
  z
    .strictObject({
      ...modelFields,
      layers: refCappedInt(M.layers),
      hiddenSize: refCappedInt(M.hiddenSize),
      heads: refCappedInt(M.heads),
      kvHeads: refCappedInt(M.kvHeads),
      headDim: refCappedInt(M.headDim),
      ffnHiddenSize: refCappedInt(M.ffnHiddenSize),
      vocabSize: refCappedInt(M.vocabSize),
      maxContext: refCappedInt(M.maxContext),
      moe: moeRefSchema,
      mla: mlaRefSchema,
      ffnKind: refEnum(['mlp', 'gated']),
      positionEmbedding: refEnum(['learned', 'rotary']),
      dtype: refEnum(DTYPES),
      weightDtype: refEnum(DTYPES).describe('format of the weight matrices (the newer name of dtype)'),
      kvDtype: refEnum(DTYPES).describe('KV-cache format; default 16-bit unless the weights are fp32'),
      activationDtype: refEnum(DTYPES).describe('format of hidden states crossing a cut; default as kvDtype'),
      adapterDtype: refEnum(DTYPES).describe('LoRA adapter format; default as kvDtype'),
      id: z.string().min(1),
      name: z.string(),
      source: z.string(),
    })
    .partial(),
]);

const deviceFields = {
  id: z.string().min(1),
  name: z.string().min(1),
  peakFlopsPerSecond: cappedPositive(M.peakFlopsPerSecond),
  memoryBytes: cappedPositive(M.memoryBytes),
  memoryBandwidthBytesPerSecond: cappedPositive(M.bytesPerSecond),
  storageReadBytesPerSecond: cappedPositive(M.bytesPerSecond),
  computeEfficiency: fraction,
  bandwidthEfficiency: fraction,
  perCallOverheadSeconds: cappedNonNegative(M.seconds),
  activePowerWatts: cappedNonNegative(M.watts),
  transmitPowerWatts: cappedNonNegative(M.watts),
  /** Unified memory (Jetson, Apple silicon, phones) or a CPU: no CUDA context in the runtime overhead. */
  unifiedMemory: z.boolean().optional(),
  source: z.string().min(1),
};
export const deviceSpecSchema = z.strictObject(deviceFields);
export const deviceRefSchema = z.union([
  z.string().min(1),
  z.strictObject({ ...deviceFields, id: z.string().min(1).optional(), name: z.string().optional(), source: z.string().optional() }).partial(),
]);

const linkFields = {
  id: z.string().min(1),
  name: z.string().min(1),
  uplinkBitsPerSecond: cappedPositive(M.bitsPerSecond),
  downlinkBitsPerSecond: cappedPositive(M.bitsPerSecond),
  latencySeconds: cappedNonNegative(M.seconds),
  source: z.string().min(1),
};
export const linkSpecSchema = z.strictObject(linkFields);
export const linkRefSchema = z.union([
  z.string().min(1),
  z.strictObject({ ...linkFields, id: z.string().min(1).optional(), name: z.string().optional(), source: z.string().optional() }).partial(),
]);

export const profileSchema = z.strictObject({
  id: z.string().min(1),
  modelId: z.string().min(1),
  deviceId: z.string().min(1),
  batch: positiveInt,
  tokens: positiveInt,
  dtype: z.enum(DTYPES).optional(),
  embeddingSeconds: nonNegative.optional(),
  layerSeconds: z.array(nonNegative).min(1),
  headSeconds: nonNegative.optional(),
  usableMemoryBytes: positive.optional(),
  layerMemoryBytes: positive.optional(),
  embeddingMemoryBytes: nonNegative.optional(),
  headMemoryBytes: nonNegative.optional(),
  activationBytesPerHop: positive.optional(),
  source: z.string().min(1),
});
export const profileRefSchema = z.union([z.string().min(1), profileSchema.partial().extend({ id: z.string().min(1).optional() })]);

export type ModelRef = z.infer<typeof modelRefSchema>;
export type DeviceRef = z.infer<typeof deviceRefSchema>;
export type LinkRef = z.infer<typeof linkRefSchema>;
export type ProfileRef = z.infer<typeof profileRefSchema>;

const runtimeFields = {
  id: z.string().min(1),
  name: z.string().min(1),
  gpuOverheadBytes: cappedNonNegative(M.memoryBytes),
  unifiedOverheadBytes: cappedNonNegative(M.memoryBytes),
  attention: z.enum(ATTENTION_WORKSPACES),
  kvAllocation: z.enum(KV_ALLOCATIONS),
  kvBlockTokens: positiveInt.lte(1_048_576, tooBig(1_048_576)),
  memoryUtilization: fraction,
  prefillChunkTokens: positiveInt.nullable(),
  prefillTokenBudget: positiveInt.nullable(),
  perLayerOverheadSeconds: cappedNonNegative(M.seconds),
  perStepOverheadSeconds: cappedNonNegative(M.seconds),
  quantizedLayerOverheadSeconds: cappedNonNegative(M.seconds),
  decodeKvPasses: z.number().min(1, 'must be at least 1').lte(1000, tooBig(1000)),
  source: z.string().min(1),
  sources: z.record(z.string(), z.string().min(1)),
};
export const runtimeSpecSchema = z.strictObject(runtimeFields);
/** A runtime id, or an object naming one with fields to override (`{ "id": "vllm", "memoryUtilization": 0.95 }`). */
export const runtimeRefSchema = z.union([
  z.string().min(1),
  z
    .strictObject({
      ...runtimeFields,
      attention: refEnum(ATTENTION_WORKSPACES),
      kvAllocation: refEnum(KV_ALLOCATIONS),
      name: z.string(),
      source: z.string(),
    })
    .partial(),
]);
export type RuntimeRef = z.infer<typeof runtimeRefSchema>;
