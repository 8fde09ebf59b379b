/**
 * Input of the `fleet-serving` kind (Helix-class serving over a whole fleet): nodes that each hold
 * one contiguous range of the model's L layers (or nothing), a source where requests enter, a sink
 * where finished tokens leave, and directed links with a capacity in tokens/s. A node's throughput
 * when it holds k layers is either a measured table T(k) (Helix's profiles) or computed from the
 * cost model for (model, device, batch, context); its largest k is given or follows from memory
 * (weights + the KV cache of the batch it serves).
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
} from '../../catalog/index.ts';
import type { DeviceSpec } from '../../cost/device.ts';
import { runtimeUsableBytes } from '../../cost/runtime.ts';
import { withRuntimeOverheads } from '../../cost/runtime-time.ts';
import { activationBytesPerToken, type ModelSpec } from '../../cost/model.ts';
import { InputError, inputErrorFromZod } from '../../errors.ts';
import { REFERENCE_PRICE_PER_GPU_HOUR } from './prices.ts';

const positiveInt = z.number().int('must be a whole number').positive('must be positive');
const positive = z.number().positive('must be positive').finite('must be finite');
const nonNegative = z.number().nonnegative('must not be negative').finite('must be finite');

/** Reserved endpoint names of the links list. */
export const SOURCE = 'source';
export const SINK = 'sink';

/** A whole-number size with a ceiling: an absurd count is bad input, never a heap exhaustion (fuzz finding). */
const sized = (max: number) => positiveInt.max(max, `must be at most ${max} (absurd size)`);
/** Layers of a model, nodes behind one entry, GPUs in a group, sequences and tokens of the workload. */
const MAX_LAYERS = 10_000;

const tableSchema = z
  .record(
    z
      .string()
      .regex(/^[1-9][0-9]*$/, 'keys are layer counts k = 1, 2, …')
      .refine((k) => Number(k) <= MAX_LAYERS, `keys must be at most ${MAX_LAYERS} layers (absurd size)`),
    nonNegative,
  )
  .describe('tokens/s the node sustains when it holds k consecutive layers, keyed by k');

const nodeSchema = z.strictObject({
  name: z.string().min(1, 'must not be empty').describe('unique node name ("source" and "sink" are reserved)'),
  throughputByLayers: tableSchema.optional(),
  maxLayers: sized(MAX_LAYERS)
    .optional()
    .describe("most layers the node can hold (default: the table's largest k, or memory)"),
  device: deviceRefSchema
    .optional()
    .describe('catalog device id or object: throughput from the cost model (needs $.model)'),
  gpus: sized(4096).default(1).describe('tensor-parallel group size: compute, bandwidth and memory scale by it'),
  memoryBytes: positive.optional().describe("memory usable for weights and KV (default the device's × gpus)"),
  count: sized(10_000).default(1).describe('this many identical nodes, named name-0 … name-(count-1) when count > 1'),
  runtime: runtimeRefSchema.optional().describe('runtime of this device node (overrides $.runtime)'),
  costPerHour: nonNegative
    .optional()
    .describe('rent of the node per hour (any currency; needed by $.targetTokensPerSecond unless assumed)'),
  latencyByLayers: z
    .record(z.string().regex(/^[1-9][0-9]*$/, 'keys are layer counts k = 1, 2, …'), nonNegative)
    .optional()
    .describe('seconds one token spends in the node when it holds k layers (for $.latencySloSeconds)'),
  secondsPerLayer: nonNegative
    .optional()
    .describe('per-token compute seconds per layer held: k layers take k × this (for $.latencySloSeconds)'),
  prefillByLayers: z
    .record(z.string().regex(/^[1-9][0-9]*$/, 'keys are layer counts k = 1, 2, …'), nonNegative)
    .optional()
    .describe('seconds the node takes to prefill one prompt through k layers (measured; for $.ttftSloSeconds)'),
});

const linkSchema = z.strictObject({
  from: z.string().min(1).describe('node name or "source"'),
  to: z.string().min(1).describe('node name or "sink"'),
  tokensPerSecond: positive.optional().describe('capacity in tokens/s (omit all capacities: unlimited)'),
  bitsPerSecond: positive
    .optional()
    .describe('capacity in bit/s, turned into tokens/s with the activation bytes per token'),
  link: linkRefSchema.optional().describe('catalog link id (its slower direction is used)'),
  latencySeconds: nonNegative.optional().describe('one-way latency (counted by $.latencySloSeconds)'),
  symmetric: z.boolean().default(false).describe('also add the reverse direction (node-to-node links only)'),
});

const workloadSchema = z.strictObject({
  batch: sized(1_000_000).default(8).describe('sequences each node serves at once (sizes the KV cache)'),
  promptTokens: sized(10_000_000).default(512),
  outputTokens: sized(10_000_000).default(128),
});

export const fleetInputSchema = z.strictObject({
  $schema: z.string().optional(),
  kind: z.literal('fleet-serving'),
  description: z.string().optional(),
  layers: sized(MAX_LAYERS).optional().describe("L, the model's transformer layers (default: $.model's)"),
  model: modelRefSchema.optional().describe('catalog model; needed for device nodes and for links in bit/s'),
  workload: workloadSchema.optional().describe('batch and context of the cost model (device nodes)'),
  activationBytesPerToken: positive
    .optional()
    .describe('bytes a stage boundary sends per token (default: hidden × dtype)'),
  nodes: z.array(nodeSchema).min(1, 'needs at least one node'),
  links: z.array(linkSchema).default([]).describe('directed links; "source" → node and node → "sink" included'),
  defaultLink: z
    .strictObject({
      tokensPerSecond: positive.optional(),
      bitsPerSecond: positive.optional(),
      link: linkRefSchema.optional(),
      latencySeconds: nonNegative.optional(),
    })
    .optional()
    .describe('link between every ordered pair of nodes not listed in $.links'),
  replicas: z
    .enum(['shared', 'whole-model'])
    .default('shared')
    .describe('"whole-model": every used node holds all L layers (independent replicas, no shared stages)'),
  latencySloSeconds: positive
    .optional()
    .describe('per-token latency bound of every routed path: link latencies + compute of its nodes'),
  ttftSloSeconds: positive
    .optional()
    .describe(
      'time-to-first-token bound of every routed path: link latencies, the prompt activations over each link ' +
        'and the prefill of $.workload.promptTokens on each node',
    ),
  targetTokensPerSecond: positive
    .optional()
    .describe('minimum-cost fleet: rent the cheapest nodes whose placement serves at least this'),
  runtime: runtimeRefSchema
    .optional()
    .describe(
      'runtime of every device node that names none (datasets/runtimes.json id or an object overriding one): ' +
        'memory share and per-GPU overhead off the node, host time per layer call; absent: none',
    ),
  milpFormulation: z
    .enum(['strong', 'helix'])
    .default('strong')
    .describe("MILP handed to the backends: our strong model, or Helix's as published (big-M, for comparison)"),
});
export type FleetInput = z.infer<typeof fleetInputSchema>;

export interface FleetNode {
  readonly name: string;
  /** throughput[k] in tokens/s for k = 0..maxLayers (index 0 unused, 0 = k not allowed). */
  readonly throughput: readonly number[];
  readonly maxLayers: number;
  readonly origin: 'table' | 'cost-model';
  readonly device?: string;
  /**
   * Seconds one token spends in the node when it holds k layers (index k; absent without an SLO).
   * Device nodes: one decode step of the batch, batch / T(k); table nodes: their latency table.
   */
  readonly latencySeconds?: readonly number[];
  /**
   * Seconds the node takes to prefill one prompt of the problem's promptTokens through k layers
   * (index k; absent without a TTFT SLO). Device nodes: the roofline of src/cost; table nodes:
   * their prefillByLayers.
   */
  readonly prefillSeconds?: readonly number[];
  /** Rent per hour (absent without a target). */
  readonly costPerHour?: number;
  /** True when costPerHour is the family's reference price for the device, not the user's. */
  readonly priceAssumed?: boolean;
}

export interface FleetLink {
  readonly from: number;
  readonly to: number;
  /** tokens/s; Infinity = unlimited. */
  readonly capacity: number;
  readonly latencySeconds: number;
}

export interface FleetProblem {
  readonly kind: 'fleet-serving';
  readonly layers: number;
  readonly nodes: readonly FleetNode[];
  /** Node-to-node links, at most one per ordered pair. */
  readonly links: readonly FleetLink[];
  /** Capacity of source → node i (0 = no link, Infinity = unlimited). */
  readonly sourceCapacity: readonly number[];
  readonly sinkCapacity: readonly number[];
  readonly sourceLatencySeconds: readonly number[];
  readonly sinkLatencySeconds: readonly number[];
  readonly wholeModel: boolean;
  readonly milpFormulation: 'strong' | 'helix';
  readonly model: ModelSpec | null;
  /** Latency bound of every source → sink path in the routing's support (variants.ts). */
  readonly latencySloSeconds?: number;
  /** Time-to-first-token bound of every source → sink path in the routing's support (variants.ts). */
  readonly ttftSloSeconds?: number;
  /** Prompt length P of the TTFT bound ($.workload.promptTokens; present with ttftSloSeconds). */
  readonly promptTokens?: number;
  /** Minimum-cost variant: the throughput the rented nodes must reach (variants.ts). */
  readonly targetTokensPerSecond?: number;
}

const placementSchema = z.strictObject({
  node: z.string().min(1),
  firstLayer: positiveInt.describe('1-based first layer held'),
  lastLayer: positiveInt.describe('1-based last layer held (inclusive)'),
});
const flowSchema = z.strictObject({
  from: z.string().min(1).describe('node name or "source"'),
  to: z.string().min(1).describe('node name or "sink"'),
  tokensPerSecond: z.number().finite(),
});
const pipelineSchema = z.strictObject({
  nodes: z.array(z.string().min(1)).min(1).describe('nodes in order, source side first'),
  tokensPerSecond: z.number().finite(),
});

export const fleetDecisionSchema = z.strictObject({
  placement: z.array(placementSchema).describe('the nodes in use with their layer ranges; others idle'),
  routing: z.array(flowSchema).optional().describe("flow per link; absent: the placement's maximum flow"),
  pipelines: z.array(pipelineSchema).optional().describe('a path decomposition of the routing'),
});
export type FleetDecision = z.infer<typeof fleetDecisionSchema>;

interface CostInputs {
  readonly model: ModelSpec;
  readonly batch: number;
  readonly contextTokens: number;
  /** Prompt length whose prefill time per k is wanted (TTFT SLO only). */
  readonly prefillTokens?: number;
  /** The runtime's chunked-prefill size (tokens per pass), if any. */
  readonly prefillChunkTokens?: number;
}

/** Tokens/s table and memory limit of a device node from the cost model (see cost.ts). */
export type DeviceTable = (
  device: DeviceSpec,
  gpus: number,
  memoryBytes: number,
  c: CostInputs,
  L: number,
) => {
  throughput: number[];
  maxLayers: number;
  /** Seconds to prefill one prompt of c.prefillTokens through k layers (index k), when asked. */
  prefillSeconds?: number[];
};

function linkCapacity(
  l: { tokensPerSecond?: number; bitsPerSecond?: number; link?: unknown; latencySeconds?: number },
  path: string,
  bytesPerToken: number | null,
): { capacity: number; latencySeconds: number } {
  const given = [l.tokensPerSecond, l.bitsPerSecond, l.link].filter((x) => x !== undefined).length;
  if (given > 1) throw new InputError(path, 'give one of tokensPerSecond, bitsPerSecond or link');
  let latency = l.latencySeconds ?? 0;
  if (l.tokensPerSecond !== undefined) return { capacity: l.tokensPerSecond, latencySeconds: latency };
  let bits: number | undefined = l.bitsPerSecond;
  if (l.link !== undefined) {
    const spec = resolveLink(l.link as Parameters<typeof resolveLink>[0], `${path}.link`);
    bits = Math.min(spec.uplinkBitsPerSecond, spec.downlinkBitsPerSecond);
    if (l.latencySeconds === undefined) latency = spec.latencySeconds;
  }
  if (bits === undefined) return { capacity: Infinity, latencySeconds: latency };
  if (bytesPerToken === null) {
    throw new InputError(
      path,
      'a capacity in bit/s needs the activation size: give $.model or $.activationBytesPerToken',
    );
  }
  return { capacity: bits / (8 * bytesPerToken), latencySeconds: latency };
}

/** Raw JSON → FleetProblem; every broken rule is an InputError with its JSON path. */
export function parseFleetWith(raw: unknown, deviceTable: DeviceTable): FleetProblem {
  const parsed = fleetInputSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const input = parsed.data;
  const model = input.model !== undefined ? resolveModel(input.model, '$.model') : null;
  const L = input.layers ?? model?.layers;
  if (L === undefined) throw new InputError('$.layers', 'required field is missing (or give $.model)');
  const workload = input.workload ?? { batch: 8, promptTokens: 512, outputTokens: 128 };
  const ttft = input.ttftSloSeconds;
  const bytesPerToken = input.activationBytesPerToken ?? (model !== null ? activationBytesPerToken(model) : null);
  const defaultRuntime = input.runtime === undefined ? null : resolveRuntime(input.runtime, '$.runtime');

  const nodes: FleetNode[] = [];
  const index = new Map<string, number>();
  input.nodes.forEach((n, i) => {
    const path = `$.nodes[${i}]`;
    if (n.name === SOURCE || n.name === SINK)
      throw new InputError(`${path}.name`, `"${n.name}" is reserved for the endpoints`);
    let throughput: number[];
    let maxLayers: number;
    let origin: FleetNode['origin'];
    let device: string | undefined;
    let devicePrefill: number[] | undefined;
    if (n.throughputByLayers !== undefined) {
      if (n.device !== undefined)
        throw new InputError(`${path}.device`, 'give either throughputByLayers or device, not both');
      const entries = Object.entries(n.throughputByLayers).map(([k, v]) => [Number(k), v] as const);
      if (entries.length === 0) throw new InputError(`${path}.throughputByLayers`, 'must list at least one k');
      const top = Math.max(...entries.map(([k]) => k));
      maxLayers = n.maxLayers ?? top;
      for (const [k] of entries) {
        if (k > maxLayers) {
          throw new InputError(
            `${path}.throughputByLayers.${k}`,
            `k = ${k} is above maxLayers (${maxLayers}): the node cannot hold it`,
          );
        }
      }
      if (entries.every(([, v]) => v === 0))
        throw new InputError(`${path}.throughputByLayers`, 'every throughput is 0');
      throughput = new Array<number>(Math.min(maxLayers, L) + 1).fill(0);
      for (const [k, v] of entries) if (k <= L) throughput[k] = v;
      origin = 'table';
    } else if (n.device !== undefined) {
      if (model === null) throw new InputError(`${path}.device`, 'a device node needs $.model for its cost model');
      const given = resolveDevice(n.device, `${path}.device`);
      device = given.id;
      // Under a runtime each of the group's g GPUs runs a worker with its share and fixed overhead
      // (src/cost/runtime.ts), and every layer call costs the runtime's host time (runtime-time.ts).
      const runtime = n.runtime !== undefined ? resolveRuntime(n.runtime, `${path}.runtime`) : defaultRuntime;
      const spec = withRuntimeOverheads(given, runtime);
      const memory = Math.max(
        0,
        runtimeUsableBytes(n.memoryBytes ?? given.memoryBytes * n.gpus, runtime, given.unifiedMemory === true, n.gpus),
      );
      const c = {
        model,
        batch: workload.batch,
        contextTokens: workload.promptTokens + workload.outputTokens,
        ...(ttft !== undefined ? { prefillTokens: workload.promptTokens } : {}),
        ...(runtime?.prefillChunkTokens != null ? { prefillChunkTokens: runtime.prefillChunkTokens } : {}),
      };
      const t = deviceTable(spec, n.gpus, memory, c, L);
      devicePrefill = t.prefillSeconds;
      maxLayers = Math.min(n.maxLayers ?? t.maxLayers, t.maxLayers);
      if (maxLayers < 1) {
        throw new InputError(
          `${path}.device`,
          `cannot hold one layer with the KV cache of ${workload.batch} sequences`,
        );
      }
      throughput = t.throughput.slice(0, maxLayers + 1);
      origin = 'cost-model';
    } else {
      throw new InputError(`${path}.throughputByLayers`, 'required field is missing (or give device)');
    }
    const held = Math.min(maxLayers, L);
    const latencySeconds = nodeLatency(n, path, throughput, held, workload.batch, input.latencySloSeconds);
    const prefillSeconds = ttft !== undefined ? nodePrefill(n, path, throughput, held, devicePrefill) : undefined;
    const price = nodePrice(n, path, device, input.targetTokensPerSecond);
    const extra = {
      ...(device ? { device } : {}),
      ...(latencySeconds !== undefined ? { latencySeconds } : {}),
      ...(prefillSeconds !== undefined ? { prefillSeconds } : {}),
      ...(price !== undefined ? { costPerHour: price.costPerHour, priceAssumed: price.assumed } : {}),
    };
    const names = n.count === 1 ? [n.name] : Array.from({ length: n.count }, (_, c) => `${n.name}-${c}`);
    for (const name of names) {
      if (index.has(name)) throw new InputError(`${path}.name`, `duplicate node name "${name}"`);
      index.set(name, nodes.length);
      nodes.push({ name, throughput, maxLayers: held, origin, ...extra });
    }
  });

  const nNodes = nodes.length;
  const pair = new Map<number, FleetLink>();
  const sourceCapacity = new Array<number>(nNodes).fill(0);
  const sinkCapacity = new Array<number>(nNodes).fill(0);
  const sourceLatency = new Array<number>(nNodes).fill(0);
  const sinkLatency = new Array<number>(nNodes).fill(0);
  let sourceGiven = false;
  let sinkGiven = false;
  const nodeAt = (name: string, path: string): number => {
    const i = index.get(name);
    if (i === undefined) throw new InputError(path, `unknown node "${name}"`);
    return i;
  };
  input.links.forEach((l, k) => {
    const path = `$.links[${k}]`;
    const { capacity, latencySeconds } = linkCapacity(l, path, bytesPerToken);
    if (l.to === SOURCE) throw new InputError(`${path}.to`, 'a link cannot enter the source');
    if (l.from === SINK) throw new InputError(`${path}.from`, 'a link cannot leave the sink');
    if (l.from === SOURCE && l.to === SINK) throw new InputError(`${path}.to`, 'source → sink skips every layer');
    if (l.from === SOURCE) {
      const j = nodeAt(l.to, `${path}.to`);
      sourceGiven = true;
      sourceCapacity[j] = capacity;
      sourceLatency[j] = latencySeconds;
      return;
    }
    if (l.to === SINK) {
      const i = nodeAt(l.from, `${path}.from`);
      sinkGiven = true;
      sinkCapacity[i] = capacity;
      sinkLatency[i] = latencySeconds;
      return;
    }
    const i = nodeAt(l.from, `${path}.from`);
    const j = nodeAt(l.to, `${path}.to`);
    if (i === j) throw new InputError(`${path}.to`, 'a link joins two different nodes');
    pair.set(i * nNodes + j, { from: i, to: j, capacity, latencySeconds });
    if (l.symmetric) pair.set(j * nNodes + i, { from: j, to: i, capacity, latencySeconds });
  });
  if (input.defaultLink !== undefined) {
    const { capacity, latencySeconds } = linkCapacity(input.defaultLink, '$.defaultLink', bytesPerToken);
    for (let i = 0; i < nNodes; i++) {
      for (let j = 0; j < nNodes; j++) {
        if (i !== j && !pair.has(i * nNodes + j))
          pair.set(i * nNodes + j, { from: i, to: j, capacity, latencySeconds });
      }
    }
  }
  // No source (sink) link listed at all: requests may enter (leave) at every node, unlimited.
  if (!sourceGiven) sourceCapacity.fill(Infinity);
  if (!sinkGiven) sinkCapacity.fill(Infinity);
  const links = [...pair.values()].sort((a, b) => a.from - b.from || a.to - b.to);
  const problem: FleetProblem = {
    kind: 'fleet-serving',
    layers: L,
    nodes,
    links,
    sourceCapacity,
    sinkCapacity,
    sourceLatencySeconds: sourceLatency,
    sinkLatencySeconds: sinkLatency,
    wholeModel: input.replicas === 'whole-model',
    milpFormulation: input.milpFormulation,
    model,
    ...(input.latencySloSeconds !== undefined ? { latencySloSeconds: input.latencySloSeconds } : {}),
    ...(ttft !== undefined ? { ttftSloSeconds: ttft, promptTokens: workload.promptTokens } : {}),
    ...(input.targetTokensPerSecond !== undefined ? { targetTokensPerSecond: input.targetTokensPerSecond } : {}),
  };
  if (
    problem.milpFormulation === 'helix' &&
    (problem.latencySloSeconds !== undefined ||
      problem.ttftSloSeconds !== undefined ||
      problem.targetTokensPerSecond !== undefined)
  ) {
    throw new InputError(
      '$.milpFormulation',
      'Helix\'s model has neither path latencies nor rents: use "strong" with an SLO or a target',
    );
  }
  const reason = noPathReason(problem);
  if (reason !== null) throw new InputError(reason.path, reason.rule);
  return problem;
}

type RawNode = FleetInput['nodes'][number];

/**
 * Per-token compute seconds of a node for k = 0..held (index 0 unused): its latency table, or k ×
 * secondsPerLayer, or for a device node one decode step of the batch through k layers, which is
 * batch / T(k) by the cost model's definition of T. Undefined when nothing is given and no SLO
 * needs it; a table node under an SLO without either field is bad input.
 */
function nodeLatency(
  n: RawNode,
  path: string,
  throughput: readonly number[],
  held: number,
  batch: number,
  slo: number | undefined,
): number[] | undefined {
  if (n.latencyByLayers !== undefined && n.secondsPerLayer !== undefined)
    throw new InputError(`${path}.secondsPerLayer`, 'give either latencyByLayers or secondsPerLayer, not both');
  const out = new Array<number>(held + 1).fill(0);
  if (n.secondsPerLayer !== undefined) {
    for (let k = 1; k <= held; k++) out[k] = k * n.secondsPerLayer;
    return out;
  }
  if (n.latencyByLayers !== undefined) {
    const table = n.latencyByLayers;
    for (let k = 1; k <= held; k++) {
      if (!((throughput[k] ?? 0) > 0)) continue;
      const v = table[String(k)];
      if (v === undefined) {
        if (slo === undefined) return undefined;
        throw new InputError(`${path}.latencyByLayers`, `no latency for k = ${k} (its throughput table has it)`);
      }
      out[k] = v;
    }
    return out;
  }
  if (n.device !== undefined) {
    for (let k = 1; k <= held; k++) out[k] = (throughput[k] ?? 0) > 0 ? batch / throughput[k] : 0;
    return out;
  }
  if (slo === undefined) return undefined;
  throw new InputError(
    `${path}.latencyByLayers`,
    'required with $.latencySloSeconds for a node given by its table (or give secondsPerLayer)',
  );
}

/**
 * Prefill seconds of one prompt through k layers, k = 0..held (index 0 unused): the node's measured
 * prefillByLayers (every k of its throughput table needs an entry), else a device node's roofline.
 * Only asked under a TTFT SLO; a table node without the table is then bad input.
 */
function nodePrefill(
  n: RawNode,
  path: string,
  throughput: readonly number[],
  held: number,
  devicePrefill: readonly number[] | undefined,
): number[] {
  const out = new Array<number>(held + 1).fill(0);
  if (n.prefillByLayers !== undefined) {
    for (let k = 1; k <= held; k++) {
      if (!((throughput[k] ?? 0) > 0)) continue;
      const v = n.prefillByLayers[String(k)];
      if (v === undefined)
        throw new InputError(`${path}.prefillByLayers`, `no prefill time for k = ${k} (its throughput table has it)`);
      out[k] = v;
    }
    return out;
  }
  if (devicePrefill !== undefined) {
    for (let k = 1; k <= held; k++) out[k] = devicePrefill[k] ?? 0;
    return out;
  }
  throw new InputError(
    `${path}.prefillByLayers`,
    'required with $.ttftSloSeconds for a node given by its table (seconds to prefill the prompt per k)',
  );
}

/** Rent of a node: its costPerHour, or the assumed reference price of its device (prices.ts) under a target. */
function nodePrice(
  n: RawNode,
  path: string,
  device: string | undefined,
  target: number | undefined,
): { costPerHour: number; assumed: boolean } | undefined {
  if (n.costPerHour !== undefined) return { costPerHour: n.costPerHour, assumed: false };
  if (target === undefined) return undefined;
  const reference = device !== undefined ? REFERENCE_PRICE_PER_GPU_HOUR[device] : undefined;
  if (reference !== undefined) return { costPerHour: reference * n.gpus, assumed: true };
  throw new InputError(
    `${path}.costPerHour`,
    `required with $.targetTokensPerSecond (${device !== undefined ? `no price known for ${device}` : 'table node'})`,
  );
}

/** Structural impossibility (no source link, no sink link, sink unreachable in the link graph). */
function noPathReason(p: FleetProblem): { path: string; rule: string } | null {
  const n = p.nodes.length;
  if (p.sourceCapacity.every((c) => c === 0)) return { path: '$.links', rule: 'no link leaves "source"' };
  if (p.sinkCapacity.every((c) => c === 0)) return { path: '$.links', rule: 'no link enters "sink"' };
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const l of p.links) out[l.from].push(l.to);
  const seen = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  for (let i = 0; i < n; i++) {
    if (p.sourceCapacity[i] > 0) {
      seen[i] = true;
      stack.push(i);
    }
  }
  while (stack.length > 0) {
    const i = stack.pop() as number;
    for (const j of out[i]) {
      if (!seen[j]) {
        seen[j] = true;
        stack.push(j);
      }
    }
  }
  if (!seen.some((s, i) => s && p.sinkCapacity[i] > 0)) {
    return { path: '$.links', rule: 'no path of links leads from "source" to "sink"' };
  }
  return null;
}
