/**
 * Input of the moe-placement family: an MoE model (catalog or inline expert sizes), per-layer
 * expert popularity (a matrix, or a seeded generator that is recorded), the batch of tokens one
 * decode step pushes through every MoE layer, the servers that host experts (device, memory for
 * experts, link to the requesting side), replica budget, optional migration from a current
 * placement, and the objective.
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
  type RuntimeRef,
} from '../../catalog/index.ts';
import type { RuntimeSpec } from '../../cost/runtime.ts';
import { deviceWithBudget } from '../../cost/runtime-budget.ts';
import type { DeviceSpec } from '../../cost/device.ts';
import type { LinkSpec } from '../../cost/link.ts';
import { activationBytesPerToken, expertParams, type ModelSpec } from '../../cost/model.ts';
import { bytesPerValue } from '../../cost/units.ts';
import { InputError, inputErrorFromZod } from '../../errors.ts';
import { mulberry32 } from '../../milp/generators.ts';

const positive = z.number().positive('must be positive').finite('must be finite');
const nonNegative = z.number().nonnegative('must not be negative').finite('must be finite');
const positiveInt = z.number().int('must be a whole number').positive('must be positive');
const nonNegativeInt = z.number().int('must be a whole number').nonnegative('must not be negative');

/**
 * Upper limits on sizes the user writes. The popularity generator, the migration table and the
 * MILP allocate per layer × expert (× server), so absurd counts must be an InputError, not an
 * exhausted heap; byte and FLOP figures beyond these turn costs into Infinity. DeepSeek-V3 on 16
 * servers is 58 × 256 × 16 ≈ 2.4e5 cells, far inside the limits.
 */
export const MOE_MAXIMA = {
  layers: 1000,
  experts: 65_536,
  servers: 1024,
  /** layers × experts: the popularity matrix. */
  popularityCells: 1_000_000,
  /** layers × experts × servers: the placement variables and the migration table. */
  placementCells: 10_000_000,
  bytes: 1e15,
  flopsPerToken: 1e15,
  batchTokens: 1e9,
  flopsPerSecond: 1e18,
} as const;
/**
 * Effort limit of every MILP the exact method solves internally (single-layer and whole-problem
 * MILPs). A node limit, not a time limit, so that the result is the same on every run and every
 * machine; printed in the report. The user's time limit, when given, applies on top.
 */
export const DEFAULT_EXACT_NODE_LIMIT = 1000;
const tooBig = (max: number): string => `must be at most ${max} (absurd size)`;

/** Expert sizes written out, for an MoE that is not in the catalog. */
const inlineMoeSchema = z.strictObject({
  name: z.string().optional(),
  layers: positiveInt.lte(MOE_MAXIMA.layers, tooBig(MOE_MAXIMA.layers)).describe('MoE layers'),
  experts: positiveInt.lte(MOE_MAXIMA.experts, tooBig(MOE_MAXIMA.experts)).describe('routed experts per MoE layer'),
  topK: positiveInt.lte(MOE_MAXIMA.experts, tooBig(MOE_MAXIMA.experts)).describe('experts each token is routed to'),
  expertBytes: positive.lte(MOE_MAXIMA.bytes, tooBig(MOE_MAXIMA.bytes)).describe('bytes of one expert (weights as stored)'),
  expertFlopsPerToken: positive.lte(MOE_MAXIMA.flopsPerToken, tooBig(MOE_MAXIMA.flopsPerToken)).describe('forward FLOPs of one expert for one token'),
  activationBytesPerToken: positive.lte(MOE_MAXIMA.bytes, tooBig(MOE_MAXIMA.bytes)).describe('bytes of one token activation sent to an expert (and of its result sent back)'),
  sharedExperts: nonNegativeInt
    .lte(MOE_MAXIMA.experts, tooBig(MOE_MAXIMA.experts))
    .optional()
    .describe('always-active shared experts per MoE layer (every token visits each; default 0)'),
});

/** The seeded popularity generators (see generatePopularity); split-moe's classes take the same. */
export const lognormalPopularitySchema = z.strictObject({
  generator: z.literal('lognormal'),
  sigma: nonNegative.describe('standard deviation of log-load; 0.5–0.7 gives a busiest expert ≈ 3× the mean at 256 experts'),
  seed: nonNegativeInt,
});
export const zipfPopularitySchema = z.strictObject({
  generator: z.literal('zipf'),
  exponent: nonNegative.describe('load of the r-th busiest expert ∝ r^-exponent; experts shuffled per layer'),
  seed: nonNegativeInt,
});

const popularitySchema = z.union([
  z.strictObject({
    matrix: z.array(z.array(nonNegative)).min(1).describe('per MoE layer, per expert: load (token counts or fractions; normalised per layer)'),
  }),
  lognormalPopularitySchema,
  zipfPopularitySchema,
]);

const serverSchema = z.strictObject({
  name: z.string().min(1).optional(),
  device: deviceRefSchema,
  expertMemoryBytes: positive
    .lte(MOE_MAXIMA.bytes, tooBig(MOE_MAXIMA.bytes))
    .optional()
    .describe('memory for experts (default: the device memory, or what the runtime leaves; more is refused)'),
  flopsPerSecond: positive.lte(MOE_MAXIMA.flopsPerSecond, tooBig(MOE_MAXIMA.flopsPerSecond)).optional().describe('sustained FLOP/s for expert FFNs, overriding peak × efficiency'),
  link: linkRefSchema
    .optional()
    .describe('link between the requesting side and this server (required unless the requester is on this server, refused there)'),
  node: z.string().min(1).optional().describe('node label, used by EPLB’s hierarchical policy'),
  runtime: runtimeRefSchema.optional().describe('this server’s runtime (overrides $.runtime)'),
});

export const inputSchema = z
  .strictObject({
    $schema: z.string().optional(),
    kind: z.literal('moe-placement'),
    description: z.string().optional(),
    model: modelRefSchema.optional().describe('catalog MoE model (mixtral-8x7b, deepseek-v3) or an inline/overridden model with a `moe` block'),
    moe: inlineMoeSchema.optional().describe('expert sizes written out instead of a model'),
    popularity: popularitySchema,
    batchTokens: positive.lte(MOE_MAXIMA.batchTokens, tooBig(MOE_MAXIMA.batchTokens)).describe('tokens one decode step pushes through every MoE layer (the batch)'),
    servers: z
      .array(serverSchema)
      .min(1, 'at least one server is needed')
      .max(MOE_MAXIMA.servers, `at most ${MOE_MAXIMA.servers} servers (absurd size)`),
    requester: z
      .strictObject({ server: nonNegativeInt.describe('index of the server the requesting side runs on (its experts are local)') })
      .optional()
      .describe('where tokens come from; default: a separate device reaching every server over its link'),
    serverLink: linkRefSchema.optional().describe('link between any two servers (used to price migration)'),
    maxReplicasPerLayer: positiveInt.optional().describe('physical experts per layer (≥ experts); default: limited by memory only'),
    expertGroups: positiveInt.optional().describe('expert groups (DeepSeek-V3: 8), for EPLB’s hierarchical policy'),
    migration: z
      .strictObject({
        current: z.array(z.array(z.array(nonNegativeInt))).describe('[layer][server] → experts that server holds now'),
        weight: nonNegative.describe('objective units charged per second of migration transfer (traffic objective: per byte)'),
      })
      .optional(),
    objective: z.enum(['latency', 'max-load', 'traffic']).default('latency'),
    runtime: runtimeRefSchema
      .optional()
      .describe(
        'runtime of every server (id of datasets/runtimes.json or an object overriding one): its memory share ' +
          'and fixed overhead leave less for experts (an expertMemoryBytes above that is refused), its per-layer ' +
          'host time replaces the device’s per-call overhead; absent: none',
      ),
    exactNodeLimit: positiveInt
      .lte(2 ** 31 - 1, 'must be at most 2147483647')
      .optional()
      .describe(`branch-and-bound nodes each MILP inside the exact method may explore (default ${DEFAULT_EXACT_NODE_LIMIT})`),
  })
  .strict();

export type PopularitySource =
  | { readonly kind: 'given' }
  | { readonly kind: 'lognormal'; readonly sigma: number; readonly seed: number }
  | { readonly kind: 'zipf'; readonly exponent: number; readonly seed: number };

export interface MoeServer {
  readonly name: string;
  readonly device: DeviceSpec;
  readonly expertMemoryBytes: number;
  /** Sustained FLOP/s for expert FFNs. */
  readonly flopsPerSecond: number;
  /** null when the requester runs on this server (no network hop). */
  readonly link: LinkSpec | null;
  readonly node: string;
  /** The runtime the server's experts run under; null: none modelled. */
  readonly runtime: RuntimeSpec | null;
}

export type MoeObjective = 'latency' | 'max-load' | 'traffic';

export interface MoePlacementProblem {
  readonly kind: 'moe-placement';
  readonly modelName: string;
  readonly layers: number;
  /**
   * Experts placed per layer: the routed ones (0 … routedExperts − 1) then the shared ones. A
   * shared expert is placed like a routed one (memory and compute on some server, replicas
   * allowed) and every token visits it — DeepSeek-V3 treats it as "a routed expert that every
   * token selects" when deploying it.
   */
  readonly experts: number;
  readonly routedExperts: number;
  readonly sharedExperts: number;
  readonly topK: number;
  readonly expertBytes: number;
  readonly expertFlopsPerToken: number;
  readonly activationBytesPerToken: number;
  /** [layer][routed expert], each row sums to 1. */
  readonly popularity: readonly (readonly number[])[];
  readonly popularitySource: PopularitySource;
  readonly batchTokens: number;
  readonly servers: readonly MoeServer[];
  readonly requesterServer: number | null;
  readonly serverLink: LinkSpec | null;
  readonly maxReplicasPerLayer: number | null;
  readonly expertGroups: number | null;
  /** [layer][expert][server] held now; null without migration. */
  readonly current: readonly (readonly (readonly boolean[])[])[] | null;
  readonly migrationWeight: number;
  readonly objective: MoeObjective;
  /** Node limit of each MILP inside the exact method (DEFAULT_EXACT_NODE_LIMIT unless given). */
  readonly exactNodeLimit: number;
}

/** One replica of an expert: the server that holds it and the share of the expert's tokens it serves. */
export interface Replica {
  readonly server: number;
  readonly share: number;
}

export interface MoePlacementDecision {
  /** [layer][expert] → the replicas of that expert. */
  readonly placement: readonly (readonly (readonly Replica[])[])[];
}

export const decisionSchema: z.ZodType<MoePlacementDecision> = z.strictObject({
  placement: z.array(z.array(z.array(z.strictObject({ server: nonNegativeInt, share: z.number().finite() })))),
});

/** Standard normal by Box–Muller (uses two uniforms; the second is discarded for simplicity). */
function normal(random: () => number): number {
  const u = Math.max(random(), 1e-300);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Seeded per-layer popularity; the same (generator, parameters, seed, sizes) gives the same matrix. */
export function generatePopularity(source: PopularitySource, layers: number, experts: number): number[][] {
  if (source.kind === 'given') throw new Error('a given popularity is not generated');
  const random = mulberry32(source.seed);
  const rows: number[][] = [];
  for (let l = 0; l < layers; l++) {
    let row: number[];
    if (source.kind === 'lognormal') {
      row = Array.from({ length: experts }, () => Math.exp(source.sigma * normal(random)));
    } else {
      const ranks = Array.from({ length: experts }, (_, i) => i);
      for (let i = experts - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [ranks[i], ranks[j]] = [ranks[j], ranks[i]];
      }
      row = ranks.map((r) => 1 / (r + 1) ** source.exponent);
    }
    rows.push(normalize(row));
  }
  return rows;
}

function normalize(row: readonly number[]): number[] {
  const total = row.reduce((a, b) => a + b, 0);
  return row.map((w) => w / total);
}

type Input = z.infer<typeof inputSchema>;

interface ExpertShape {
  name: string;
  layers: number;
  /** Routed experts per layer. */
  experts: number;
  sharedExperts: number;
  topK: number;
  expertBytes: number;
  expertFlopsPerToken: number;
  activationBytesPerToken: number;
}

function expertShape(input: Input): ExpertShape {
  if (input.model !== undefined && input.moe !== undefined) throw new InputError('$.moe', 'give either `model` or `moe`, not both');
  if (input.moe !== undefined) {
    const m = input.moe;
    if (m.topK > m.experts) throw new InputError('$.moe.topK', `topK (${m.topK}) exceeds the number of experts (${m.experts})`);
    return checkedShape({ ...m, name: m.name ?? 'inline MoE', sharedExperts: m.sharedExperts ?? 0 }, '$.moe');
  }
  if (input.model === undefined) throw new InputError('$.model', 'required: a catalog MoE model (or give `moe` with the expert sizes)');
  const model: ModelSpec = resolveModel(input.model, '$.model');
  if (!model.moe) throw new InputError('$.model', `model "${model.id}" has no mixture-of-experts layers`);
  const params = expertParams(model);
  return checkedShape({
    name: model.name,
    layers: model.layers - model.moe.denseLayers,
    experts: model.moe.experts,
    sharedExperts: model.moe.sharedExperts,
    topK: model.moe.topK,
    expertBytes: params * bytesPerValue(model.dtype),
    // Two FLOPs (multiply and add) per weight per token.
    expertFlopsPerToken: 2 * params,
    activationBytesPerToken: activationBytesPerToken(model),
  }, '$.model');
}

/** The popularity matrix is layers × experts numbers; refuse sizes that cannot be held. */
function checkedShape(shape: ExpertShape, path: string): ExpertShape {
  const cells = shape.layers * (shape.experts + shape.sharedExperts);
  if (cells > MOE_MAXIMA.popularityCells)
    throw new InputError(
      path,
      `${shape.layers} MoE layers × ${shape.experts} experts = ${cells} popularity entries; at most ${MOE_MAXIMA.popularityCells} (absurd size)`,
    );
  return shape;
}

function resolveServer(
  s: Input['servers'][number],
  i: number,
  isRequester: boolean,
  defaultRuntime: RuntimeRef | undefined,
): MoeServer {
  const path = `$.servers[${i}]`;
  const rawDevice = resolveDevice(s.device, `${path}.device`);
  const runtimeRef = s.runtime ?? defaultRuntime;
  const runtimePath = s.runtime !== undefined ? `${path}.runtime` : '$.runtime';
  const runtime = runtimeRef === undefined ? null : resolveRuntime(runtimeRef, runtimePath);
  // A link on the requester's own server would be silently unused (its tokens never cross a
  // network): refuse it rather than ignore it.
  if (isRequester && s.link !== undefined)
    throw new InputError(
      `${path}.link`,
      `the requester runs on this server (requester.server = ${i}), so its experts are reached without a link; remove \`link\``,
    );
  if (s.link === undefined) {
    if (!isRequester) throw new InputError(`${path}.link`, 'required: the link from the requesting side to this server');
  }
  const link = s.link === undefined ? null : resolveLink(s.link, `${path}.link`);
  // The device as its runtime leaves it (memory share − overhead, host time per expert call) and the expert budget
  // checked against that: the one rule split-moe and agent-placement follow too (cost/runtime-budget.ts).
  const { device, memoryBytes: expertMemoryBytes } = deviceWithBudget(rawDevice, runtime, s.expertMemoryBytes, {
    runtime: runtimePath,
    budget: `${path}.expertMemoryBytes`,
  });
  return {
    name: s.name ?? `server ${i} (${device.name})`,
    device,
    expertMemoryBytes,
    flopsPerSecond: s.flopsPerSecond ?? device.peakFlopsPerSecond * device.computeEfficiency,
    link,
    node: s.node ?? `node-${i}`,
    runtime,
  };
}

/** Raw JSON → problem; every rule broken is an InputError naming its JSON path. */
export function parseProblem(raw: unknown): MoePlacementProblem {
  const parsed = inputSchema.safeParse(raw);
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const input = parsed.data;
  const shape = expertShape(input);
  const S = input.servers.length;
  const placed = shape.experts + shape.sharedExperts;
  const placementCells = shape.layers * placed * S;
  if (placementCells > MOE_MAXIMA.placementCells)
    throw new InputError(
      '$.servers',
      `${shape.layers} MoE layers × ${placed} experts × ${S} servers = ${placementCells} placement choices; ` +
        `at most ${MOE_MAXIMA.placementCells} (absurd size)`,
    );
  const requesterServer = input.requester?.server ?? null;
  if (requesterServer !== null && requesterServer >= S)
    throw new InputError('$.requester.server', `server index ${requesterServer} is out of range (there are ${S} servers)`);
  const servers = input.servers.map((s, i) => resolveServer(s, i, i === requesterServer, input.runtime));

  let popularity: number[][];
  let popularitySource: PopularitySource;
  if ('matrix' in input.popularity) {
    const m = input.popularity.matrix;
    if (m.length !== shape.layers)
      throw new InputError('$.popularity.matrix', `has ${m.length} rows, the model has ${shape.layers} MoE layers`);
    m.forEach((row, l) => {
      if (row.length !== shape.experts)
        throw new InputError(`$.popularity.matrix[${l}]`, `has ${row.length} entries, the model has ${shape.experts} experts per layer`);
      if (!row.some((w) => w > 0)) throw new InputError(`$.popularity.matrix[${l}]`, 'needs at least one positive load');
    });
    popularity = m.map(normalize);
    popularitySource = { kind: 'given' };
  } else if (input.popularity.generator === 'lognormal') {
    popularitySource = { kind: 'lognormal', sigma: input.popularity.sigma, seed: input.popularity.seed };
    popularity = generatePopularity(popularitySource, shape.layers, shape.experts);
  } else {
    popularitySource = { kind: 'zipf', exponent: input.popularity.exponent, seed: input.popularity.seed };
    popularity = generatePopularity(popularitySource, shape.layers, shape.experts);
  }

  if (input.maxReplicasPerLayer !== undefined && input.maxReplicasPerLayer < placed)
    throw new InputError(
      '$.maxReplicasPerLayer',
      `must be at least the number of experts placed per layer (${placed}` +
        `${shape.sharedExperts > 0 ? `: ${shape.experts} routed + ${shape.sharedExperts} shared` : ''}): every expert needs a replica`,
    );
  if (input.expertGroups !== undefined && shape.experts % input.expertGroups !== 0)
    throw new InputError('$.expertGroups', `must divide the number of routed experts (${shape.experts})`);

  let current: boolean[][][] | null = null;
  if (input.migration !== undefined) {
    const c = input.migration.current;
    if (c.length !== shape.layers) throw new InputError('$.migration.current', `has ${c.length} layers, the model has ${shape.layers}`);
    current = Array.from({ length: shape.layers }, () => Array.from({ length: placed }, () => new Array<boolean>(S).fill(false)));
    for (let l = 0; l < shape.layers; l++) {
      if (c[l].length !== S) throw new InputError(`$.migration.current[${l}]`, `has ${c[l].length} servers, the problem has ${S}`);
      for (let s = 0; s < S; s++) {
        for (const [j, e] of c[l][s].entries()) {
          if (e >= placed)
            throw new InputError(`$.migration.current[${l}][${s}][${j}]`, `expert ${e} does not exist (experts are 0..${placed - 1})`);
          current[l][e][s] = true;
        }
      }
    }
  }

  return {
    kind: 'moe-placement',
    modelName: shape.name,
    layers: shape.layers,
    experts: placed,
    routedExperts: shape.experts,
    sharedExperts: shape.sharedExperts,
    topK: shape.topK,
    expertBytes: shape.expertBytes,
    expertFlopsPerToken: shape.expertFlopsPerToken,
    activationBytesPerToken: shape.activationBytesPerToken,
    popularity,
    popularitySource,
    batchTokens: input.batchTokens,
    servers,
    requesterServer,
    serverLink: input.serverLink === undefined ? null : resolveLink(input.serverLink, '$.serverLink'),
    maxReplicasPerLayer: input.maxReplicasPerLayer ?? null,
    expertGroups: input.expertGroups ?? null,
    current,
    migrationWeight: input.migration?.weight ?? 0,
    objective: input.objective,
    exactNodeLimit: input.exactNodeLimit ?? DEFAULT_EXACT_NODE_LIMIT,
  };
}
