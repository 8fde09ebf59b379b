/**
 * Contract generator for parallel-placement: a 4-layer model on 2–4 servers of one or two device
 * kinds, on one or two hosts, in every mode (training with DP groups, latency, throughput, KV
 * capacity), with memory drawn so that TP or a split is sometimes forced. Brute force enumerates
 * every stage sequence (layer ranges, TP degree, groups of servers, and in training every split of
 * the micro-batch) and values each with evaluate — never the exact method.
 */
import { parallelPlacementFormulation as F } from '../../../src/formulations/parallel-placement/index.ts';
import type { ParallelDecision } from '../../../src/formulations/parallel-placement/schema.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

type Raw = Record<string, unknown>;

const MODEL = {
  id: 'tiny-4l',
  name: 'tiny 4-layer GQA model',
  layers: 4,
  hiddenSize: 1024,
  heads: 8,
  kvHeads: 4,
  headDim: 128,
  ffnHiddenSize: 4096,
  ffnKind: 'gated',
  vocabSize: 32000,
  maxContext: 4096,
  positionEmbedding: 'rotary',
  bias: false,
  tiedEmbeddings: false,
  dtype: 'fp16',
  source: 'synthetic (contract suite)',
};

const DEVICE_FIELDS = {
  storageReadBytesPerSecond: 3e9,
  computeEfficiency: 0.5,
  bandwidthEfficiency: 0.8,
  perCallOverheadSeconds: 1e-5,
  activePowerWatts: 100,
  transmitPowerWatts: 0,
  source: 'synthetic (contract suite)',
};
const DEVICES = [
  { id: 'fast', name: 'fast GPU', peakFlopsPerSecond: 100e12, memoryBandwidthBytesPerSecond: 1e12, ...DEVICE_FIELDS },
  { id: 'slow', name: 'slow GPU', peakFlopsPerSecond: 20e12, memoryBandwidthBytesPerSecond: 200e9, ...DEVICE_FIELDS },
];

export function tinyParallel(seed: number): Raw {
  const rand = mulberry32(seed);
  const n = 2 + Math.floor(rand() * 3);
  const kinds = rand() < 0.5 ? 1 : 2;
  const mem = [0.09e9, 0.13e9, 0.2e9, 0.5e9][Math.floor(rand() * 4)];
  const modes: Raw[] = [
    { kind: 'training', globalBatchSize: 8, microBatches: 2, sequenceLength: 128, schedule: rand() < 0.5 ? '1f1b' : 'gpipe' },
    { kind: 'inference-latency', batch: 2, promptTokens: 256, outputTokens: 64 },
    { kind: 'inference-throughput', batch: 4, promptTokens: 256, outputTokens: 64 },
    { kind: 'kv-capacity', contextTokens: 512 },
  ];
  const mode = modes[Math.floor(rand() * modes.length)];
  const twoHosts = rand() < 0.5;
  // A fast fabric makes data parallelism pay off in training, so the DP's group choices are exercised.
  const rate = rand() < 0.5 ? 10e9 : 2e12;
  const servers = Array.from({ length: n }, (_, i) => {
    const d = DEVICES[kinds === 1 ? 0 : i % 2];
    return {
      name: `s${i}`,
      host: twoHosts ? `h${i < n / 2 ? 0 : 1}` : 'h0',
      device: { ...d, memoryBytes: mode.kind === 'training' ? mem * 16 : mem },
    };
  });
  return {
    kind: 'parallel-placement',
    description: `contract instance ${seed}`,
    model: MODEL,
    mode: mode.kind === 'training' ? { ...mode, batchSplit: rand() < 0.5 ? 'even' : 'proportional' } : mode,
    servers,
    links: {
      default: { uplinkBitsPerSecond: rate, downlinkBitsPerSecond: rate, latencySeconds: 1e-4 },
      ...(twoHosts
        ? {
            pairs: servers.flatMap((a, i) =>
              servers.slice(i + 1).filter((b) => b.host === a.host).map((b) => ({ from: a.name, to: b.name, bitsPerSecond: 4e12, latencySeconds: 5e-6 })),
            ),
          }
        : {}),
    },
    tensorParallel: { degrees: [1, 2, 4] },
  };
}

/** Every decision of a tiny instance, valued by evaluate. */
export function bruteForceParallel(raw: unknown): BruteForce {
  const p = F.parse(raw);
  const L = p.model.layers;
  const n = p.servers.length;
  const names = p.servers.map((s) => s.name);
  const training = p.mode.kind === 'training';
  const m = p.mode.kind === 'training' ? p.mode.microBatchSize : 1;
  const sense = p.mode.kind === 'kv-capacity' ? -1 : 1;
  let best = Infinity;
  const stages: ParallelDecision['stages'][number][] = [];
  const subsetsOfSize = (pool: number[], k: number): number[][] => {
    if (k === 0) return [[]];
    if (pool.length < k) return [];
    const [x, ...rest] = pool;
    return [...subsetsOfSize(rest, k - 1).map((s) => [x, ...s]), ...subsetsOfSize(rest, k)];
  };
  // Set partitions of `pool` into groups of size g (unordered groups: first group holds the lowest index).
  const groupings = (pool: number[], g: number, count: number): number[][][] => {
    if (count === 0) return [[]];
    if (pool.length < g * count) return [];
    const [x, ...rest] = pool;
    const out: number[][][] = [];
    for (const others of subsetsOfSize(rest, g - 1)) {
      const left = rest.filter((j) => !others.includes(j));
      for (const more of groupings(left, g, count - 1)) out.push([[x, ...others], ...more]);
    }
    return out;
  };
  const compositions = (total: number, parts: number): number[][] => {
    if (parts === 1) return total >= 1 ? [[total]] : [];
    const out: number[][] = [];
    for (let v = 1; v <= total - parts + 1; v++) for (const rest of compositions(total - v, parts - 1)) out.push([v, ...rest]);
    return out;
  };
  const rec = (first: number, free: number[]): void => {
    if (first > L) {
      const ev = F.evaluate(p, { stages: stages.map((s) => ({ ...s, groups: s.groups.map((g) => ({ ...g })) })) });
      if (ev.feasible && sense * ev.objective < best) best = sense * ev.objective;
      return;
    }
    for (let last = first; last <= L; last++)
      for (const g of p.tpDegrees)
        for (let dp = 1; dp <= (training ? p.maxDataParallel : 1) && dp * g <= free.length; dp++)
          for (const chosen of subsetsOfSize(free, dp * g))
            for (const groups of groupings(chosen, g, dp)) {
              const splits = training ? compositions(m, dp) : [null];
              for (const split of splits) {
                stages.push({
                  firstLayer: first,
                  lastLayer: last,
                  groups: groups.map((grp, k) => ({ servers: grp.map((j) => names[j]), ...(split ? { samples: split[k] } : {}) })),
                });
                rec(last + 1, free.filter((j) => !chosen.includes(j)));
                stages.pop();
              }
            }
  };
  rec(1, Array.from({ length: n }, (_, j) => j));
  return Number.isFinite(best) ? { status: 'optimal', objective: sense * best } : { status: 'infeasible' };
}

const scaleMemory = (raw: unknown, factor: number): unknown => {
  const r = structuredClone(raw) as { servers: { device: Raw }[] };
  for (const s of r.servers) s.device.memoryBytes = (s.device.memoryBytes as number) * factor;
  return r;
};

const relaxations: Relaxation[] = [
  { name: 'twice the memory', apply: (raw) => scaleMemory(raw, 2) },
  {
    name: 'default link twice as fast',
    apply: (raw) => {
      const r = structuredClone(raw) as { links: { default: Raw } };
      r.links.default.uplinkBitsPerSecond = (r.links.default.uplinkBitsPerSecond as number) * 2;
      r.links.default.downlinkBitsPerSecond = (r.links.default.downlinkBitsPerSecond as number) * 2;
      return r;
    },
  },
];

export const generator: ContractGenerator = {
  kind: 'parallel-placement',
  tiny: tinyParallel,
  bruteForce: bruteForceParallel,
  relaxations,
  seeds: 10,
};
export default generator;
