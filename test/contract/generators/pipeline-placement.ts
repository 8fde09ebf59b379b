/**
 * Contract generator for pipeline-placement: tiny pools (≤ 3 servers, ≤ 4 layers) with inline
 * measured profiles (inference) or roofline GPT-2 layers (training), and a brute force that
 * enumerates every ordered subset of servers × every composition of the layers, scored by evaluate.
 */
import { evaluatePipeline } from '../../../src/formulations/pipeline-placement/evaluate.ts';
import { parsePipeline, type PipelineDecision } from '../../../src/formulations/pipeline-placement/schema.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

type Raw = Record<string, unknown> & {
  servers: Record<string, unknown>[];
  links: { bitsPerSecondMatrix: (number | null)[][]; latencySecondsMatrix: number[][] };
};

function tiny(seed: number): Raw {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const n = 1 + Math.floor(random() * 3);
  const layers = 1 + Math.floor(random() * 4);
  const training = random() < 0.4;
  const bitsPerSecondMatrix = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j || random() < 0.1 ? null : Math.round((5 + 95 * random()) * 1e7))),
  );
  const latencySecondsMatrix = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 0 : Math.round(5 * random()) * 1e-3)),
  );
  const common = {
    kind: 'pipeline-placement',
    links: { bitsPerSecondMatrix, latencySecondsMatrix },
    ...(random() < 0.4 ? { source: 's0' } : {}),
    ...(n > 1 && random() < 0.3 ? { maxStages: 1 + Math.floor(random() * (n - 1)) } : {}),
  };
  if (training) {
    return {
      ...common,
      model: { id: 'gpt2-medium', layers },
      mode: {
        kind: 'training',
        microBatches: 1 + Math.floor(random() * 6),
        microBatchSize: 2,
        sequenceLength: 512,
        schedule: pick(['gpipe', '1f1b'] as const),
      },
      servers: Array.from({ length: n }, (_, j) => ({
        name: `s${j}`,
        device: pick(['rtx-3090', 'jetson-agx-orin-32gb', 'jetson-orin-nx-16gb'] as const),
        memoryBytes: Math.round(3 + 37 * random()) * 0.1e9,
      })),
    };
  }
  return {
    ...common,
    model: { id: 'llama-2-7b', layers },
    mode: { kind: pick(['inference-latency', 'inference-throughput'] as const), promptTokens: 16, outputTokens: 16 },
    servers: Array.from({ length: n }, (_, j) => ({
      name: `s${j}`,
      device: 'rtx-3090',
      memoryBytes: (1 + Math.floor(random() * 4) + 0.5) * 1e9,
      profile: {
        layerSeconds: Array.from({ length: layers }, () => Math.round(1 + 39 * random()) * 1e-3),
        embeddingSeconds: 1e-4,
        headSeconds: Math.round(1 + 9 * random()) * 1e-4,
        layerMemoryBytes: 1e9,
        embeddingMemoryBytes: 0.2e9,
        headMemoryBytes: 0.2e9,
        activationBytesPerHop: 65536,
      },
    })),
  };
}

function compositions(total: number, parts: number): number[][] {
  if (parts === 1) return [[total]];
  const out: number[][] = [];
  for (let first = 1; first <= total - parts + 1; first++)
    for (const rest of compositions(total - first, parts - 1)) out.push([first, ...rest]);
  return out;
}

function sequences(n: number, length: number, used: readonly number[] = []): number[][] {
  if (used.length === length) return [[...used]];
  const out: number[][] = [];
  for (let j = 0; j < n; j++) if (!used.includes(j)) out.push(...sequences(n, length, [...used, j]));
  return out;
}

/** Every ordered choice of distinct servers and every split of the layers into that many contiguous stages. */
function bruteForce(raw: unknown): BruteForce {
  const problem = parsePipeline(raw);
  const n = problem.servers.length;
  const L = problem.model.layers;
  let best = Infinity;
  for (let S = 1; S <= Math.min(n, L); S++) {
    for (const seq of sequences(n, S)) {
      for (const counts of compositions(L, S)) {
        let first = 1;
        const decision: PipelineDecision = {
          stages: seq.map((j, i) => {
            const stage = { server: problem.servers[j].name, firstLayer: first, lastLayer: first + counts[i] - 1 };
            first += counts[i];
            return stage;
          }),
        };
        const e = evaluatePipeline(problem, decision);
        if (e.feasible && e.objective < best) best = e.objective;
      }
    }
  }
  return best === Infinity ? { status: 'infeasible' } : { status: 'optimal', objective: best };
}

const copy = (raw: unknown): Raw => structuredClone(raw) as Raw;

const relaxations: readonly Relaxation[] = [
  {
    name: "double every server's memory",
    apply(raw) {
      const r = copy(raw);
      for (const s of r.servers) s.memoryBytes = (s.memoryBytes as number) * 2;
      return r;
    },
  },
  {
    name: 'triple every link rate',
    apply(raw) {
      const r = copy(raw);
      r.links.bitsPerSecondMatrix = r.links.bitsPerSecondMatrix.map((row) =>
        row.map((x) => (x === null ? null : x * 3)),
      );
      return r;
    },
  },
  {
    name: 'halve every latency',
    apply(raw) {
      const r = copy(raw);
      r.links.latencySecondsMatrix = r.links.latencySecondsMatrix.map((row) => row.map((x) => x / 2));
      return r;
    },
  },
  {
    name: 'lift the stage limit',
    apply(raw) {
      const r = copy(raw);
      delete r.maxStages;
      return r;
    },
  },
  {
    name: 'add a link where none was',
    apply(raw) {
      const r = copy(raw);
      r.links.bitsPerSecondMatrix = r.links.bitsPerSecondMatrix.map((row, i) =>
        row.map((x, j) => (x === null && i !== j ? 1e8 : x)),
      );
      return r;
    },
  },
  {
    name: 'unpin the source',
    apply(raw) {
      const r = copy(raw);
      delete r.source;
      return r;
    },
  },
  // Not a relaxation, hence absent: adding a server (it changes nothing only when the stage count is free,
  // which it is here, but a new server also needs links, whose choice would be arbitrary).
];

export const pipelinePlacementGenerator: ContractGenerator = {
  kind: 'pipeline-placement',
  tiny,
  bruteForce,
  relaxations,
  seeds: 16,
};

export default pipelinePlacementGenerator;
