/** Generators of small pipeline-placement instances and a brute-force reference. */
import fc from 'fast-check';
import { evaluatePipeline, type PipelineBreakdown } from '../../../src/formulations/pipeline-placement/evaluate.ts';
import type { PipelineDecision, PipelineProblem } from '../../../src/formulations/pipeline-placement/schema.ts';

export const DEVICES = [
  'rtx-3090',
  'jetson-agx-orin-32gb',
  'jetson-orin-nx-16gb',
  'jetson-agx-orin-64gb',
  'a100-80gb',
] as const;

/** Inference instances with inline measured profiles (times and memory under full control). */
export const inferenceInstance = (maxServers = 4, maxLayers = 6) =>
  fc
    .record({
      layers: fc.integer({ min: 1, max: maxLayers }),
      n: fc.integer({ min: 1, max: maxServers }),
      kind: fc.constantFrom('inference-latency', 'inference-throughput'),
      withSource: fc.boolean(),
      maxStages: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      seedTimes: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 4 * 6, maxLength: 4 * 6 }),
      memLayers: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 4, maxLength: 4 }),
      rates: fc.array(fc.option(fc.integer({ min: 1, max: 100 }), { nil: null, freq: 8 }), {
        minLength: 16,
        maxLength: 16,
      }),
      lat: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 16, maxLength: 16 }),
      device: fc.array(fc.constantFrom(...DEVICES), { minLength: 4, maxLength: 4 }),
    })
    .map((r) => {
      const layerMemoryBytes = 1e9;
      const servers = Array.from({ length: r.n }, (_, j) => ({
        name: `s${j}`,
        device: r.device[j],
        memoryBytes: (r.memLayers[j] + 0.5) * layerMemoryBytes,
        profile: {
          layerSeconds: Array.from(
            { length: r.layers },
            (_, l) => r.seedTimes[(j * 6 + l) % r.seedTimes.length] * 1e-3,
          ),
          embeddingSeconds: 1e-4,
          headSeconds: 2e-4 * (j + 1),
          layerMemoryBytes,
          embeddingMemoryBytes: 0.2e9,
          headMemoryBytes: 0.2e9,
          activationBytesPerHop: 65536,
        },
      }));
      const bps = Array.from({ length: r.n }, (_, i) =>
        Array.from({ length: r.n }, (_, j) =>
          i === j ? null : r.rates[i * 4 + j] === null ? null : (r.rates[i * 4 + j] as number) * 1e7,
        ),
      );
      const lat = Array.from({ length: r.n }, (_, i) => Array.from({ length: r.n }, (_, j) => r.lat[i * 4 + j] * 1e-3));
      return {
        kind: 'pipeline-placement',
        model: { id: 'llama-2-7b', layers: r.layers },
        mode: { kind: r.kind, batch: 1, promptTokens: 16, outputTokens: 16 },
        servers,
        links: { bitsPerSecondMatrix: bps, latencySecondsMatrix: lat },
        ...(r.withSource ? { source: 's0' } : {}),
        ...(r.maxStages !== undefined ? { maxStages: r.maxStages } : {}),
      };
    });

/** Training instances on a shrunken GPT-2 with roofline times on catalog devices. */
export const trainingInstance = (maxServers = 4, maxLayers = 6, activationHeavy = false) =>
  fc
    .record({
      layers: fc.integer({ min: activationHeavy ? 3 : 1, max: maxLayers }),
      n: fc.integer({ min: activationHeavy ? 3 : 1, max: maxServers }),
      B: fc.integer({ min: activationHeavy ? 4 : 1, max: 8 }),
      schedule: activationHeavy ? fc.constant('1f1b') : fc.constantFrom('gpipe', '1f1b'),
      trained: fc.constantFrom('full', 'lora'),
      memGb: fc.array(fc.integer({ min: 3, max: 40 }), { minLength: 4, maxLength: 4 }),
      device: fc.array(fc.constantFrom(...DEVICES), { minLength: 4, maxLength: 4 }),
      rateMbps: fc.array(fc.integer({ min: 50, max: 5000 }), { minLength: 16, maxLength: 16 }),
      withSource: fc.boolean(),
      stages: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined, freq: 4 }),
    })
    .map((r) => {
      const n = r.n;
      const bps = Array.from({ length: n }, (_, i) =>
        Array.from({ length: n }, (_, j) => (i === j ? null : r.rateMbps[i * 4 + j] * 1e6)),
      );
      const lat = Array.from({ length: n }, () => Array.from({ length: n }, () => 1e-3));
      const stages = r.stages !== undefined && r.stages <= Math.min(n, r.layers) ? r.stages : undefined;
      return {
        kind: 'pipeline-placement',
        model: { id: 'gpt2-medium', layers: r.layers },
        mode: {
          kind: 'training',
          microBatches: r.B,
          // Activation-heavy: 1F1B's in-flight count (by stage position) decides what fits.
          microBatchSize: activationHeavy ? 4 : 2,
          sequenceLength: activationHeavy ? 1024 : 512,
          schedule: r.schedule,
          trained: r.trained,
          ...(r.trained === 'lora' ? { lora: { rank: 8, targets: ['q', 'v'] } } : {}),
        },
        servers: Array.from({ length: n }, (_, j) => ({
          name: `s${j}`,
          device: r.device[j],
          memoryBytes: r.memGb[j] * (activationHeavy ? 0.25e9 : 0.1e9),
        })),
        links: { bitsPerSecondMatrix: bps, latencySecondsMatrix: lat },
        ...(r.withSource ? { source: 's0' } : {}),
        ...(stages !== undefined ? { stages } : {}),
      };
    });

function compositions(total: number, parts: number): number[][] {
  if (parts === 1) return [[total]];
  const out: number[][] = [];
  for (let first = 1; first <= total - parts + 1; first++)
    for (const rest of compositions(total - first, parts - 1)) out.push([first, ...rest]);
  return out;
}

function sequences(n: number, length: number, used: number[] = []): number[][] {
  if (used.length === length) return [used];
  const out: number[][] = [];
  for (let j = 0; j < n; j++) if (!used.includes(j)) out.push(...sequences(n, length, [...used, j]));
  return out;
}

/** Every ordered choice of servers and every split of the layers, scored by evaluate. */
export function bruteForce(problem: PipelineProblem): { objective: number; decision: PipelineDecision | null } {
  const n = problem.servers.length;
  const L = problem.model.layers;
  let best = Infinity;
  let bestDecision: PipelineDecision | null = null;
  for (let S = 1; S <= Math.min(n, L); S++) {
    for (const seq of sequences(n, S)) {
      for (const counts of compositions(L, S)) {
        let first = 1;
        const decision: PipelineDecision = {
          stages: seq.map((j, i) => {
            const s = { server: problem.servers[j].name, firstLayer: first, lastLayer: first + counts[i] - 1 };
            first += counts[i];
            return s;
          }),
        };
        const e = evaluatePipeline(problem, decision);
        if (e.feasible && e.objective < best) {
          best = e.objective;
          bestDecision = decision;
        }
      }
    }
  }
  return { objective: best, decision: bestDecision };
}

export const close = (a: number, b: number, rel = 1e-9): boolean =>
  Math.abs(a - b) <= rel * Math.max(1e-12, Math.abs(a), Math.abs(b));

/** The typed breakdown of a report's evaluation (a runtime check, not a cast). */
export function breakdownOf(evaluation: { readonly breakdown: unknown } | undefined): PipelineBreakdown {
  const b = evaluation?.breakdown;
  if (typeof b !== 'object' || b === null || !('stages' in b) || !('objectiveKind' in b))
    throw new Error('not a pipeline breakdown');
  return b as PipelineBreakdown;
}
