/**
 * Every problem family, keyed by its `kind`: one entry each in KINDS below, with the title `edgeplan kinds` prints
 * and the loader of the family's module. Nothing else in the API or CLI needs to change when a family is added.
 *
 * Families are loaded lazily (issue 18, fast start): a family's module pulls in its zod schemas, cost model, exact
 * search and peers, and loading all of them costs a few hundred milliseconds, which `edgeplan kinds` or a solve of
 * one kind should not pay. `listKinds()` and `kindTitle()` answer from the table without loading anything;
 * `loadFormulation(kind)` imports one family, after which the synchronous `getFormulation(kind)` returns it.
 * The public library entry (src/api.ts) loads every family before it resolves, so library users and tests see a
 * fully loaded registry; the CLI loads only the kind its problem names.
 */
import { closeMatches } from '../catalog/closest.ts';
import { InputError } from '../errors.ts';
import type { AnyFormulation } from './types.ts';

interface KindEntry {
  /** Equal to the family's `title` (test/api/registry.test.ts checks it). */
  readonly title: string;
  /** Imports the family's index module; its exported Formulation whose `kind` is this key is the family. */
  readonly load: () => Promise<object>;
}

const KINDS: Readonly<Record<string, KindEntry>> = {
  milp: { title: 'raw mixed-integer linear program', load: () => import('./milp/index.ts') },
  'model-caching': {
    title: 'Parameter-sharing model caching on edge servers (TrimCaching setting)',
    load: () => import('./model-caching/index.ts'),
  },
  'speculative-threshold': {
    title: 'Channel-adaptive draft length and threshold for device-draft / edge-verify speculative decoding',
    load: () => import('./speculative-threshold/index.ts'),
  },
  'kv-split-inference': {
    title: 'multi-user split inference under KV-cache memory limits with shared server weights',
    load: () => import('./kv-split-inference/index.ts'),
  },
  'split-finetune': {
    title: 'Split federated LoRA fine-tuning: cut layer, freezing ratio and uplink split (SplitLoRA setting)',
    load: () => import('./split-finetune/index.ts'),
  },
  'pipeline-placement': {
    title: 'heterogeneous pipeline stages: which servers, in which order, which layers',
    load: () => import('./pipeline-placement/index.ts'),
  },
  'moe-placement': {
    title: 'MoE expert placement and replication across heterogeneous edge servers (server side only)',
    load: () => import('./moe-placement/index.ts'),
  },
  'parallel-placement': {
    title: 'pipeline stages of tensor-parallel (and data-parallel) groups over heterogeneous servers',
    load: () => import('./parallel-placement/index.ts'),
  },
  'fleet-serving': {
    title: 'LLM serving placement over a heterogeneous fleet: layer ranges per node and routed flow (Helix-class)',
    load: () => import('./fleet-serving/index.ts'),
  },
  'split-moe': {
    title: 'SplitMoE: device cut per user class + expert placement and routing across edge servers',
    load: () => import('./split-moe/index.ts'),
  },
  'agent-placement': {
    title: 'LLM-agent modules (a DAG per task) across devices and edge servers, with shared base weights',
    load: () => import('./agent-placement/index.ts'),
  },
};

const loaded = new Map<string, AnyFormulation>();
const loading = new Map<string, Promise<AnyFormulation>>();

export function listKinds(): string[] {
  return Object.keys(KINDS);
}

/** The one-line title of a registered kind, without loading the family. */
export function kindTitle(kind: string): string {
  return known(kind).title;
}

function known(kind: string): KindEntry {
  if (Object.hasOwn(KINDS, kind)) return KINDS[kind];
  const kinds = listKinds();
  const close = closeMatches(kind, kinds);
  const hint = close.length > 0 ? `; did you mean ${close.map((k) => `"${k}"`).join(', ')}?` : '';
  throw new InputError('$.kind', `unknown kind "${kind}"${hint}; known kinds: ${kinds.join(', ')}`);
}

function isFormulationOf(kind: string, value: unknown): value is AnyFormulation {
  return (
    typeof value === 'object' &&
    value !== null &&
    'kind' in value &&
    value.kind === kind &&
    'parse' in value &&
    typeof value.parse === 'function'
  );
}

/** Imports the family of `kind` once (concurrent callers share the import); InputError for an unknown kind. */
export async function loadFormulation(kind: string): Promise<AnyFormulation> {
  const entry = known(kind);
  const done = loaded.get(kind);
  if (done !== undefined) return done;
  let pending = loading.get(kind);
  if (pending === undefined) {
    pending = entry.load().then((module) => {
      const f = Object.values(module).find((value) => isFormulationOf(kind, value));
      if (f === undefined) throw new Error(`the module of kind "${kind}" exports no Formulation with kind "${kind}"`);
      loaded.set(kind, f);
      return f;
    });
    pending.finally(() => loading.delete(kind)).catch(() => undefined);
    loading.set(kind, pending);
  }
  return pending;
}

/** Imports every family (or the given ones). */
export async function loadFormulations(kinds: readonly string[] = listKinds()): Promise<AnyFormulation[]> {
  return Promise.all(kinds.map(loadFormulation));
}

/**
 * Loads the family that a raw problem's `kind` names, if it names a registered one; otherwise does nothing, so
 * that parseProblem then reports the missing or unknown kind with its usual message.
 */
export async function loadKindOf(raw: unknown): Promise<void> {
  if (typeof raw !== 'object' || raw === null || !('kind' in raw)) return;
  const kind = raw.kind;
  if (typeof kind === 'string' && Object.hasOwn(KINDS, kind)) await loadFormulation(kind);
}

/**
 * The family for `kind`, or an InputError at `$.kind` naming the known kinds and the close ones. The family must
 * have been loaded (loadFormulation, loadKindOf, or importing src/api.ts, which loads them all): calling this
 * before is a programming error, reported as such rather than as bad input.
 */
export function getFormulation(kind: string): AnyFormulation {
  known(kind);
  const f = loaded.get(kind);
  if (f === undefined) {
    throw new Error(`kind "${kind}" is not loaded yet: await loadFormulation("${kind}") before getFormulation`);
  }
  return f;
}

/** Every family by kind, read through getFormulation (so each must be loaded when its property is read). */
export const FORMULATIONS: Readonly<Record<string, AnyFormulation>> = Object.freeze(
  Object.defineProperties(
    {},
    Object.fromEntries(listKinds().map((kind) => [kind, { enumerable: true, get: () => getFormulation(kind) }])),
  ) as Record<string, AnyFormulation>,
);
