import { getBackend } from '../../../src/backends/registry.ts';
import type { BackendName } from '../../../src/backends/types.ts';
import type { ExactContext } from '../../../src/formulations/types.ts';
import { moePlacementFormulation as formulation } from '../../../src/formulations/moe-placement/index.ts';
import type { MoePlacementDecision, MoePlacementProblem, Replica } from '../../../src/formulations/moe-placement/schema.ts';

export { formulation };

/** An exact-method context with no time limit (the method's result is then reproducible). */
export function context(backend: BackendName = 'highs', mipGap = 1e-6): ExactContext<MoePlacementDecision> {
  const b = getBackend(backend);
  return { mipGap, solveMilp: (model, options) => b.solve(model, options) };
}

export interface TinySpec {
  layers: number;
  experts: number;
  /** Per layer, per expert (positive integers). */
  loads: number[][];
  servers: { device: string; slots: number; link: string | null }[];
  batchTokens: number;
  flops: number;
  replicas?: number;
  objective?: 'latency' | 'max-load' | 'traffic';
  sharedExperts?: number;
}

export const EXPERT_BYTES = 1e9;

/** Raw JSON of a small inline instance; memory is given in whole expert slots. */
export function tinyRaw(spec: TinySpec): Record<string, unknown> {
  const home = spec.servers.findIndex((s) => s.link === null);
  return {
    kind: 'moe-placement',
    moe: {
      layers: spec.layers,
      experts: spec.experts,
      topK: 1,
      expertBytes: EXPERT_BYTES,
      expertFlopsPerToken: spec.flops,
      activationBytesPerToken: 8192,
      ...(spec.sharedExperts !== undefined ? { sharedExperts: spec.sharedExperts } : {}),
    },
    popularity: { matrix: spec.loads },
    batchTokens: spec.batchTokens,
    servers: spec.servers.map((s) => ({
      device: s.device,
      expertMemoryBytes: s.slots * EXPERT_BYTES,
      ...(s.link === null ? {} : { link: s.link }),
    })),
    ...(home >= 0 ? { requester: { server: home } } : {}),
    ...(spec.replicas !== undefined ? { maxReplicasPerLayer: spec.replicas } : {}),
    ...(spec.objective !== undefined ? { objective: spec.objective } : {}),
  };
}

/** Every no-replication placement (each expert on one server), best objective by evaluate. */
export function bruteForceNoReplication(problem: MoePlacementProblem): { objective: number; decision: MoePlacementDecision | null } {
  const S = problem.servers.length;
  const cells = problem.layers * problem.experts;
  const assignment = new Array<number>(cells).fill(0);
  let best = Infinity;
  let bestDecision: MoePlacementDecision | null = null;
  for (;;) {
    const placement: Replica[][][] = Array.from({ length: problem.layers }, (_, l) =>
      Array.from({ length: problem.experts }, (_, e) => [{ server: assignment[l * problem.experts + e], share: 1 }]),
    );
    const ev = formulation.evaluate(problem, { placement });
    if (ev.feasible && ev.objective < best) {
      best = ev.objective;
      bestDecision = { placement };
    }
    let i = 0;
    while (i < cells && assignment[i] === S - 1) assignment[i++] = 0;
    if (i === cells) break;
    assignment[i] += 1;
  }
  return { objective: best, decision: bestDecision };
}

export function relClose(a: number, b: number, tol = 1e-5): boolean {
  return Math.abs(a - b) <= tol * Math.max(1e-12, Math.abs(a), Math.abs(b));
}
