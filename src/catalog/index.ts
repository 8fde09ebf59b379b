/**
 * The catalog: datasets/*.json validated once, and resolution of the references problems make
 * to it. Inline fields override catalog fields; an object without a known id must be complete.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { DeviceSpec, MeasuredProfile } from '../cost/device.ts';
import type { LinkSpec } from '../cost/link.ts';
import type { ModelSpec } from '../cost/model.ts';
import type { RuntimeSpec } from '../cost/runtime.ts';
import { InputError, jsonPath } from '../errors.ts';
import { modelFromHfReference } from './hf.ts';
import {
  deviceSpecSchema,
  linkSpecSchema,
  modelSpecSchema,
  profileSchema,
  runtimeSpecSchema,
  type DeviceRef,
  type RuntimeRef,
  type LinkRef,
  type ModelRef,
} from './schemas.ts';

export * from './schemas.ts';

export const DATASETS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'datasets');

export interface Catalog {
  readonly models: ReadonlyMap<string, ModelSpec>;
  readonly devices: ReadonlyMap<string, DeviceSpec>;
  readonly links: ReadonlyMap<string, LinkSpec>;
  readonly profiles: ReadonlyMap<string, MeasuredProfile>;
  readonly runtimes: ReadonlyMap<string, RuntimeSpec>;
}

function readDataset<T>(file: string, key: string, schema: z.ZodType<T>): T[] {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const parsed = z.object({ [key]: z.array(schema) }).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`dataset ${file} is invalid at ${jsonPath(issue.path)}: ${issue.message}`);
  }
  return parsed.data[key] as T[];
}

function indexById<T extends { id: string }>(entries: readonly T[], file: string): Map<string, T> {
  const map = new Map<string, T>();
  for (const e of entries) {
    if (map.has(e.id)) throw new Error(`dataset ${file} defines id ${e.id} twice`);
    map.set(e.id, e);
  }
  return map;
}

let cached: Catalog | undefined;

/** Loads and validates every dataset once per process. */
export function loadCatalog(dir = DATASETS_DIR): Catalog {
  if (cached && dir === DATASETS_DIR) return cached;
  const models = indexById(readDataset(join(dir, 'models.json'), 'models', modelSpecSchema) as ModelSpec[], 'models.json');
  const devices = indexById(readDataset(join(dir, 'devices.json'), 'devices', deviceSpecSchema), 'devices.json');
  const links = indexById(readDataset(join(dir, 'links.json'), 'links', linkSpecSchema), 'links.json');
  const profileFiles = readdirSync(join(dir, 'profiles')).filter((f) => f.endsWith('.json')).sort();
  const profiles = indexById(
    profileFiles.flatMap((f) => readDataset(join(dir, 'profiles', f), 'profiles', profileSchema)) as MeasuredProfile[],
    'profiles/*.json',
  );
  // A catalog directory written before runtimes existed (test fixtures) simply has none.
  const runtimeFile = join(dir, 'runtimes.json');
  const runtimes = existsSync(runtimeFile)
    ? indexById(readDataset(runtimeFile, 'runtimes', runtimeSpecSchema) as RuntimeSpec[], 'runtimes.json')
    : new Map<string, RuntimeSpec>();
  const catalog = { models, devices, links, profiles, runtimes };
  if (dir === DATASETS_DIR) cached = catalog;
  return catalog;
}

export { closeMatches } from './closest.ts';
import { closeMatches } from './closest.ts';

function unknownId(path: string, what: string, id: string, knownIds: Iterable<string>): InputError {
  const known = [...knownIds];
  const close = closeMatches(id, known);
  const hint = close.length > 0 ? `; did you mean ${close.map((c) => `"${c}"`).join(', ')}?` : `; known ${what}s: ${known.join(', ')}`;
  return new InputError(path, `unknown ${what} "${id}"${hint}`);
}

/** The value at a zod issue path inside `value` (undefined when absent). */
function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/**
 * Validates a merged entry. `unknownId` is set when the reference named an id the catalog does not
 * have: a field it then lacks is reported as the unknown id (with close matches), since a typo in
 * the id is far likelier than a deliberately incomplete inline entry.
 */
function validate<T>(schema: z.ZodType<T>, value: unknown, path: string, unknownId?: () => InputError): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const sub = jsonPath(issue.path).slice(1);
    // zod 4 issues do not carry the input; a field is missing when the merged value lacks it.
    const missing = issue.code === 'invalid_type' && valueAt(value, issue.path) === undefined;
    if (missing && unknownId) {
      const e = unknownId();
      throw new InputError(e.path, `${e.rule} (an inline entry that is not in the catalog must give every field; ${sub.replace(/^\./, '') || 'a field'} is missing)`);
    }
    throw new InputError(path + sub, missing ? 'is required (no catalog entry supplies it)' : issue.message);
  }
  return parsed.data;
}

/** For an object reference whose `id` the catalog lacks: the unknown-id error, built lazily. */
function unknownIdOf(ref: unknown, path: string, what: string, table: ReadonlyMap<string, unknown>): (() => InputError) | undefined {
  if (ref === null || typeof ref !== 'object') return undefined;
  const id = (ref as { id?: unknown }).id;
  if (typeof id !== 'string' || table.has(id)) return undefined;
  return () => unknownId(`${path}.id`, what, id, table.keys());
}

function merge<T extends { id: string; source: string }>(
  ref: string | Partial<Record<string, unknown>>,
  path: string,
  what: string,
  table: ReadonlyMap<string, T>,
): Record<string, unknown> {
  if (typeof ref === 'string') {
    const entry = table.get(ref);
    if (!entry) throw unknownId(path, what, ref, table.keys());
    return { ...entry };
  }
  const id = typeof ref.id === 'string' ? ref.id : undefined;
  const base = id !== undefined ? table.get(id) : undefined;
  const inline: Record<string, unknown> = { name: id ?? `inline ${what}`, source: 'given inline in the problem file', ...ref, id: id ?? `inline-${what}` };
  if (base) return { ...base, ...ref, source: `${base.source}; fields overridden in the problem file: ${Object.keys(ref).filter((k) => k !== 'id').join(', ') || 'none'}` };
  return inline;
}

/** Resolves a model reference at JSON path `path` into a complete, validated ModelSpec. */
export function resolveModel(ref: ModelRef, path: string, catalog = loadCatalog()): ModelSpec {
  // `hf:path/to/config.json`: a Hugging Face config read into inline fields (src/catalog/hf.ts, issue 18).
  if (typeof ref === 'string' && ref.startsWith('hf:')) ref = { ...modelFromHfReference(ref, path) };
  const merged = merge(ref, path, 'model', catalog.models);
  // `weightDtype` is the newer name of `dtype` (the weight format); both given must agree.
  if (merged.weightDtype !== undefined) {
    if (typeof ref === 'object' && ref.dtype !== undefined && ref.dtype !== merged.weightDtype)
      throw new InputError(`${path}.weightDtype`, `"${String(merged.weightDtype)}" contradicts dtype "${ref.dtype}" (give one)`);
    merged.dtype = merged.weightDtype;
    delete merged.weightDtype;
  }
  if (merged.headDim === undefined && typeof merged.hiddenSize === 'number' && typeof merged.heads === 'number') {
    if (merged.hiddenSize % merged.heads !== 0)
      throw new InputError(`${path}.heads`, `heads (${merged.heads}) must divide hiddenSize (${merged.hiddenSize}) when headDim is not given`);
    merged.headDim = merged.hiddenSize / merged.heads;
  }
  if (merged.kvHeads === undefined) merged.kvHeads = merged.heads;
  return validate(modelSpecSchema, merged, path, unknownIdOf(ref, path, 'model', catalog.models)) as ModelSpec;
}

export function resolveDevice(ref: DeviceRef, path: string, catalog = loadCatalog()): DeviceSpec {
  return validate(deviceSpecSchema, merge(ref, path, 'device', catalog.devices), path, unknownIdOf(ref, path, 'device', catalog.devices));
}

export function resolveLink(ref: LinkRef, path: string, catalog = loadCatalog()): LinkSpec {
  return validate(linkSpecSchema, merge(ref, path, 'link', catalog.links), path, unknownIdOf(ref, path, 'link', catalog.links));
}

/** The measured profile for (model, device), if the catalog has one. */
export function findProfile(modelId: string, deviceId: string, catalog = loadCatalog()): MeasuredProfile | undefined {
  for (const p of catalog.profiles.values()) if (p.modelId === modelId && p.deviceId === deviceId) return p;
  return undefined;
}

/** Resolves a runtime reference (an id from datasets/runtimes.json, or an object overriding one). */
export function resolveRuntime(ref: RuntimeRef, path: string, catalog = loadCatalog()): RuntimeSpec {
  return validate(
    runtimeSpecSchema,
    merge(ref, path, 'runtime', catalog.runtimes),
    path,
    unknownIdOf(ref, path, 'runtime', catalog.runtimes),
  ) as RuntimeSpec;
}
