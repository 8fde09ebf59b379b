/**
 * Contract generator for split-finetune: a tiny inline model (2–3 decoder layers) fine-tuned by one
 * to three clients, every physical quantity written out so relaxations scale explicit numbers.
 * Memories are drawn around what the tiny model needs (a layer ≈ 0.1 MB of weights, ≈ 0.3 MB of
 * activations per trainable layer) so client and server memory bind in some seeds; epochs 1–3 and
 * an aggregation interval that may or may not divide the rounds per epoch give one to four kinds of
 * aggregation period (the barrier model); the subchannel rate is either the default 1/N or a fixed
 * fraction; objectives, cut policy, freezing caps and energy budgets vary.
 * Brute force enumerates every (cut 0..L, frozen prefix 0..L, subchannels 1..N − K + 1, compression
 * level) for every client and values each decision with evaluate — never the MILP or the exact method.
 * Issue 21's knobs (compression levels under accuracy caps, privacy floors) join on ≤ 2 clients.
 */
import { splitFinetuneFormulation as F } from '../../../src/formulations/split-finetune/index.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

type Raw = Record<string, unknown>;
type RawClient = Raw & { device: Raw; link?: Raw; radio?: Raw };

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

const MODEL = {
  id: 'contract-tiny-lm',
  name: 'contract tiny LM',
  hiddenSize: 64,
  heads: 4,
  kvHeads: 4,
  headDim: 16,
  ffnHiddenSize: 256,
  ffnKind: 'mlp',
  vocabSize: 500,
  maxContext: 64,
  positionEmbedding: 'learned',
  bias: true,
  tiedEmbeddings: true,
  dtype: 'fp16',
  source: 'contract fixture',
};

function device(
  id: string,
  flops: number,
  memoryBytes: number,
  activePowerWatts: number,
  transmitPowerWatts: number,
): Raw {
  return {
    id,
    name: id,
    peakFlopsPerSecond: flops,
    memoryBytes,
    memoryBandwidthBytesPerSecond: 50e9,
    storageReadBytesPerSecond: 2e9,
    computeEfficiency: 0.5,
    bandwidthEfficiency: 0.8,
    perCallOverheadSeconds: 1e-5,
    activePowerWatts,
    transmitPowerWatts,
    source: 'contract fixture',
  };
}

/**
 * Every third seed moves the clients into a shared cell whose resource blocks are the instance's
 * subchannels (each client's SNR from a random stream of its own, so the other draws keep their
 * seeds): the same brute force over (cut, prefix, blocks) covers it.
 */
function withCell(raw: Raw & { clients: RawClient[] }, seed: number): Raw {
  const rand = mulberry32(seed * 7919 + 1);
  const { subchannels, subchannelRateFraction: _fraction, ...rest } = raw;
  return {
    ...rest,
    cell: { resourceBlocks: subchannels, resourceBlockHz: pick(rand, [0.1e6, 0.5e6, 2e6]), latencySeconds: 0.002 },
    clients: raw.clients.map(({ link: _link, ...c }) => {
      const up = pick(rand, [0, 10, 20]);
      return { ...c, radio: { uplinkSnrDb: up, downlinkSnrDb: up + 5 } };
    }),
  };
}

function tiny(seed: number): unknown {
  const raw = tinyDedicated(seed);
  return withKnobs(seed % 3 === 0 ? withCell(raw, seed) : raw, seed);
}

/**
 * Issue 21's knobs on instances small enough for brute force to try every level (at most two
 * clients): smashed-data compression levels (a per-client accuracy cap that excludes some) and a
 * privacy floor on some clients. Drawn from a stream of their own so the other draws keep their seeds.
 */
function withKnobs(raw: Raw, seed: number): Raw {
  const rand = mulberry32(seed * 104729 + 17);
  const layers = (raw.model as { layers: number }).layers;
  const K = (raw.clients as RawClient[]).length;
  const N = (raw.subchannels as number | undefined) ?? ((raw.cell as Raw).resourceBlocks as number);
  // Keep brute force at most ~800 decisions: ((L + 1)² · spare subchannels · levels)^K.
  const decisions = (levelCount: number): number => ((layers + 1) ** 2 * (N - K + 1) * (1 + levelCount)) ** K;
  const count = decisions(2) <= 800 ? 1 + Math.floor(rand() * 2) : decisions(1) <= 800 ? 1 : 0;
  if (count === 0 || rand() < 0.3) return raw;
  const levels = [
    { name: 'int8', bytesFactor: 0.5, accuracyCost: 0.2 },
    { name: 'top-10', bytesFactor: pick(rand, [0.1, 0.15]), accuracyCost: 1.5 },
  ].slice(0, count);
  return {
    ...raw,
    compression: { levels },
    accuracy: { ...(raw.accuracy as Raw), maxCompressionCost: pick(rand, [0.5, 2]) },
    clients: (raw.clients as RawClient[]).map((c) => ({
      ...c,
      ...(rand() < 0.5 ? { maxCompressionCost: 0 } : {}),
      ...(rand() < 0.7 ? { minDeviceLayers: 1 + Math.floor(rand() * layers) } : {}),
    })),
  };
}

function tinyDedicated(seed: number): Raw & { clients: RawClient[] } {
  const rand = mulberry32(seed);
  const layers = 2 + Math.floor(rand() * 2);
  const clients = layers === 2 ? 1 + Math.floor(rand() * 3) : 1 + Math.floor(rand() * 2);
  const objective = pick(rand, ['round-time', 'total-time', 'device-energy', 'weighted'] as const);
  const batchSize = 4;
  const samplesPerClient = pick(rand, [8, 12, 20, 40]);
  return {
    kind: 'split-finetune',
    description: `contract instance ${seed}`,
    model: { ...MODEL, layers },
    lora: { rank: 4, targets: ['q', 'v'] },
    batchSize,
    sequenceLength: 32,
    samplesPerClient,
    epochs: 1 + Math.floor(rand() * 3),
    aggregationIntervalRounds: pick(rand, [1, 2, 3, 4, 10]),
    server: {
      device: device('contract-server', pick(rand, [5e10, 5e11]), pick(rand, [2e6, 3.5e6, 6e6, 20e6]), 300, 0),
    },
    clients: Array.from({ length: clients }, (_, k) => {
      const uplink = pick(rand, [2e6, 10e6, 50e6]);
      return {
        name: `c${k}`,
        device: device(
          `contract-client-${k}`,
          pick(rand, [1e9, 4e9, 2e10]),
          pick(rand, [0.6e6, 1.2e6, 2e6, 4e6]),
          pick(rand, [2, 8]),
          0.5,
        ),
        link: {
          id: `contract-link-${k}`,
          name: 'contract link',
          uplinkBitsPerSecond: uplink,
          downlinkBitsPerSecond: 2 * uplink,
          latencySeconds: 0.002,
          source: 'contract fixture',
        },
        ...(rand() < 0.3 ? { receivePowerWatts: 0.4 } : {}),
        ...(rand() < 0.2 ? { energyBudgetJoulesPerRound: pick(rand, [0.05, 0.2, 1]) } : {}),
      };
    }),
    // Spare subchannels kept small enough that brute force stays at most ~1,000 decisions.
    subchannels: clients + Math.floor(rand() * (clients === 1 ? 3 : clients === 2 ? 4 - layers + 1 : 1)),
    ...(rand() < 0.5 ? { subchannelRateFraction: 0.25 } : {}),
    cutPolicy: rand() < 0.7 ? 'per-client' : 'shared',
    objective,
    ...(objective === 'weighted' ? { weights: { perSecond: 1, perJoule: 0.05 } } : {}),
    accuracy: { maxFreezingRatio: pick(rand, [0, 0.5, 1]) },
  };
}

function bruteForce(raw: unknown): BruteForce {
  const problem = F.parse(raw);
  const L = problem.model.layers;
  const K = problem.clients.length;
  const nMax = problem.subchannels - K + 1;
  // Every level the problem defines ("none" as an absent field).
  const levels: (string | undefined)[] = [undefined, ...problem.compressionLevels.slice(1).map((l) => l.name)];
  const per: { cut: number; frozenLayers: number; subchannels: number; compression?: string }[] = [];
  for (let c = 0; c <= L; c++)
    for (let f = 0; f <= L; f++)
      for (let n = 1; n <= nMax; n++)
        for (const q of levels)
          per.push({ cut: c, frozenLayers: f, subchannels: n, ...(q === undefined ? {} : { compression: q }) });
  if (per.length === 0) return { status: 'infeasible' };
  let best = Infinity;
  const idx = new Array<number>(K).fill(0);
  for (;;) {
    const e = F.evaluate(problem, { clients: idx.map((i) => per[i]) });
    if (e.feasible && e.objective < best) best = e.objective;
    let k = 0;
    while (k < K && ++idx[k] === per.length) idx[k++] = 0;
    if (k === K) break;
  }
  return Number.isFinite(best) ? { status: 'optimal', objective: best } : { status: 'infeasible' };
}

const copy = (raw: unknown): Raw & { clients: RawClient[]; server: { device: Raw } } => structuredClone(raw) as never;

function eachClient(change: (c: RawClient) => void): (raw: unknown) => unknown {
  return (raw) => {
    const r = copy(raw);
    r.clients.forEach(change);
    return r;
  };
}

const relaxations: readonly Relaxation[] = [
  {
    name: 'server memory × 1.5',
    apply: (raw) => {
      const r = copy(raw);
      r.server.device.memoryBytes = (r.server.device.memoryBytes as number) * 1.5;
      return r;
    },
  },
  {
    name: 'server FLOP/s × 2',
    apply: (raw) => {
      const r = copy(raw);
      r.server.device.peakFlopsPerSecond = (r.server.device.peakFlopsPerSecond as number) * 2;
      return r;
    },
  },
  {
    name: 'every client memory × 2',
    apply: eachClient((c) => (c.device.memoryBytes = (c.device.memoryBytes as number) * 2)),
  },
  // A faster client computes for less time at the same power, so energy falls too.
  {
    name: 'every client FLOP/s × 3',
    apply: eachClient((c) => (c.device.peakFlopsPerSecond = (c.device.peakFlopsPerSecond as number) * 3)),
  },
  {
    name: 'every link × 2 (up and down)',
    apply: eachClient((c) => {
      if (c.link === undefined) return;
      c.link.uplinkBitsPerSecond = (c.link.uplinkBitsPerSecond as number) * 2;
      c.link.downlinkBitsPerSecond = (c.link.downlinkBitsPerSecond as number) * 2;
    }),
  },
  {
    // Under the default rate 1/N this splits every subchannel in two (a refinement);
    // under a fixed fraction it adds spectrum.
    name: 'subchannels × 2',
    apply: (raw) => {
      const r = copy(raw);
      const cell = r.cell as Raw | undefined;
      // In a cell: twice the blocks, each half as wide (the same bandwidth, finer shares).
      if (cell !== undefined) {
        cell.resourceBlocks = (cell.resourceBlocks as number) * 2;
        cell.resourceBlockHz = (cell.resourceBlockHz as number) / 2;
      } else r.subchannels = (r.subchannels as number) * 2;
      return r;
    },
  },
  {
    // The per-subchannel rate pinned at its current value, then one more subchannel: a strict superset of plans.
    name: 'one more subchannel at the same per-subchannel rate',
    apply: (raw) => {
      const r = copy(raw);
      const cell = r.cell as Raw | undefined;
      if (cell !== undefined) {
        cell.resourceBlocks = (cell.resourceBlocks as number) + 1;
        return r;
      }
      const N = r.subchannels as number;
      r.subchannelRateFraction = (r.subchannelRateFraction as number | undefined) ?? 1 / N;
      r.subchannels = N + 1;
      return r;
    },
  },
  {
    // Wider resource blocks: every client's rate doubles in both directions (no-op without a cell).
    name: 'more cell bandwidth (resource blocks twice as wide)',
    apply: (raw) => {
      const r = copy(raw);
      const cell = r.cell as Raw | undefined;
      if (cell !== undefined) cell.resourceBlockHz = (cell.resourceBlockHz as number) * 2;
      return r;
    },
  },
  {
    // Every aggregation boundary of 2I is one of I: periods merge (max a + max b ≥ max(a + b)),
    // and there are fewer adapter transfers.
    name: 'aggregation interval × 2',
    apply: (raw) => {
      const r = copy(raw);
      r.aggregationIntervalRounds = (r.aggregationIntervalRounds as number) * 2;
      return r;
    },
  },
  {
    name: 'compression caps lifted (every level allowed)',
    apply: (raw) => {
      const r = copy(raw);
      if (r.accuracy !== undefined) delete (r.accuracy as Raw).maxCompressionCost;
      r.clients.forEach((c) => delete c.maxCompressionCost);
      return r;
    },
  },
  {
    name: 'privacy floors removed',
    apply: eachClient((c) => delete c.minDeviceLayers),
  },
  {
    name: 'freezing cap raised to 1',
    apply: (raw) => {
      const r = copy(raw);
      r.accuracy = { ...(r.accuracy as Raw), maxFreezingRatio: 1 };
      return r;
    },
  },
  {
    name: 'energy budgets × 2',
    apply: eachClient((c) => {
      if (c.energyBudgetJoulesPerRound !== undefined)
        c.energyBudgetJoulesPerRound = (c.energyBudgetJoulesPerRound as number) * 2;
    }),
  },
];

export const generator: ContractGenerator = {
  kind: 'split-finetune',
  tiny,
  bruteForce,
  relaxations,
  seeds: 16,
};

export default generator;
