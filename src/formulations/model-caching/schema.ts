/**
 * Input of the model-caching family: parameter blocks, models as sets of blocks (written out, or
 * built by family helpers from catalog architectures), edge servers with storage, users with
 * request probabilities and which servers can serve them within their latency bound.
 */
import { z } from 'zod';
import { documentFields, loraFields, nonNegative, positive } from '../zod-primitives.ts';
import {
  deviceRefSchema,
  linkRefSchema,
  modelRefSchema,
  resolveDevice,
  resolveLink,
  resolveModel,
  resolveRuntime,
  runtimeRefSchema,
} from '../../catalog/index.ts';
import { InputError, inputErrorFromZod } from '../../errors.ts';
import { buildCatalogFamily, type BuiltFamily } from './families.ts';
import { computeServeLatency } from './cost.ts';
import type { DeviceSpec } from '../../cost/device.ts';
import type { LinkSpec } from '../../cost/link.ts';
import type { ModelSpec } from '../../cost/model.ts';

const id = z.string().min(1, 'must not be empty');
/** Variants one family helper may generate; far beyond any real family, small enough to stay in memory. */
const MAX_FAMILY_MODELS = 10_000;
/** Models in one problem after the families are expanded (the MILP has servers × models columns). */
const MAX_MODELS = 100_000;
const probability = z.number().min(0, 'must be a probability in [0, 1]').max(1, 'must be a probability in [0, 1]');

const blockSchema = z.strictObject({ id, sizeBytes: positive });
const modelSchema = z.strictObject({
  id,
  blocks: z.array(id).min(1, 'a model needs at least one block'),
  /** Seconds to run one request of this model on a user device; added to the download time. */
  computeSeconds: nonNegative.optional(),
});

const loraFamilySchema = z.strictObject({
  type: z.literal('lora'),
  id,
  model: modelRefSchema,
  adapters: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_FAMILY_MODELS, `must be at most ${MAX_FAMILY_MODELS}`),
  ...loraFields,
  /** Whether the base model itself is also requested as a model. */
  includeBase: z.boolean().default(true),
});
const fineTuneFamilySchema = z.strictObject({
  type: z.literal('fine-tune'),
  id,
  model: modelRefSchema,
  variants: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_FAMILY_MODELS, `must be at most ${MAX_FAMILY_MODELS}`),
  /** Bottom layers (with the embedding) shared by every variant; the rest and the head are per variant. */
  sharedBottomLayers: z.number().int('must be a whole number').min(0, 'must not be negative'),
});
const familySchema = z.discriminatedUnion('type', [loraFamilySchema, fineTuneFamilySchema]);

const serverSchema = z.strictObject({ id, storageBytes: nonNegative, device: deviceRefSchema.optional() });

const userSchema = z.strictObject({
  id,
  /**
   * Request probability per model id; each in [0, 1], normalised to sum to one (with a warning
   * when they do not). Read from the raw JSON's own keys: zod's record drops a `__proto__` key.
   */
  requests: z.record(z.string(), probability),
  /** Servers that can serve this user within its latency bound (coverage given). */
  servers: z.array(id).optional(),
  /** Or: links to servers, from which coverage and latency are computed per model. */
  links: z.array(z.strictObject({ server: id, link: linkRefSchema })).optional(),
  device: deviceRefSchema.optional(),
  runtime: runtimeRefSchema
    .optional()
    .describe('runtime the user device serves the model with (overrides $.runtime)'),
  latencyBoundSeconds: positive.optional(),
  /** Tokens generated per request, for the on-device inference time of catalog models. */
  tokensPerRequest: z.number().int().positive().optional(),
  /** Relative request rate of this user (default 1). */
  weight: positive.default(1),
});

export const inputSchema = z.strictObject({
  ...documentFields,
  kind: z.literal('model-caching'),
  blocks: z.array(blockSchema).default([]),
  models: z.array(modelSchema).default([]),
  families: z.array(familySchema).default([]),
  servers: z.array(serverSchema).min(1, 'at least one edge server is needed'),
  users: z.array(userSchema).min(1, 'at least one user is needed'),
  objective: z.enum(['hit-ratio', 'expected-latency']).default('hit-ratio'),
  /** Latency of a request no edge server can serve (required for the expected-latency objective). */
  cloudLatencySeconds: positive.optional(),
  /** false: every model is stored in full, as caching without parameter sharing would. */
  parameterSharing: z.boolean().default(true),
  /**
   * Runtime the user devices run the downloaded models with (datasets/runtimes.json id or an object
   * overriding one). Servers only store models, so it applies where a model is served: on the
   * users' devices (on-device inference time of catalog models). Absent: none modelled.
   */
  runtime: runtimeRefSchema
    .optional()
    .describe(
      'runtime of every user device that names none: its memory share and overhead, host time per layer and step',
    ),
});
export type ModelCachingInput = z.infer<typeof inputSchema>;

export interface Block {
  readonly id: string;
  readonly sizeBytes: number;
}

export interface CachedModel {
  readonly id: string;
  /** Indices into `Problem.blocks`. */
  readonly blocks: readonly number[];
  readonly sizeBytes: number;
}

export interface Server {
  readonly id: string;
  readonly storageBytes: number;
}

export interface User {
  readonly id: string;
  /** Sum of the request probabilities as written (normalised to 1 in `requests`; warned when not 1). */
  readonly writtenRequestSum: number;
  /** Weight of this user's requests in the objective (its rate share, summing to 1 over users). */
  readonly share: number;
  /** Request probability per model index, summing to 1. */
  readonly requests: readonly number[];
}

export interface Problem {
  readonly kind: 'model-caching';
  readonly blocks: readonly Block[];
  readonly models: readonly CachedModel[];
  readonly servers: readonly Server[];
  readonly users: readonly User[];
  /**
   * latencySeconds[u][n][m]: time for user u to be served model m from server n, or null when
   * server n cannot serve u within its bound. When coverage is given without a link model the
   * latency is 0 (only hits matter).
   */
  readonly latencySeconds: readonly (readonly (readonly (number | null)[])[])[];
  readonly objective: 'hit-ratio' | 'expected-latency';
  readonly cloudLatencySeconds: number | null;
  readonly parameterSharing: boolean;
  /** How many of `blocks` (the first ones) the user wrote in `$.blocks`; the rest come from families. */
  readonly writtenBlocks: number;
  /** Links the user wrote (after catalog resolution), with their JSON paths, for plausibility warnings. */
  readonly links: readonly { readonly path: string; readonly link: LinkSpec }[];
}

const isPlainRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The entries of a JSON object keyed by user strings, from the raw input's own keys (`__proto__`
 * is a legal id; zod's record output and a plain `{}` both lose it). Values zod already checked
 * are taken from its output; one it skipped is checked here against the same schema.
 */
function ownEntries<T>(raw: unknown, parsed: Record<string, T>, value: z.ZodType<T>, path: string): [string, T][] {
  if (!isPlainRecord(raw)) return Object.entries(parsed);
  return Object.keys(raw).map((key): [string, T] => {
    if (Object.hasOwn(parsed, key)) return [key, parsed[key]];
    const r = value.safeParse(raw[key]);
    if (!r.success)
      throw new InputError(`${path}[${JSON.stringify(key)}]`, r.error.issues[0]?.message ?? 'invalid value');
    return [key, r.data];
  });
}

export function parseProblem(raw: unknown): Problem {
  const parsed = inputSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const input = parsed.data;

  const blocks: Block[] = [];
  const blockIndex = new Map<string, number>();
  const addBlock = (b: Block, path: string): number => {
    if (blockIndex.has(b.id)) throw new InputError(path, `block id "${b.id}" is defined twice`);
    blockIndex.set(b.id, blocks.length);
    blocks.push(b);
    return blocks.length - 1;
  };
  input.blocks.forEach((b, i) => addBlock(b, `$.blocks[${i}].id`));

  const models: CachedModel[] = [];
  const modelIndex = new Map<string, number>();
  const architectures: (ModelSpec | null)[] = [];
  const computeSeconds: (number | null)[] = [];
  const addModel = (
    modelId: string,
    blockIds: readonly string[],
    path: string,
    arch: ModelSpec | null,
    compute: number | null,
  ): void => {
    if (modelIndex.has(modelId)) throw new InputError(`${path}.id`, `model id "${modelId}" is defined twice`);
    const indices = blockIds.map((b, j) => {
      const k = blockIndex.get(b);
      if (k === undefined) throw new InputError(`${path}.blocks[${j}]`, `block "${b}" is not declared in $.blocks`);
      return k;
    });
    const unique = [...new Set(indices)];
    modelIndex.set(modelId, models.length);
    models.push({ id: modelId, blocks: unique, sizeBytes: unique.reduce((s, k) => s + blocks[k].sizeBytes, 0) });
    architectures.push(arch);
    computeSeconds.push(compute);
  };
  input.models.forEach((m, i) => addModel(m.id, m.blocks, `$.models[${i}]`, null, m.computeSeconds ?? null));
  input.families.forEach((f, i) => {
    const path = `$.families[${i}]`;
    const spec = resolveModel(f.model, `${path}.model`);
    if (f.type === 'fine-tune' && f.sharedBottomLayers > spec.layers)
      throw new InputError(`${path}.sharedBottomLayers`, `must be at most the model's ${spec.layers} layers`);
    if (models.length + (f.type === 'lora' ? f.adapters + 1 : f.variants) > MAX_MODELS)
      throw new InputError(path, `the families expand to more than ${MAX_MODELS} models`);
    const built: BuiltFamily = buildCatalogFamily(f, spec);
    built.blocks.forEach((b) => addBlock(b, `${path}.id`));
    built.models.forEach((m) => addModel(m.id, m.blocks, path, spec, null));
  });
  if (models.length === 0) throw new InputError('$.models', 'no models: give $.models or $.families');

  const servers: Server[] = input.servers.map((s) => ({ id: s.id, storageBytes: s.storageBytes }));
  const serverIndex = new Map<string, number>();
  servers.forEach((s, i) => {
    if (serverIndex.has(s.id)) throw new InputError(`$.servers[${i}].id`, `server id "${s.id}" is defined twice`);
    serverIndex.set(s.id, i);
  });

  const totalWeight = input.users.reduce((s, u) => s + u.weight, 0);
  const users: User[] = [];
  const userIndex = new Map<string, number>();
  const links: { path: string; link: LinkSpec }[] = [];
  const latencySeconds: (number | null)[][][] = [];
  const rawUsers = isPlainRecord(raw) && Array.isArray(raw.users) ? (raw.users as unknown[]) : [];
  const defaultRuntime = input.runtime === undefined ? null : resolveRuntime(input.runtime, '$.runtime');
  input.users.forEach((u, i) => {
    const path = `$.users[${i}]`;
    const first = userIndex.get(u.id);
    if (first !== undefined)
      throw new InputError(`${path}.id`, `user id "${u.id}" is defined twice (first at $.users[${first}])`);
    userIndex.set(u.id, i);
    const rawUser = rawUsers[i];
    const rawRequests = isPlainRecord(rawUser) ? rawUser.requests : undefined;
    const requests = new Array<number>(models.length).fill(0);
    for (const [m, p] of ownEntries(rawRequests, u.requests, probability, `${path}.requests`)) {
      const k = modelIndex.get(m);
      if (k === undefined)
        throw new InputError(`${path}.requests[${JSON.stringify(m)}]`, `model "${m}" is not declared`);
      requests[k] = p;
    }
    const sum = requests.reduce((s, p) => s + p, 0);
    if (sum <= 0) throw new InputError(`${path}.requests`, 'request probabilities must not all be zero');
    users.push({
      id: u.id,
      writtenRequestSum: sum,
      share: u.weight / totalWeight,
      requests: requests.map((p) => p / sum),
    });

    const row: (number | null)[][] = servers.map(() => models.map(() => null));
    if (u.servers && u.links)
      throw new InputError(`${path}.links`, 'give either servers (coverage) or links (computed coverage), not both');
    if (u.servers) {
      u.servers.forEach((s, j) => {
        const n = serverIndex.get(s);
        if (n === undefined) throw new InputError(`${path}.servers[${j}]`, `server "${s}" is not declared`);
        row[n] = models.map(() => 0);
      });
    } else if (u.links) {
      if (u.latencyBoundSeconds === undefined)
        throw new InputError(`${path}.latencyBoundSeconds`, 'is required when coverage is computed from links');
      const device: DeviceSpec | null = u.device ? resolveDevice(u.device, `${path}.device`) : null;
      const runtime = u.runtime !== undefined ? resolveRuntime(u.runtime, `${path}.runtime`) : defaultRuntime;
      u.links.forEach((l, j) => {
        const n = serverIndex.get(l.server);
        if (n === undefined) throw new InputError(`${path}.links[${j}].server`, `server "${l.server}" is not declared`);
        const link = resolveLink(l.link, `${path}.links[${j}].link`);
        links.push({ path: `${path}.links[${j}].link`, link });
        row[n] = models.map((m, k) => {
          const t = computeServeLatency(
            m.sizeBytes,
            link,
            device,
            architectures[k],
            computeSeconds[k],
            u.tokensPerRequest ?? 0,
            runtime,
          );
          return t <= (u.latencyBoundSeconds as number) ? t : null;
        });
      });
    } else {
      throw new InputError(`${path}`, 'give servers (which servers can serve this user) or links (to compute it)');
    }
    latencySeconds.push(row);
  });
  if (input.objective === 'expected-latency' && input.cloudLatencySeconds === undefined)
    throw new InputError('$.cloudLatencySeconds', 'is required for the expected-latency objective');

  return {
    kind: 'model-caching',
    blocks,
    models,
    servers,
    users,
    latencySeconds,
    objective: input.objective,
    cloudLatencySeconds: input.cloudLatencySeconds ?? null,
    parameterSharing: input.parameterSharing,
    writtenBlocks: input.blocks.length,
    links,
  };
}

/**
 * For each server id, the ids of the models it caches. A custom check rather than zod's record,
 * which drops a `__proto__` key: the object is kept as written (its own keys), and every reader
 * goes through `Object.keys`/`Object.hasOwn`; writers build null-prototype records.
 */
const cachedSchema = z.custom<Record<string, string[]>>(
  (v) =>
    isPlainRecord(v) &&
    Object.keys(v).every((k) => Array.isArray(v[k]) && (v[k] as unknown[]).every((id) => typeof id === 'string')),
  'expected an object mapping server ids to arrays of model ids',
);

export const decisionSchema = z.strictObject({ cached: cachedSchema });
export type Decision = z.infer<typeof decisionSchema>;
