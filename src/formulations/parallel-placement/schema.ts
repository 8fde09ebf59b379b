/**
 * Input of the `parallel-placement` kind: pipeline stages made of tensor-parallel (TP) groups, and
 * in training data-parallel (DP) groups inside a stage, over heterogeneous servers. The model,
 * server and link vocabulary is pipeline-placement's: its zod schemas for a server and for the
 * links are imported, and its parser resolves the catalog references and the link matrix, so the
 * two families read the same JSON the same way (and report the same paths).
 */
import { z } from 'zod';
import { modelRefSchema, resolveRuntime, runtimeRefSchema } from '../../catalog/index.ts';
import { runtimeOverheadBytes, runtimeUsableBytes } from '../../cost/runtime.ts';
import { withRuntimeOverheads } from '../../cost/runtime-time.ts';
import { bytesPerValue, DTYPES, type DType } from '../../cost/units.ts';
import type { ModelSpec } from '../../cost/model.ts';
import { TRAINING_ACCOUNTINGS, type Recomputation, type TrainingAccountingName } from '../../cost/training.ts';
import { InputError, inputErrorFromZod } from '../../errors.ts';
import { parsePipeline, pipelineInputSchema, type PipelineServer } from '../pipeline-placement/schema.ts';
import { collectWarnings, plausibility } from '../plausibility.ts';
import type { InputWarning } from '../types.ts';
import { documentFields, nonNegative, nonNegativeInt, positive, positiveInt } from '../zod-primitives.ts';

/** vLLM's KV block: 16 tokens (vllm/config.py, `block_size` default). */
export const VLLM_BLOCK_TOKENS = 16;

const serverSchema = pipelineInputSchema.shape.servers.element.omit({ profile: true }).extend({
  host: z
    .string()
    .min(1)
    .optional()
    .describe('machine the server (GPU/module) sits in; a TP group never leaves one host. Default: its own name'),
});

const dtypeSchema = z.enum(DTYPES);

const trainingSchema = z.strictObject({
  kind: z.literal('training'),
  globalBatchSize: positiveInt.describe('samples per iteration'),
  microBatches: positiveInt.describe('B: micro-batches per iteration; the micro-batch is globalBatchSize / B'),
  sequenceLength: positiveInt,
  schedule: z.enum(['1f1b', 'gpipe']).default('1f1b'),
  accounting: z
    .enum(Object.keys(TRAINING_ACCOUNTINGS) as [TrainingAccountingName, ...TrainingAccountingName[]])
    .default('mixed-16'),
  recomputation: z.enum(['none', 'selective', 'full']).default('none'),
  batchSplit: z
    .enum(['even', 'proportional'])
    .default('proportional')
    .describe('how a stage splits each micro-batch over its DP groups: evenly, or any split (a decision)'),
  iterations: positiveInt.default(1),
});

const inferenceFields = {
  batch: positiveInt.default(1),
  promptTokens: positiveInt,
  outputTokens: nonNegativeInt.default(0),
};

const latencySchema = z.strictObject({
  kind: z.literal('inference-latency'),
  phase: z.enum(['decode', 'prefill']).default('decode'),
  ...inferenceFields,
});
const throughputSchema = z.strictObject({ kind: z.literal('inference-throughput'), ...inferenceFields });
const kvSchema = z.strictObject({
  kind: z.literal('kv-capacity'),
  blockTokens: positiveInt.default(VLLM_BLOCK_TOKENS).describe('tokens per KV block (vLLM: 16)'),
  contextTokens: positiveInt.describe('max_model_len: every stage must hold at least one such sequence'),
});

const modeSchema = z.discriminatedUnion('kind', [trainingSchema, latencySchema, throughputSchema, kvSchema]);

const fraction = z.number().gt(0, 'must be in (0, 1]').lte(1, 'must be in (0, 1]');

const runtimeSchema = z.strictObject({
  gpuMemoryUtilization: fraction
    .optional()
    .describe("fraction of each server's memory the runtime may use (vLLM's gpu_memory_utilization); default 0.9 in kv-capacity mode, else 1"),
  overheadBytes: nonNegative
    .default(0)
    .describe('per-server memory the runtime keeps for itself: CUDA context, workspace, activation peak, CUDA graphs'),
});

const decisionGroupSchema = z.strictObject({
  servers: z.array(z.string().min(1)).min(1),
  samples: positiveInt.optional().describe('training: samples of each micro-batch this group processes'),
});

export const decisionSchema = z.strictObject({
  stages: z
    .array(
      z.strictObject({
        firstLayer: positiveInt,
        lastLayer: positiveInt,
        groups: z.array(decisionGroupSchema).min(1).describe('one TP group in inference; the stage\'s DP groups in training'),
      }),
    )
    .min(1),
});
export type ParallelDecision = z.infer<typeof decisionSchema>;

export const parallelInputSchema = z.strictObject({
  ...documentFields,
  kind: z.literal('parallel-placement'),
  model: modelRefSchema,
  mode: modeSchema,
  servers: z.array(serverSchema).min(1, 'needs at least one server'),
  links: pipelineInputSchema.shape.links,
  tensorParallel: z
    .strictObject({
      degrees: z.array(positiveInt).min(1).default([1, 2, 4, 8]).describe('TP sizes a stage may use'),
      minBitsPerSecond: positive.optional().describe('every pair inside a TP group needs at least this link'),
    })
    .default({ degrees: [1, 2, 4, 8] }),
  maxStages: positiveInt.optional(),
  maxDataParallel: positiveInt.optional().describe('training: at most this many DP groups in one stage'),
  dtypes: z
    .strictObject({
      kv: dtypeSchema.optional(),
      activations: dtypeSchema.optional(),
      embedding: dtypeSchema.optional(),
    })
    .default({})
    .describe('formats besides the weights; default the model\'s, or fp16 when the weights are 8-bit or less'),
  runtime: z
    .union([runtimeSchema, runtimeRefSchema])
    .default({ overheadBytes: 0 })
    .describe(
      '{ gpuMemoryUtilization, overheadBytes } given directly, or a runtime profile: an id of datasets/runtimes.json ' +
        '(vllm, tensorrt-llm, …) or an object overriding one, whose share, per-GPU overhead and host time apply',
    ),
  servingConfig: z
    .strictObject({ tensorParallelSize: positiveInt, pipelineParallelSize: positiveInt })
    .optional()
    .describe('the launch a user would try (vLLM --tensor-parallel-size / --pipeline-parallel-size), for the peers'),
  referencePlan: z
    .strictObject({ name: z.string().min(1), source: z.string().min(1), stages: decisionSchema.shape.stages })
    .optional()
    .describe('a published plan to compare with (scored by our evaluate as a peer)'),
});

export type ParallelInput = z.infer<typeof parallelInputSchema>;

export interface TrainingMode {
  readonly kind: 'training';
  readonly globalBatchSize: number;
  readonly microBatches: number;
  readonly microBatchSize: number;
  readonly sequenceLength: number;
  readonly schedule: '1f1b' | 'gpipe';
  readonly accounting: TrainingAccountingName;
  readonly recomputation: Recomputation;
  readonly batchSplit: 'even' | 'proportional';
  readonly iterations: number;
}

export interface InferenceMode {
  readonly kind: 'inference-latency' | 'inference-throughput';
  readonly phase: 'decode' | 'prefill';
  readonly batch: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
}

export interface KvMode {
  readonly kind: 'kv-capacity';
  readonly blockTokens: number;
  readonly contextTokens: number;
}

export type ParallelMode = TrainingMode | InferenceMode | KvMode;

export interface ParallelServer extends PipelineServer {
  readonly host: string;
  /** memoryBytes × gpuMemoryUtilization − runtime overhead: what the model may use. */
  readonly usableBytes: number;
}

export interface ParallelProblem {
  readonly model: ModelSpec;
  readonly mode: ParallelMode;
  readonly servers: readonly ParallelServer[];
  /** bitsPerSecond[i][j] from server i to j; 0 = no link. */
  readonly bitsPerSecond: readonly (readonly number[])[];
  readonly latencySeconds: readonly (readonly number[])[];
  readonly tpDegrees: readonly number[];
  readonly tpMinBitsPerSecond: number;
  readonly maxStages: number;
  readonly maxDataParallel: number;
  readonly weightDtype: DType;
  readonly kvDtype: DType;
  readonly activationDtype: DType;
  readonly embeddingDtype: DType;
  readonly gpuMemoryUtilization: number;
  readonly overheadBytes: number;
  readonly servingConfig: { readonly tensorParallelSize: number; readonly pipelineParallelSize: number } | null;
  readonly referencePlan: { readonly name: string; readonly source: string; readonly decision: ParallelDecision } | null;
  readonly inputWarnings: readonly InputWarning[];
}

/** Runtimes keep KV cache, activations, embedding and head in 16 bits unless told (vLLM FP8, AWQ, GGUF). */
function sixteenBitUnlessWide(weights: DType): DType {
  return bytesPerValue(weights) >= 2 ? weights : 'fp16';
}

/** The direct block's own fields: an object with one of them was meant as `{ gpuMemoryUtilization, overheadBytes }`. */
const DIRECT_RUNTIME_FIELDS = ['gpuMemoryUtilization', 'overheadBytes'];

export function parseParallel(raw: unknown): ParallelProblem {
  // Both runtime forms are objects, so zod's union would judge a broken direct block as a profile
  // with unknown fields; judge it by the form its fields name instead.
  const given = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).runtime : undefined;
  if (typeof given === 'object' && given !== null && DIRECT_RUNTIME_FIELDS.some((k) => Object.hasOwn(given, k))) {
    const direct = runtimeSchema.safeParse(given, { reportInput: true });
    if (!direct.success) throw inputErrorFromZod(direct.error, '$.runtime');
  }
  const parsed = parallelInputSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const input = parsed.data;
  // pipeline-placement resolves the model, devices and links (same fields, same JSON paths).
  const base = parsePipeline({
    kind: 'pipeline-placement',
    model: input.model,
    mode: { kind: 'inference-throughput', promptTokens: 1 },
    servers: input.servers.map((s) => ({ ...(s.name !== undefined ? { name: s.name } : {}), device: s.device,
      ...(s.memoryBytes !== undefined ? { memoryBytes: s.memoryBytes } : {}), profile: 'none' })),
    ...(input.links !== undefined ? { links: input.links } : {}),
  });
  const model = base.model;
  const L = model.layers;
  const mode = input.mode;
  let parsedMode: ParallelMode;
  if (mode.kind === 'training') {
    if (mode.globalBatchSize % mode.microBatches !== 0)
      throw new InputError(
        '$.mode.microBatches',
        `must divide globalBatchSize (${mode.globalBatchSize}); got ${mode.microBatches}`,
      );
    if (mode.sequenceLength > model.maxContext)
      throw new InputError('$.mode.sequenceLength', `exceeds the model's context (${model.maxContext})`);
    parsedMode = { ...mode, microBatchSize: mode.globalBatchSize / mode.microBatches };
  } else if (mode.kind === 'kv-capacity') {
    if (mode.contextTokens > model.maxContext)
      throw new InputError('$.mode.contextTokens', `exceeds the model's context (${model.maxContext})`);
    parsedMode = mode;
  } else {
    if (mode.promptTokens + mode.outputTokens > model.maxContext)
      throw new InputError(
        '$.mode.promptTokens',
        `prompt + output tokens (${mode.promptTokens + mode.outputTokens}) exceed the model's context (${model.maxContext})`,
      );
    parsedMode = { ...mode, phase: mode.kind === 'inference-latency' ? mode.phase : 'decode' };
  }

  const degrees = [...new Set(input.tensorParallel.degrees)].sort((a, b) => a - b);
  input.tensorParallel.degrees.forEach((g, k) => {
    if (model.heads % g !== 0 || model.kvHeads % g !== 0)
      throw new InputError(
        `$.tensorParallel.degrees[${k}]`,
        `TP degree ${g} must divide both the attention heads (${model.heads}) and the KV heads (${model.kvHeads})`,
      );
  });

  // A runtime profile (an id or a ref object: it never carries overheadBytes) goes through the shared
  // functions every family uses (src/cost/runtime*.ts); the direct block keeps its own two numbers.
  const rt = input.runtime;
  const profile = typeof rt === 'string' || !('overheadBytes' in rt) ? resolveRuntime(rt, '$.runtime') : null;
  const direct = profile === null && typeof rt !== 'string' && 'overheadBytes' in rt ? rt : null;
  const utilization =
    profile !== null
      ? profile.memoryUtilization
      : (direct?.gpuMemoryUtilization ?? (mode.kind === 'kv-capacity' ? 0.9 : 1));
  const overheadBytes = profile !== null ? profile.gpuOverheadBytes : (direct?.overheadBytes ?? 0);
  const servers: ParallelServer[] = base.servers.map((s, i) => {
    const unified = s.device.unifiedMemory === true;
    const usableBytes =
      profile !== null
        ? runtimeUsableBytes(s.memoryBytes, profile, unified)
        : s.memoryBytes * utilization - overheadBytes;
    if (usableBytes <= 0)
      throw new InputError(
        profile !== null ? '$.runtime' : '$.runtime.overheadBytes',
        `leaves nothing on server "${s.name}" (${s.memoryBytes} B × ${utilization} − ` +
          `${profile !== null ? runtimeOverheadBytes(profile, unified) : overheadBytes} B)`,
      );
    const device = profile !== null ? withRuntimeOverheads(s.device, profile) : s.device;
    return { ...s, device, host: input.servers[i].host ?? s.name, usableBytes };
  });
  // A host promises links between its servers: a missing one is a mistake in the file.
  for (let i = 0; i < servers.length; i++)
    for (let j = 0; j < servers.length; j++)
      if (i !== j && servers[i].host === servers[j].host && base.bitsPerSecond[i][j] <= 0)
        throw new InputError(
          `$.servers[${j}].host`,
          `"${servers[j].name}" shares host "${servers[j].host}" with "${servers[i].name}" but no link joins them`,
        );
  const n = servers.length;
  if (input.maxDataParallel !== undefined && input.maxDataParallel > n)
    throw new InputError('$.maxDataParallel', `${input.maxDataParallel} replicas exceed the ${n} servers available`);
  if (input.maxDataParallel !== undefined && mode.kind !== 'training')
    throw new InputError('$.maxDataParallel', 'applies to training only (inference stages hold one TP group)');
  if (input.servingConfig !== undefined) {
    const c = input.servingConfig;
    if (c.tensorParallelSize * c.pipelineParallelSize > n)
      throw new InputError(
        '$.servingConfig',
        `tp ${c.tensorParallelSize} × pp ${c.pipelineParallelSize} needs ${c.tensorParallelSize * c.pipelineParallelSize} servers; ${n} available`,
      );
    if (model.heads % c.tensorParallelSize !== 0 || model.kvHeads % c.tensorParallelSize !== 0)
      throw new InputError(
        '$.servingConfig.tensorParallelSize',
        `TP degree ${c.tensorParallelSize} must divide both the attention heads (${model.heads}) and the KV heads (${model.kvHeads})`,
      );
    if (c.pipelineParallelSize > L)
      throw new InputError('$.servingConfig.pipelineParallelSize', `exceeds the model's ${L} layers`);
  }
  const warnings = [...base.inputWarnings];
  if (direct !== null && direct.overheadBytes > 0)
    warnings.push(...collectWarnings([plausibility('$.runtime.overheadBytes', direct.overheadBytes, 'memoryBytes')]));
  if (input.tensorParallel.minBitsPerSecond !== undefined)
    warnings.push(
      ...collectWarnings([
        plausibility('$.tensorParallel.minBitsPerSecond', input.tensorParallel.minBitsPerSecond, 'bitsPerSecond'),
      ]),
    );
  const weightDtype = model.dtype;
  return {
    model,
    mode: parsedMode,
    servers,
    bitsPerSecond: base.bitsPerSecond,
    latencySeconds: base.latencySeconds,
    tpDegrees: degrees,
    tpMinBitsPerSecond: input.tensorParallel.minBitsPerSecond ?? 0,
    maxStages: Math.min(L, n, input.maxStages ?? Infinity),
    maxDataParallel: mode.kind === 'training' ? Math.min(n, input.maxDataParallel ?? n) : 1,
    weightDtype,
    kvDtype: input.dtypes.kv ?? sixteenBitUnlessWide(weightDtype),
    activationDtype: input.dtypes.activations ?? sixteenBitUnlessWide(weightDtype),
    embeddingDtype: input.dtypes.embedding ?? sixteenBitUnlessWide(weightDtype),
    gpuMemoryUtilization: utilization,
    overheadBytes,
    servingConfig: input.servingConfig ?? null,
    referencePlan: input.referencePlan
      ? { name: input.referencePlan.name, source: input.referencePlan.source, decision: { stages: input.referencePlan.stages } }
      : null,
    inputWarnings: warnings,
  };
}
