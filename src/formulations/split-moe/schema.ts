/**
 * Input of the split-moe family (seed §VI-A3, SplitMoE): user classes, each with a device, an
 * uplink to its access edge server and its own routing statistics; edge servers that hold experts
 * (with replicas) and talk over a server-to-server link; one MoE model. The decision is a device
 * cut per class, the expert placement, and per class the share of each expert's calls each holder
 * serves (the rest, when the class allows it, is dropped: top-k reduced).
 */
import { z } from 'zod';
import {
  deviceRefSchema,
  linkRefSchema,
  modelRefSchema,
  resolveDevice,
  resolveLink,
  resolveModel,
  resolveRuntime,
  runtimeRefSchema,
  type DeviceRef,
  type RuntimeRef,
} from '../../catalog/index.ts';
import type { RuntimeSpec } from '../../cost/runtime.ts';
import { deviceWithBudget, type DeviceBudget } from '../../cost/runtime-budget.ts';
import type { DeviceSpec } from '../../cost/device.ts';
import type { LinkSpec } from '../../cost/link.ts';
import {
  activationBytesPerToken,
  expertParams,
  headForwardFlopsPerToken,
  kvBytesPerToken,
  layerForwardFlopsPerToken,
  modelWeightBytes,
  weightBytes,
  type ModelSpec,
} from '../../cost/model.ts';
import { InputError, inputErrorFromZod } from '../../errors.ts';
import {
  generatePopularity,
  lognormalPopularitySchema,
  type PopularitySource,
  zipfPopularitySchema,
} from '../moe-placement/schema.ts';
import { FEASIBILITY_RTOL } from '../tolerance.ts';
import { documentFields, nonNegative, nonNegativeInt, positive, positiveInt, probability } from '../zod-primitives.ts';

/** Absurd sizes are bad input: the MILP has classes × layers × experts × servers routing columns. */
export const SPLIT_MOE_MAXIMA = {
  classes: 64,
  servers: 64,
  layers: 200,
  experts: 512,
  routingCells: 2_000_000,
} as const;

const inlineMoeSchema = z.strictObject({
  name: z.string().min(1).optional(),
  layers: positiveInt
    .lte(SPLIT_MOE_MAXIMA.layers, `at most ${SPLIT_MOE_MAXIMA.layers} MoE layers (absurd size)`)
    .describe('MoE layers'),
  experts: positiveInt
    .lte(SPLIT_MOE_MAXIMA.experts, `at most ${SPLIT_MOE_MAXIMA.experts} experts (absurd size)`)
    .describe('routed experts per layer'),
  topK: positiveInt.describe('experts each token is routed to'),
  expertBytes: positive.describe('bytes of one routed expert'),
  expertFlopsPerToken: positive.describe('FLOPs of one expert on one token'),
  activationBytesPerToken: positive.describe('hidden-state bytes of one token (what an expert call carries each way)'),
  denseBytes: nonNegative.describe(
    'every weight that is not a routed expert (embeddings, attention, routers, shared experts, head)',
  ),
  denseFlopsPerToken: nonNegative.describe('FLOPs per token of the dense parts'),
  kvBytesPerToken: nonNegative.default(0).describe('KV-cache bytes one context token adds (all layers)'),
  denseCalls: nonNegativeInt.optional().describe('kernel calls per token of the dense parts (default: layers + 2)'),
});

/** A row of routing probabilities: dense (one per expert) or sparse ({ "expert index": probability }). */
const rowSchema = z.union([z.array(probability), z.record(z.string(), probability)]);

const popularitySchema = z.union([
  z.strictObject({
    matrix: z
      .array(rowSchema)
      .min(1, 'at least one row')
      .describe('per MoE layer, the probability a call goes to each expert (sums to 1); one row = every layer'),
  }),
  zipfPopularitySchema,
  lognormalPopularitySchema,
]);

const classSchema = z.strictObject({
  name: z.string().min(1).optional(),
  users: positiveInt
    .lte(1e7, 'at most 10^7 users per class (absurd size)')
    .default(1)
    .describe('users in the class; each decodes one token per step'),
  device: deviceRefSchema.describe('catalog device id or an object overriding catalog fields'),
  memoryBytes: positive.optional().describe('device memory for the model (default: the device memory)'),
  runtime: runtimeRefSchema.optional().describe("runtime the class's devices run with (overrides $.runtime)"),
  link: linkRefSchema.describe('the uplink/downlink to the access server (rates in bit/s)'),
  server: nonNegativeInt.describe('index of the access edge server'),
  contextTokens: nonNegativeInt
    .lte(1e7, 'at most 10^7 tokens (absurd size)')
    .default(1024)
    .describe('tokens of context held in the device KV cache'),
  popularity: popularitySchema,
  minDeviceLayers: nonNegativeInt.default(0).describe('privacy floor: MoE layers whose experts must run on the device'),
  maxDroppedShare: probability
    .default(0)
    .describe('accuracy proxy budget: mean over MoE layers of the routing mass whose expert calls may be skipped'),
  latencySloSeconds: positive.optional().describe('per-token latency this class accepts'),
});

const serverSchema = z.strictObject({
  name: z.string().min(1).optional(),
  device: deviceRefSchema,
  expertMemoryBytes: positive.optional().describe('memory for experts (default: the device memory)'),
  runtime: runtimeRefSchema.optional().describe('runtime the server serves experts with (overrides $.runtime)'),
});

export const inputSchema = z.strictObject({
  ...documentFields,
  kind: z.literal('split-moe'),
  model: modelRefSchema
    .optional()
    .describe('catalog MoE model (mixtral-8x7b, deepseek-v3) or an object overriding catalog fields'),
  moe: inlineMoeSchema.optional().describe('sizes written out instead of a model'),
  runtime: runtimeRefSchema
    .optional()
    .describe(
      'runtime of every device and server unless they name their own (datasets/runtimes.json id or an object ' +
        'overriding one): its memory share and fixed overhead leave less memory, its host time is added per ' +
        'layer call; absent: none',
    ),
  servers: z
    .array(serverSchema)
    .min(1, 'at least one edge server')
    .max(SPLIT_MOE_MAXIMA.servers, `at most ${SPLIT_MOE_MAXIMA.servers} servers (absurd size)`),
  serverLink: linkRefSchema
    .optional()
    .describe('link between any two edge servers (required with two or more servers)'),
  serverLinks: z
    .array(
      z.strictObject({
        servers: z.tuple([nonNegativeInt, nonNegativeInt]).describe('the two servers (indices) this link joins'),
        link: linkRefSchema,
      }),
    )
    .default([])
    .describe('links between particular pairs of servers, overriding `serverLink` for them (both directions)'),
  classes: z
    .array(classSchema)
    .min(1, 'at least one user class')
    .max(SPLIT_MOE_MAXIMA.classes, `at most ${SPLIT_MOE_MAXIMA.classes} classes (absurd size)`),
  objective: z.enum(['max', 'mean', 'network']).default('max'),
  replicaTokenLimit: z
    .union([z.literal('knee'), z.literal('none'), positive])
    .default('knee')
    .describe('tokens per decode step one replica may serve: the roofline knee (default), none, or a number'),
});

// The seeded generators are moe-placement's (one code path for both MoE families).
export type { PopularitySource };

export interface SplitMoeClass {
  readonly name: string;
  readonly users: number;
  readonly device: DeviceSpec;
  readonly memoryBytes: number;
  readonly link: LinkSpec;
  readonly server: number;
  readonly contextTokens: number;
  /** [layer][expert], each row sums to 1. */
  readonly popularity: readonly (readonly number[])[];
  readonly popularitySource: PopularitySource;
  readonly minDeviceLayers: number;
  readonly maxDroppedShare: number;
  readonly latencySloSeconds: number | null;
}

export interface SplitMoeServer {
  readonly name: string;
  readonly device: DeviceSpec;
  readonly expertMemoryBytes: number;
}

export type SplitMoeObjective = 'max' | 'mean' | 'network';

export interface SplitMoeProblem {
  readonly kind: 'split-moe';
  readonly modelName: string;
  /** MoE layers (the model's dense-FFN layers belong to the dense parts). */
  readonly layers: number;
  readonly experts: number;
  readonly topK: number;
  readonly expertBytes: number;
  readonly expertFlopsPerToken: number;
  readonly activationBytesPerToken: number;
  readonly denseBytes: number;
  readonly denseFlopsPerToken: number;
  readonly kvBytesPerToken: number;
  readonly denseCalls: number;
  readonly servers: readonly SplitMoeServer[];
  readonly serverLink: LinkSpec | null;
  /** [from][to]: the link between two servers (a pair override, else `serverLink`); null on the diagonal. */
  readonly serverLinks: readonly (readonly (LinkSpec | null)[])[];
  readonly classes: readonly SplitMoeClass[];
  readonly objective: SplitMoeObjective;
  /** 'knee', 'none', or tokens per step. */
  readonly replicaTokenLimit: 'knee' | 'none' | number;
}

/** One holder's share of a class's calls to one expert. */
export interface Route {
  readonly server: number;
  readonly share: number;
}

export interface SplitMoeDecision {
  /** Per class: MoE layers whose experts run on the device (layers 0 … cut − 1). */
  readonly cuts: readonly number[];
  /** [layer][expert] → servers holding a replica. */
  readonly placement: readonly (readonly (readonly number[])[])[];
  /**
   * [class][layer][expert] → holders and shares. Empty on the class's device layers; on its remote
   * layers the shares sum to 1 minus the dropped share of that expert's calls.
   */
  readonly routing: readonly (readonly (readonly (readonly Route[])[])[])[];
}

export const decisionSchema: z.ZodType<SplitMoeDecision> = z.strictObject({
  cuts: z.array(nonNegativeInt),
  placement: z.array(z.array(z.array(nonNegativeInt))),
  routing: z.array(z.array(z.array(z.array(z.strictObject({ server: nonNegativeInt, share: z.number().finite() }))))),
});

type Input = z.infer<typeof inputSchema>;

interface Shape {
  name: string;
  layers: number;
  experts: number;
  topK: number;
  expertBytes: number;
  expertFlopsPerToken: number;
  activationBytesPerToken: number;
  denseBytes: number;
  denseFlopsPerToken: number;
  kvBytesPerToken: number;
  denseCalls: number;
}

/**
 * Sizes from a catalog model: routed experts are the only parts that may leave the device; the
 * dense parts are everything else (embeddings, attention, routers, shared experts, dense-FFN
 * layers, head). Dense FLOPs per token are the model's forward FLOPs at an empty context minus the
 * routed experts' (the attention over the context is added per class).
 */
function catalogShape(model: ModelSpec): Shape {
  const moe = model.moe;
  if (!moe) throw new InputError('$.model', `model "${model.id}" has no mixture-of-experts layers`);
  const layers = model.layers - moe.denseLayers;
  if (layers <= 0)
    throw new InputError('$.model', `model "${model.id}" has no MoE layers (all ${model.layers} are dense)`);
  const expertBytes = weightBytes(expertParams(model), model.dtype);
  const expertFlops = 2 * expertParams(model);
  let flops = headForwardFlopsPerToken(model);
  for (let l = 1; l <= model.layers; l++) flops += layerForwardFlopsPerToken(model, l, 0);
  return {
    name: model.name,
    layers,
    experts: moe.experts,
    topK: moe.topK,
    expertBytes,
    expertFlopsPerToken: expertFlops,
    activationBytesPerToken: activationBytesPerToken(model),
    denseBytes: Math.max(0, modelWeightBytes(model) - layers * moe.experts * expertBytes),
    denseFlopsPerToken: Math.max(0, flops - layers * moe.topK * expertFlops),
    kvBytesPerToken: kvBytesPerToken(model),
    denseCalls: model.layers + 2,
  };
}

function shapeOf(input: Input): Shape {
  if (input.model !== undefined && input.moe !== undefined)
    throw new InputError('$.moe', 'give either `model` or `moe`, not both');
  if (input.moe !== undefined) {
    const m = input.moe;
    if (m.topK > m.experts)
      throw new InputError('$.moe.topK', `topK (${m.topK}) exceeds the number of experts (${m.experts})`);
    return { ...m, name: m.name ?? 'inline MoE', denseCalls: m.denseCalls ?? m.layers + 2 };
  }
  if (input.model === undefined)
    throw new InputError('$.model', 'required: a catalog MoE model (or give `moe` with the sizes)');
  const shape = catalogShape(resolveModel(input.model, '$.model'));
  if (shape.layers > SPLIT_MOE_MAXIMA.layers)
    throw new InputError('$.model', `at most ${SPLIT_MOE_MAXIMA.layers} MoE layers (absurd size)`);
  return shape;
}

/**
 * Routing probabilities of one class: rows must sum to 1 (within the feasibility tolerance), expert indices
 * must exist.
 */
function classPopularity(
  raw: Input['classes'][number]['popularity'],
  path: string,
  shape: Shape,
): { rows: number[][]; source: PopularitySource } {
  if (!('matrix' in raw)) {
    const source: PopularitySource =
      raw.generator === 'zipf'
        ? { kind: 'zipf', exponent: raw.exponent, seed: raw.seed }
        : { kind: 'lognormal', sigma: raw.sigma, seed: raw.seed };
    return { rows: generatePopularity(source, shape.layers, shape.experts), source };
  }
  const m = raw.matrix;
  if (m.length !== 1 && m.length !== shape.layers)
    throw new InputError(
      `${path}.matrix`,
      `has ${m.length} rows; give one row (every layer) or one per MoE layer (${shape.layers})`,
    );
  const rows = m.map((row, l) => {
    const at = `${path}.matrix[${l}]`;
    let dense: number[];
    if (Array.isArray(row)) {
      if (row.length !== shape.experts)
        throw new InputError(at, `has ${row.length} entries, the model has ${shape.experts} experts per layer`);
      dense = [...row];
    } else {
      dense = new Array<number>(shape.experts).fill(0);
      for (const [key, p] of Object.entries(row)) {
        const e = Number(key);
        if (!/^\d+$/.test(key) || e >= shape.experts)
          throw new InputError(
            `${at}["${key}"]`,
            `unknown expert index "${key}" (experts are 0..${shape.experts - 1})`,
          );
        dense[e] = p;
      }
    }
    const sum = dense.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > FEASIBILITY_RTOL)
      throw new InputError(at, `routing probabilities sum to ${sum}, not 1 (each row is where one expert call goes)`);
    return dense.map((p) => p / sum);
  });
  return {
    rows: rows.length === 1 ? Array.from({ length: shape.layers }, () => [...rows[0]]) : rows,
    source: { kind: 'given' },
  };
}

/** Raw JSON → problem; every rule broken is an InputError naming its JSON path. */
export function parseProblem(raw: unknown): SplitMoeProblem {
  const parsed = inputSchema.safeParse(raw);
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const input = parsed.data;
  const shape = shapeOf(input);
  const S = input.servers.length;
  const cells = input.classes.length * shape.layers * shape.experts * S;
  if (cells > SPLIT_MOE_MAXIMA.routingCells)
    throw new InputError(
      '$.classes',
      `${input.classes.length} classes × ${shape.layers} layers × ${shape.experts} experts × ${S} ` +
        `servers = ${cells} routing choices; ` +
        `at most ${SPLIT_MOE_MAXIMA.routingCells} (absurd size)`,
    );
  if (S > 1 && input.serverLink === undefined && input.serverLinks.length < (S * (S - 1)) / 2)
    throw new InputError(
      '$.serverLink',
      'required with two or more servers (the link between edge servers), unless `serverLinks` joins every pair',
    );
  const defaultRuntime: RuntimeSpec | null =
    input.runtime === undefined ? null : resolveRuntime(input.runtime, '$.runtime');
  const runtimeAt = (ref: typeof input.runtime, path: string): RuntimeSpec | null =>
    ref === undefined ? defaultRuntime : resolveRuntime(ref, path);
  // The device as its runtime leaves it and the budget checked against that: the rule moe-placement and
  // agent-placement follow too (cost/runtime-budget.ts). A class or server runtime's path is its own.
  const underRuntime = (
    ref: RuntimeRef | undefined,
    device: DeviceRef,
    budget: number | undefined,
    at: string,
    field: string,
  ): DeviceBudget =>
    deviceWithBudget(resolveDevice(device, `${at}.device`), runtimeAt(ref, `${at}.runtime`), budget, {
      runtime: ref === undefined ? '$.runtime' : `${at}.runtime`,
      budget: `${at}.${field}`,
    });
  const servers = input.servers.map((s, i): SplitMoeServer => {
    const at = `$.servers[${i}]`;
    const { device, memoryBytes } = underRuntime(s.runtime, s.device, s.expertMemoryBytes, at, 'expertMemoryBytes');
    return { name: s.name ?? `server ${i} (${device.name})`, device, expertMemoryBytes: memoryBytes };
  });
  const serverLink = input.serverLink === undefined ? null : resolveLink(input.serverLink, '$.serverLink');
  const serverLinks: (LinkSpec | null)[][] = Array.from({ length: S }, (_, a) =>
    Array.from({ length: S }, (_, b) => (a === b ? null : serverLink)),
  );
  const seen = new Set<string>();
  input.serverLinks.forEach((pair, i) => {
    const at = `$.serverLinks[${i}]`;
    const [a, b] = pair.servers;
    for (const [j, s] of [a, b].entries())
      if (s >= S)
        throw new InputError(`${at}.servers[${j}]`, `server index ${s} is out of range (there are ${S} servers)`);
    if (a === b) throw new InputError(`${at}.servers`, 'a link joins two different servers');
    const key = `${Math.min(a, b)}-${Math.max(a, b)}`;
    if (seen.has(key)) throw new InputError(`${at}.servers`, `servers ${a} and ${b} already have a link`);
    seen.add(key);
    const link = resolveLink(pair.link, `${at}.link`);
    serverLinks[a][b] = link;
    serverLinks[b][a] = link;
  });
  const classes = input.classes.map((c, u): SplitMoeClass => {
    const at = `$.classes[${u}]`;
    if (c.server >= S)
      throw new InputError(`${at}.server`, `server index ${c.server} is out of range (there are ${S} servers)`);
    if (c.minDeviceLayers > shape.layers)
      throw new InputError(
        `${at}.minDeviceLayers`,
        `${c.minDeviceLayers} exceeds the model's ${shape.layers} MoE layers`,
      );
    const { device, memoryBytes } = underRuntime(c.runtime, c.device, c.memoryBytes, at, 'memoryBytes');
    const { rows, source } = classPopularity(c.popularity, `${at}.popularity`, shape);
    return {
      name: c.name ?? `class ${u}`,
      users: c.users,
      device,
      memoryBytes,
      link: resolveLink(c.link, `${at}.link`),
      server: c.server,
      contextTokens: c.contextTokens,
      popularity: rows,
      popularitySource: source,
      minDeviceLayers: c.minDeviceLayers,
      maxDroppedShare: c.maxDroppedShare,
      latencySloSeconds: c.latencySloSeconds ?? null,
    };
  });
  return {
    kind: 'split-moe',
    modelName: shape.name,
    layers: shape.layers,
    experts: shape.experts,
    topK: shape.topK,
    expertBytes: shape.expertBytes,
    expertFlopsPerToken: shape.expertFlopsPerToken,
    activationBytesPerToken: shape.activationBytesPerToken,
    denseBytes: shape.denseBytes,
    denseFlopsPerToken: shape.denseFlopsPerToken,
    kvBytesPerToken: shape.kvBytesPerToken,
    denseCalls: shape.denseCalls,
    servers,
    serverLink,
    serverLinks,
    classes,
    objective: input.objective,
    replicaTokenLimit: input.replicaTokenLimit,
  };
}
