/**
 * zod schemas for catalog entries and for references to them in problem files. A reference is a
 * catalog id (`"llama-2-7b"`), an object naming an id with fields that override the entry
 * (`{ "id": "rtx-3090", "memoryBytes": 20e9 }`), or a complete inline object.
 */
import { z } from 'zod';
import { DTYPES } from '../cost/units.ts';

const positiveInt = z.number().int('must be a whole number').positive('must be positive');
const nonNegativeInt = z.number().int('must be a whole number').nonnegative('must not be negative');
const positive = z.number().positive('must be positive').finite('must be finite');
const nonNegative = z.number().nonnegative('must not be negative').finite('must be finite');
const fraction = z.number().gt(0, 'must be in (0, 1]').lte(1, 'must be in (0, 1]');

export const moeSchema = z.strictObject({
  experts: positiveInt,
  topK: positiveInt,
  sharedExperts: nonNegativeInt,
  expertFfnHiddenSize: positiveInt,
  denseLayers: nonNegativeInt,
});

export const mlaSchema = z.strictObject({
  qLoraRank: positiveInt,
  kvLoraRank: positiveInt,
  qkNopeHeadDim: positiveInt,
  qkRopeHeadDim: nonNegativeInt,
  vHeadDim: positiveInt,
});

const modelFields = {
  id: z.string().min(1),
  name: z.string().min(1),
  layers: positiveInt,
  hiddenSize: positiveInt,
  heads: positiveInt,
  kvHeads: positiveInt,
  headDim: positiveInt,
  ffnHiddenSize: positiveInt,
  ffnKind: z.enum(['mlp', 'gated']),
  vocabSize: positiveInt,
  maxContext: positiveInt,
  positionEmbedding: z.enum(['learned', 'rotary']),
  bias: z.boolean(),
  tiedEmbeddings: z.boolean(),
  moe: moeSchema.optional(),
  mla: mlaSchema.optional(),
  dtype: z.enum(DTYPES),
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
  experts: refPositiveInt,
  topK: refPositiveInt,
  sharedExperts: refNonNegativeInt,
  expertFfnHiddenSize: refPositiveInt,
  denseLayers: refNonNegativeInt,
});

const mlaRefSchema = z.strictObject({
  qLoraRank: refPositiveInt,
  kvLoraRank: refPositiveInt,
  qkNopeHeadDim: refPositiveInt,
  qkRopeHeadDim: refNonNegativeInt,
  vHeadDim: refPositiveInt,
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
      layers: refPositiveInt,
      hiddenSize: refPositiveInt,
      heads: refPositiveInt,
      kvHeads: refPositiveInt,
      headDim: refPositiveInt,
      ffnHiddenSize: refPositiveInt,
      vocabSize: refPositiveInt,
      maxContext: refPositiveInt,
      moe: moeRefSchema,
      mla: mlaRefSchema,
      ffnKind: refEnum(['mlp', 'gated']),
      positionEmbedding: refEnum(['learned', 'rotary']),
      dtype: refEnum(DTYPES),
      id: z.string().min(1),
      name: z.string(),
      source: z.string(),
    })
    .partial(),
]);

const deviceFields = {
  id: z.string().min(1),
  name: z.string().min(1),
  peakFlopsPerSecond: positive,
  memoryBytes: positive,
  memoryBandwidthBytesPerSecond: positive,
  storageReadBytesPerSecond: positive,
  computeEfficiency: fraction,
  bandwidthEfficiency: fraction,
  perCallOverheadSeconds: nonNegative,
  activePowerWatts: nonNegative,
  transmitPowerWatts: nonNegative,
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
  uplinkBitsPerSecond: positive,
  downlinkBitsPerSecond: positive,
  latencySeconds: nonNegative,
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
