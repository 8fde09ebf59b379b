/**
 * Input of the kv-split-inference family: one base model (optionally with fine-tuned variants
 * stored as LoRA adapters that share it), one edge server, and U users, each with a device, a
 * link, a prompt and an output length. The decision is one cut per user (or `null`: not served,
 * only when admission is on).
 */
import { z } from 'zod';
import { documentFields, loraSchema, nonNegative, nonNegativeInt, positive, positiveInt } from '../zod-primitives.ts';
import {
  deviceRefSchema,
  linkRefSchema,
  modelRefSchema,
  resolveDevice,
  resolveRuntime,
  runtimeRefSchema,
  resolveLink,
  resolveModel,
} from '../../catalog/index.ts';
import type { DeviceSpec } from '../../cost/device.ts';
import type { RuntimeSpec } from '../../cost/runtime.ts';
import { deviceUnderRuntime } from '../../cost/runtime-time.ts';
import type { LinkSpec } from '../../cost/link.ts';
import type { ModelSpec } from '../../cost/model.ts';
import { TOKEN_ID_BYTES } from '../../cost/layers.ts';
import {
  cellSchema,
  checkFixedShares,
  fullCellRates,
  parseCell,
  parseRadio,
  radioSchema,
  type CellSpec,
  type RadioSpec,
} from '../../cost/radio.ts';
import type { LoraConfig } from '../../cost/training.ts';
import { kvDtypeOf } from '../../cost/model.ts';
import { bytesPerValue, DTYPES, type DType } from '../../cost/units.ts';
import { InputError, inputErrorFromZod } from '../../errors.ts';

const variantSchema = z.strictObject({
  name: z.string().min(1, 'must not be empty').describe('name users refer to in `variant`'),
  lora: loraSchema.describe("the variant's LoRA adapter on top of the shared base weights"),
});

const userSchema = z.strictObject({
  name: z.string().min(1).optional().describe('label in reports (default "user <index>")'),
  device: deviceRefSchema.describe('catalog device id, or an object overriding catalog fields'),
  runtime: runtimeRefSchema
    .optional()
    .describe("runtime this user's device runs its layers with (overrides $.runtime)"),
  link: linkRefSchema
    .optional()
    .describe('a dedicated link: catalog link id, or an object overriding catalog fields (rates in bit/s)'),
  radio: radioSchema.optional().describe('instead of `link`: the user is in `$.cell`, with this link quality'),
  promptTokens: positiveInt.describe('prompt length in tokens'),
  outputTokens: positiveInt.describe("generated tokens; with the prompt, sizes the KV cache (last token's context)"),
  variant: z.string().min(1).optional().describe('name of a variant in `$.variants`; absent: the base model'),
  latencySloSeconds: positive
    .optional()
    .describe('per-token decode latency this user accepts (device + uplink + server step + downlink), seconds'),
  ttftSloSeconds: positive
    .optional()
    .describe('time to first token this user accepts (prefill on both sides + transfers), seconds'),
  minDeviceLayers: nonNegativeInt
    .optional()
    .describe(
      'privacy floor: at least this many decoder layers run on the device, ' +
        "so raw data and the first layers' activations never leave it",
    ),
});

const serverSchema = z.strictObject({
  device: deviceRefSchema.describe('the edge server: catalog device id or an object overriding catalog fields'),
  runtime: runtimeRefSchema.optional().describe('runtime the server serves with (overrides $.runtime)'),
  prefillBatchSequences: positiveInt
    .default(1)
    .describe(
      'prompts the server prefills together; sizes its work buffers (FasterTransformer static batch: all; continuous batching: 1)',
    ),
});

const cloudSchema = z
  .strictObject({
    device: deviceRefSchema.describe('the cloud GPU that runs the cloud part of every cloud user, batched'),
    backhaul: linkRefSchema.describe(
      'the edge–cloud link, shared by every user that goes to the cloud (rates in bit/s, latency per transfer)',
    ),
    memoryCapacityBytes: positive
      .optional()
      .describe("the cloud's memory for weights, KV and buffers; absent: unlimited (the cloud scales out)"),
    pricePerToken: nonNegative
      .default(0)
      .describe(
        'price (money or energy, any unit) of one token through the whole model in the cloud; ' +
          'a user pays the fraction of decoder layers the cloud runs for it',
      ),
    priceWeightSeconds: nonNegative
      .default(0)
      .describe('objective seconds per unit of price (per token, summed over users); 0: price reported, not optimised'),
  })
  .describe('a third tier: per user a second cut, layers above it and the head run in the cloud');

const kvFormatSchema = z.union([
  z.enum(DTYPES),
  z.strictObject({
    id: z.enum(DTYPES).describe('KV-cache storage format (datasets/quantization.json bitsPerValue)'),
    accuracyCost: nonNegative
      .optional()
      .describe(
        'accuracy proxy a user pays for its KV in this format (default: Wikitext-2 perplexity increase, ' +
          'see docs; must be given for formats without a sourced default)',
      ),
  }),
]);

export const kvSplitInputSchema = z.strictObject({
  ...documentFields,
  kind: z.literal('kv-split-inference'),
  model: modelRefSchema.describe('catalog model id or an object overriding catalog fields (dense models only)'),
  variants: z
    .array(variantSchema)
    .default([])
    .describe('fine-tuned variants stored as LoRA adapters over the shared base'),
  server: serverSchema,
  runtime: runtimeRefSchema
    .optional()
    .describe(
      'runtime of the server and every user device that names none (datasets/runtimes.json id or an object ' +
        'overriding one): memory share and overhead, paged KV and prefill workspace on the server, host time per ' +
        'layer call; absent: none',
    ),
  cell: cellSchema.optional(),
  cloud: cloudSchema.optional(),
  users: z
    .array(userSchema)
    .min(1, 'at least one user is needed')
    .describe('one entry per user, each with its own device and link'),
  objective: z
    .enum(['max', 'sum'])
    .default('max')
    .describe("`max`: the slowest served user's per-token latency; `sum`: the sum over served users"),
  admission: z
    .boolean()
    .default(false)
    .describe('serve a subset: the most users first, then the latency objective (a penalty per unserved user)'),
  tokenBytes: positive
    .default(TOKEN_ID_BYTES)
    .describe('bytes of one token id on the downlink (and of a prompt token id on the uplink at cut 0)'),
  deviceWeightStreaming: z
    .boolean()
    .default(true)
    .describe('let a device stream weights from storage when they do not fit in its memory'),
  kvFormats: z
    .array(kvFormatSchema)
    .min(1, 'at least one KV format')
    .optional()
    .describe(
      "KV-cache formats a user may keep its KV in (a decision per user): ids or { id, accuracyCost }; each one's " +
        "bytesFactor is its bits over the model's KV bits and must be in (0, 1]",
    ),
  kvAccuracyBudget: nonNegative
    .optional()
    .describe('total accuracy-proxy cost over served users that the chosen KV formats may spend (needs kvFormats)'),
});
export type KvSplitInput = z.infer<typeof kvSplitInputSchema>;

export interface KvVariant {
  readonly name: string;
  readonly lora: LoraConfig;
}

export interface KvUser {
  readonly name: string;
  readonly device: DeviceSpec;
  /**
   * The user's link. For a user in the cell: the rates it would have holding the whole cell and
   * the cell's latency (what explanations and warnings quote); its real rate is share × these.
   */
  readonly link: LinkSpec;
  /** In the cell (its share is a decision), or null: a dedicated link. */
  readonly radio: RadioSpec | null;
  readonly promptTokens: number;
  readonly outputTokens: number;
  /** Index into `KvProblem.variants`, or null for the base model. */
  readonly variant: number | null;
  readonly latencySloSeconds: number | null;
  readonly ttftSloSeconds: number | null;
  /** Privacy floor: the least cut this user accepts (0: none). */
  readonly minDeviceLayers: number;
}

/** A KV-cache format a user may choose (docs/formulations/kv-split-inference.md, "KV format per user"). */
export interface KvFormat {
  readonly id: DType;
  /** KV bytes relative to the model's own KV format, in (0, 1]. */
  readonly bytesFactor: number;
  /** Accuracy proxy one user pays for keeping its KV in this format. */
  readonly accuracyCost: number;
  readonly source: string;
}

/**
 * Sourced default accuracy proxies: Wikitext-2 perplexity increase over the fp16 KV cache.
 * Only formats with a published figure have a default; any other needs `accuracyCost`.
 */
export const KV_FORMAT_ACCURACY_DEFAULTS: Partial<Record<DType, { cost: number; source: string }>> = {
  fp16: { cost: 0, source: 'reference format (the KV cache as the model computes it)' },
  bf16: { cost: 0, source: 'reference format (16-bit KV, as fp16)' },
  fp8: {
    cost: 0.01,
    source:
      'accuracy proxy, assumed: vLLM and TensorRT-LLM document FP8 E4M3 KV with a per-tensor scale as only ' +
      'minimally degrading accuracy; no perplexity figure was found, ' +
      'so 0.01 is an assumption of this project (unsourced)',
  },
  int4: {
    cost: 0.3,
    source:
      'accuracy proxy: KVQuant (Hooper et al. 2024) Table 1, LLaMA-7B Wikitext-2 perplexity 5.68 (fp16 KV) to ' +
      '5.98 with uniform per-token int4 KV (+0.30); KIVI, KVQuant-4bit and GEAR reach a few hundredths with ' +
      'per-channel keys, outlier handling or low-rank error correction',
  },
};

/** The cloud tier (three-tier mode): device | edge server | cloud, joined by a shared backhaul. */
export interface KvCloud {
  readonly device: DeviceSpec;
  readonly backhaul: LinkSpec;
  /** Infinity when the input gives no capacity. */
  readonly memoryCapacityBytes: number;
  readonly pricePerToken: number;
  readonly priceWeightSeconds: number;
}

export interface KvProblem {
  readonly kind: 'kv-split-inference';
  readonly model: ModelSpec;
  readonly variants: readonly KvVariant[];
  /** The server as its runtime leaves it (memory share − overhead, host time per call): deviceUnderRuntime. */
  readonly server: DeviceSpec;
  /** The server's runtime (paged KV, prefill workspace); absent or null: none modelled (FasterTransformer buffers). */
  readonly serverRuntime?: RuntimeSpec | null;
  readonly prefillBatchSequences: number;
  /** The shared radio cell, or null: every user has a dedicated link. */
  readonly cell: CellSpec | null;
  /** The cloud tier, or null: two tiers (device | edge server) exactly as without it. */
  readonly cloud: KvCloud | null;
  readonly users: readonly KvUser[];
  readonly objective: 'max' | 'sum';
  readonly admission: boolean;
  readonly tokenBytes: number;
  readonly deviceWeightStreaming: boolean;
  /** KV formats as a decision per user; absent or null: every user keeps the model's KV format. */
  readonly kvFormats?: readonly KvFormat[] | null;
  /** Total accuracy-proxy cost over served users (Infinity: no budget). */
  readonly kvAccuracyBudget?: number;
}

/**
 * cuts[u] ∈ 0..L: layers 1..cuts[u] on user u's device, the rest and the head on the server;
 * cuts[u] = L: the whole model, head included, on the device — the user uses no server resource.
 * null: not served (admission only).
 */
export interface KvDecision {
  readonly cuts: readonly (number | null)[];
  /** Continuous cell: per user its share of the cell in [0, 1] (0 outside the cell or without radio use). */
  readonly cellShares?: readonly number[];
  /** Resource-block cell: per user its whole number of resource blocks. */
  readonly resourceBlocks?: readonly number[];
  /**
   * Three tiers: per user its cloud cut c2 with cuts[u] ≤ c2 ≤ L — layers cuts[u] + 1..c2 on the
   * edge server, c2 + 1..L and the head in the cloud; c2 = L: no cloud part. Absent: all L.
   */
  readonly cloudCuts?: readonly number[];
  /** With `kvFormats` in the problem: per user the id of its KV format. Absent: the least-cost format for all. */
  readonly kvFormats?: readonly string[];
}

export const kvDecisionSchema: z.ZodType<KvDecision> = z.strictObject({
  cuts: z
    .array(z.number().int('a cut is a whole layer number').min(0, 'a cut is at least 0').nullable())
    .describe('per user: layers kept on its device (0..L), or null when not served'),
  cellShares: z
    .array(z.number().min(0, 'a share is at least 0').max(1, 'a share exceeds the cell (at most 1)'))
    .optional()
    .describe('continuous cell: per user its share of the cell (0 for users outside it)'),
  resourceBlocks: z
    .array(z.number().int('a whole number of resource blocks').min(0, 'at least 0'))
    .optional()
    .describe('resource-block cell: per user its resource blocks (0 for users outside it)'),
  cloudCuts: z
    .array(z.number().int('a cut is a whole layer number').min(0, 'a cut is at least 0'))
    .optional()
    .describe('three tiers: per user the last layer before the cloud (cuts[u]..L; L: no cloud part)'),
  kvFormats: z
    .array(z.string())
    .optional()
    .describe('with kvFormats in the problem: per user the id of the KV format it keeps its KV cache in'),
});

export function parseKvProblem(raw: unknown): KvProblem {
  const parsed = kvSplitInputSchema.safeParse(raw);
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const input = parsed.data;
  const model = resolveModel(input.model, '$.model');
  if (model.moe)
    throw new InputError(
      '$.model',
      'mixture-of-experts models are not supported by kv-split-inference (use moe-placement)',
    );
  // A runtime leaves each device less memory (share − fixed overhead) and its own host time per
  // layer call (src/cost/runtime-time.ts); on the server it also pages the KV cache and sizes the
  // prefill workspace by its attention kernel (cost.ts).
  const defaultRuntime = input.runtime === undefined ? null : resolveRuntime(input.runtime, '$.runtime');
  const serverRuntime =
    input.server.runtime === undefined ? defaultRuntime : resolveRuntime(input.server.runtime, '$.server.runtime');
  const server = deviceUnderRuntime(resolveDevice(input.server.device, '$.server.device'), serverRuntime);
  const cell = input.cell !== undefined ? parseCell(input.cell, '$.cell') : null;
  const variantIndex = new Map<string, number>();
  const variants = input.variants.map((v, i): KvVariant => {
    if (variantIndex.has(v.name))
      throw new InputError(`$.variants[${i}].name`, `variant name "${v.name}" is defined twice`);
    variantIndex.set(v.name, i);
    return { name: v.name, lora: { rank: v.lora.rank, targets: v.lora.targets } };
  });
  const users = input.users.map((u, i): KvUser => {
    const path = `$.users[${i}]`;
    if (u.promptTokens + u.outputTokens > model.maxContext)
      throw new InputError(
        `${path}.outputTokens`,
        `prompt + output (${u.promptTokens + u.outputTokens} tokens) exceeds the model's context of ${model.maxContext}`,
      );
    let variant: number | null = null;
    if (u.variant !== undefined) {
      const k = variantIndex.get(u.variant);
      if (k === undefined)
        throw new InputError(`${path}.variant`, `variant "${u.variant}" is not declared in $.variants`);
      variant = k;
    }
    if (u.link !== undefined && u.radio !== undefined)
      throw new InputError(`${path}.radio`, 'a user has either a dedicated `link` or `radio` in the cell, not both');
    if (u.link === undefined && u.radio === undefined)
      throw new InputError(`${path}.link`, 'each user needs a `link` (dedicated) or `radio` (a member of $.cell)');
    let radio: RadioSpec | null = null;
    let link: LinkSpec;
    if (u.radio !== undefined) {
      if (cell === null) throw new InputError(`${path}.radio`, '`radio` needs a `$.cell` for the user to be in');
      radio = parseRadio(u.radio, cell, `${path}.radio`);
      const rates = fullCellRates(cell, radio);
      link = {
        id: 'cell',
        name: 'shared cell (whole-cell rates)',
        uplinkBitsPerSecond: rates.uplink,
        downlinkBitsPerSecond: rates.downlink,
        latencySeconds: cell.latencySeconds,
        source: 'Shannon rate with the cell bandwidth',
      };
    } else link = resolveLink(u.link as NonNullable<typeof u.link>, `${path}.link`);
    return {
      name: u.name ?? `user ${i}`,
      device: deviceUnderRuntime(
        resolveDevice(u.device, `${path}.device`),
        u.runtime === undefined ? defaultRuntime : resolveRuntime(u.runtime, `${path}.runtime`),
      ),
      link,
      radio,
      promptTokens: u.promptTokens,
      outputTokens: u.outputTokens,
      variant,
      latencySloSeconds: u.latencySloSeconds ?? null,
      ttftSloSeconds: u.ttftSloSeconds ?? null,
      minDeviceLayers: privacyFloor(u.minDeviceLayers, model.layers, `${path}.minDeviceLayers`),
    };
  });
  if (cell !== null) {
    if (users.every((u) => u.radio === null))
      throw new InputError('$.cell', 'no user is in the cell: give some users `radio` instead of `link`');
    if (
      input.admission &&
      cell.allocation === 'continuous' &&
      users.some((u) => u.radio !== null && u.radio.fixedShare === null)
    )
      throw new InputError(
        '$.admission',
        "admission needs a bound on every served user's latency, and a continuous share can be arbitrarily small; " +
          'give the cell resourceBlocks (a user gets at least one)',
      );
    checkFixedShares(
      cell,
      users.map((u) => u.radio),
      users.map((_, i) => `$.users[${i}].radio`),
    );
  }
  const cloud = input.cloud !== undefined ? parseCloud(input, users) : null;
  const kvFormats = parseKvFormats(input, model);
  return {
    kind: 'kv-split-inference',
    model,
    variants,
    server,
    serverRuntime,
    prefillBatchSequences: input.server.prefillBatchSequences,
    cell,
    cloud,
    users,
    objective: input.objective,
    admission: input.admission,
    tokenBytes: input.tokenBytes,
    deviceWeightStreaming: input.deviceWeightStreaming,
    kvFormats,
    kvAccuracyBudget: input.kvAccuracyBudget ?? Infinity,
  };
}

/**
 * KV formats as a decision. Combinations not covered (cloud tier, shared cell) are refused with
 * their reason; a format larger than the model's own KV (bytesFactor above 1) is bad input.
 */
function parseKvFormats(input: KvSplitInput, model: ModelSpec): KvFormat[] | null {
  if (input.kvFormats === undefined) {
    if (input.kvAccuracyBudget !== undefined)
      throw new InputError('$.kvAccuracyBudget', 'an accuracy budget needs `kvFormats` to spend it on');
    return null;
  }
  if (input.cloud !== undefined)
    throw new InputError('$.kvFormats', 'KV formats as a decision together with a cloud tier are not supported yet');
  if (input.cell !== undefined)
    throw new InputError(
      '$.kvFormats',
      'KV formats as a decision together with a shared radio cell are not supported yet',
    );
  const baseBits = 8 * bytesPerValue(kvDtypeOf(model));
  const seen = new Set<string>();
  return input.kvFormats.map((entry, i): KvFormat => {
    const path = `$.kvFormats[${i}]`;
    const id = typeof entry === 'string' ? entry : entry.id;
    if (seen.has(id)) throw new InputError(`${path}.id`, `KV format "${id}" is listed twice`);
    seen.add(id);
    const bits = 8 * bytesPerValue(id);
    const bytesFactor = bits / baseBits;
    if (!(bytesFactor > 0 && bytesFactor <= 1))
      throw new InputError(
        `${path}.id`,
        `bytesFactor must be in (0, 1]: ${id} KV takes ${bits} bits per value, the model's own KV ` +
          `${baseBits} (factor ${bytesFactor})`,
      );
    const given = typeof entry === 'string' ? undefined : entry.accuracyCost;
    const known = KV_FORMAT_ACCURACY_DEFAULTS[id];
    if (given === undefined && known === undefined)
      throw new InputError(`${path}.accuracyCost`, `no sourced accuracy proxy for ${id} KV: give accuracyCost`);
    return {
      id,
      bytesFactor,
      accuracyCost: given ?? (known as { cost: number }).cost,
      source: given !== undefined ? 'given in the input' : (known as { source: string }).source,
    };
  });
}

function privacyFloor(layers: number | undefined, L: number, path: string): number {
  if (layers === undefined) return 0;
  if (layers > L)
    throw new InputError(path, `the privacy floor of ${layers} device layers exceeds the model's ${L} layers`);
  return layers;
}

/**
 * The cloud block. Combinations the three-tier model does not cover are refused with their reason
 * (docs/formulations/kv-split-inference.md, "Three tiers").
 */
function parseCloud(input: KvSplitInput, users: readonly KvUser[]): KvCloud {
  const cloud = input.cloud as NonNullable<KvSplitInput['cloud']>;
  if (input.cell !== undefined)
    throw new InputError('$.cloud', 'a cloud tier together with a shared radio cell is not supported yet');
  if (input.admission) throw new InputError('$.admission', 'admission together with a cloud tier is not supported yet');
  if (input.variants.length > 0)
    throw new InputError('$.cloud', 'LoRA variants together with a cloud tier are not supported yet');
  const ttft = users.findIndex((u) => u.ttftSloSeconds !== null);
  if (ttft >= 0)
    throw new InputError(
      `$.users[${ttft}].ttftSloSeconds`,
      'time-to-first-token limits together with a cloud tier are not supported yet',
    );
  return {
    device: resolveDevice(cloud.device, '$.cloud.device'),
    backhaul: resolveLink(cloud.backhaul, '$.cloud.backhaul'),
    memoryCapacityBytes: cloud.memoryCapacityBytes ?? Infinity,
    pricePerToken: cloud.pricePerToken,
    priceWeightSeconds: cloud.priceWeightSeconds,
  };
}
