/**
 * Contract generator for kv-split-inference: GPT-2 small (12 layers, 13 cuts per user) with one to
 * three users, every physical quantity written out (so relaxations scale explicit numbers), and
 * server/device memory, SLOs and TTFT limits drawn around what the model needs so that each binds
 * in some seeds. Brute force enumerates every cut (and `null` under admission) for every user and
 * values each with evaluate — never the MILP or the exact method.
 */
import { kvSplitInferenceFormulation as F } from '../../../src/formulations/kv-split-inference/index.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import { bruteForceThreeTier } from '../../formulations/kv-split-inference/three-tier-helpers.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

type Raw = Record<string, unknown>;
type RawUser = Record<string, unknown> & { device: Raw; link?: Raw; radio?: Raw };

const DEVICES: readonly Raw[] = [
  { id: 'phone', peakFlopsPerSecond: 2e12, memoryBandwidthBytesPerSecond: 60e9, storageReadBytesPerSecond: 1.5e9 },
  {
    id: 'jetson-orin-nx-16gb',
    peakFlopsPerSecond: 25e12,
    memoryBandwidthBytesPerSecond: 102e9,
    storageReadBytesPerSecond: 2e9,
  },
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

/**
 * Every third seed puts the users (at most two, so brute force stays small) in a shared cell of
 * 2–4 resource blocks, from a random stream of its own so the other fields keep their seeds' draws.
 * Continuous cells are not in the contract: they have no single-MILP form (the backends say so);
 * test/formulations/kv-split-inference/cell.test.ts checks their exact method against brute force.
 */
function withCell(raw: Raw & { users: RawUser[] }, seed: number): Raw {
  const rand = mulberry32(seed * 7919 + 1);
  const users = raw.users.slice(0, 2).map((u, i) => {
    const { link: _link, ...rest } = u;
    // The first user may keep a dedicated link: cells and links mix.
    if (i === 0 && raw.users.length > 1 && rand() < 0.3) return u;
    const up = pick(rand, [0, 10, 20]);
    return { ...rest, radio: { uplinkSnrDb: up, downlinkSnrDb: up + 5 } };
  });
  return {
    ...raw,
    users,
    cell: {
      resourceBlocks: pick(rand, [2, 3, 4]),
      resourceBlockHz: pick(rand, [0.2e6, 1e6, 5e6]),
      latencySeconds: 0.004,
    },
  };
}

/**
 * Seeds 13–16: three tiers (issue 21) — at most two users (brute force enumerates every cut pair,
 * 91 per user), a cloud behind a backhaul whose rate, latency, capacity and price are drawn so
 * that the cloud is used in some seeds and not in others, privacy floors on some users. No
 * variants, admission or TTFT limits: the cloud block refuses them.
 */
function withCloud(seed: number): Raw {
  const rand = mulberry32(seed * 104729 + 7);
  const raw = tinyDedicated(seed);
  const users = raw.users.slice(0, 2).map((u) => {
    const { variant: _v, ttftSloSeconds: _t, ...rest } = u;
    return rand() < 0.3 ? { ...rest, minDeviceLayers: pick(rand, [1, 3]) } : rest;
  });
  return {
    ...raw,
    variants: [],
    admission: false,
    users,
    cloud: {
      device: { id: 'a100-80gb', peakFlopsPerSecond: 312e12, memoryBandwidthBytesPerSecond: 2039e9 },
      backhaul: {
        id: 'edge-cloud',
        uplinkBitsPerSecond: pick(rand, [10e6, 100e6, 1e9]),
        downlinkBitsPerSecond: pick(rand, [100e6, 1e9]),
        latencySeconds: pick(rand, [0.001, 0.005]),
      },
      ...(rand() < 0.5 ? { memoryCapacityBytes: pick(rand, [0.1e9, 0.2e9]) } : {}),
      ...(rand() < 0.3 ? { pricePerToken: 1e-5, priceWeightSeconds: 100 } : {}),
    },
  };
}

/**
 * Seeds 17–19: KV formats as a decision (issue 21 item 4) — at most two users (brute force
 * enumerates every (cut, format) pair, 39 per user), fp16 / fp8 / int4 under a total accuracy
 * budget that admits none, one or both compressed users; variants and admission as drawn.
 */
function withKvFormats(seed: number): Raw {
  const rand = mulberry32(seed * 15485863 + 3);
  const raw = tinyDedicated(seed);
  return {
    ...raw,
    users: raw.users.slice(0, 2),
    kvFormats: ['fp16', 'fp8', 'int4'],
    kvAccuracyBudget: pick(rand, [0.01, 0.3, 0.31, 0.6]),
  };
}

function tiny(seed: number): unknown {
  if (seed > 16) return withKvFormats(seed);
  if (seed > 12) return withCloud(seed);
  const raw = tinyDedicated(seed);
  return seed % 3 === 0 ? withCell(raw, seed) : raw;
}

function tinyDedicated(seed: number): Raw & { users: RawUser[] } {
  const rand = mulberry32(seed);
  const users = 1 + Math.floor(rand() * 3);
  return {
    kind: 'kv-split-inference',
    description: `contract instance ${seed}`,
    model: 'gpt2-small',
    variants: [{ name: 'a', lora: { rank: 8, targets: ['q', 'v'] } }],
    server: {
      device: {
        id: 'rtx-3090',
        memoryBytes: pick(rand, [0.12e9, 0.2e9, 0.3e9, 24e9]),
        peakFlopsPerSecond: 71e12,
        memoryBandwidthBytesPerSecond: 936e9,
      },
    },
    users: Array.from({ length: users }, (_, i) => ({
      name: `user-${i + 1}`,
      device: { ...pick(rand, DEVICES), memoryBytes: pick(rand, [0.03e9, 0.12e9, 0.3e9, 8e9]) },
      link: {
        id: '5g-user-experienced',
        uplinkBitsPerSecond: pick(rand, [20e6, 100e6, 1e9]),
        downlinkBitsPerSecond: 200e6,
        latencySeconds: 0.004,
      },
      promptTokens: 16 + Math.floor(rand() * 500),
      outputTokens: 8 + Math.floor(rand() * 200),
      ...(rand() < 0.3 ? { variant: 'a' } : {}),
      ...(rand() < 0.3 ? { latencySloSeconds: 0.004 + rand() * 0.03 } : {}),
      ...(rand() < 0.3 ? { ttftSloSeconds: 0.02 + rand() * 0.3 } : {}),
    })),
    objective: rand() < 0.6 ? 'max' : 'sum',
    admission: rand() < 0.3,
    deviceWeightStreaming: rand() < 0.5,
  };
}

/** Three tiers: every (cut, cloud cut) pair per user, by the formulation tests' brute force. */
function bruteForceCloud(raw: unknown): BruteForce {
  const best = bruteForceThreeTier(F.parse(raw));
  return best === null ? { status: 'infeasible' } : { status: 'optimal', objective: best.objective };
}

function bruteForce(raw: unknown): BruteForce {
  if ((raw as Raw).cloud !== undefined) return bruteForceCloud(raw);
  const problem = F.parse(raw);
  const L = problem.model.layers;
  const options: (number | null)[] = Array.from({ length: L + 1 }, (_, c) => c);
  if (problem.admission) options.push(null);
  const U = problem.users.length;
  const cuts = new Array<number | null>(U).fill(0);
  // KV formats: every format per user as well (one "format" without them).
  const ids = (problem.kvFormats ?? []).map((f) => f.id);
  const formats = new Array<string>(U).fill(ids[0] ?? '');
  // With a cell: every split of its resource blocks among the cell users (0 to N each, Σ ≤ N).
  const N = problem.cell?.resourceBlocks ?? 0;
  const splits: number[][] = [];
  const split = (u: number, left: number, acc: number[]): void => {
    if (u === U) {
      splits.push([...acc]);
      return;
    }
    const top = problem.users[u].radio !== null ? left : 0;
    for (let n = 0; n <= top; n++) split(u + 1, left - n, [...acc, n]);
  };
  if (problem.cell !== null) split(0, N, []);
  let best = Infinity;
  const rec = (u: number): void => {
    if (u === U) {
      for (const blocks of problem.cell !== null ? splits : [null]) {
        const base = ids.length > 0 ? { cuts: [...cuts], kvFormats: [...formats] } : { cuts: [...cuts] };
        const decision = blocks === null ? base : { ...base, resourceBlocks: blocks };
        const ev = F.evaluate(problem, decision);
        if (ev.feasible && ev.objective < best) best = ev.objective;
      }
      return;
    }
    for (const c of options)
      for (const id of ids.length > 0 ? ids : ['']) {
        cuts[u] = c;
        formats[u] = id;
        rec(u + 1);
      }
  };
  rec(0);
  return best === Infinity ? { status: 'infeasible' } : { status: 'optimal', objective: best };
}

const asRaw = (raw: unknown): Raw & { server: { device: Raw }; users: RawUser[] } =>
  raw as Raw & { server: { device: Raw }; users: RawUser[] };

function scaleServer(field: string, factor: number): (raw: unknown) => unknown {
  return (raw) => {
    const r = asRaw(raw);
    return {
      ...r,
      server: { ...r.server, device: { ...r.server.device, [field]: (r.server.device[field] as number) * factor } },
    };
  };
}

function mapUsers(f: (u: RawUser) => RawUser): (raw: unknown) => unknown {
  return (raw) => {
    const r = asRaw(raw);
    return { ...r, users: r.users.map(f) };
  };
}

const relaxations: readonly Relaxation[] = [
  { name: 'twice the server memory', apply: scaleServer('memoryBytes', 2) },
  {
    name: 'a faster server (compute and bandwidth ×2)',
    apply: (raw) => scaleServer('peakFlopsPerSecond', 2)(scaleServer('memoryBandwidthBytesPerSecond', 2)(raw)),
  },
  {
    name: 'twice the device memory',
    apply: mapUsers((u) => ({ ...u, device: { ...u.device, memoryBytes: (u.device.memoryBytes as number) * 2 } })),
  },
  {
    name: 'faster links (both directions ×2)',
    apply: mapUsers((u) =>
      u.link === undefined
        ? u
        : {
            ...u,
            link: {
              ...u.link,
              uplinkBitsPerSecond: (u.link.uplinkBitsPerSecond as number) * 2,
              downlinkBitsPerSecond: (u.link.downlinkBitsPerSecond as number) * 2,
            },
          },
    ),
  },
  {
    // Wider resource blocks: every share carries twice the rate (no-op without a cell).
    name: 'more cell bandwidth (resource blocks twice as wide)',
    apply: (raw) => {
      const r = asRaw(raw) as Raw & { cell?: Raw };
      if (r.cell === undefined) return r;
      return { ...r, cell: { ...r.cell, resourceBlockHz: (r.cell.resourceBlockHz as number) * 2 } };
    },
  },
  {
    // One more block of the same width: a strict superset of allocations (no-op without a cell).
    name: 'one more resource block in the cell',
    apply: (raw) => {
      const r = asRaw(raw) as Raw & { cell?: Raw };
      if (r.cell === undefined) return r;
      return { ...r, cell: { ...r.cell, resourceBlocks: (r.cell.resourceBlocks as number) + 1 } };
    },
  },
  {
    // Three tiers (no-op without a cloud): the shared edge–cloud link carries more bits per second.
    name: 'more backhaul (rates ×2)',
    apply: (raw) => {
      const r = asRaw(raw) as Raw & { cloud?: Raw & { backhaul: Raw } };
      if (r.cloud === undefined) return r;
      const b = r.cloud.backhaul;
      return {
        ...r,
        cloud: {
          ...r.cloud,
          backhaul: {
            ...b,
            uplinkBitsPerSecond: (b.uplinkBitsPerSecond as number) * 2,
            downlinkBitsPerSecond: (b.downlinkBitsPerSecond as number) * 2,
          },
        },
      };
    },
  },
  {
    name: 'faster devices (compute and memory bandwidth ×2)',
    apply: mapUsers((u) => ({
      ...u,
      device: {
        ...u.device,
        peakFlopsPerSecond: (u.device.peakFlopsPerSecond as number) * 2,
        memoryBandwidthBytesPerSecond: (u.device.memoryBandwidthBytesPerSecond as number) * 2,
      },
    })),
  },
  {
    name: 'lower privacy floors (one layer less)',
    apply: mapUsers((u) =>
      u.minDeviceLayers === undefined ? u : { ...u, minDeviceLayers: Math.max(0, (u.minDeviceLayers as number) - 1) },
    ),
  },
  {
    name: 'looser SLOs and TTFT limits (×2)',
    apply: mapUsers((u) => ({
      ...u,
      ...(u.latencySloSeconds !== undefined ? { latencySloSeconds: (u.latencySloSeconds as number) * 2 } : {}),
      ...(u.ttftSloSeconds !== undefined ? { ttftSloSeconds: (u.ttftSloSeconds as number) * 2 } : {}),
    })),
  },
  {
    // KV formats (no-op without them): a larger budget admits every decision the smaller one did.
    name: 'a larger KV accuracy budget (+0.3)',
    apply: (raw) => {
      const r = asRaw(raw) as Raw & { kvAccuracyBudget?: number };
      if (r.kvAccuracyBudget === undefined) return r;
      return { ...r, kvAccuracyBudget: r.kvAccuracyBudget + 0.3 };
    },
  },
  {
    name: 'weight streaming allowed on devices',
    apply: (raw) => ({ ...asRaw(raw), deviceWeightStreaming: true }),
  },
];

export const generator: ContractGenerator = {
  kind: 'kv-split-inference',
  tiny,
  bruteForce,
  relaxations,
  // 1–12 two tiers (every third in a cell), 13–16 three tiers, 17–19 KV formats.
  seeds: 19,
  // The exact method reports its own notApplicable (sum objective; admission when the servable
  // users do not all fit): the suite skips it there; no method is excluded outright.
  exclusions: {},
};

export default generator;
