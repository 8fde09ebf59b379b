/**
 * Input of the agent-placement family (issue 21 item 3; the seed's companion paper 003: LLM agents
 * split into perception, grounding and alignment modules across the mobile device and edge
 * servers). A task is a small DAG of modules, each an LLM from the catalog (or inline); every user
 * runs one task on its own device and reaches some edge servers over its own links; servers talk
 * over edge links. The decision places each (user, module) on the user's device or on a server.
 *
 * Everything the methods need per (user, module, location) — compute seconds — is computed here
 * once from the catalog physics (roofline, src/cost/layers.ts), so the exact method, the peers and
 * evaluate read the same numbers and differ only in how they combine them.
 */
import { z } from 'zod';
import { documentFields, loraSchema, nonNegative, nonNegativeInt, positive, positiveInt } from '../zod-primitives.ts';
import {
  closeMatches,
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
import { layerTable, TOKEN_ID_BYTES } from '../../cost/layers.ts';
import { adapterDtypeOf, kvBytesPerToken, modelWeightBytes, type ModelSpec } from '../../cost/model.ts';
import { loraParamsPerLayer } from '../../cost/training.ts';
import { bytesPerValue } from '../../cost/units.ts';
import { InputError, inputErrorFromZod } from '../../errors.ts';
import { withinLimit } from '../tolerance.ts';

/** The reserved location name of a user's own device in decisions. */
export const DEVICE = 'device';
/** Modules per task: the exact method enumerates (1 + servers)^modules placements per user. */
export const MAX_MODULES = 12;
const MAX_TOKENS = 10_000_000;

const id = z.string().min(1, 'must not be empty');
const tokens = nonNegativeInt.max(MAX_TOKENS, `must be at most ${MAX_TOKENS} (absurd size)`);

const moduleSchema = z.strictObject({
  id: id.describe('module name, unique within its task (e.g. "perception")'),
  model: modelRefSchema.describe('catalog model id, or an object overriding catalog fields (an inline model)'),
  lora: loraSchema
    .optional()
    .describe("a LoRA fine-tune of `model`: stores the model's weights once per location plus this adapter"),
  inputs: z.array(id).default([]).describe('modules whose output this module reads (the DAG edges)'),
  inputTokens: positiveInt
    .max(MAX_TOKENS, `must be at most ${MAX_TOKENS} (absurd size)`)
    .describe('tokens this module prefills per interaction (its prompt, including what its inputs send)'),
  outputTokens: tokens.describe('tokens it generates per interaction (decode steps)'),
  outputBytes: nonNegative
    .optional()
    .describe('bytes sent to each successor (and to the device if it is final); default outputTokens × 4'),
  sourceBytes: nonNegative
    .default(0)
    .describe(
      "raw bytes it reads from the user's device (a camera frame, audio); they cross the uplink if it runs at the edge",
    ),
  pin: z.enum(['device', 'edge']).optional().describe('where it must run (privacy: raw data never leaves the device)'),
});

const taskSchema = z.strictObject({
  id,
  modules: z
    .array(moduleSchema)
    .min(1, 'a task needs at least one module')
    .max(MAX_MODULES, `at most ${MAX_MODULES} modules`),
});

const serverSchema = z.strictObject({
  id: id.describe('server name ("device" is reserved for the user\'s own device)'),
  device: deviceRefSchema.describe('the server hardware: catalog device id or an object overriding catalog fields'),
  memoryBytes: nonNegative.optional().describe("memory given to the agents' models (default: the device's memory)"),
  runtime: runtimeRefSchema.optional().describe('runtime the server runs the models with (overrides $.runtime)'),
  maxUtilisation: positive
    .max(1, 'must be at most 1')
    .default(1)
    .describe('cap on the busy share of the server over all users (1: just stable; lower keeps queues short)'),
});

const userSchema = z.strictObject({
  id,
  task: id.optional().describe('task id in $.tasks (default: the only task)'),
  device: deviceRefSchema.describe("the user's device: catalog id or an object overriding catalog fields"),
  memoryBytes: nonNegative.optional().describe("device memory the agent may use (default: the device's memory)"),
  runtime: runtimeRefSchema
    .optional()
    .describe("runtime the user's device runs its modules with (overrides $.runtime)"),
  links: z
    .array(z.strictObject({ server: id, link: linkRefSchema }))
    .default([])
    .describe('links to the servers this user reaches (uplink = device → server)'),
  interactionsPerSecond: positive
    .default(0.1)
    .describe('interaction rate: weights the mean and the network load, and loads the servers'),
  latencySloSeconds: positive.optional().describe('per-interaction latency this user accepts (a constraint)'),
});

export const inputSchema = z.strictObject({
  ...documentFields,
  kind: z.literal('agent-placement'),
  tasks: z.array(taskSchema).min(1, 'at least one task is needed'),
  servers: z.array(serverSchema).default([]),
  edgeLinks: z
    .array(z.strictObject({ between: z.tuple([id, id]), link: linkRefSchema }))
    .default([])
    .describe('server-to-server links; uplink rate is first → second, downlink second → first'),
  users: z.array(userSchema).min(1, 'at least one user is needed'),
  objective: z.enum(['worst-latency', 'mean-latency', 'network']).default('worst-latency'),
  runtime: runtimeRefSchema
    .optional()
    .describe(
      'runtime of every device and server unless they name their own (datasets/runtimes.json id or an object ' +
        'overriding one): its memory share and fixed overhead leave less memory, its host time is added per ' +
        'layer call; absent: none',
    ),
  parameterSharing: z
    .boolean()
    .default(true)
    .describe('false: every module stores its model in full (the no-sharing counterfactual)'),
});
export type AgentInput = z.infer<typeof inputSchema>;

/** Parameter blocks: a model's weights (shared by every module built on it) or one module's adapter. */
export interface Block {
  readonly id: string;
  readonly bytes: number;
}

export interface AgentModule {
  readonly id: string;
  readonly modelId: string;
  /** Indices into `Problem.blocks` this module needs resident where it runs. */
  readonly blocks: readonly number[];
  /** KV cache of one interaction (prompt + generated tokens), held where the module runs. */
  readonly kvBytes: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Bytes sent to each successor, and to the device when the module is final. */
  readonly outputBytes: number;
  readonly sourceBytes: number;
  /** Indices of the modules it reads from (within the task). */
  readonly inputs: readonly number[];
  /** No module reads its output: its result goes back to the user's device. */
  readonly final: boolean;
  readonly pin: 'device' | 'edge' | null;
}

export interface Task {
  readonly id: string;
  readonly modules: readonly AgentModule[];
}

export interface Server {
  readonly id: string;
  readonly device: DeviceSpec;
  readonly memoryBytes: number;
  readonly maxUtilisation: number;
}

export interface User {
  readonly id: string;
  readonly task: number;
  readonly device: DeviceSpec;
  readonly memoryBytes: number;
  /** Link to each server (index = server index), or null when the user does not reach it. */
  readonly links: readonly (LinkSpec | null)[];
  readonly rate: number;
  readonly sloSeconds: number | null;
  /**
   * computeSeconds[m][loc]: seconds of module m at location loc (0 = the device, n + 1 = server n),
   * null where it cannot run (pinned elsewhere, server not reached, model alone exceeds memory).
   */
  readonly computeSeconds: readonly (readonly (number | null)[])[];
  /**
   * loadSeconds[m][loc]: the module's FLOPs over the location's sustained FLOP rate — the share of
   * a server's compute one interaction takes even when the server batches users (decode at batch 1
   * is memory-bound and batches almost for free; FLOPs do not). 0 where it cannot run.
   */
  readonly loadSeconds: readonly (readonly number[])[];
}

export interface Problem {
  readonly kind: 'agent-placement';
  readonly blocks: readonly Block[];
  readonly tasks: readonly Task[];
  readonly servers: readonly Server[];
  /** edge[a][b]: time model of sending from server a to server b (rate a → b), null when not linked. */
  readonly edge: readonly (readonly ({ readonly bitsPerSecond: number; readonly latencySeconds: number } | null)[])[];
  readonly users: readonly User[];
  readonly objective: 'worst-latency' | 'mean-latency' | 'network';
  readonly parameterSharing: boolean;
  /** Links the user wrote, with their JSON paths, for plausibility warnings. */
  readonly linkPaths: readonly { readonly path: string; readonly link: LinkSpec }[];
}

/**
 * Seconds (batch-1 roofline) and FLOPs of one interaction of a module on `device`: prefill of its
 * prompt, then one decode step per generated token.
 */
function moduleWork(
  model: ModelSpec,
  device: DeviceSpec,
  inputTokens: number,
  outputTokens: number,
): { seconds: number; flops: number } {
  const prefill = layerTable(model, device, {
    batch: 1,
    tokens: inputTokens,
    contextTokens: inputTokens,
    logitsTokens: 1,
  }).totals;
  if (outputTokens === 0) return { seconds: prefill.seconds, flops: prefill.forwardFlops };
  // One decode step at the mean context of the generation stands for all of them: the KV traffic
  // grows linearly with the context, so the mean step times the count is the sum (up to the max()
  // of the roofline switching sides inside the generation, which at batch 1 it does not).
  const step = layerTable(model, device, {
    batch: 1,
    tokens: 1,
    contextTokens: inputTokens + Math.ceil(outputTokens / 2),
  }).totals;
  return {
    seconds: prefill.seconds + outputTokens * step.seconds,
    flops: prefill.forwardFlops + outputTokens * step.forwardFlops,
  };
}

/** Names the first cycle among the modules of a task (ids joined by →), or null for a DAG. */
function findCycle(modules: readonly { inputs: readonly number[] }[], ids: readonly string[]): string[] | null {
  const state = modules.map(() => 0); // 0 new, 1 on the stack, 2 done
  const stack: number[] = [];
  const visit = (m: number): string[] | null => {
    state[m] = 1;
    stack.push(m);
    for (const p of modules[m].inputs) {
      if (state[p] === 1) {
        const cycle = stack.slice(stack.indexOf(p)).map((k) => ids[k]);
        // Written in the direction data flows: producer → consumer.
        return [...cycle, ids[p]].reverse();
      }
      if (state[p] === 0) {
        const found = visit(p);
        if (found) return found;
      }
    }
    stack.pop();
    state[m] = 2;
    return null;
  };
  for (let m = 0; m < modules.length; m++) {
    if (state[m] !== 0) continue;
    const found = visit(m);
    if (found) return found;
  }
  return null;
}

function unknownRef(path: string, what: string, name: string, known: readonly string[]): InputError {
  const close = closeMatches(name, known);
  const hint =
    close.length > 0 ? `; did you mean ${close.map((c) => `"${c}"`).join(', ')}?` : `; known: ${known.join(', ')}`;
  return new InputError(path, `unknown ${what} "${name}"${hint}`);
}

export function parseProblem(raw: unknown): Problem {
  const parsed = inputSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const input = parsed.data;

  const defaultRuntime: RuntimeSpec | null =
    input.runtime === undefined ? null : resolveRuntime(input.runtime, '$.runtime');
  // The device as its runtime leaves it and the memory budget checked against that: the rule moe-placement and
  // split-moe follow too (cost/runtime-budget.ts).
  const underRuntime = (
    ref: DeviceRef,
    runtimeRef: RuntimeRef | undefined,
    budget: number | undefined,
    path: string,
  ): DeviceBudget => {
    const runtime = runtimeRef === undefined ? defaultRuntime : resolveRuntime(runtimeRef, `${path}.runtime`);
    const runtimePath = runtimeRef === undefined ? '$.runtime' : `${path}.runtime`;
    return deviceWithBudget(resolveDevice(ref, `${path}.device`), runtime, budget, {
      runtime: runtimePath,
      budget: `${path}.memoryBytes`,
    });
  };

  const servers: Server[] = [];
  const serverIndex = new Map<string, number>();
  input.servers.forEach((s, n) => {
    const path = `$.servers[${n}]`;
    if (s.id === DEVICE) throw new InputError(`${path}.id`, `"${DEVICE}" is reserved for the user's own device`);
    if (serverIndex.has(s.id)) throw new InputError(`${path}.id`, `server id "${s.id}" is defined twice`);
    serverIndex.set(s.id, n);
    const { device, memoryBytes } = underRuntime(s.device, s.runtime, s.memoryBytes, path);
    servers.push({
      id: s.id,
      device,
      memoryBytes,
      maxUtilisation: s.maxUtilisation,
    });
  });
  const serverIds = servers.map((s) => s.id);
  const serverOf = (name: string, path: string): number => {
    const n = serverIndex.get(name);
    if (n === undefined) throw unknownRef(path, 'server', name, serverIds);
    return n;
  };

  const linkPaths: { path: string; link: LinkSpec }[] = [];
  const edge: ({ bitsPerSecond: number; latencySeconds: number } | null)[][] = servers.map(() =>
    servers.map(() => null),
  );
  input.edgeLinks.forEach((e, i) => {
    const path = `$.edgeLinks[${i}]`;
    const a = serverOf(e.between[0], `${path}.between[0]`);
    const b = serverOf(e.between[1], `${path}.between[1]`);
    if (a === b) throw new InputError(`${path}.between`, 'a link joins two different servers');
    if (edge[a][b] !== null)
      throw new InputError(`${path}.between`, `servers ${e.between[0]} and ${e.between[1]} are linked twice`);
    const link = resolveLink(e.link, `${path}.link`);
    linkPaths.push({ path: `${path}.link`, link });
    edge[a][b] = { bitsPerSecond: link.uplinkBitsPerSecond, latencySeconds: link.latencySeconds };
    edge[b][a] = { bitsPerSecond: link.downlinkBitsPerSecond, latencySeconds: link.latencySeconds };
  });

  const blocks: Block[] = [];
  const blockIndex = new Map<string, number>();
  const blockOf = (key: string, bytes: number): number => {
    const k = blockIndex.get(key);
    if (k !== undefined) return k;
    blockIndex.set(key, blocks.length);
    blocks.push({ id: key, bytes });
    return blocks.length - 1;
  };

  const specs: ModelSpec[][] = [];
  const tasks: Task[] = [];
  const taskIndex = new Map<string, number>();
  input.tasks.forEach((t, ti) => {
    const path = `$.tasks[${ti}]`;
    if (taskIndex.has(t.id)) throw new InputError(`${path}.id`, `task id "${t.id}" is defined twice`);
    taskIndex.set(t.id, ti);
    const moduleIndex = new Map<string, number>();
    t.modules.forEach((m, mi) => {
      if (moduleIndex.has(m.id))
        throw new InputError(`${path}.modules[${mi}].id`, `module id "${m.id}" is defined twice in task ${t.id}`);
      moduleIndex.set(m.id, mi);
    });
    const ids = t.modules.map((m) => m.id);
    const inputs = t.modules.map((m, mi) =>
      m.inputs.map((name, j) => {
        const k = moduleIndex.get(name);
        if (k === undefined) throw unknownRef(`${path}.modules[${mi}].inputs[${j}]`, 'module', name, ids);
        if (k === mi)
          throw new InputError(`${path}.modules[${mi}].inputs[${j}]`, `module ${name} reads its own output (a cycle)`);
        return k;
      }),
    );
    const cycle = findCycle(
      inputs.map((ins) => ({ inputs: ins })),
      ids,
    );
    if (cycle) {
      const at = moduleIndex.get(cycle[cycle.length - 1]) as number;
      throw new InputError(`${path}.modules[${at}].inputs`, `the modules form a cycle: ${cycle.join(' → ')}`);
    }
    const read = new Set(inputs.flat());
    const taskSpecs: ModelSpec[] = [];
    const modules = t.modules.map((m, mi): AgentModule => {
      const mpath = `${path}.modules[${mi}]`;
      const spec = resolveModel(m.model, `${mpath}.model`);
      taskSpecs.push(spec);
      // Same weights, same block: keyed by the resolved spec (two inline models with one id differ).
      const { source: _source, name: _name, ...shape } = spec as ModelSpec & { name?: string };
      const weightsKey = input.parameterSharing ? `${spec.id} ${JSON.stringify(shape)}` : `${t.id}/${m.id}/weights`;
      const own = [blockOf(weightsKey, modelWeightBytes(spec))];
      if (m.lora) {
        const params = loraParamsPerLayer(spec, { rank: m.lora.rank, targets: m.lora.targets }) * spec.layers;
        own.push(blockOf(`${t.id}/${m.id}/lora-r${m.lora.rank}`, params * bytesPerValue(adapterDtypeOf(spec))));
      }
      return {
        id: m.id,
        modelId: spec.id,
        blocks: own,
        kvBytes: kvBytesPerToken(spec) * (m.inputTokens + m.outputTokens),
        inputTokens: m.inputTokens,
        outputTokens: m.outputTokens,
        outputBytes: m.outputBytes ?? m.outputTokens * TOKEN_ID_BYTES,
        sourceBytes: m.sourceBytes,
        inputs: inputs[mi],
        final: !read.has(mi),
        pin: m.pin ?? null,
      };
    });
    specs.push(taskSpecs);
    tasks.push({ id: t.id, modules });
  });

  const users: User[] = [];
  const userIndex = new Map<string, number>();
  const workCache = new Map<string, { seconds: number; flops: number }>();
  input.users.forEach((u, i) => {
    const path = `$.users[${i}]`;
    if (userIndex.has(u.id)) throw new InputError(`${path}.id`, `user id "${u.id}" is defined twice`);
    userIndex.set(u.id, i);
    let task = 0;
    if (u.task !== undefined) {
      const k = taskIndex.get(u.task);
      if (k === undefined) throw unknownRef(`${path}.task`, 'task', u.task, [...taskIndex.keys()]);
      task = k;
    } else if (tasks.length > 1) {
      throw new InputError(`${path}.task`, `is required when there are ${tasks.length} tasks`);
    }
    const { device, memoryBytes } = underRuntime(u.device, u.runtime, u.memoryBytes, path);
    const links: (LinkSpec | null)[] = servers.map(() => null);
    u.links.forEach((l, j) => {
      const n = serverOf(l.server, `${path}.links[${j}].server`);
      if (links[n] !== null) throw new InputError(`${path}.links[${j}].server`, `server ${l.server} is linked twice`);
      const link = resolveLink(l.link, `${path}.links[${j}].link`);
      linkPaths.push({ path: `${path}.links[${j}].link`, link });
      links[n] = link;
    });
    const locations: { device: DeviceSpec; memoryBytes: number; reached: boolean; edge: boolean }[] = [
      { device, memoryBytes, reached: true, edge: false },
      ...servers.map((s, n) => ({
        device: s.device,
        memoryBytes: s.memoryBytes,
        reached: links[n] !== null,
        edge: true,
      })),
    ];
    const work = tasks[task].modules.map((m, mi) =>
      locations.map((loc) => {
        if (!loc.reached) return null;
        if ((m.pin === 'device' && loc.edge) || (m.pin === 'edge' && !loc.edge)) return null;
        const alone = m.blocks.reduce((s, b) => s + blocks[b].bytes, 0) + m.kvBytes;
        if (!withinLimit(alone, loc.memoryBytes)) return null;
        const key = `${task}/${mi}/${JSON.stringify(loc.device)}`;
        let w = workCache.get(key);
        if (w === undefined) {
          w = moduleWork(specs[task][mi], loc.device, m.inputTokens, m.outputTokens);
          workCache.set(key, w);
        }
        return w;
      }),
    );
    const computeSeconds = work.map((row) => row.map((w) => (w === null ? null : w.seconds)));
    const loadSeconds = work.map((row) =>
      row.map((w, loc) => {
        if (w === null) return 0;
        const d = locations[loc].device;
        return w.flops / (d.peakFlopsPerSecond * d.computeEfficiency);
      }),
    );
    users.push({
      id: u.id,
      task,
      device,
      memoryBytes,
      links,
      rate: u.interactionsPerSecond,
      sloSeconds: u.latencySloSeconds ?? null,
      computeSeconds,
      loadSeconds,
    });
  });

  return {
    kind: 'agent-placement',
    blocks,
    tasks,
    servers,
    edge,
    users,
    objective: input.objective,
    parameterSharing: input.parameterSharing,
    linkPaths,
  };
}

/** Per user, where each of its task's modules runs: `"device"` or a server id. */
export const decisionSchema = z.strictObject({
  placements: z.array(
    z.strictObject({
      user: z.string(),
      modules: z.array(z.strictObject({ module: z.string(), at: z.string() })),
    }),
  ),
});
export type Decision = z.infer<typeof decisionSchema>;
