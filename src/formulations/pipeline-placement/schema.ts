/**
 * Input of the `pipeline-placement` kind: a model, a workload mode (training with micro-batches,
 * inference latency of one request, inference throughput), a pool of edge servers and the links
 * between every ordered pair of them. Parsing resolves catalog references and measured profiles
 * and turns every link description into one directed bandwidth/latency matrix.
 */
import { z } from 'zod';
import { documentFields, loraSchema, nonNegative, nonNegativeInt, positive, positiveInt } from '../zod-primitives.ts';
import type { DeviceSpec, MeasuredProfile } from '../../cost/device.ts';
import type { DType } from '../../cost/units.ts';
import { collectWarnings, plausibility } from '../plausibility.ts';
import type { InputWarning } from '../types.ts';
import type { ModelSpec } from '../../cost/model.ts';
import {
  TRAINING_ACCOUNTINGS,
  type LoraConfig,
  type Recomputation,
  type TrainingAccountingName,
} from '../../cost/training.ts';
import { DTYPES } from '../../cost/units.ts';
import { runtimeWorkspaceBytes } from '../../cost/memory.ts';
import { runtimeUsableBytes, type RuntimeSpec } from '../../cost/runtime.ts';
import {
  deviceRefSchema,
  resolveRuntime,
  runtimeRefSchema,
  findProfile,
  linkRefSchema,
  loadCatalog,
  modelRefSchema,
  resolveDevice,
  resolveLink,
  resolveModel,
  type LinkRef,
} from '../../catalog/index.ts';
import { InputError, inputErrorFromZod } from '../../errors.ts';


const trainingModeSchema = z.strictObject({
  kind: z.literal('training'),
  microBatches: positiveInt.describe('B: micro-batches per iteration'),
  microBatchSize: positiveInt.default(1).describe('samples per micro-batch'),
  sequenceLength: positiveInt.describe('tokens per sample'),
  schedule: z.enum(['gpipe', '1f1b']).default('1f1b'),
  trained: z.enum(['full', 'lora']).default('full').describe('how the non-frozen layers are trained'),
  frozenPrefixLayers: nonNegativeInt.default(0).describe('layers 1..F are frozen (forward only); F < layers'),
  lora: loraSchema.optional(),
  accounting: z
    .enum(Object.keys(TRAINING_ACCOUNTINGS) as [TrainingAccountingName, ...TrainingAccountingName[]])
    .default('mixed-16')
    .describe('bytes per trainable parameter: mixed-16 (fp32 master, the standard), seed-12 (the seed\'s), fp32-adam'),
  recomputation: z.enum(['none', 'selective', 'full']).default('none'),
  iterations: positiveInt
    .default(1)
    .describe('iterations to the target accuracy; the objective is iterations × iteration time'),
});

const inferenceFields = {
  batch: positiveInt.default(1),
  promptTokens: positiveInt,
  outputTokens: nonNegativeInt.default(0),
  returnToSource: z
    .boolean()
    .optional()
    .describe('send the generated token back to the source (default: true when a source is pinned)'),
  activationBytesPerHop: positive
    .optional()
    .describe('bytes crossing a stage boundary per step; default from the model (or the measured profiles)'),
};

const latencyModeSchema = z.strictObject({
  kind: z.literal('inference-latency'),
  phase: z.enum(['decode', 'prefill']).default('decode'),
  ...inferenceFields,
});

const throughputModeSchema = z.strictObject({
  kind: z.literal('inference-throughput'),
  ...inferenceFields,
});

const modeSchema = z.discriminatedUnion('kind', [trainingModeSchema, latencyModeSchema, throughputModeSchema]);

/** A measured profile written inline (the catalog's fields, all but the layer times optional). */
const inlineProfileSchema = z.strictObject({
  layerSeconds: z.array(nonNegative).min(1).describe('index 0 is layer 1'),
  embeddingSeconds: nonNegative.optional(),
  headSeconds: nonNegative.optional(),
  layerMemoryBytes: positive.optional(),
  embeddingMemoryBytes: nonNegative.optional(),
  headMemoryBytes: nonNegative.optional(),
  usableMemoryBytes: positive.optional(),
  activationBytesPerHop: positive.optional(),
  dtype: z.enum(DTYPES).optional(),
  source: z.string().optional(),
});

const runtimeField = runtimeRefSchema.describe(
  'runtime profile id of datasets/runtimes.json (vllm, llama.cpp, …) or an object overriding one: its memory ' +
    'share, fixed overhead, prefill workspace, KV blocks and per-layer host time; absent: no runtime modelled',
);

const serverSchema = z.strictObject({
  name: z.string().min(1).optional().describe('unique name; default "server<i>"'),
  device: deviceRefSchema,
  runtime: runtimeField.optional().describe('this server\'s runtime (overrides the problem\'s $.runtime)'),
  memoryBytes: positive
    .optional()
    .describe("memory usable for the model; default the profile's usable memory, else the device's"),
  profile: z
    .union([z.literal('auto'), z.literal('none'), z.string().min(1), inlineProfileSchema])
    .default('auto')
    .describe(
      '"auto": the catalog profile for (model, device) measured at the model\'s precision, in inference modes; "none": roofline; an id or inline (may differ in precision: explicit mixed precision)',
    ),
});

const pairSchema = z.strictObject({
  from: z.string().min(1),
  to: z.string().min(1),
  link: linkRefSchema.optional(),
  bitsPerSecond: positive.optional(),
  latencySeconds: nonNegative.optional(),
  symmetric: z.boolean().default(true).describe('also set the reverse direction'),
});

const linksSchema = z.strictObject({
  default: linkRefSchema.optional().describe('link between every pair not otherwise given'),
  bitsPerSecondMatrix: z
    .array(z.array(positive.nullable()))
    .optional()
    .describe('[from][to] in server order; null = no link'),
  latencySecondsMatrix: z.array(z.array(nonNegative)).optional(),
  pairs: z.array(pairSchema).optional(),
});

export const pipelineInputSchema = z.strictObject({
  ...documentFields,
  kind: z.literal('pipeline-placement'),
  model: modelRefSchema,
  mode: modeSchema,
  servers: z.array(serverSchema).min(1, 'needs at least one server'),
  links: linksSchema.optional(),
  source: z.string().min(1).optional().describe('server where the data lives; pinned as stage 1'),
  maxStages: positiveInt.optional().describe('at most this many servers (stages)'),
  stages: positiveInt
    .optional()
    .describe('exactly this many servers (stages), e.g. for a sweep over the number of servers'),
  serverOrder: z
    .enum(['any', 'listed'])
    .default('any')
    .describe('"listed": the pipeline visits servers in list order (source first)'),
  runtime: runtimeField.optional().describe('runtime of every server that names none'),
});

export type PipelineInput = z.infer<typeof pipelineInputSchema>;

export interface TrainingMode {
  readonly kind: 'training';
  readonly microBatches: number;
  readonly microBatchSize: number;
  readonly sequenceLength: number;
  readonly schedule: 'gpipe' | '1f1b';
  readonly trained: 'full' | 'lora';
  readonly frozenPrefixLayers: number;
  readonly lora?: LoraConfig;
  readonly accounting: TrainingAccountingName;
  readonly recomputation: Recomputation;
  readonly iterations: number;
}

export interface InferenceMode {
  readonly kind: 'inference-latency' | 'inference-throughput';
  /** Latency mode times one decode step or the prefill; throughput is always decode. */
  readonly phase: 'decode' | 'prefill';
  readonly batch: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly returnToSource: boolean;
  readonly activationBytesPerHop?: number;
}

export type PipelineMode = TrainingMode | InferenceMode;

export interface PipelineServer {
  readonly name: string;
  readonly device: DeviceSpec;
  /**
   * Memory the model's weights, KV cache and activations may use: the server's memory (given, the
   * profile's usable memory, or the device's) × the runtime's memory share − its fixed overhead −
   * the prefill workspace of one layer (inference; a stage runs its layers one at a time).
   */
  readonly memoryBytes: number;
  /** The runtime serving on this server; null: none modelled (all memory usable, exact KV, no workspace). */
  readonly runtime: RuntimeSpec | null;
  /** What the runtime takes from the server's memory (share not claimed + overhead + workspace); 0 without one. */
  readonly runtimeReservedBytes: number;
  /** Measured per-layer times (and memory) that replace the roofline for this server. */
  readonly profile?: MeasuredProfile;
  /**
   * Number format of this server's weights, KV cache and the activations it sends: the profile's
   * when it has one (an explicitly named profile may differ from the model: mixed precision), else the model's.
   */
  readonly precision: DType;
  /** Why `auto` left a catalog profile unused (it was measured at another precision), for the report. */
  readonly profileNote?: string;
}

/** The parsed problem: SI units, catalog resolved, links as directed matrices (Infinity = none). */
export interface PipelineProblem {
  readonly model: ModelSpec;
  readonly mode: PipelineMode;
  readonly servers: readonly PipelineServer[];
  /** bitsPerSecond[i][j] for a transfer from server i to server j; 0 means no link. */
  readonly bitsPerSecond: readonly (readonly number[])[];
  readonly latencySeconds: readonly (readonly number[])[];
  /** Index of the pinned source server (stage 1), or null. */
  readonly source: number | null;
  readonly maxStages: number;
  /** Exactly this many stages when set. */
  readonly stages: number | null;
  readonly serverOrder: 'any' | 'listed';
  /** Plausibility remarks on the typed quantities (values off by orders of magnitude), with JSON paths. */
  readonly inputWarnings: readonly InputWarning[];
}

export const decisionSchema = z.strictObject({
  stages: z
    .array(
      z.strictObject({
        server: z.string().min(1),
        firstLayer: positiveInt,
        lastLayer: positiveInt,
      }),
    )
    .min(1),
});
export type PipelineDecision = z.infer<typeof decisionSchema>;

/** A catalog link's rate for a server-to-server hop: up from the sender, down to the receiver. */
function linkRate(ref: LinkRef, path: string): { bitsPerSecond: number; latencySeconds: number } {
  const link = resolveLink(ref, path);
  return {
    bitsPerSecond: Math.min(link.uplinkBitsPerSecond, link.downlinkBitsPerSecond),
    latencySeconds: link.latencySeconds,
  };
}

interface ResolvedProfile {
  readonly profile?: MeasuredProfile;
  readonly note?: string;
}

function resolveServerProfile(
  raw: PipelineInput['servers'][number]['profile'],
  model: ModelSpec,
  device: DeviceSpec,
  inference: boolean,
  path: string,
): ResolvedProfile {
  if (raw === 'none') return {};
  if (raw === 'auto') {
    if (!inference) return {};
    const found = findProfile(model.id, device.id);
    if (!found) return {};
    // A profile measured at another precision would silently change the model's weights, KV
    // cache and hop sizes on this server (Llama-2-7B fp16 "needing" 27.6 GB on a 3090): `auto`
    // only takes a profile of the model's own precision; a different one must be named.
    const dtype = found.dtype ?? model.dtype;
    if (dtype !== model.dtype) {
      return {
        note: `catalog profile ${found.id} is ${dtype}, the model is ${model.dtype}: roofline used (name the profile to use it)`,
      };
    }
    return { profile: found };
  }
  // A measured profile times one inference pass; training work (forward + backward per
  // micro-batch) comes from the roofline, so a profile there would be silently wrong.
  if (!inference)
    throw new InputError(
      path,
      'measured profiles time inference; in training mode layer times come from the roofline (omit the profile or give "none")',
    );
  let profile: MeasuredProfile;
  if (typeof raw === 'string') {
    const found = loadCatalog().profiles.get(raw);
    if (!found)
      throw new InputError(
        path,
        `unknown profile "${raw}"; known profiles: ${[...loadCatalog().profiles.keys()].join(', ')}`,
      );
    profile = found;
  } else {
    profile = {
      id: 'inline-profile',
      modelId: model.id,
      deviceId: device.id,
      batch: 1,
      tokens: 1,
      ...raw,
      source: raw.source ?? 'given inline in the problem file',
    };
  }
  if (profile.layerSeconds.length < model.layers) {
    throw new InputError(
      `${path}.layerSeconds`,
      `has ${profile.layerSeconds.length} entries but the model has ${model.layers} layers`,
    );
  }
  return { profile };
}

/** Plausibility of the quantities a server entry types in (memory, inline device and profile). */
function serverWarnings(raw: PipelineInput['servers'][number], server: PipelineServer, i: number): InputWarning[] {
  const at = `$.servers[${i}]`;
  const checks = [
    plausibility(
      raw.memoryBytes !== undefined ? `${at}.memoryBytes` : `${at}.device`,
      server.memoryBytes,
      'memoryBytes',
    ),
  ];
  if (typeof raw.device === 'object') {
    checks.push(
      plausibility(`${at}.device.peakFlopsPerSecond`, server.device.peakFlopsPerSecond, 'flopsPerSecond'),
      plausibility(
        `${at}.device.memoryBandwidthBytesPerSecond`,
        server.device.memoryBandwidthBytesPerSecond,
        'bytesPerSecond',
      ),
      plausibility(`${at}.device.memoryBytes`, server.device.memoryBytes, 'memoryBytes'),
    );
  }
  if (typeof raw.profile === 'object') {
    const p = raw.profile;
    p.layerSeconds.forEach((x, l) => checks.push(plausibility(`${at}.profile.layerSeconds[${l}]`, x, 'seconds')));
    for (const key of ['embeddingSeconds', 'headSeconds'] as const) {
      const v = p[key];
      if (v !== undefined) checks.push(plausibility(`${at}.profile.${key}`, v, 'seconds'));
    }
    for (const key of ['layerMemoryBytes', 'embeddingMemoryBytes', 'headMemoryBytes', 'usableMemoryBytes'] as const) {
      const v = p[key];
      if (v !== undefined) checks.push(plausibility(`${at}.profile.${key}`, v, 'memoryBytes'));
    }
  }
  return collectWarnings(checks);
}

/** Raw JSON → PipelineProblem; every rule broken is an InputError with its JSON path. */
export function parsePipeline(raw: unknown): PipelineProblem {
  const parsed = pipelineInputSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const input = parsed.data;
  const model = resolveModel(input.model, '$.model');
  const L = model.layers;
  const inference = input.mode.kind !== 'training';

  const names = new Map<string, number>();
  const servers: PipelineServer[] = input.servers.map((s, i) => {
    const name = s.name ?? `server${i}`;
    if (names.has(name))
      throw new InputError(
        `$.servers[${i}].name`,
        `duplicate server name "${name}" (also $.servers[${names.get(name)}])`,
      );
    names.set(name, i);
    const device = resolveDevice(s.device, `$.servers[${i}].device`);
    const { profile, note } = resolveServerProfile(s.profile, model, device, inference, `$.servers[${i}].profile`);
    const givenBytes = s.memoryBytes ?? profile?.usableMemoryBytes ?? device.memoryBytes;
    const runtimeRef = s.runtime ?? input.runtime;
    const runtime =
      runtimeRef === undefined
        ? null
        : resolveRuntime(runtimeRef, s.runtime !== undefined ? `$.servers[${i}].runtime` : '$.runtime');
    const m = input.mode;
    const workspace = m.kind === 'training' ? 0 : runtimeWorkspaceBytes(model, runtime, m.batch, m.promptTokens);
    // Never negative: a runtime that leaves nothing makes the server unusable (infeasible), not the input wrong.
    const memoryBytes = Math.max(0, runtimeUsableBytes(givenBytes, runtime, device.unifiedMemory === true) - workspace);
    const precision = profile?.dtype ?? model.dtype;
    return {
      name,
      device,
      memoryBytes,
      runtime,
      runtimeReservedBytes: runtime === null ? 0 : givenBytes - memoryBytes,
      profile,
      precision,
      ...(note !== undefined ? { profileNote: note } : {}),
    };
  });
  const warnings: InputWarning[] = input.servers.flatMap((s, i) =>
    serverWarnings(s, { ...servers[i], memoryBytes: servers[i].memoryBytes + servers[i].runtimeReservedBytes }, i),
  );
  const n = servers.length;
  const serverIndex = (name: string, path: string): number => {
    const i = names.get(name);
    if (i === undefined)
      throw new InputError(path, `unknown server "${name}"; servers: ${[...names.keys()].join(', ')}`);
    return i;
  };

  let mode: PipelineMode;
  if (input.mode.kind === 'training') {
    const m = input.mode;
    if (m.frozenPrefixLayers >= L)
      throw new InputError(
        '$.mode.frozenPrefixLayers',
        `must be below the number of layers (${L}); a fully frozen model has nothing to train`,
      );
    if (m.trained === 'lora' && !m.lora)
      throw new InputError('$.mode.lora', 'is required when trained is "lora" (rank and targets)');
    if (m.trained !== 'lora' && m.lora) throw new InputError('$.mode.lora', 'applies only when trained is "lora"');
    if (m.sequenceLength > model.maxContext)
      throw new InputError('$.mode.sequenceLength', `exceeds the model's context (${model.maxContext})`);
    mode = { ...m, lora: m.lora ? { rank: m.lora.rank, targets: m.lora.targets } : undefined };
  } else {
    const m = input.mode;
    if (m.promptTokens + m.outputTokens > model.maxContext)
      throw new InputError(
        '$.mode.promptTokens',
        `prompt + output tokens (${m.promptTokens + m.outputTokens}) exceed the model's context (${model.maxContext})`,
      );
    if (m.returnToSource === true && input.source === undefined)
      throw new InputError('$.mode.returnToSource', 'needs a pinned source ($.source) to return to');
    mode = {
      kind: m.kind,
      phase: m.kind === 'inference-latency' ? m.phase : 'decode',
      batch: m.batch,
      promptTokens: m.promptTokens,
      outputTokens: m.outputTokens,
      returnToSource: m.returnToSource ?? input.source !== undefined,
      activationBytesPerHop: m.activationBytesPerHop,
    };
  }

  // Links: default everywhere, then a full matrix, then individual pairs, later ones winning.
  const bitsPerSecond = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const latencySeconds = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const links = input.links ?? {};
  if (links.default === undefined && links.bitsPerSecondMatrix === undefined && links.pairs === undefined && n > 1) {
    throw new InputError('$.links', 'is required with more than one server (give "default", the matrices, or "pairs")');
  }
  if (links.default !== undefined) {
    const r = linkRate(links.default, '$.links.default');
    warnings.push(
      ...collectWarnings([
        plausibility('$.links.default', r.bitsPerSecond, 'bitsPerSecond'),
        plausibility('$.links.default', r.latencySeconds, 'seconds'),
      ]),
    );
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (i !== j) {
          bitsPerSecond[i][j] = r.bitsPerSecond;
          latencySeconds[i][j] = r.latencySeconds;
        }
  }
  if (links.bitsPerSecondMatrix !== undefined || links.latencySecondsMatrix !== undefined) {
    const bm = links.bitsPerSecondMatrix;
    const lm = links.latencySecondsMatrix;
    if (bm === undefined)
      throw new InputError('$.links.bitsPerSecondMatrix', 'is required together with latencySecondsMatrix');
    if (lm === undefined)
      throw new InputError('$.links.latencySecondsMatrix', 'is required together with bitsPerSecondMatrix');
    for (const [field, mat] of [
      ['bitsPerSecondMatrix', bm],
      ['latencySecondsMatrix', lm],
    ] as const) {
      if (mat.length !== n)
        throw new InputError(`$.links.${field}`, `must have one row per server (${n}), got ${mat.length}`);
      mat.forEach((row, i) => {
        if (row.length !== n)
          throw new InputError(`$.links.${field}[${i}]`, `must have one entry per server (${n}), got ${row.length}`);
      });
    }
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (i !== j) {
          bitsPerSecond[i][j] = bm[i][j] ?? 0;
          latencySeconds[i][j] = lm[i][j];
          warnings.push(
            ...collectWarnings([
              plausibility(`$.links.bitsPerSecondMatrix[${i}][${j}]`, bitsPerSecond[i][j], 'bitsPerSecond'),
              plausibility(`$.links.latencySecondsMatrix[${i}][${j}]`, latencySeconds[i][j], 'seconds'),
            ]),
          );
        }
  }
  (links.pairs ?? []).forEach((p, k) => {
    const path = `$.links.pairs[${k}]`;
    const i = serverIndex(p.from, `${path}.from`);
    const j = serverIndex(p.to, `${path}.to`);
    if (i === j) throw new InputError(`${path}.to`, 'a link joins two different servers');
    let rate: { bitsPerSecond: number; latencySeconds: number };
    if (p.link !== undefined) {
      if (p.bitsPerSecond !== undefined || p.latencySeconds !== undefined)
        throw new InputError(`${path}.link`, 'give either link or bitsPerSecond/latencySeconds, not both');
      rate = linkRate(p.link, `${path}.link`);
    } else {
      if (p.bitsPerSecond === undefined)
        throw new InputError(`${path}.bitsPerSecond`, 'is required when no link profile is named');
      rate = { bitsPerSecond: p.bitsPerSecond, latencySeconds: p.latencySeconds ?? 0 };
    }
    const from = p.link !== undefined ? `${path}.link` : path;
    warnings.push(
      ...collectWarnings([
        plausibility(p.link !== undefined ? from : `${path}.bitsPerSecond`, rate.bitsPerSecond, 'bitsPerSecond'),
        plausibility(p.link !== undefined ? from : `${path}.latencySeconds`, rate.latencySeconds, 'seconds'),
      ]),
    );
    const dirs: [number, number][] = p.symmetric
      ? [
          [i, j],
          [j, i],
        ]
      : [[i, j]];
    for (const [a, b] of dirs) {
      bitsPerSecond[a][b] = rate.bitsPerSecond;
      latencySeconds[a][b] = rate.latencySeconds;
    }
  });

  const source = input.source === undefined ? null : serverIndex(input.source, '$.source');
  if (input.maxStages !== undefined && input.stages !== undefined && input.stages > input.maxStages) {
    throw new InputError('$.stages', `exceeds maxStages (${input.maxStages})`);
  }
  if (input.stages !== undefined && input.stages > Math.min(n, L)) {
    throw new InputError('$.stages', `cannot exceed the number of servers (${n}) or of layers (${L})`);
  }
  const maxStages = Math.min(n, L, input.maxStages ?? Infinity);
  return {
    model,
    mode,
    servers,
    bitsPerSecond,
    latencySeconds,
    source,
    maxStages,
    stages: input.stages ?? null,
    serverOrder: input.serverOrder,
    inputWarnings: warnings,
  };
}
